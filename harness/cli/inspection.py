"""``pitstop inspect``: what pitstop reads in a database's catalog, read-only.

Three answers: the foreign-key footprint a purge follows (``harness.rules.model.footprint``),
whether the configured model fits (``harness.rules.model.fit``, the checks ``install``
makes), and, when no model is declared or one is asked for, a proposed
``[tool.pitstop.model]`` (``harness.rules.model.propose``). The session is set to
read-only before anything is read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import psycopg

from harness.errors import PitstopError
from harness.json_types import JSON
from harness.rules.model import Model
from harness.rules.model.catalog import Catalog
from harness.rules.model.fit import Misfit, misfits
from harness.rules.model.footprint import Footprint, footprint
from harness.rules.model.propose import Proposal, propose, value_reader
from harness.store.postgres import PostgresStore, translate


@dataclass(frozen=True)
class Inspection:
    target: str
    model: Model
    declared: bool  # [tool.pitstop.model] was there (else: the reference app's defaults)
    source: str | None  # the configuration file read, if any
    misfits: tuple[Misfit, ...]
    footprint: Footprint | None
    footprint_of: str | None  # "model" or "proposal": whose tables it starts from
    footprint_problem: str | None
    proposal: Proposal | None

    def to_json(self) -> JSON:
        rows: list[dict[str, Any]] = []
        for step in self.footprint.steps if self.footprint else ():
            for edge in step.edges:
                rows.append(
                    {
                        "table": step.table,
                        "column": edge.column,
                        "parent": edge.parent,
                        "parent_column": edge.parent_column,
                        "on_delete": edge.on_delete,
                        "depth": step.depth,
                    }
                )
        return {
            "target": self.target,
            "footprint": rows,
            "footprint_of": self.footprint_of,
            "footprint_problem": self.footprint_problem,
            "model": {
                "declared": self.declared,
                "source": self.source,
                "ok": not self.misfits,
                "misfits": [dataclasses.asdict(m) for m in self.misfits],
            },
            "proposal": self.proposal.to_json() if self.proposal else None,
        }

    def lines(self) -> list[str]:
        where = f" in {self.source}" if self.source else ""
        if self.declared:
            out = [f"model: [tool.pitstop.model]{where}"]
        else:
            out = [f"model: the reference app's (no [tool.pitstop.model]{where or ' configured'})"]
        if not self.misfits:
            out.append(f"  ok: it fits ({', '.join(self.model.tables)})")
        else:
            out.append("  does not fit (install would refuse it):")
            for m in self.misfits:
                out += [f"    {m.key}: {m.message}", f"      fix: {m.fix}"]
        out.append("")
        out += self._footprint_lines()
        if self.proposal is None:
            if self.misfits:
                out += ["", "`pitstop inspect --propose` proposes a model from the database"]
            return out
        out.append("")
        p = self.proposal
        if p.ok:
            out.append("proposal: install accepts it; put it in pyproject.toml (or the --config file):")
        else:
            out.append("proposal: incomplete: fill in what is marked NOT FOUND, then check it again:")
        out += ["", *p.toml.rstrip("\n").split("\n")]
        if p.misfits:
            out += ["", "as it stands, install would refuse it:"]
            for m in p.misfits:
                out += [f"  {m.key}: {m.message}", f"    fix: {m.fix}"]
        if p.notes:
            out += ["", "notes:", *(f"  - {n}" for n in p.notes)]
        return out

    def _footprint_lines(self) -> list[str]:
        if self.footprint_problem:
            return [f"footprint of a purge: cannot follow it: {self.footprint_problem}"]
        if self.footprint is None:
            return ["footprint of a purge: unknown (the model's tables are not in the database)"]
        whose = "the proposal's" if self.footprint_of == "proposal" else "the model's"
        out = [f"footprint of a purge (from {whose} {', '.join(self.footprint.roots)}):"]
        if not self.footprint.steps:
            out.append("  nothing else refers to them")
        for step in self.footprint.steps:
            for edge in step.edges:
                out.append(
                    f"  depth {step.depth}  {step.table}.{edge.column} -> {edge.parent}.{edge.parent_column}"
                    f"  on delete {edge.on_delete}"
                )
        for fk in self.footprint.ignored:
            out.append(f"  (not followed: {fk.table}.{fk.columns[0]} -> {fk.ref_table}, it closes a cycle)")
        return out


def inspect_database(
    store: PostgresStore, *, declared: bool, source: str | None, want_proposal: bool
) -> Inspection:
    """Read ``store``'s catalog (read-only) and answer for ``store.model``."""
    conn = store.connection
    try:
        conn.execute("set default_transaction_read_only = on")  # inspect never writes
    except psycopg.Error as exc:
        raise translate(exc) from None
    catalog = store.catalog()
    model = store.model
    found = tuple(misfits(model, catalog))
    proposal = propose(catalog, value_reader(conn)) if want_proposal else None
    plan: Footprint | None = None
    of: str | None = None
    problem: str | None = None
    for name, candidate in (("model", model), ("proposal", proposal.model if proposal else None)):
        if candidate is not None and _roots_exist(candidate, catalog):
            try:
                plan, of = footprint(catalog, candidate), name
            except PitstopError as exc:
                problem = exc.message
            break
    return Inspection(store.describe(), model, declared, source, found, plan, of, problem, proposal)


def _roots_exist(model: Model, catalog: Catalog) -> bool:
    return all(t in catalog.tables for t in model.roots)
