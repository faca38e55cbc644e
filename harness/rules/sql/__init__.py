"""The SQL that pitstop installs: the rules and, for blank databases, the platform and the app schema."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from pathlib import Path

from psycopg import sql

from harness.errors import BadInput
from harness.rules.marker import check_test_domain
from harness.rules.model import Model
from harness.rules.model.catalog import Catalog
from harness.rules.model.render import render
from harness.version import __version__


def rules(model: Model | None = None, catalog: Catalog | None = None) -> str:
    """The pitstop schema and functions (the cleanup rules) for ``model``, over ``catalog``'s foreign keys."""
    return render(model or Model(), catalog)


def rules_hash(model: Model | None = None, catalog: Catalog | None = None) -> str:
    """What ``install`` records and ``doctor`` compares: a digest of the rules' SQL."""
    return hashlib.sha256(rules(model, catalog).encode()).hexdigest()


def migration(test_domain: str, model: Model | None = None, catalog: Catalog | None = None) -> str:
    """The rules, then the settings they read: the test domain, pitstop's version, the rules' hash
    and the model they were rendered for."""
    model = model or Model()
    script = rules(model, catalog)
    settings = {
        "test_domain": check_test_domain(test_domain),
        "version": __version__,
        "sql_hash": hashlib.sha256(script.encode()).hexdigest(),
        "model": json.dumps(model.to_json(), sort_keys=True),
        "model_hash": model.digest(),
    }
    rows = sql.SQL(", ").join(
        sql.SQL("({}, {})").format(sql.Literal(key), sql.Literal(value)) for key, value in settings.items()
    )
    setting = sql.SQL(
        "insert into pitstop.settings (key, value) values {}\n"
        "on conflict (key) do update set value = excluded.value;\n"
    ).format(rows)
    return script + "\n" + setting.as_string(None)


def platform() -> str:
    """What a Supabase project has before any app migration (roles, auth schema); only what is missing."""
    return files(__package__).joinpath("supabase.sql").read_text(encoding="utf-8")


def app_schema() -> str:
    """The reference app's tables (idempotent; they need the platform)."""
    return files("harness.stack.reference_app").joinpath("schema.sql").read_text(encoding="utf-8")


MIGRATION_NAME = "pitstop"


def write_supabase_migration(folder: Path, script: str, *, now: datetime | None = None) -> tuple[Path, bool]:
    """Write ``script`` as ``<UTC timestamp>_pitstop.sql`` into a Supabase migrations folder.

    The Supabase CLI applies the folder's files in timestamp order (``supabase
    db push``, ``supabase migration up``). When the newest pitstop migration
    there already holds this script, nothing is written: returns it and False.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        existing = sorted(folder.glob(f"*_{MIGRATION_NAME}.sql"))
        if existing and existing[-1].read_text(encoding="utf-8") == script:
            return existing[-1], False
        # After every migration already there, so that it is applied last.
        when = (now or datetime.now(UTC)).replace(microsecond=0, tzinfo=None)
        stamps = [stamp for f in folder.glob("*.sql") if (stamp := _stamp(f.name)) is not None]
        if stamps:
            when = max(when, max(stamps) + timedelta(seconds=1))
        path = folder / f"{when:%Y%m%d%H%M%S}_{MIGRATION_NAME}.sql"
        path.write_text(script, encoding="utf-8")
    except OSError as exc:
        raise BadInput(
            f"cannot write the migration into {folder}: {exc.strerror or exc}",
            fix="give a writable folder, e.g. supabase/migrations",
        ) from None
    return path, True


def _stamp(name: str) -> datetime | None:
    """A migration file's leading timestamp, if it has one that is a real time."""
    try:
        return datetime.strptime(name[:14], "%Y%m%d%H%M%S")
    except ValueError:
        return None
