"""Figures: one measured value with its target and published anchor, and how they are printed."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Published numbers that the figures are read against.
ANCHOR_RESET = "DatabaseCleaner deletion ~25-47 ms; template clones ~40-80 ms; `supabase db reset` ~1 min"
ANCHOR_REALTIME = "Supabase Realtime: p95 132 ms for database-sent broadcasts"


def percentile(values: Sequence[float], q: int) -> float:
    """The q-th percentile (inclusive method, as the health report computes it)."""
    if not values:
        raise ValueError("no samples")
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


@dataclass(frozen=True)
class Target:
    """``value <op> bound``, e.g. ``Target("<=", 3)``."""

    op: str  # "<=" or ">="
    bound: float
    unit: str

    def met(self, value: float) -> bool:
        return value <= self.bound if self.op == "<=" else value >= self.bound

    def __str__(self) -> str:
        return f"{self.op} {self.bound:g} {self.unit}".replace("<=", "≤").replace(">=", "≥")


@dataclass(frozen=True)
class Figure:
    """One line of the results table; ``key`` is its place in the JSON (``section.name``)."""

    key: str
    label: str
    value: float | None
    unit: str
    target: Target | str | None = None  # a string: a target checked elsewhere (``met`` given)
    anchor: str = ""
    met: bool | None = None

    @property
    def verdict(self) -> bool | None:
        if self.met is not None or self.value is None:
            return self.met
        if isinstance(self.target, Target):
            return self.target.met(self.value)
        return None

    def value_text(self) -> str:
        if self.value is None:
            return "—"
        if isinstance(self.value, int):  # a count
            return f"{self.value} {self.unit}".rstrip()
        digits = 3 if abs(self.value) < 10 else 1
        return f"{self.value:.{digits}f} {self.unit}".rstrip()

    def verdict_text(self) -> str:
        return {True: "met", False: "MISSED", None: ""}[self.verdict]


@dataclass
class Part:
    """What one benchmark part measured: its figures and a few lines on how."""

    name: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # more JSON keys for the part's section


def table(figures: Sequence[Figure]) -> list[str]:
    """The results as a Markdown table (also readable in a terminal)."""
    rows = [("figure", "value", "target", "met", "anchor")]
    rows += [(f.label, f.value_text(), str(f.target or ""), f.verdict_text(), f.anchor) for f in figures]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = []
    for n, row in enumerate(rows):
        cells = [c.ljust(w) for c, w in zip(row[:4], widths, strict=True)] + [row[4]]
        lines.append("| " + " | ".join(cells) + " |")
        if n == 0:
            lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|---|")
    return lines
