"""Photos attached to a chat: checked by size and by their first bytes, stored under ``DATA_DIR``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from uuid import UUID

MAX_BYTES = 5 * 1024 * 1024
# The extension and content type a stored file gets come from its bytes, never from the upload's name.
KINDS = {"jpeg": ("jpg", "image/jpeg"), "png": ("png", "image/png"), "webp": ("webp", "image/webp")}


class UploadError(ValueError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def sniff(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def check(data: bytes) -> str:
    """The image kind of ``data``; raises ``UploadError`` (413 too large, 415 not an image, 400 empty)."""
    if not data:
        raise UploadError("The file is empty", 400)
    if len(data) > MAX_BYTES:
        raise UploadError(f"The file is too large (the limit is {MAX_BYTES // (1024 * 1024)} MB)", 413)
    kind = sniff(data[:16])
    if kind is None:
        raise UploadError("Only JPEG, PNG or WebP images can be attached", 415)
    return kind


def safe_name(name: str | None) -> str:
    """A display name: the base name, printable, at most 120 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[^\w.\- ]+", "_", base).strip() or "photo"
    return base[:120]


def relative_path(session_id: UUID, file_id: UUID, kind: str) -> str:
    return f"sessions/{session_id}/{file_id}.{KINDS[kind][0]}"


def store(data_dir: Path, rel_path: str, data: bytes) -> None:
    target = data_dir / rel_path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)


def resolve(data_dir: Path, rel_path: str) -> Path | None:
    """The stored file, if it exists and lies inside ``data_dir``."""
    root = data_dir.resolve()
    target = (root / rel_path).resolve()
    if root not in target.parents or not target.is_file():
        return None
    return target


def content_type(path: Path) -> str:
    by_ext = {ext: mime for ext, mime in KINDS.values()}
    return by_ext.get(path.suffix.lstrip("."), "application/octet-stream")


def remove(data_dir: Path, rel_paths: list[str]) -> None:
    for rel in rel_paths:
        path = resolve(data_dir, rel)
        if path is not None:
            path.unlink(missing_ok=True)
