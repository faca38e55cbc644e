"""The reports of a suite's shards merged into one (``pitstop report merge OUT.json IN.json…``).

A suite run as a CI matrix writes one report per shard (``recorder``'s contract). The merged
report keeps that contract, so every rendering reads it, and adds what only a merge knows:

    {"target": <the first readable shard's>, "health": <the latest-ending shard's>,
     "health_start": <the earliest-starting shard's that recorded one>,
     "health_shards": {"start": <that shard's label, or null>, "end": <the latest-ending shard's>},
     "run": {"started_at": <the earliest>, "duration_s": <from the earliest start to the latest end>,
             "tests": <summed>, "resets": {"count": <summed>, "p50_ms", "p95_ms": <over the pooled samples>},
             "flow_steps": {step: {"count", "p50_ms", "p95_ms"}} <over the pooled flows>,
             "leaks", "flows", "tests_list", "users_left": <every shard's, each entry with its "shard">},
     "shards": [{"label", "file", "started_at", "duration_s", "tests", "health_problems", "health_error",
                 "error"}],
     "notes": [<what the reader should know: a shard that could not be read, targets that differ, …>]}

A shard's label is its ``run.shard`` ("2/4"), else its file's name (its path as given when two
files share a name). Percentiles are computed again over every sample, never averaged. A test's
artifact at a relative path is taken to lie beside its shard's report (the report and
``test-results/`` side by side, as a CI job's artifact keeps them). A file that is missing, not
JSON or not a pitstop report is a shard with an ``error``, not a failure: the merge reads what it
can and says what it could not.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from harness.json_types import JSON
from harness.report import recorder
from harness.report.recorder import FLOW_STEPS, ms_text, percentile
from harness.rules.health import Health

OUTCOMES = ("passed", "failed", "skipped", "errors")


class NotAReport(ValueError):
    """A JSON file that is not a pitstop report: the message names what is wrong."""


@dataclass(frozen=True)
class Shard:
    """One input: its report when it could be read, else why not."""

    file: str  # as given
    label: str
    report: JSON | None = None
    error: str | None = None

    @property
    def started(self) -> datetime:
        assert self.report is not None
        return _moment(self.report["run"]["started_at"])

    @property
    def ended(self) -> datetime:
        assert self.report is not None
        return self.started + timedelta(seconds=float(self.report["run"]["duration_s"]))


# -- reading ----------------------------------------------------------------------------------------


def read_shards(files: Iterable[str]) -> list[Shard]:
    """Each file as a shard, labelled; a file that cannot be read is a shard with its error."""
    files = list(files)
    read = [(file, *_read(Path(file))) for file in files]
    names = [Path(file).name for file in files]
    labels = []
    for file, report, _ in read:
        own = report["run"].get("shard") if report is not None else None
        labels.append(str(own) if own else Path(file).name if names.count(Path(file).name) == 1 else file)
    # Two shards of one label (a shard run twice, or given twice under two names): tell them apart.
    labels = [
        f"{label} ({file})" if labels.count(label) > 1 else label
        for label, file in zip(labels, files, strict=True)
    ]
    return [
        Shard(file, label, report, error) for (file, report, error), label in zip(read, labels, strict=True)
    ]


def _read(path: Path) -> tuple[JSON | None, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, "missing: no such file"
    except IsADirectoryError:
        return None, "cannot be read: it is a folder"
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        return None, f"not JSON: not UTF-8 text (byte {exc.object[exc.start]:#04x} at {exc.start})"
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
    try:
        check_report(data)
    except NotAReport as exc:
        return None, f"not a pitstop report: {exc}"
    return data, None


def check_report(data: Any) -> None:
    """Raise ``NotAReport`` unless ``data`` has every part of the report that a merge reads."""
    report = _object(data, "the file")
    for key in ("target", "health", "run"):
        _object(report.get(key), key)
    _health(report["health"], "health")
    if report.get("health_start") is not None:
        _health(report["health_start"], "health_start")
    run = report["run"]
    try:
        _moment(run.get("started_at"))
    except (TypeError, ValueError):
        raise NotAReport("run.started_at is not a timestamp") from None
    _number(run.get("duration_s"), "run.duration_s")
    tests = _object(run.get("tests"), "run.tests")
    for outcome in OUTCOMES:
        if not isinstance(tests.get(outcome), int) or isinstance(tests.get(outcome), bool):
            raise NotAReport(f"run.tests.{outcome} is not a count")
    resets = _object(run.get("resets", {"count": 0}), "run.resets")
    if not isinstance(resets.get("count"), int):
        raise NotAReport("run.resets.count is not a count")
    for i, test in enumerate(_list(run.get("tests_list", []), "run.tests_list")):
        where = f"run.tests_list[{i}]"
        test = _object(test, where)
        for key in ("test", "outcome"):
            if not isinstance(test.get(key), str):
                raise NotAReport(f"{where}.{key} is not a string")
        _number(test.get("duration_s"), f"{where}.duration_s")
        for n, sample in enumerate(_list(test.get("resets_ms", []), f"{where}.resets_ms")):
            _number(sample, f"{where}.resets_ms[{n}]")
        _steps(test.get("steps", {}), f"{where}.steps")
        for n, session in enumerate(_list(test.get("leak", []), f"{where}.leak")):
            _object(session, f"{where}.leak[{n}]")
        for n, artifact in enumerate(_list(test.get("artifacts", []), f"{where}.artifacts")):
            if not {"kind", "path"} <= set(_object(artifact, f"{where}.artifacts[{n}]")):
                raise NotAReport(f"{where}.artifacts[{n}] is not an artifact (kind, path)")
    for i, flow in enumerate(_list(run.get("flows", []), "run.flows")):
        flow = _object(flow, f"run.flows[{i}]")
        _steps(flow.get("steps"), f"run.flows[{i}].steps")
    for i, leak in enumerate(_list(run.get("leaks", []), "run.leaks")):
        _list(_object(leak, f"run.leaks[{i}]").get("sessions"), f"run.leaks[{i}].sessions")
    for i, user in enumerate(_list(run.get("users_left", []), "run.users_left")):
        if "email" not in _object(user, f"run.users_left[{i}]"):
            raise NotAReport(f"run.users_left[{i}] has no email")


def _object(value: Any, where: str) -> JSON:
    if not isinstance(value, dict):
        raise NotAReport(f"{where} is not an object" if where != "the file" else "not a JSON object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise NotAReport(f"{where} is not a list")
    return value


def _number(value: Any, where: str) -> None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise NotAReport(f"{where} is not a number")


def _steps(value: Any, where: str) -> None:
    for name, ms in _object(value, where).items():
        if ms is not None:
            _number(ms, f"{where}.{name}")


def _health(value: Any, where: str) -> None:
    """A health (``pitstop.health()``) as the renderings read it, or the error that stood for it."""
    health = _object(value, where)
    if "error" in health:
        return
    _problems(health.get("problems"), f"{where}.problems")
    for kind in ("sessions", "requests"):
        for status, counts in _object(health.get(kind), f"{where}.{kind}").items():
            if not isinstance(_object(counts, f"{where}.{kind}.{status}").get("total"), int):
                raise NotAReport(f"{where}.{kind}.{status}.total is not a count")
    try:  # what the renderings read of it
        Health(health).lines()
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise NotAReport(f"{where} is not a health check ({type(exc).__name__}: {exc})") from None


def _problems(value: Any, where: str) -> None:
    for i, problem in enumerate(_list(value, where)):
        if not {"code", "count", "message"} <= set(_object(problem, f"{where}[{i}]")):
            raise NotAReport(f"{where}[{i}] is not a problem (code, count, message)")


def _moment(stamp: Any) -> datetime:
    moment = datetime.fromisoformat(stamp)  # TypeError for a non-string
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- merging ----------------------------------------------------------------------------------------


def merge(shards: list[Shard]) -> JSON:
    """One report from the shards that could be read (at least one); see the module's contract."""
    read = [s for s in shards if s.report is not None]
    if not read:
        raise ValueError("no shard could be read")
    first = read[0]
    earliest = min(read, key=lambda s: s.started)
    latest = max(read, key=lambda s: s.ended)
    with_start = [s for s in read if s.report is not None and s.report.get("health_start") is not None]
    start = min(with_start, key=lambda s: s.started) if with_start else None

    def each(key: str) -> list[JSON]:
        return [entry for s in read for entry in each_of(s, key)]

    tests_list = [
        {**test, "artifacts": [_artifact(a, Path(s.file).parent) for a in test.get("artifacts", [])]}
        if test.get("artifacts")
        else test
        for s in read
        for test in each_of(s, "tests_list")
    ]
    flows = each("flows")
    samples = [float(ms) for test in tests_list for ms in test.get("resets_ms", [])]
    run: JSON = {
        "started_at": earliest.started.isoformat(),
        "duration_s": round((latest.ended - earliest.started).total_seconds(), 3),
        "tests": {k: sum(int(_run(s)["tests"][k]) for s in read) for k in OUTCOMES},
        "resets": {
            "count": sum(int(_run(s).get("resets", {}).get("count", 0)) for s in read),
            "p50_ms": percentile(samples, 50),
            "p95_ms": percentile(samples, 95),
        },
        "flow_steps": flow_steps(flows),
        "leaks": each("leaks"),
        "flows": flows,
        "tests_list": tests_list,
        "users_left": each("users_left"),
    }
    return {
        "target": first.report["target"] if first.report is not None else {},
        "health": latest.report["health"] if latest.report is not None else {},
        "health_start": start.report["health_start"] if start is not None and start.report else None,
        "health_shards": {"start": start.label if start is not None else None, "end": latest.label},
        "run": run,
        "shards": [shard_json(s) for s in shards],
        "notes": notes(shards, first),
    }


