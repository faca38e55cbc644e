"""The health of a target's session state: the model of ``pitstop.health()``.

The JSON shape is a contract (``pitstop health --json``, the debug API, the
run report), so the model keeps the JSON as it came and adds typed access
and a terminal rendering.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from harness.json_types import JSON
from harness.rules.model.declaration import Requests, Sessions

# The reference model's words, in the order a report prints them (a model's own come after).
SESSION_STATUSES = Sessions().statuses
REQUEST_STATUSES = Requests().statuses


@dataclass(frozen=True)
class Problem:
    code: str
    count: int
    message: str
    queue: str | None = None  # the declared queue it is about, where it is about one

    def to_json(self) -> JSON:
        out: JSON = {"code": self.code, "count": self.count}
        if self.queue is not None:
            out["queue"] = self.queue
        return out | {"message": self.message}


@dataclass(frozen=True)
class Health:
    """One health check: counts by status, stale counts, orphans, problems."""

    data: JSON

    @property
    def problems(self) -> list[Problem]:
        return [
            Problem(p["code"], int(p["count"]), p["message"], p.get("queue")) for p in self.data["problems"]
        ]

    @property
    def ok(self) -> bool:
        return not self.data["problems"]

    def sessions(self, status: str) -> dict[str, int]:
        counts: dict[str, int] = self.data["sessions"][status]
        return counts

    def requests(self, status: str) -> dict[str, int]:
        counts: dict[str, int] = self.data["requests"][status]
        return counts

    @property
    def queues(self) -> dict[str, dict[str, dict[str, int]]]:
        """The declared queues' counts by their words, by queue name (empty: the model declares none)."""
        found = self.data.get("queues")
        return {name: {w: _ordered(c) for w, c in words.items()} for name, words in (found or {}).items()}

    @property
    def protected(self) -> dict[str, int] | None:
        """The open sessions as old as stale ones that the rules protect, by reason (scheduled for
        later, a mechanic assigned); None where the rules' answer has no such count (an app's debug API)."""
        found = self.data.get("protected")
        if not isinstance(found, dict):
            return None
        return {k: int(found[k]) for k in ("scheduled", "assigned") if k in found}

    def to_json(self) -> JSON:
        """The contract's JSON, keys in the documented order (jsonb sorts them by length)."""
        out: JSON = {
            "checked_at": self.data["checked_at"],
            "sessions": {
                s: _ordered(self.sessions(s)) for s in _words(self.data["sessions"], SESSION_STATUSES)
            },
            "requests": {
                s: _ordered(self.requests(s)) for s in _words(self.data["requests"], REQUEST_STATUSES)
            },
        }
        if self.queues:
            out["queues"] = self.queues
        out["orphans"] = self.data["orphans"]
        if self.protected is not None:
            out["protected"] = self.protected
        out["problems"] = [p.to_json() for p in self.problems]
        return out

    def lines(self) -> list[str]:
        """A few lines for a terminal."""
        sessions = "  ".join(
            _status(s, _ordered(self.sessions(s))) for s in _words(self.data["sessions"], SESSION_STATUSES)
        )
        requests = "  ".join(
            _status(s, _ordered(self.requests(s))) for s in _words(self.data["requests"], REQUEST_STATUSES)
        )
        out = [
            f"checked at {self.data['checked_at']}",
            f"sessions  {sessions}",
        ]
        if self.data["requests"] or not self.queues:  # an app may keep its queue elsewhere
            out.append(f"requests  {requests}")
        for name, counts in self.queues.items():
            out.append(f"{name:<9} " + "  ".join(_status(w, c) for w, c in counts.items()))
        out.append(f"orphans   {self.data['orphans']}")
        if self.protected is not None:
            out.append(f"protected {protected_text(self.protected)}")
        if self.ok:
            out.append("problems  none")
        else:
            out.append(f"problems  {len(self.problems)}")
            out.extend(f"  - {p.code} ({p.count}): {p.message}" for p in self.problems)
        return out


def _words(counts: JSON, default: tuple[str, ...]) -> list[str]:
    """The status words reported: the default model's in their documented order, then the model's own."""
    return [w for w in default if w in counts] + [w for w in counts if w not in default]


def _ordered(counts: dict[str, int]) -> dict[str, int]:
    return {k: counts[k] for k in ("total", "stale", "veryStale") if k in counts}


def _status(name: str, counts: dict[str, Any]) -> str:
    extra = [f"{k} {v}" for k, v in counts.items() if k != "total" and v]
    return f"{name} {counts['total']}" + (f" ({', '.join(extra)})" if extra else "")


def protected_text(protected: dict[str, Any]) -> str:
    """What the rules protected and why, in words: ``2 sessions (1 scheduled for later, …)``."""
    scheduled, assigned = int(protected.get("scheduled", 0)), int(protected.get("assigned", 0))
    total = scheduled + assigned
    if not total:
        return "none"
    reasons = [
        text
        for n, text in (
            (scheduled, f"{scheduled} scheduled for later"),
            (assigned, f"{assigned} with a mechanic assigned"),
        )
        if n
    ]
    return f"{total} session{'s' if total != 1 else ''} ({', '.join(reasons)})"


def problem_message(code: str, count: int, *, stale_minutes: int, very_stale_minutes: int) -> str | None:
    """pitstop's wording of a problem (as ``pitstop.health()`` words it for the reference app's
    model, the one an app's debug API speaks); None for an unknown code.

    A store that reads another implementation of the rules (an app's debug API)
    words the problems this way, so that every store prints the same report.
    """
    sessions, requests = Sessions(), Requests()
    open_words, live_words = "/".join(sessions.open), "/".join(sessions.live)
    messages = {
        "stale_waiting": f"{count} {open_words} sessions older than {stale_minutes} minutes "
        "block new payments; run pitstop cleanup",
        "very_stale_waiting": f"{count} {open_words} sessions older than {very_stale_minutes} minutes: "
        "no stale cleanup has run for a long time",
        "stale_pending_requests": f"{count} {requests.pending} requests older than {stale_minutes} minutes "
        "are still shown to mechanics; run pitstop cleanup",
        "orphaned_sessions": f"{count} {open_words} sessions have no request, so no mechanic can accept them",
        "live_without_mechanic": f"{count} {live_words} sessions have no mechanic; force-cancel them",
    }
    return messages.get(code)
