"""``with`` for objects that hold a connection: leaving the block closes them."""

from __future__ import annotations

from typing import Self


class Closing:
    """A base for stores and services: ``with x:`` calls ``x.close()`` on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