def each_of(shard: Shard, key: str) -> list[JSON]:
    """A shard's ``run[key]``, each entry with the shard's label (a merged input's entries keep theirs)."""
    return [{**entry, "shard": entry.get("shard", shard.label)} for entry in _run(shard).get(key, [])]


def _artifact(artifact: JSON, folder: Path) -> JSON:
    """A test's artifact: a relative path is taken from the folder of the shard's report (where a CI
    job's artifact puts it: the report and ``test-results/`` side by side), as that file was given."""
    path = Path(str(artifact["path"]))
    return artifact if path.is_absolute() else {**artifact, "path": str(folder / path)}


def _run(shard: Shard) -> JSON:
    assert shard.report is not None
    run: JSON = shard.report["run"]
    return run


def flow_steps(flows: list[JSON]) -> JSON:
    """Each step's percentiles over every flow that timed it: the flow's steps first, then the others."""
    names: dict[str, None] = dict.fromkeys(FLOW_STEPS)
    for flow in flows:
        names.update(dict.fromkeys(flow["steps"]))
    out: JSON = {}
    for name in names:
        values = [float(f["steps"][name]) for f in flows if f["steps"].get(name) is not None]
        if values:
            out[name] = {
                "count": len(values),
                "p50_ms": percentile(values, 50),
                "p95_ms": percentile(values, 95),
            }
    return out


