"""The shape of the house: how deep the imports go, and which modules may import which.

Every import statement counts, those inside functions and under TYPE_CHECKING too, with
mnist_desk.core counted as one unit: the longest chain from `python -m mnist_desk` down
to a module that imports none of ours is the number of floors a reader climbs down.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import mnist_desk

PACKAGE = Path(mnist_desk.__file__).parent
MAX_FLOORS = 8
TABS = ("draw_tab", "network_tab", "explorer_tab", "train_tab", "runs_tab")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    name = ".".join(parts)
    return "mnist_desk.core" if name.startswith("mnist_desk.core") else name


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        name = _module_name(path)
        if name != "mnist_desk.core" or path.name == "__init__.py":
            found.setdefault(name, path)
    return found


def _targets(node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The modules an import statement names: `from a.b import c` names a.b.c when that
    is a module, else a.b (what c is taken from)."""
    names = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    elif node.module and node.level == 0:
        for alias in node.names:
            sub = f"{node.module}.{alias.name}"
            names.append(sub if sub in known else node.module)
    out = set()
    for name in names:
        if name.startswith("mnist_desk.core"):
            out.add("mnist_desk.core")
        elif name in known:
            out.add(name)
    return out


@functools.cache
def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    files = {n: [p] for n, p in modules.items()}
    files["mnist_desk.core"] = sorted((PACKAGE / "core").glob("*.py"))
    graph: dict[str, set[str]] = {}
    for name, paths in files.items():
        edges: set[str] = set()
        for path in paths:
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, (ast.Import, ast.ImportFrom)):
                    edges |= _targets(node, set(files))
        graph[name] = edges - {name}
    graph["mnist_desk.core"] = set()  # the engine is one unit: the chain ends there
    return graph


def longest_chain(start: str) -> list[str]:
    graph = import_graph()
    visiting: set[str] = set()

    @functools.cache
    def down(name: str) -> tuple[str, ...]:
        assert name not in visiting, f"an import cycle through {name}"
        visiting.add(name)
        below = max((down(n) for n in graph[name]), key=len, default=())
        visiting.discard(name)
        return (name, *below)

    return list(down(start))


def test_the_longest_import_chain_is_at_most_eight_modules() -> None:
    chain = longest_chain("mnist_desk.__main__")
    assert chain[-1] in import_graph() and not import_graph()[chain[-1]]
    assert len(chain) <= MAX_FLOORS, " -> ".join(chain)


def test_no_tab_imports_another() -> None:
    graph = import_graph()
    tabs = {f"mnist_desk.gui.{t}" for t in TABS} & set(graph)
    assert len(tabs) >= 4
    offenders = {t: sorted(graph[t] & tabs) for t in tabs if graph[t] & tabs}
    assert offenders == {}


def test_only_the_main_window_imports_the_tabs() -> None:
    graph = import_graph()
    tabs = {f"mnist_desk.gui.{t}" for t in TABS}
    importers = {name for name, edges in graph.items() if edges & tabs}
    assert importers <= {"mnist_desk.gui.main_window"}
