"""The project builds into one wheel: one import package, ``harness``, with the data files it reads.

Built as a packager would (``pip wheel``), from a copy of the sources: setuptools writes
``build/`` and ``*.egg-info`` beside what it builds, and the working tree keeps none of it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_S = 300
# What the code reads at run time, beside its modules (relative to the repository root).
DATA = (
    "harness/py.typed",
    "fixtures/*.json",
    "harness/rules/sql/*.sql",
    "harness/rules/sql/*.sql.j2",
    "harness/stack/reference_app/schema.sql",
    "harness/stack/reference_app/plans.json",
    "harness/stack/reference_app/templates/*.html",
    "harness/stack/reference_app/templates_second/*.html",
    "harness/stack/reference_app/static/*",
    "harness/flows/pages/*.py",
    "scenarios/*.py",
)
# The folders at the repository's top that install inside the package, and where.
INSTALLED_AS = {"scenarios/": "harness/scenarios/", "fixtures/": "harness/testdata/"}
PACKAGE_FOLDERS = ("harness", *(folder.rstrip("/") for folder in INSTALLED_AS))


def in_wheel(path: str) -> str:
    """Where a file of the repository (its path relative to the root) lies in the wheel."""
    for folder, installed in INSTALLED_AS.items():
        if path.startswith(folder):
            return installed + path.removeprefix(folder)
    return path


def _build_output(root: Path) -> set[str]:
    """What a build leaves in ``root``."""
    return {p.name for p in root.iterdir() if p.name in ("build", "dist") or p.name.endswith(".egg-info")}


def _copy_sources(destination: Path) -> None:
    """The repository's top-level files (pyproject.toml, README.md, ...) and the package."""
    destination.mkdir()
    for path in ROOT.iterdir():
        if path.is_file():
            shutil.copy2(path, destination / path.name)
    for folder in PACKAGE_FOLDERS:
        shutil.copytree(
            ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
        )


def test_the_wheel_holds_the_harness_package_and_its_data_files(tmp_path: Path) -> None:
    before = _build_output(ROOT)
    source, out = tmp_path / "source", tmp_path / "wheels"
    _copy_sources(source)
    build = ["pip", "wheel", "--no-deps", "--no-build-isolation", "-w", str(out), str(source)]
    result = subprocess.run(
        [sys.executable, "-m", *build],
        capture_output=True,
        text=True,
        timeout=BUILD_S,
        check=False,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    assert _build_output(ROOT) == before  # nothing written into the working tree
    wheels = list(out.glob("*.whl"))
    assert len(wheels) == 1, wheels
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
        dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        assert len(dist_info) == 1, dist_info
        (meta,) = dist_info
        entry_points = wheel.read(f"{meta}/entry_points.txt").decode()
    assert {n.split("/")[0] for n in names} == {"harness", meta}  # the only import package
    for pattern in DATA:
        expected = {in_wheel(p.relative_to(ROOT).as_posix()) for p in ROOT.glob(pattern) if p.is_file()}
        assert expected, f"nothing in the repository matches {pattern}"
        assert expected <= names, f"{pattern}: not in the wheel: {sorted(expected - names)}"
    modules = {
        in_wheel(p.relative_to(ROOT).as_posix())
        for folder in PACKAGE_FOLDERS
        for p in (ROOT / folder).rglob("*.py")
        if "__pycache__" not in p.parts
    }
    assert modules <= names, f"modules not in the wheel: {sorted(modules - names)}"
    assert "pitstop = harness.cli:run" in entry_points  # the command
    assert "pitstop = harness.plugin" in entry_points  # the pytest plugin
