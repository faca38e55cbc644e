"""The CI example, run here (issue 19, part 4): ``docs/ci/github-actions.yml`` cannot rot.

The workflow is read from the YAML and its jobs are run as GitHub Actions would run them, on
this machine, by processes standing in for what a runner has:

- the target: ``pitstop serve`` (the embedded stack) for the staging database and the preview
  app; the secrets the workflow reads are filled in from its ready file (``SECRETS``);
- each browser service: ``python -m playwright run-server`` on a free port, with the service's
  own arguments (its host made loopback, and ``--unsafe``: Playwright's own Chromium cannot be
  downloaded here, so the server launches the system Chromium the plugin names in its launch
  options header); the service's port is replaced by that port in the steps' commands;
- the jobs, wave by wave as their ``needs`` order them, every job of a wave at once (the matrix's
  shards too, ``${{ matrix.* }}`` filled in), each in a folder of its own (its checkout), each
  step a process of its own with ``$GITHUB_STEP_SUMMARY`` a file of its own;
- ``actions/upload-artifact`` and ``actions/download-artifact``: the files copied as those actions
  lay them out (one folder per artifact name; a pattern's artifacts each in a folder of its name);
  the other ``actions/*`` steps and ``pip install`` lines are skipped (this venv has it all).

Everything else runs as written, with ``PYTEST_ADDOPTS=-k …`` keeping two fast scenarios (the
YAML's comment says so). Then: every step exits 0, the merged report holds every test of every
shard exactly once with its shard, the page exists and is uploaded, the merge step's summary is
the merged report's Markdown, each shard drove the browsers of its own service. A first test
checks the shape the issue asks for (a matrix of shards against one target, the browser service
at the version of this venv's Playwright, the ws endpoint, the uploads and the merge of exactly
the shards' files), so that an edit that would not work in CI fails here.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import playwright
import pytest
import yaml

from harness.config import options
from harness.report.merge import markdown
from harness.stack import processes
from harness.stack.postgres import free_port

WORKFLOW = Path(__file__).parents[1] / "docs" / "ci" / "github-actions.yml"
# Two fast scenarios, one for each shard (the shards split what -k keeps).
SCENARIOS = "dashboard_lists or declined_card"
SELECTED = 2
READY_S = 90  # for the stack, or a browser server, to answer
STEP_S = 240  # for a step to end (two shards of one scenario each: about 15 s on two cores)
# The Playwright that this venv's Python package drives (its bundled driver): the browser
# service must run this version, and the workflow's pip pin must install this package.
DRIVER = json.loads((Path(playwright.__file__).parent / "driver/package/package.json").read_text())["version"]
PLAYWRIGHT_IMAGE = "mcr.microsoft.com/playwright:"
# Every variable that names a target or changes the guard, and the outer run's own.
DROPPED = {
    *(option.env for option in options.CLI if option.env),
    "PGHOST",
    "PGHOSTADDR",
    "STRIPE_SECRET_KEY",
    "PYTEST_ADDOPTS",
}
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


# -- reading the workflow ---------------------------------------------------------------------------


def workflow(*, tight: bool = False) -> dict[str, Any]:
    """The workflow as YAML reads it; ``tight``: each ``${{ … }}`` written ``${{…}}``, one word."""
    text = WORKFLOW.read_text()
    if tight:
        text = EXPRESSION.sub(lambda m: expression(m.group(1)), text)
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def expression(name: str) -> str:
    return "${{" + name + "}}"


def jobs_in_waves(jobs: dict[str, Any]) -> list[list[str]]:
    """The jobs in the order GitHub runs them: each wave needs only the waves before it."""
    done: list[str] = []
    waves = []
    while len(done) < len(jobs):
        wave = [j for j in jobs if j not in done and set(needs(jobs[j])) <= set(done)]
        assert wave, f"the jobs' needs go round in a circle: {[j for j in jobs if j not in done]}"
        waves.append(wave)
        done += wave
    return waves


def needs(job: dict[str, Any]) -> list[str]:
    value = job.get("needs", [])
    return [value] if isinstance(value, str) else list(value)


def matrix_of(job: dict[str, Any]) -> list[dict[str, str]]:
    """The job's matrix, one entry per job it makes (a single one without a matrix)."""
    matrix = job.get("strategy", {}).get("matrix")
    if not matrix:
        return [{}]
    assert not {"include", "exclude"} & set(matrix), "a matrix's include/exclude: not stood in for here"
    entries: list[dict[str, str]] = [{}]
    for key, values in matrix.items():
        entries = [{**entry, key: str(value)} for entry in entries for value in values]
    return entries


