"""Run localstripe with its state in its own memory, listening on loopback.

``python -m harness.stack.localstripe_run --port N`` runs ``python -m localstripe
--port N --from-scratch`` in this process, through ``harness.stack.loopback`` (its
wildcard bind kept on 127.0.0.1), after one change made here, in memory:

localstripe (1.15) pickles its whole store to one fixed file,
``/tmp/localstripe.pickle``, hard-coded in ``localstripe/resources.py``:
``Store.dump_to_disk()`` runs on every ``Store.__setitem__`` and
``__delitem__`` and again after every POST, PUT and DELETE
(``save_store_middleware`` in ``server.py``), and ``Store.try_load_from_disk()``
reads it at start unless ``--from-scratch``. That file is shared by every
localstripe on the machine (parallel runs, other checkouts, CI jobs), and
each dump costs time in proportion to everything in the store. So before
localstripe starts, this replaces those two methods of its ``Store`` class
with no-ops: each embedded Stripe keeps its objects to itself, in memory, for
as long as its process lives (which is what a stack wants: it starts empty
and is thrown away), and no write touches the disk.

Two more changes, for speed and for finding what was sent:

- localstripe waits a fixed second (``asyncio.sleep(1)`` in
  ``webhooks._send_webhook``) before it sends each webhook. Here that module's
  ``asyncio`` is one whose ``sleep`` only yields, so a webhook goes out as soon
  as the request that made its event has been answered, as Stripe sends them
  (within moments, in no guaranteed order with the API's answer).
- every event made is indexed by its type and its object's id, and
  ``GET /_pitstop/events/<object id>?type=<event type>`` answers the last such
  event as it was sent (API key required, as on ``/v1``): a direct look-up,
  where ``/v1/events`` can only be listed. The embedded Stripe's front
  (``harness.stack.stripe_front``) passes on to it the look-ups it cannot answer itself.

localstripe (GPL-3.0) stays a separate program, unmodified on disk: it is
imported only here, in the child process that runs it, never in pitstop's
own process. If a localstripe release renames what this relies on, this
refuses to start rather than share state again or wait again.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import types
from typing import Any, NoReturn

from aiohttp import web

from harness.stack import loopback

STORE_MODULE = "localstripe.resources"
WEBHOOKS_MODULE = "localstripe.webhooks"
SERVER_MODULE = "localstripe.server"
# The Store methods that read and write the shared file.
PERSISTENCE = ("dump_to_disk", "try_load_from_disk")
EVENTS_ROUTE = "/_pitstop/events/{id}"

# (event type, object id) -> the id of the last such event made.
_sent: dict[tuple[str, str], str] = {}


def _in_memory(self: object) -> None:
    """The store stays in this process's memory: nothing to load, nothing to write."""


def keep_in_memory() -> None:
    """Make localstripe's store memory-only (in this process)."""
    store = importlib.import_module(STORE_MODULE).Store
    missing = [name for name in PERSISTENCE if not callable(getattr(store, name, None))]
    if missing:
        sys.exit(
            f"harness.stack.localstripe_run: localstripe's Store has no {', '.join(missing)}: this "
            "localstripe persists its state in a way pitstop does not know; refusing to share it"
        )
    for name in PERSISTENCE:
        setattr(store, name, _in_memory)


def _refuse(what: str) -> NoReturn:
    sys.exit(
        f"harness.stack.localstripe_run: localstripe has no {what}: this localstripe is not one pitstop knows"
    )


async def _without_delay(delay: float, result: Any = None) -> Any:
    """localstripe's wait before a webhook: here it only yields to the loop."""
    return await asyncio.sleep(0, result)


def send_webhooks_at_once() -> None:
    """Take out localstripe's fixed one-second wait before each webhook (in this process)."""
    webhooks = importlib.import_module(WEBHOOKS_MODULE)
    if getattr(webhooks, "asyncio", None) is not asyncio or not callable(
        getattr(webhooks, "_send_webhook", None)
    ):
        _refuse("webhooks._send_webhook waiting through asyncio.sleep")
    at_once = types.SimpleNamespace(**vars(asyncio))
    at_once.sleep = _without_delay
    setattr(webhooks, "asyncio", at_once)  # noqa: B010 (the module's own name for asyncio)


def index_events() -> None:
    """Index every event localstripe makes by its type and object, and serve the look-up."""
    resources = importlib.import_module(STORE_MODULE)
    event_class: Any = getattr(resources, "Event", None)
    app: Any = getattr(importlib.import_module(SERVER_MODULE), "app", None)
    if event_class is None or not isinstance(app, web.Application):
        _refuse("Event class or aiohttp application")
    made = event_class.__init__

    def recorded(self: Any, event_type: str, data: Any) -> None:
        made(self, event_type, data)
        _sent[(event_type, str(data.id))] = str(self.id)

    event_class.__init__ = recorded

    async def sent_event(request: web.Request) -> web.Response:
        object_id, event_type = request.match_info["id"], request.query.get("type", "")
        event_id = _sent.get((event_type, object_id))
        event = resources.store.get("event:" + event_id) if event_id else None
        if event is None:  # never made, or flushed (DELETE /_config/data) since
            what = f"{event_type} event" if event_type else "event (give ?type=)"
            return web.json_response(
                {"error": {"type": "invalid_request_error", "message": f"No {what} for '{object_id}'"}},
                status=404,
            )
        return web.json_response(event._export())

    app.router.add_get(EVENTS_ROUTE, sent_event)


def main() -> None:
    keep_in_memory()
    send_webhooks_at_once()
    index_events()
    args = sys.argv[1:]
    loopback.run_module("localstripe", [*args, *(["--from-scratch"] if "--from-scratch" not in args else [])])


if __name__ == "__main__":
    main()
