"""The machine the figures come from, and the memory of process trees (read from /proc)."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType

PROC = Path("/proc")


def describe(extra: Iterable[str] = ()) -> str:
    """CPU, cores, memory, OS, Python, Chromium and the load when asked (the machine is shared)."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in (PROC / "cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = _meminfo_kb("MemTotal") / 1024 / 1024
    parts = [
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GB RAM",
        f"{platform.system()} {platform.release()}",
        f"Python {platform.python_version()}"
        # Without bytecode caches pytest rewrites its plugins' modules anew in every process.
        + (" (PYTHONDONTWRITEBYTECODE set)" if sys.flags.dont_write_bytecode else ""),
        *extra,
    ]
    chromium = shutil.which("chromium")
    if chromium:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            version = subprocess.run([chromium, "--version"], capture_output=True, text=True, timeout=10)
            parts.append(version.stdout.strip().split(" built")[0])
    return "; ".join(parts)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def _meminfo_kb(name: str) -> int:
    with contextlib.suppress(OSError, ValueError):
        for line in (PROC / "meminfo").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


# -- process trees -------------------------------------------------------------------


def children_map() -> dict[int, list[int]]:
    """Every live process's children, by parent pid (one scan of /proc)."""
    children: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            # The command name may hold spaces and parentheses: the fields start after the last ')'.
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree(roots: Iterable[int], children: dict[int, list[int]]) -> set[int]:
    """The roots and all their descendants."""
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def rss_kb(pid: int) -> int:
    """Resident set size (VmRSS); 0 for a process that has gone."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages divided among their sharers, so that sums add up."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in (PROC / str(pid) / "smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


class MemorySampler:
    """Samples the memory of named process groups in a thread; keeps the peak of each and of the sum.

    ``groups`` is called at every sample and returns the pids of each group (roots
    whose whole trees count), so that processes started meanwhile are counted.
    """

    def __init__(self, groups: Callable[[], dict[str, set[int]]], interval_s: float = 0.1) -> None:
        self._groups = groups
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self.peak_rss_kb: dict[str, int] = {}
        self.peak_pss_kb: dict[str, int] = {}
        self.samples = 0

    def sample(self) -> None:
        rss_total = pss_total = 0
        for name, pids in self._groups().items():
            rss = sum(rss_kb(p) for p in pids)
            pss = sum(pss_kb(p) for p in pids)
            rss_total, pss_total = rss_total + rss, pss_total + pss
            self.peak_rss_kb[name] = max(self.peak_rss_kb.get(name, 0), rss)
            self.peak_pss_kb[name] = max(self.peak_pss_kb.get(name, 0), pss)
        self.peak_rss_kb["total"] = max(self.peak_rss_kb.get("total", 0), rss_total)
        self.peak_pss_kb["total"] = max(self.peak_pss_kb.get("total", 0), pss_total)
        self.samples += 1

    def _loop(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()

    def __enter__(self) -> MemorySampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


# -- CPU -----------------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time of a process (user + system), with its waited-for children's."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        fields = (PROC / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        # After the ')': state is field 3, so utime (14) .. cstime (17) are [11:15].
        return sum(int(f) for f in fields[11:15]) / TICKS
    return 0.0


def parts_cpu_seconds(parts: dict[str, int], *, name: Callable[[int], str] | None = None) -> dict[str, float]:
    """CPU time so far of named process trees, by part: each live process with its reaped children.

    A process that has ended counts through its parent's reaped-children time (as Chromium's
    renderers do through the browser process), so the sum over a tree stays whole. With ``name``,
    each process is filed under ``name(pid)`` instead (or its part's name, when that gives "").
    """
    children = children_map()
    used: dict[str, float] = {}
    for part, root in parts.items():
        for pid in tree([root], children):
            key = (name(pid) if name else "") or part
            used[key] = used.get(key, 0.0) + cpu_seconds(pid)
    return used


def command_name(pid: int) -> str:
    """The process's command name (``/proc/<pid>/comm``); "" once it has gone."""
    with contextlib.suppress(OSError):
        return (PROC / str(pid) / "comm").read_text().strip()
    return ""


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, all cores (/proc/stat)."""
    fields = [int(f) for f in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    total = sum(fields[:8])  # guest time is already counted in user
    return (total - idle) / TICKS, total / TICKS


# -- CPU by control group ----------------------------------------------------------------

CPUACCT = Path("/sys/fs/cgroup/cpuacct")


class CpuGroup:
    """A cgroup (v1 ``cpuacct``) whose processes' CPU time is counted, children and the exited
    included: ``add(pid)`` moves a process in (what it starts from then on stays in), ``seconds()``
    reads the total. Removed on ``close``, its processes moved back to the root group.

    Needs root and the cpuacct hierarchy (``available``); without them the callers fall back to
    the machine's busy time (``machine_busy``).
    """

    def __init__(self, name: str) -> None:
        self.path = CPUACCT / f"pitstop-bench-{os.getpid()}-{name}"
        self.path.mkdir()

    @staticmethod
    def available() -> bool:
        return os.geteuid() == 0 and (CPUACCT / "cpuacct.usage").exists()

    def add(self, pid: int) -> None:
        with contextlib.suppress(ProcessLookupError, OSError):
            (self.path / "cgroup.procs").write_text(str(pid))

    def seconds(self) -> float:
        return int((self.path / "cpuacct.usage").read_text()) / 1e9

    def close(self) -> None:
        with contextlib.suppress(OSError):
            for pid in (self.path / "cgroup.procs").read_text().split():
                with contextlib.suppress(OSError):
                    (CPUACCT / "cgroup.procs").write_text(pid)
            self.path.rmdir()