def shard_json(shard: Shard) -> JSON:
    """One shard as the merged report lists it: when it ran, its counts, its own end problems."""
    if shard.report is None:
        return {
            "label": shard.label,
            "file": shard.file,
            "started_at": None,
            "duration_s": None,
            "tests": None,
            "health_problems": None,
            "health_error": None,
            "error": shard.error,
        }
    run, health = shard.report["run"], shard.report["health"]
    return {
        "label": shard.label,
        "file": shard.file,
        "started_at": shard.started.isoformat(),
        "duration_s": run["duration_s"],
        "tests": {k: run["tests"][k] for k in OUTCOMES},
        "health_problems": None if "error" in health else health["problems"],
        "health_error": health.get("error"),
        "error": None,
    }


def notes(shards: list[Shard], first: Shard) -> list[str]:
    """What a reader of the merged report should know beyond its figures."""
    out = [unread_note(s.label, s.file, s.error) for s in shards if s.error]
    assert first.report is not None
    where = _target_text(first.report["target"])
    for s in shards:
        if s.report is None:
            continue
        if s is not first and _target_text(s.report["target"]) != where:
            out.append(
                f"shard {s.label} ran against {_target_text(s.report['target'])}, not {where} "
                f"(the target above is shard {first.label}'s)"
            )
        if s is not first:  # the first's are in the target above, which the renderings show
            said = [s.report["target"].get(k) for k in _TARGET_PROBLEMS]
            out += [f"shard {s.label}: {problem}" for problem in said if problem]
        run = s.report["run"]
        held = sum(len(t.get("resets_ms", [])) for t in run.get("tests_list", []))
        count = int(run.get("resets", {}).get("count", 0))
        if held != count:
            out.append(
                f"shard {s.label} counted {count} resets but its tests hold {held} samples: "
                "the percentiles are over the samples"
            )
    return out


_TARGET_PROBLEMS = ("app_error", "lease_problem")


def shard_name(label: str, file: str) -> str:
    """``shard 2/4 (its file)``; ``shard FILE`` when its label is its file."""
    return f"shard {label}" + (f" ({file})" if file != label else "")


def unread_note(label: str, file: str, error: str | None) -> str:
    """The note about a shard whose report could not be read."""
    return f"{shard_name(label, file)} is not in this report: {error}"


def _target_text(target: JSON) -> str:
    return f"{target.get('app_url', '?')} ({target.get('kind', '?')})"


# -- writing ----------------------------------------------------------------------------------------


