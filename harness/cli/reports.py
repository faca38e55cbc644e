"""``pitstop report merge``: the reports of a suite's shards as one (no target needed)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from harness.errors import BadInput, ExitCode
from harness.json_types import JSON
from harness.report.html import html_page
from harness.report.merge import (
    dumps,
    markdown,
    merge,
    read_shards,
    shard_name,
    summary_lines,
    write_atomically,
)

MERGE_HELP = "merge the JSON reports of a suite's shards (a CI matrix) into one report"
MERGE_EPILOG = (
    "Every test of every shard is kept with its shard (the report's run.shard, else the file's name); "
    "resets' and flow steps' percentiles are computed again over every shard's samples; the health at "
    "the start is the earliest shard's, at the end the latest-ending shard's, and each shard's own end "
    "problems are listed under shards. A missing or unreadable shard is named in the report and the "
    "others are merged. Exit codes: 0 every shard merged; 1 a shard is missing or is not a pitstop "
    "report (the others are merged and written; none readable: nothing is written); 2 usage (OUT is "
    "one of the inputs, an input given twice, OUT's folder missing). OUT (and --html) are written "
    "whole or not at all. Where GITHUB_STEP_SUMMARY names a file (a GitHub Actions step), the merged "
    "report is appended to it in Markdown: the job's summary."
)


def cmd_report_merge(args: argparse.Namespace) -> int:
    out = Path(args.out)
    page = Path(args.html) if args.html else None
    _check_paths(out, page, args.inputs)
    shards = read_shards(args.inputs)
    for shard in shards:
        if shard.error:
            print(
                f"pitstop: {shard_name(shard.label, shard.file)} not merged: {shard.error}", file=sys.stderr
            )
    if all(shard.report is None for shard in shards):
        print(f"pitstop: error: no shard's report could be read; {out} not written", file=sys.stderr)
        return ExitCode.PROBLEMS
    report = merge(shards)
    files = {out: dumps(report)}
    if page is not None:
        files[page] = html_page(report, page=page, json_report=out)
    try:
        write_atomically(files)
    except OSError as exc:
        where = f" {exc.filename}" if exc.filename else ""
        raise BadInput(
            f"cannot write the merged report{where}: {exc.strerror or exc}; nothing was written",
            fix="give paths in a folder you can write to",
        ) from None
    merged = sum(1 for shard in shards if shard.report is not None)
    wrote = f"{out}" + (f" and {page}" if page is not None else "")
    print(f"pitstop report merge: {merged} of {len(shards)} shards into {wrote}")
    for line in summary_lines(report):
        print(line)
    _step_summary(report)
    return ExitCode.OK if merged == len(shards) else ExitCode.PROBLEMS


def _step_summary(report: JSON) -> None:
    """The merged report, appended to ``$GITHUB_STEP_SUMMARY`` when set (the job's summary on GitHub
    Actions), as a run appends its own. A summary that cannot be written is said, not fatal: the
    report is written."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if not summary:
        return
    try:
        with open(summary, "a", encoding="utf-8") as out:
            out.write(markdown(report))
    except OSError as exc:
        print(
            f"pitstop: warning: the merged report is not in the job summary: cannot append to "
            f"GITHUB_STEP_SUMMARY={summary}: {exc.strerror or exc}",
            file=sys.stderr,
        )


def _check_paths(out: Path, page: Path | None, inputs: list[str]) -> None:
    """Usage errors, before anything is read or written."""
    seen: dict[str, str] = {}
    for given in inputs:
        key = _same(Path(given))
        if key in seen:
            raise BadInput(
                f"{given} is given twice (as {seen[key]} and {given}): its tests would count twice",
                fix="give each shard's report once",
            )
        seen[key] = given
    for path, what in ((out, "OUT"), (page, "--html")):
        if path is None:
            continue
        if _same(path) in seen:
            raise BadInput(
                f"{what} {path} is one of the shards' reports: merging would overwrite it",
                fix="write the merged report to a file of its own",
            )
        if path.is_dir():
            raise BadInput(f"{what} {path} is a folder", fix="give the path of a file")
        if not path.parent.is_dir():
            raise BadInput(
                f"{what} {path}: its folder {path.parent} does not exist",
                fix=f"create it first (mkdir -p {path.parent}) or write elsewhere",
            )
    if page is not None and _same(page) == _same(out):
        raise BadInput(f"--html {page} is OUT itself", fix="give the HTML page a path of its own")


def _same(path: Path) -> str:
    """One key for every name of a file: its real path (links resolved)."""
    return os.path.normcase(os.path.realpath(path))
