"""The footprint of a purge: the tables that hang off the model's sessions and requests.

Read from the catalog's foreign keys: every table (outside ``auth`` and the
database's own schemas) whose rows refer to a session or a request, and every
table whose rows refer to those, at any depth, whatever the key's ON DELETE
action. A purge deletes the footprint children first; a ``set null`` key is
set to NULL as the database would, and the search does not go on through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.errors import BadInput
from harness.model.catalog import SYSTEM_SCHEMAS, Catalog, ForeignKey
from harness.model.declaration import Model


@dataclass(frozen=True)
class Edge:
    """One foreign key from a footprint table to its parent (a root or another footprint table)."""

    column: str
    parent: str  # schema.table
    parent_column: str
    on_delete: str


@dataclass(frozen=True)
class Step:
    """One table of the footprint, with the keys that lead to it; ``depth`` 1 hangs off a root."""

    table: str
    depth: int
    edges: tuple[Edge, ...]
    keys: tuple[str, ...]  # its columns that its own children refer to

    @property
    def deleted_by(self) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.on_delete != "set null")

    @property
    def nulled_by(self) -> tuple[Edge, ...]:
        return tuple(e for e in self.edges if e.on_delete == "set null")


@dataclass(frozen=True)
class Footprint:
    roots: tuple[str, ...]  # the model's sessions (and requests) tables
    steps: tuple[Step, ...]  # parents before children
    root_keys: dict[str, tuple[str, ...]]  # the columns of each root that footprint tables refer to
    ignored: tuple[ForeignKey, ...] = ()  # keys that close a cycle: the database checks them


def footprint(catalog: Catalog, model: Model) -> Footprint:
    roots = tuple(t for t in (model.sessions.table, model.requests.table if model.has_requests else "") if t)
    excluded = set(roots) | ({model.mechanics.table} if model.has_mechanics_table else set())
    # Breadth first from the roots: each table is placed after every parent that leads to it.
    depth: dict[str, int] = dict.fromkeys(roots, 0)
    order: list[str] = []
    frontier = list(roots)
    while frontier:
        following: list[str] = []
        for parent in frontier:
            for fk in catalog.referencing(parent):
                child = fk.table
                if child in excluded or child.split(".", 1)[0] in SYSTEM_SCHEMAS or child in depth:
                    continue
                depth[child] = depth[parent] + 1
                order.append(child)
                following.append(child)
        frontier = following
    members = set(order) | set(roots)
    ignored: list[ForeignKey] = []
    steps: list[Step] = []
    keys: dict[str, set[str]] = {t: set() for t in members}
    edges: dict[str, list[Edge]] = {t: [] for t in order}
    placed = set(roots)
    for table in order:
        for fk in sorted(
            (fk for fk in catalog.foreign_keys if fk.table == table and fk.ref_table in members),
            key=lambda f: f.name,
        ):
            if len(fk.columns) != 1:
                raise BadInput(
                    f"{fk.table} refers to {fk.ref_table} by a foreign key of {len(fk.columns)} columns "
                    f"({fk.name}); pitstop follows single-column keys",
                    fix="tell us about this schema; meanwhile leave the table's rows to a cascade",
                )
            if fk.ref_table not in placed:  # the parent comes later (a cycle, or a self-reference)
                ignored.append(fk)
                continue
            edges[table].append(Edge(fk.columns[0], fk.ref_table, fk.ref_columns[0], fk.on_delete))
            keys[fk.ref_table].add(fk.ref_columns[0])
        placed.add(table)
    for table in order:
        steps.append(Step(table, depth[table], tuple(edges[table]), tuple(sorted(keys[table]))))
    root_keys = {t: tuple(sorted(keys[t])) for t in roots}
    return Footprint(roots, tuple(steps), root_keys, tuple(ignored))