def shards_job(jobs: dict[str, Any]) -> str:
    """The job of the matrix of shards."""
    (name,) = [j for j in jobs if jobs[j].get("strategy", {}).get("matrix")]
    return name


def run_lines(job: dict[str, Any]) -> list[str]:
    return [" ".join(str(s["run"]).split()) for s in job["steps"] if "run" in s]


def command_with(job: dict[str, Any], start: str) -> str:
    """The one run line of the job that starts with ``start``."""
    (line,) = [line for line in run_lines(job) if line.startswith(start)]
    return line


def uses(step: dict[str, Any], action: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == action


def tokens(command: str) -> list[str]:
    """A command's words, each ``--option=value`` as two."""
    out: list[str] = []
    for word in shlex.split(command):
        out += word.split("=", 1) if word.startswith("--") and "=" in word else [word]
    return out


def value_after(words: list[str], option: str) -> str:
    assert option in words, f"{option} is not given: {' '.join(words)}"
    return words[words.index(option) + 1]


# -- the shape the issue asks for -------------------------------------------------------------------


def test_the_workflow_has_the_shape_the_issue_asks() -> None:
    jobs = workflow(tight=True)["jobs"]
    job = jobs[shards_job(jobs)]
    (key,) = job["strategy"]["matrix"]
    numbers = job["strategy"]["matrix"][key]
    assert len(numbers) >= 2 and numbers == list(range(1, len(numbers) + 1)), numbers
    assert job["strategy"].get("fail-fast") is False  # every shard runs to its end
    shard = expression(f"matrix.{key}")

    # The stale cleanup, once, in a job every shard needs; each shard sweeps dead runs by their leases.
    (cleanup,) = needs(job)
    assert "pitstop cleanup" in run_lines(jobs[cleanup])
    words = tokens(command_with(job, "pitstop run"))
    assert value_after(words, "--pitstop-reset") == "full"

    # Each shard: its K of N against the one app, two workers, the service's browsers, its report.
    assert value_after(words, "--pitstop-shard") == f"{shard}/{expression('strategy.job-total')}"
    assert value_after(words, "--base-url") == "$PITSTOP_APP_URL"
    assert value_after(words, "-n") == "2"
    (service,) = job["services"].values()
    assert service["image"].startswith(f"{PLAYWRIGHT_IMAGE}v{DRIVER}-"), (
        f"the browser service must be Playwright {DRIVER}, which this venv's Python playwright "
        f"{version('playwright')} drives (a server refuses another version): {service['image']}"
    )
    served = shlex.split(service["command"])
    assert served[:4] == ["npx", "-y", f"playwright@{DRIVER}", "run-server"], served
    assert value_after(served, "--host") == "0.0.0.0"  # reachable through the published port
    port = published(service, value_after(served, "--port"))
    assert value_after(words, "--pitstop-browser-ws-endpoint") == f"ws://localhost:{port}/"
    pinned = f"playwright=={version('playwright')}"
    assert pinned in tokens(command_with(job, "pip install")), f"the shards must install {pinned}"
    health = value_after(words, "--pitstop-health")

    # Each shard uploads its report, also when its tests failed, under a name of its own.
    steps = job["steps"]
    after = steps[next(i for i, s in enumerate(steps) if "pitstop run" in str(s.get("run", ""))) :]
    (upload,) = [s for s in after if uses(s, "actions/upload-artifact")]
    assert upload.get("if") == "always()" and shard in upload["with"]["name"]
    assert health in upload["with"]["path"].split()

    # The report job: after the shards, whatever they did; each shard's file by name; the page kept.
    (report,) = [jobs[j] for j in jobs if needs(jobs[j]) == [shards_job(jobs)]]
    assert report.get("if") == "always()"
    (download,) = [s for s in report["steps"] if uses(s, "actions/download-artifact")]
    names = [upload["with"]["name"].replace(shard, str(k)) for k in numbers]
    assert all(fnmatch.fnmatchcase(name, download["with"]["pattern"]) for name in names)
    merge = tokens(command_with(report, "pitstop report merge"))
    page = value_after(merge, "--html")
    inputs = [word for word in merge[4:] if word not in ("--html", page)]
    assert inputs == [f"{download['with']['path']}/{name}/{health}" for name in names], (
        "the merge must name each shard's report, one per shard of the matrix"
    )
    (kept,) = [s for s in report["steps"] if uses(s, "actions/upload-artifact")]
    assert {merge[3], page} <= set(kept["with"]["path"].split())


def published(service: dict[str, Any], port: str) -> str:
    """The runner's port that the service's ``port`` is published on."""
    for mapping in service.get("ports", []):
        host, _, container = str(mapping).rpartition(":")
        if container == port:
            return host or port
    raise AssertionError(f"the service's port {port} is not published: {service.get('ports')}")


# -- running it here --------------------------------------------------------------------------------


SKIPPED = -1  # a step's code when it did not run here (an actions/* step, a pip install)


@dataclass
class StepRun:
    job: str  # the job's label: its id, and its matrix entry
    what: str
    code: int  # SKIPPED, or the exit code (124: it took longer than STEP_S)
    log: Path | None = None
    summary: Path | None = None

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log and self.log.is_file() else ""


@dataclass
class JobRun:
    label: str
    folder: Path  # its checkout: where its steps run
    matrix: dict[str, str]
    steps: list[StepRun] = field(default_factory=list)
    servers: list[Path] = field(default_factory=list)  # its browser services' logs
    ok: bool = True


@dataclass
class Actions:
    """A runner for the workflow's jobs on this machine: see the module's docstring."""

    root: Path
    secrets: dict[str, str]
    addopts: str
    artifacts: dict[str, Path] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, data: dict[str, Any]) -> dict[str, list[JobRun]]:
        """Every job, wave by wave, the jobs of a wave (a matrix's too) at once."""
        jobs: dict[str, Any] = data["jobs"]
        done: dict[str, list[JobRun]] = {}
        for wave in jobs_in_waves(jobs):
            runs = [
                (job_id, entry, len(matrix_of(jobs[job_id])))
                for job_id in wave
                for entry in matrix_of(jobs[job_id])
            ]
            with ThreadPoolExecutor(len(runs)) as pool:
                ended = list(pool.map(lambda r: self.job(data, r[0], r[1], r[2], done), runs))
            for (job_id, _, _), job_run in zip(runs, ended, strict=True):
                done.setdefault(job_id, []).append(job_run)
        return done

    def job(
        self,
        data: dict[str, Any],
        job_id: str,
        entry: dict[str, str],
        total: int,
        done: dict[str, list[JobRun]],
    ) -> JobRun:
        job = data["jobs"][job_id]
        label = "-".join([job_id, *entry.values()])
        run = JobRun(label, self.root / label, entry)
        run.folder.mkdir(parents=True)
        context = {
            **self.secrets,
            **{f"matrix.{k}": v for k, v in entry.items()},
            "strategy.job-total": str(total),
        }
        status = all(r.ok for need in needs(job) for r in done.get(need, []))
        if not condition(job.get("if"), status):
            run.ok = status
            return run
        servers: list[subprocess.Popen[bytes]] = []
        ports: dict[str, str] = {}
        try:
            for name, service in (job.get("services") or {}).items():
                server, mapped, log = browser_server(name, service, run.folder.parent, self.environment())
                servers.append(server)
                ports.update(mapped)
                run.servers.append(log)
            for index, step in enumerate(job["steps"]):
                if not condition(step.get("if"), run.ok):
                    continue
                result = self.step(data, job, job_id, run, index, step, context, ports)
                run.steps.append(result)
                run.ok = run.ok and result.code in (0, SKIPPED)
        finally:
            for server in servers:
                processes.stop(server)
        return run

    def environment(self) -> dict[str, str]:
        """This machine's environment without a target, the outer run's pytest options or a CI's
        variables; this venv's commands first on PATH; temporary files in the test's folder."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in DROPPED and not k.startswith(("GITHUB_", "RUNNER_", "PYTEST_XDIST"))
        }
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env["TMPDIR"] = str(self.root / "tmp")
        (self.root / "tmp").mkdir(exist_ok=True)
        return env

    def step(
        self,
        data: dict[str, Any],
        job: dict[str, Any],
        job_id: str,
        run: JobRun,
        index: int,
        step: dict[str, Any],
        context: dict[str, str],
        ports: dict[str, str],
    ) -> StepRun:
        if "uses" in step:
            action = str(step["uses"]).split("@")[0]
            given = {k: expand(str(v), context) for k, v in (step.get("with") or {}).items()}
            if action == "actions/upload-artifact":
                self.upload(run.folder, given)
            elif action == "actions/download-artifact":
                self.download(run.folder, given)
            else:
                assert action.startswith("actions/"), f"{step['uses']}: no stand-in for it here"
            return StepRun(run.label, str(step["uses"]), SKIPPED)
        script = str(step["run"]).strip()
        if script.startswith("pip install"):
            assert "\n" not in script and "&&" not in script and ";" not in script, script
            return StepRun(run.label, script, SKIPPED)
        assert step.get("shell", "bash") == "bash" and "working-directory" not in step, step
        script = expand(script, context)
        for runner_port, local in ports.items():  # the service's port, as published here
            script = re.sub(rf"\b(localhost|127\.0\.0\.1):{runner_port}\b", rf"\g<1>:{local}", script)
        env = self.environment()
        env.update(
            CI="true",
            GITHUB_ACTIONS="true",
            GITHUB_WORKFLOW=str(data.get("name", "")),
            GITHUB_REPOSITORY="local/pitstop",
            GITHUB_RUN_ID=str(os.getpid()),
            GITHUB_RUN_ATTEMPT="1",
            GITHUB_JOB=job_id,
            GITHUB_WORKSPACE=str(run.folder),
            PYTEST_ADDOPTS=self.addopts,
        )
        for scope in (data, job, step):
            env.update({k: expand(str(v), context) for k, v in (scope.get("env") or {}).items()})
        summary = self.root / "summaries" / f"{run.label}-{index}.md"
        summary.parent.mkdir(exist_ok=True)
        summary.touch()
        env["GITHUB_STEP_SUMMARY"] = str(summary)
        log = self.root / "logs" / f"{run.label}-{index}.txt"
        log.parent.mkdir(exist_ok=True)
        with log.open("wb") as output:
            process = subprocess.Popen(
                ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                cwd=run.folder,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                code = process.wait(STEP_S)
            except subprocess.TimeoutExpired:
                code = 124
            finally:
                processes.stop(process)  # on a timeout; after an exit, what it left in its group
        return StepRun(run.label, script, code, log, summary)

    def upload(self, folder: Path, given: dict[str, str]) -> None:
        """``actions/upload-artifact``: the files found, below their least common folder."""
        files: list[Path] = []
        for path in filter(None, map(str.strip, given["path"].splitlines())):
            for found in folder.glob(path.rstrip("/")):
                files += sorted(p for p in found.rglob("*") if p.is_file()) if found.is_dir() else [found]
        if not files:
            assert given.get("if-no-files-found") == "ignore", f"artifact {given['name']}: no files"
            return
        common = Path(os.path.commonpath([f.parent for f in files]))
        stored = self.root / "artifacts" / given["name"]
        with self.lock:
            assert given["name"] not in self.artifacts, f"artifact {given['name']} uploaded twice"
            self.artifacts[given["name"]] = stored
        for file in files:
            (stored / file.relative_to(common)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, stored / file.relative_to(common))

    def download(self, folder: Path, given: dict[str, str]) -> None:
        """``actions/download-artifact``: by name into ``path``; by pattern each in a folder of its name."""
        assert not given.get("merge-multiple"), "merge-multiple: not stood in for here"
        into = folder / given.get("path", ".")
        with self.lock:
            artifacts = dict(self.artifacts)
        if "name" in given:
            shutil.copytree(artifacts[given["name"]], into, dirs_exist_ok=True)
            return
        for name, stored in artifacts.items():
            if fnmatch.fnmatchcase(name, given.get("pattern", "*")):
                shutil.copytree(stored, into / name)


def expand(text: str, context: dict[str, str]) -> str:
    """``${{ … }}`` filled in from ``context``; one that the test cannot stand in for fails it."""

    def one(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"{WORKFLOW.name}: no stand-in here for {match.group(0)}"
        return context[match.group(1)]

    return EXPRESSION.sub(one, text)


def condition(when: Any, ok: bool) -> bool:
    """A job's or a step's ``if:``, of the status functions alone."""
    if when is None:
        return ok
    said = EXPRESSION.sub(lambda m: m.group(1), str(when)).strip()
    known: dict[str, Callable[[], bool]] = {
        "always()": lambda: True,
        "success()": lambda: ok,
        "failure()": lambda: not ok,
        "cancelled()": lambda: False,
    }
    assert said in known, f"{WORKFLOW.name}: no stand-in here for the condition {when!r}"
    return known[said]()


def browser_server(
    name: str, service: dict[str, Any], folder: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], dict[str, str], Path]:
    """The service's Playwright server, here: its own arguments on a free port of loopback, logging
    each browser it launches; with the runner's port it stands for."""
    assert str(service["image"]).startswith(PLAYWRIGHT_IMAGE), f"service {name}: no stand-in for it here"
    words = shlex.split(service["command"])
    assert words[:2] == ["npx", "-y"] and words[2].startswith("playwright@") and words[3] == "run-server"
    args = words[4:]
    container = value_after(args, "--port")
    port = free_port()
    args[args.index("--port") + 1] = str(port)
    if "--host" in args:
        args[args.index("--host") + 1] = "127.0.0.1"
    log = folder / f"browser-server-{port}.txt"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "playwright", "run-server", *args, "--unsafe"],
            env={**env, "DEBUG": "pw:server"},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # with the Node driver it starts: stopped together
        )
    try:
        wait_for(f"the browser server ({log.name})", lambda: answers(port) or server.poll() is not None)
        assert server.poll() is None, log.read_text()
    except BaseException:
        processes.stop(server)
        raise
    return server, {published(service, container): str(port)}, log


