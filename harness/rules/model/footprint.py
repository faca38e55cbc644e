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
from harness.rules.model.catalog import SYSTEM_SCHEMAS, Catalog, ForeignKey
from harness.rules.model.declaration import Model


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
    roots = model.roots
    excluded = set(roots) | ({model.mechanics.table} if model.has_mechanics_table else set())
    # Breadth first from the roots, through the keys whose rows a purge deletes (any action but
    # set null): those tables' own children are searched in turn. A table reached only through
    # set-null keys is nulled, never deleted, so the search stops there (its rows, and theirs, stay).
    depth: dict[str, int] = dict.fromkeys(roots, 0)
    order: list[str] = []
    nulled: dict[str, int] = {}  # reached only through set-null keys so far, with its depth
    frontier = list(roots)
    while frontier:
        following: list[str] = []
        for parent in frontier:
            for fk in catalog.referencing(parent):
                child = fk.table
                if child in excluded or child.split(".", 1)[0] in SYSTEM_SCHEMAS or child in depth:
                    continue
                if fk.on_delete == "set null":
                    nulled.setdefault(child, depth[parent] + 1)
                    continue
                depth[child] = depth[parent] + 1
                order.append(child)
                following.append(child)
        frontier = following
    only_nulled = [t for t in nulled if t not in depth]
    for table in only_nulled:
        depth[table] = nulled[table]
    deleting = set(order) | set(roots)  # the tables whose rows a purge deletes
    ignored: list[ForeignKey] = []
    steps: list[Step] = []
    keys: dict[str, set[str]] = {t: set() for t in depth}
    parents: dict[str, list[ForeignKey]] = {}
    for table in (*order, *only_nulled):
        parents[table] = sorted(
            (fk for fk in catalog.foreign_keys if fk.table == table and fk.ref_table in deleting),
            key=lambda f: f.name,
        )
        for fk in parents[table]:
            if len(fk.columns) != 1:
                raise BadInput(
                    f"{fk.table} refers to {fk.ref_table} by a foreign key of {len(fk.columns)} columns "
                    f"({fk.name}); pitstop follows single-column keys",
                    fix="tell us about this schema; meanwhile leave the table's rows to a cascade",
                )
    # Each table after every parent it refers to (not only the one that led to it). Where a cycle
    # leaves none ready, the first found goes (the key that led to it has its parent placed), and
    # its keys to tables not placed yet (a self-reference among them) are left to the database.
    edges: dict[str, list[Edge]] = {}
    placed = set(roots)
    waiting = list(order)
    while waiting:
        table = next(
            (t for t in waiting if all(fk.ref_table in placed for fk in parents[t] if fk.ref_table != t)),
            waiting[0],
        )
        waiting.remove(table)
        edges[table] = []
        for fk in parents[table]:
            if fk.ref_table not in placed:
                ignored.append(fk)
                continue
            edges[table].append(Edge(fk.columns[0], fk.ref_table, fk.ref_columns[0], fk.on_delete))
            keys[fk.ref_table].add(fk.ref_columns[0])
        placed.add(table)
    order = list(edges)  # the order placed
    for table in only_nulled:  # after every table whose rows a purge deletes
        edges[table] = [
            Edge(fk.columns[0], fk.ref_table, fk.ref_columns[0], fk.on_delete) for fk in parents[table]
        ]
        for fk in parents[table]:
            keys[fk.ref_table].add(fk.ref_columns[0])
        order.append(table)
    for table in order:
        steps.append(Step(table, depth[table], tuple(edges[table]), tuple(sorted(keys[table]))))
    root_keys = {t: tuple(sorted(keys[t])) for t in roots}
    return Footprint(roots, tuple(steps), root_keys, tuple(ignored))
