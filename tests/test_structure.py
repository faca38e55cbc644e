"""The shape of the ``harness`` package: its modules import each other without a cycle.

Every import statement counts, wherever it stands: at the top, inside a
function, under ``if TYPE_CHECKING:``. An import inside a function only hides
a cycle until the function runs; the modules still depend on each other.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

import harness

ROOT = Path(harness.__file__).resolve().parent
Graph = Mapping[str, set[str]]


def module_name(path: Path, root: Path = ROOT) -> str:
    """``harness/store/api.py`` -> ``harness.store.api``; a package's ``__init__.py`` is the package."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    """Every module under ``root``, by its dotted name."""
    return {module_name(p, root): p for p in sorted(root.rglob("*.py")) if "__pycache__" not in p.parts}


def imported(name: str, path: Path, known: Iterable[str]) -> set[str]:
    """The modules of ``known`` that module ``name`` (at ``path``) imports, in any statement."""
    known = set(known)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, node.module] if node.module else base_parts)
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                out.add(sub if sub in known else base)
    return {m for m in out if m in known and m != name}


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package's modules it imports."""
    found = modules(root)
    return {name: imported(name, path, found) for name, path in found.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """The cycles, e.g. ``[a, b, a]``: in each strongly connected group of modules, the shortest
    through each of its modules (so every module on a cycle is named); none: ``[]``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[set[str]] = []

    def edges(node: str) -> list[str]:
        return sorted(graph.get(node, ()))

    for start in sorted(graph):  # Tarjan's algorithm, iterative (no recursion limit)
        if start in index:
            continue
        work = [(start, iter(edges(start)))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(edges(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.add(member)
                    if member == node:
                        break
                if len(group) > 1 or node in graph.get(node, ()):
                    groups.append(group)
    found = {_rotated(_shortest_cycle(graph, group, start)) for group in groups for start in group}
    return sorted(list(cycle) for cycle in found)


def _rotated(cycle: list[str]) -> tuple[str, ...]:
    """The same cycle, starting (and ending) at its first module in sorted order."""
    ring = cycle[:-1]
    first = ring.index(min(ring))
    ring = ring[first:] + ring[:first]
    return (*ring, ring[0])


def _shortest_cycle(graph: Graph, group: set[str], start: str) -> list[str]:
    """The shortest cycle through ``start``, staying inside its group."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(graph.get(node, ())):
            if child not in group:
                continue
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [*reversed(path), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start} in {sorted(group)}")  # a group's modules are on one


def describe(found: list[list[str]]) -> str:
    return "\n".join(" -> ".join(cycle) for cycle in found)


def test_the_harness_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "harness.plugin" in graph and "harness.store" in graph  # the walk found the package
    found = cycles(graph)
    assert not found, "import cycles among harness modules:\n" + describe(found)


def test_the_cycle_finder_names_cycles_and_passes_a_graph_without_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    assert cycles({"a": {"b"}, "b": {"a"}}) == [["a", "b", "a"]]
    assert cycles({"a": {"a"}}) == [["a", "a"]]
    # Two separate cycles, one with a shortcut, and a module that only leads into a cycle.
    graph = {"x": {"a"}, "a": {"b"}, "b": {"c", "a"}, "c": {"a"}, "p": {"q"}, "q": {"r"}, "r": {"p"}}
    assert cycles(graph) == [["a", "b", "a"], ["a", "b", "c", "a"], ["p", "q", "r", "p"]]
    assert describe(cycles(graph)) == "a -> b -> a\na -> b -> c -> a\np -> q -> r -> p"


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_every_kind_of_import_is_an_edge(tmp_path: Path) -> None:
    root = tmp_path / "pkg"
    write(
        root,
        {
            "__init__.py": "",
            "top.py": "import pkg.leaf\n",
            "inner.py": "def f() -> None:\n    from pkg.sub import mod\n",
            "checking.py": "import typing\nif typing.TYPE_CHECKING:\n    from pkg.sub import NAME\n",
            "relative.py": "from . import leaf\nfrom .sub.mod import thing\n",
            "leaf.py": "import os\n",
            "sub/__init__.py": "NAME = 1\n",
            "sub/mod.py": "from .. import relative\nfrom ..leaf import x\n",
        },
    )
    graph = import_graph(root)
    assert graph == {
        "pkg": set(),
        "pkg.top": {"pkg.leaf"},
        "pkg.inner": {"pkg.sub.mod"},
        "pkg.checking": {"pkg.sub"},
        "pkg.relative": {"pkg.leaf", "pkg.sub.mod"},
        "pkg.leaf": set(),
        "pkg.sub": set(),
        "pkg.sub.mod": {"pkg.relative", "pkg.leaf"},
    }
    assert cycles(graph) == [["pkg.relative", "pkg.sub.mod", "pkg.relative"]]


@pytest.mark.parametrize(
    ("where", "statement"),
    [
        ("top", "from pkg import a\n"),
        ("function", "def f() -> None:\n    from pkg.a import X\n"),
        ("type checking", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"),
    ],
)
def test_a_cycle_fails_the_check_wherever_its_import_stands(
    tmp_path: Path, where: str, statement: str
) -> None:
    root = tmp_path / "pkg"
    write(root, {"__init__.py": "", "a.py": "from pkg.b import Y\nX = 1\n", "b.py": statement + "Y = 2\n"})
    assert cycles(import_graph(root)) == [["pkg.a", "pkg.b", "pkg.a"]], where


# The rooms of the package, each a folder, lowest first: a module imports from its own room,
# a lower one, or a leaf, never from a higher room. The package's face (``harness``, its public
# API) and ``python -m harness`` stand above them all; the shipped scenarios (installed inside)
# may use any room.
ROOMS = ("rules", "config", "store", "stack", "engine", "report", "flows", "plugin", "cli")
LEAVES = (
    "harness.errors",
    "harness.json_types",
    "harness.stripe_wire",
    "harness.version",
    "harness.testdata",
)
ABOVE = ("harness", "harness.__main__", "harness.scenarios")


def rank(module: str) -> int:
    """A module's place in the order: leaves -1, the rooms from 0, the package's face last."""
    if module in LEAVES:
        return -1
    if module in ABOVE:
        return len(ROOMS)
    room = module.split(".")[1]
    assert room in ROOMS, f"{module} is in no room: add its folder to ROOMS, or make it a leaf"
    return ROOMS.index(room)


def upward_imports(graph: Graph) -> list[str]:
    """Every import of a higher room's module, as ``importer -> imported``."""
    return sorted(f"{m} -> {d}" for m, deps in graph.items() for d in deps if rank(d) > rank(m))


def test_imports_flow_down_the_rooms() -> None:
    graph = import_graph()
    assert {name.split(".")[1] for name in graph if name.count(".") >= 1} >= set(ROOMS)
    assert upward_imports(graph) == []


def test_an_upward_import_is_named() -> None:
    graph = {"harness.store.postgres": {"harness.rules.sql"}, "harness.rules.sql": {"harness.cli.parser"}}
    assert upward_imports(graph) == ["harness.rules.sql -> harness.cli.parser"]


def test_every_module_is_in_a_room_or_a_leaf() -> None:
    top = {p.stem for p in ROOT.glob("*.py")} - {"__init__", "__main__"}
    assert {f"harness.{name}" for name in top} <= set(LEAVES), "modules beside the rooms: make each a room's"