def write_atomically(files: dict[Path, str]) -> None:
    """Write each text to a temporary file beside its path, then rename them all: each path is
    either its old file or the whole new one, never half of it, and none is replaced unless every
    text was written. Raises ``OSError``; leaves no temporary file."""
    partials: dict[Path, Path] = {}
    try:
        for path, text in files.items():
            partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
            # This process's own name: a file of that name is a leftover of a killed process of the same id.
            partial.unlink(missing_ok=True)
            # The mode of any new file (the umask applies), not a temporary file's 0600.
            handle = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            partials[path] = partial
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(text)
        for path, partial in partials.items():
            os.replace(partial, path)
    finally:
        for partial in partials.values():
            partial.unlink(missing_ok=True)


def dumps(report: JSON) -> str:
    return json.dumps(report, indent=2, default=str) + "\n"


def summary_lines(report: JSON) -> list[str]:
    """The merged report in a few terminal lines: each shard, the figures, the latest health, the notes."""
    run = report["run"]
    tests, resets = run["tests"], run["resets"]
    width = max((len(str(s["label"])) for s in report["shards"] if s["label"] != s["file"]), default=0)
    lines = []
    for shard in report["shards"]:
        label = str(shard["label"])
        head = f"shard     {label.ljust(width)}" + (f"  {shard['file']}" if shard["file"] != label else "")
        if shard["error"]:
            lines.append(f"{head}: NOT MERGED, {shard['error']}")
            continue
        if shard["health_error"]:
            problems = f"health not checked at its end: {shard['health_error']}"
        else:
            codes = ", ".join(f"{p['code']} ({p['count']})" for p in shard["health_problems"])
            problems = f"problems at its end: {codes or 'none'}"
        ran = sum(shard["tests"].values())
        lines.append(f"{head}: {ran} tests in {shard['duration_s']:.1f} s; {problems}")
    lines += [
        f"target    {report['target'].get('app_url', '?')} ({report['target'].get('kind', '?')})",
        f"tests     {tests['passed']} passed, {tests['failed']} failed, "
        f"{tests['skipped']} skipped, {tests['errors']} errors in {run['duration_s']:.1f} s (wall)",
        f"resets    {resets['count']} (p50 {ms_text(resets['p50_ms'])}, p95 {ms_text(resets['p95_ms'])})",
    ]
    steps = run.get("flow_steps", {})
    if steps:
        lines.append(
            f"flows     {len(run['flows'])}: "
            + "  ".join(
                f"{name.removesuffix('_ms')} p50 {ms_text(s['p50_ms'])} p95 {ms_text(s['p95_ms'])}"
                for name, s in steps.items()
            )
        )
    lines.append(f"leaks     {len(run['leaks'])} tests leaked")
    for user in run["users_left"]:
        lines.append(f"left      {user['email']}: {user.get('reason', '?')} (shard {user['shard']})")
    health = report["health"]
    lines.append(f"health    at the end of shard {report['health_shards']['end']}, the last to end:")
    if "error" in health:
        lines.append(f"health    not checked at the end: {health['error']}")
    else:
        lines.extend(Health(health).lines())
    unread = {unread_note(s["label"], s["file"], s["error"]) for s in report["shards"] if s["error"]}
    lines += [f"note      {note}" for note in report["notes"] if note not in unread]  # said above
    return lines


def markdown(report: JSON) -> str:
    """The merged report for ``$GITHUB_STEP_SUMMARY``: the run's summary (``recorder.markdown``) over
    every shard, then a row per shard (its tests, its time, its problems at its end, or why it is not
    merged) and the notes."""
    out = [recorder.markdown(report), "| shard | tests | time | at its end |", "|---|---|---|---|"]
    for shard in report["shards"]:
        if shard["error"]:
            out.append(f"| {_cell(shard['label'])} | not merged: {_cell(shard['error'])} | | |")
            continue
        tests = ", ".join(f"{shard['tests'][k]} {k}" for k in OUTCOMES)
        if shard["health_error"]:
            end = f"health not checked: {shard['health_error']}"
        else:
            end = ", ".join(f"{p['code']} ({p['count']})" for p in shard["health_problems"]) or "no problems"
        out.append(f"| {_cell(shard['label'])} | {tests} | {shard['duration_s']:.1f} s | {_cell(end)} |")
    out += ["", f"Health at the end: shard {report['health_shards']['end']}'s, the last to end."]
    if report["notes"]:
        out += ["", "**Notes:**"] + [f"- {note}" for note in report["notes"]]
    return "\n".join(out) + "\n"


def _cell(value: Any) -> str:
    """A table cell's text: on one line, its bars escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")