def answers(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(what: str, check: Callable[[], bool], timeout: float = READY_S) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout:g} s"
        time.sleep(0.1)


@pytest.fixture
def target(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``pitstop serve``: the embedded stack, as the staging database and the preview app; its
    ready file's answer. Stopped at the end (SIGTERM, then what is left of its group)."""
    ready = tmp_path / "ready.json"
    env = {k: v for k, v in os.environ.items() if k not in DROPPED and not k.startswith("GITHUB_")}
    with (tmp_path / "serve.txt").open("wb") as output:
        serve = subprocess.Popen(
            [sys.executable, "-m", "harness", "serve", "--ready-file", str(ready)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for("the stack", lambda: ready.is_file() or serve.poll() is not None)
        assert serve.poll() is None, (tmp_path / "serve.txt").read_text()
        yield json.loads(ready.read_text())
    finally:
        serve.send_signal(signal.SIGTERM)  # it stops the stack as on Ctrl-C
        try:
            serve.wait(timeout=60)
        finally:
            processes.stop(serve)


def stand_ins(target: dict[str, str]) -> dict[str, str]:
    """The workflow's secrets, here: the stack's database and app. A secret not set in a repository
    reads as "" in a workflow: the Supabase project's (the target is a database), and the hosts to
    allow (everything here is loopback)."""
    return {
        "secrets.DATABASE_URL": target["database_url"],
        "secrets.PITSTOP_APP_URL": target["app_url"],
        "secrets.PITSTOP_ADMIN_TOKEN": target["admin_token"],
        "secrets.SUPABASE_URL": "",
        "secrets.SUPABASE_SERVICE_ROLE_KEY": "",
        "secrets.PITSTOP_ALLOWED_HOSTS": "",
    }


def test_the_workflow_runs_here(tmp_path: Path, target: dict[str, str]) -> None:
    data = workflow()
    jobs = data["jobs"]
    actions = Actions(tmp_path / "runner", stand_ins(target), f"-k {shlex.quote(SCENARIOS)}")
    done = actions.run(data)

    # Every step of every job ran and ended well.
    steps = [step for runs in done.values() for run in runs for step in run.steps]
    failed = [step for step in steps if step.code not in (0, SKIPPED)]
    assert not failed, "\n\n".join(f"{s.job}: {s.what}\nexit {s.code}\n{s.tail()}" for s in failed)
    assert all(run.ok for runs in done.values() for run in runs)
    ran = [" ".join(step.what.split()[:2]) for step in steps if step.code == 0]
    assert ran.count("pitstop cleanup") == 1 and ran.count("pitstop report") == 1
    assert ran.count("pitstop run") == len(matrix_of(jobs[shards_job(jobs)]))

    # Each shard ran its part of the scenarios, with its label, and wrote it to its job's summary.
    shards = done[shards_job(jobs)]
    total = len(shards)
    words = tokens(command_with(jobs[shards_job(jobs)], "pitstop run"))
    health = value_after(words, "--pitstop-health")
    reports = {}
    for k, shard in enumerate(shards, 1):
        report = json.loads((shard.folder / health).read_text())
        said = report["run"].get("shard")
        assert said == f"{k}/{total}", f"shard {k} of {total} ran as shard {said!r}"
        reports[report["run"]["shard"]] = report
        assert report["run"]["tests_list"], f"shard {k}/{total} ran no test"
        (scenario,) = [s for s in shard.steps if s.what.startswith("pitstop run")]
        assert scenario.summary is not None
        assert scenario.summary.read_text().startswith("## pitstop health")
        # Its browsers were its service's: the server launched one for each test.
        (server,) = shard.servers
        launched = server.read_text().count('engaged launch mode for "chromium"')
        assert launched >= len(report["run"]["tests_list"]), (
            f"shard {k}'s browser service launched {launched} browsers for its "
            f"{len(report['run']['tests_list'])} tests:\n{server.read_text()[-2000:]}"
        )

    # The merged report: every test of every shard exactly once, with its shard.
    (report_job,) = [j for j in jobs if needs(jobs[j]) == [shards_job(jobs)]]
    (merging,) = done[report_job]
    (merge_step,) = [s for s in merging.steps if s.what.startswith("pitstop report merge")]
    merge = tokens(merge_step.what)
    merged = json.loads((merging.folder / merge[3]).read_text())
    expected = sorted((t["test"], label) for label, r in reports.items() for t in r["run"]["tests_list"])
    assert sorted((t["test"], t["shard"]) for t in merged["run"]["tests_list"]) == expected
    assert len({test for test, _ in expected}) == len(expected) == SELECTED
    assert merged["run"]["tests"] == {"passed": SELECTED, "failed": 0, "skipped": 0, "errors": 0}
    assert [(s["label"], s["error"]) for s in merged["shards"]] == [(label, None) for label in reports]
    # The page, uploaded with it; the job's summary is the merged report's.
    page = value_after(merge, "--html")
    assert "<th>Shard</th>" in (merging.folder / page).read_text()
    (kept,) = [s for s in jobs[report_job]["steps"] if uses(s, "actions/upload-artifact")]
    assert (actions.artifacts[kept["with"]["name"]] / page).is_file()
    assert merge_step.summary is not None
    assert merge_step.summary.read_text() == markdown(merged)
