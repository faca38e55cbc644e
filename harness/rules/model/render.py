"""The rules' SQL for a model: the template ``harness/rules/sql/pitstop.sql.j2`` with every name quoted.

Identifiers go through psycopg's ``sql.Identifier`` and status words through
``sql.Literal``, so a name is never pasted into SQL as it was written. The
footprint of a purge comes from the catalog (``harness.rules.model.footprint``);
without one (``pitstop sql`` with no database to read) a purge deletes the
sessions and requests and leaves their children to the database's cascades.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files
from typing import Any

from psycopg import sql

from harness.rules.model.catalog import Catalog
from harness.rules.model.declaration import Model, Queue
from harness.rules.model.footprint import Edge, Footprint, footprint

# Keys of a purge's answer that a child table's bare name may not take.
_ANSWER_KEYS = {"user_id", "kept", "sessions", "session_requests", "tables"}


# The sessions' keys that name a column, quoted for the template.
_SESSION_KEYS = (
    "id", "customer", "mechanic", "request", "status", "created_at", "ended_at", "updated_at",
    "scheduled_for",
)  # fmt: skip


def render(model: Model, catalog: Catalog | None) -> str:
    """The pitstop schema and functions for ``model``, over ``catalog``'s foreign keys."""
    plan = footprint(catalog, model) if catalog is not None else Footprint(model.roots, (), {})
    # Imported here: only installing or comparing the rules renders them, never a test run's
    # resets (jinja2's import is ~0.1 s, ~0.5 s where no bytecode is cached, in every process).
    import jinja2

    environment = jinja2.Environment(
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False
    )
    template = environment.from_string(
        files("harness.rules.sql").joinpath("pitstop.sql.j2").read_text(encoding="utf-8")
    )
    return template.render(**_context(model, plan))


def ident(name: str) -> str:
    """A quoted identifier; ``schema.table`` is quoted part by part."""
    return ".".join(sql.Identifier(part).as_string(None) for part in name.split(".", 1))


def literal(value: str) -> str:
    return sql.Literal(value).as_string(None)


def words(values: tuple[str, ...] | list[str]) -> str:
    """``'a', 'b'`` for an ``in (…)`` list; an empty list matches nothing."""
    return ", ".join(literal(v) for v in values) if values else "null"


def answer_name(table: str) -> str:
    """How a table is named in answers: its bare name in ``public``, else ``schema.table``."""
    schema, name = table.split(".", 1)
    return name if schema == "public" else table


@dataclass
class _Part:
    """Quoted names of one declared table, looked up as attributes by the template."""

    names: dict[str, Any]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.names[key]
        except KeyError:
            raise AttributeError(key) from None


def _quoted(part: Any, keys: tuple[str, ...]) -> _Part:
    values: dict[str, Any] = {"table": ident(part.table)}
    for key in keys:
        name = getattr(part, key)
        values[key] = ident(name) if name else None
    return _Part(values)


def _queue(n: int, name: str, queue: Queue) -> _Part:
    part = _quoted(queue, ("id", "session", "customer", "mechanic", "status", "created_at", "updated_at"))
    part.names.update(
        name=name,
        name_literal=literal(name),
        is_requests=name == "requests",
        var=f"v_q{n}",  # the purge's and user_rows' ids of its rows
        link=queue.link,
        open=words(queue.open),
        open_taken=words((*queue.open, *queue.taken)),
        expired=literal(queue.expired),
        cancelled=literal(queue.cancelled),
        report=tuple((literal(w), w in queue.open) for w in queue.statuses),
        open_text=literal("/".join(queue.open)),
        # How health calls its open rows: the requests as always, a queue by its table.
        noun=literal("requests" if name == "requests" else f"rows of {queue.table}"),
    )
    return part


def _context(model: Model, plan: Footprint) -> dict[str, Any]:
    s, m = model.sessions, model.mechanics
    queues = [_queue(n, name, q) for n, (name, q) in enumerate(model.all_queues)]
    holding = [q for q, (_, declared) in zip(queues, model.all_queues, strict=True) if declared.holds]
    report = tuple((literal(w), w in s.open) for w in s.statuses)
    context: dict[str, Any] = {
        "S": _quoted(s, _SESSION_KEYS),
        "Sw": _Part(
            {
                "open": words(s.open),
                "active": words(s.active),
                "live": words(s.live),
                "terminal": words((*s.done, s.cancelled)),
                "cancelled": literal(s.cancelled),
                "report": report,
                # The model's own words, as the health report's messages say them.
                "open_text": literal("/".join(s.open)),
                "live_text": literal("/".join(s.live)),
            }
        ),
        "queues": queues,
        "declared_queues": bool(model.queues),
        "holding": holding,
        "by_customer": any(q.link == "customer" for q in queues),
        # What an orphan lacks, in health's words: a request, or a row of the holding queues.
        "orphan_noun": literal(
            "request"
            if [q.name for q in holding] == ["requests"]
            else "row in " + " or ".join(str(q.names["name"]) for q in holding)
        ),
        "R": next((q for q in queues if q.is_requests), None),
        "M": None,
        # An open session with a mechanic is protected from the stale cleanup, unless the model says not.
        "protect_assigned": bool(s.mechanic) and not s.cancel_assigned,
        "plan": _plan(model, plan),
    }
    if model.has_mechanics_table:
        mechanics = _quoted(m, ("id", "email", "user"))
        mechanics.names["name"] = m.table
        mechanics.names["name_literal"] = literal(m.table)
        context["M"] = mechanics
    return context


def _plan(model: Model, plan: Footprint) -> dict[str, Any]:
    """The purge's statement, step by step: roots, then children, then what is counted."""
    root_sets = {model.sessions.table: ("v_sessions", model.sessions.id)}
    for n, (_, queue) in enumerate(model.all_queues):
        root_sets[queue.table] = (f"v_q{n}", queue.id)
    ctes: dict[str, str] = {}
    roots = []
    for n, table in enumerate(plan.roots):
        variable, id_column = root_sets[table]
        ctes[table] = f"r{n}"
        keys = plan.root_keys.get(table, ())
        roots.append(
            {
                "cte": f"r{n}",
                "table": ident(table),
                "where": f"{ident(id_column)} = any ({variable})",
                "returning": ", ".join(ident(k) for k in keys) or "1",
            }
        )
    steps = []
    for n, step in enumerate(plan.steps):
        ctes[step.table] = f"c{n}"

        def condition(edge: Edge) -> str:
            column = f"x.{ident(edge.column)}"
            if edge.parent in root_sets:
                variable, id_column = root_sets[edge.parent]
                if edge.parent_column == id_column:
                    return f"{column} = any ({variable})"
                return (
                    f"{column} in (select p.{ident(edge.parent_column)} from {ident(edge.parent)} p"
                    f" where p.{ident(id_column)} = any ({variable}))"
                )
            parent = ctes[edge.parent]  # qualified: a name it lacks is an error, never the outer row's
            return f"{column} in (select {parent}.{ident(edge.parent_column)} from {parent})"

        deleted = [condition(e) for e in step.deleted_by]
        nulled = {e.column: condition(e) for e in step.nulled_by}
        steps.append(
            {
                "cte": f"c{n}",
                "null_cte": f"n{n}",
                "table": ident(step.table),
                "delete_where": " or ".join(deleted),
                "any_where": " or ".join(condition(e) for e in step.edges),
                "returning": ", ".join(ident(k) for k in step.keys) or "1",
                "null_set": ", ".join(
                    f"{ident(c)} = case when {cond} then null else x.{ident(c)} end"
                    for c, cond in nulled.items()
                ),
                "null_where": " or ".join(nulled.values()),
            }
        )
    return {
        "roots": roots,
        "steps": steps,
        "counts": _counts(model, plan, ctes, steps),
        "evidence": _evidence(model, plan, ctes),
    }


def _counts(
    model: Model, plan: Footprint, ctes: dict[str, str], steps: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    def count(table: str, step: dict[str, Any] | None = None) -> str:
        parts = []
        if step is None or step["delete_where"]:
            parts.append(f"(select count(*) from {ctes[table]})")
        if step is not None and step["null_set"]:
            parts.append(f"(select count(*) from {step['null_cte']})")
        return " + ".join(parts)

    sessions = count(model.sessions.table)
    requests = count(model.requests.table) if model.has_requests else "0"
    tables = [(literal(model.sessions.table), sessions)]
    out = [("'sessions'", sessions), ("'session_requests'", requests)]
    for _, queue in model.all_queues:
        expr = count(queue.table)
        tables.append((literal(queue.table), expr))
        bare = answer_name(queue.table)
        if queue.table != model.requests.table and bare not in _ANSWER_KEYS and "." not in bare:
            out.append((literal(bare), expr))
    for step, rendered in zip(plan.steps, steps, strict=True):
        expr = count(step.table, rendered)
        tables.append((literal(step.table), expr))
        bare = answer_name(step.table)
        if bare not in _ANSWER_KEYS and "." not in bare:
            out.append((literal(bare), expr))
    pairs = ", ".join(f"{k}, {v}" for k, v in tables)
    out.append(("'tables'", f"jsonb_build_object({pairs})"))
    return out


def _evidence(model: Model, plan: Footprint, ctes: dict[str, str]) -> list[tuple[str, str, str | None]]:
    """(answer key, cte, order column) for ``user_rows``."""
    out: list[tuple[str, str, str | None]] = []
    created_at = {q.table: q.created_at for _, q in model.all_queues} | {
        model.sessions.table: model.sessions.created_at
    }
    for table in plan.roots:
        created = created_at[table]
        out.append((literal(answer_name(table)), ctes[table], ident(created)))
    for step in plan.steps:
        out.append((literal(answer_name(step.table)), ctes[step.table], None))
    return out
