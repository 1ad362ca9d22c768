"""The import graph of ``importer/``: no circles, and every import goes down the layers.

Every module under ``importer/`` is parsed (``ast``: nothing is imported, so no module's side
effects run) and each ``importer.*`` import it makes is an arrow, wherever it stands: at the
top, inside a function, or under ``if TYPE_CHECKING:``. ``from P import N`` is an arrow to the
module ``P.N`` when there is one, else to ``P``.

A **unit** is a top-level package of ``importer`` (``load``, ``mapping``, ``plans``...) or a
top-level module (``api``, ``errors``...); ``importer/__init__.py``, the public face, is the
unit ``importer``. :data:`LAYERS` orders the units from the command line down to the modules
that import nothing of ours, and:

- an arrow from one unit to another goes down: from a higher layer to a lower one (two units of
  one layer do not import each other); so no two units import each other, even by a detour;
- within a unit, no modules import each other in a circle. An import made for annotations only
  (under ``if TYPE_CHECKING:``) runs nothing and is no part of a circle between modules of one
  unit; between units it counts like any other import;
- the sandbox is fenced: only the command line imports it (and the tests, which are not here).

:data:`KNOWN` lists the few arrows that break this today, each with why; an entry that the
code no longer has fails the test too, so the list only shrinks.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "importer"

# From the top down; a unit imports only units of the layers below its own.
LAYERS: list[set[str]] = [
    {"__main__"},                                         # python -m importer
    {"cli"},                                              # the command line
    {"importer"},                                         # the public face: import importer
    {"plans", "report", "mapinit", "sandbox", "undo"},    # features (report's CSV writes as ledger does)
    {"ledger"},                                           # export, verify, reconcile
    {"api"},                                              # import_records, build_client
    {"monitor"},                                          # progress events and the metrics file
    {"load", "saft", "progress"},                         # the load stage; SAF-T input; the live display
    {"options"},                                          # ImportOptions (checks a date format as mapping reads it)
    {"mapping"},                                          # records → API payloads
    {"sources", "client"},                                # input readers; talking to the API
    {"entities", "outputs", "summary", "company"},  # company: a company's reference data
    {"errors", "schema", "keys", "lazy", "logs", "pace", "runinfo", "stopping", "version", "vocabulary"},
]
SANDBOX_USERS = {"cli"}

# (module, module it imports): why the arrow stands today.
KNOWN: dict[tuple[str, str], str] = {
    ("importer.mapping.mapspec", "importer.mapping.binding"):
        "ColumnMap.bind makes the BoundMap that binding builds on ColumnMap's own types",
}


@dataclass(frozen=True)
class Arrow:
    source: str  # importer.load.pipeline
    target: str  # importer.client.http
    line: int
    type_only: bool  # under `if TYPE_CHECKING:`

    def __str__(self) -> str:
        return f"{self.source} (line {self.line}) imports {self.target}"


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _checks_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST, type_only: bool = False) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement below ``tree``, with whether it stands under ``if TYPE_CHECKING:``."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append((node, type_only))
        elif isinstance(node, ast.If) and _checks_type_checking(node.test):
            for child in node.body:
                found.extend(_imports(ast.Module(body=[child], type_ignores=[]), True))
            for child in node.orelse:
                found.extend(_imports(ast.Module(body=[child], type_ignores=[]), type_only))
        else:
            found.extend(_imports(node, type_only))
    return found


def import_graph(root: Path = ROOT) -> tuple[set[str], list[Arrow]]:
    """The modules under ``root`` and every arrow between them."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    modules = set(paths)

    def resolve(name: str) -> str:
        while name not in modules and "." in name:
            name = name.rsplit(".", 1)[0]
        return name

    arrows: list[Arrow] = []
    for source, path in paths.items():
        package = source if path.name == "__init__.py" else source.rsplit(".", 1)[0]
        for node, type_only in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*up, base] if base else up)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for target in dict.fromkeys(targets):
                if target.split(".")[0] == root.name:
                    arrows.append(Arrow(source, resolve(target), node.lineno, type_only))
    return modules, arrows


def circles(nodes: set[str], edges: set[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected parts of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []
    after = {n: sorted(b for a, b in edges if a == n) for n in nodes}

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in after[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part: list[str] = []
            while not part or part[-1] != node:
                part.append(stack.pop())
            if len(part) > 1:
                found.append(sorted(part))

    for node in sorted(nodes):
        if node not in index:
            visit(node)
    return found


def layer_of(name: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if name in layer)


def upward(arrows: list[Arrow]) -> list[Arrow]:
    """Arrows between units that do not go down the layers, the known ones left out."""
    return [a for a in arrows if unit(a.source) != unit(a.target) and (a.source, a.target) not in KNOWN
            and layer_of(unit(a.source)) >= layer_of(unit(a.target))]


def circles_within_units(modules: set[str], arrows: list[Arrow]) -> list[list[str]]:
    edges = {(a.source, a.target) for a in arrows
             if unit(a.source) == unit(a.target) and not a.type_only and (a.source, a.target) not in KNOWN}
    found: list[list[str]] = []
    for name in sorted({unit(m) for m in modules}):
        found.extend(circles({m for m in modules if unit(m) == name}, {e for e in edges if unit(e[0]) == name}))
    return found


@pytest.fixture(scope="module")
def graph() -> tuple[set[str], list[Arrow]]:
    return import_graph()


def test_every_unit_stands_on_one_layer(graph: tuple[set[str], list[Arrow]]) -> None:
    modules, _ = graph
    listed = [name for layer in LAYERS for name in layer]
    assert len(listed) == len(set(listed)), "a unit is on two layers"
    units = {unit(m) for m in modules}
    assert units - set(listed) == set(), "a unit of importer/ has no layer in LAYERS: place it"
    assert set(listed) - units == set(), "LAYERS names a unit importer/ no longer has"


def test_imports_go_down_the_layers(graph: tuple[set[str], list[Arrow]]) -> None:
    _, arrows = graph
    wrong = [f"{a} (layer {layer_of(unit(a.source))} -> {layer_of(unit(a.target))})" for a in upward(arrows)]
    assert wrong == []


def test_no_circles_between_units(graph: tuple[set[str], list[Arrow]]) -> None:
    modules, arrows = graph
    edges = {(unit(a.source), unit(a.target)) for a in arrows
             if unit(a.source) != unit(a.target) and (a.source, a.target) not in KNOWN}
    assert circles({unit(m) for m in modules}, edges) == []


def test_no_circles_between_modules_of_a_unit(graph: tuple[set[str], list[Arrow]]) -> None:
    modules, arrows = graph
    assert circles_within_units(modules, arrows) == []


def test_only_the_command_line_imports_the_sandbox(graph: tuple[set[str], list[Arrow]]) -> None:
    _, arrows = graph
    allowed = {"sandbox", *SANDBOX_USERS}
    outside = [str(a) for a in arrows if unit(a.target) == "sandbox" and unit(a.source) not in allowed]
    assert outside == []


def test_every_known_exception_still_stands(graph: tuple[set[str], list[Arrow]]) -> None:
    _, arrows = graph
    seen = {(a.source, a.target) for a in arrows}
    assert [f"{s} -> {t}: gone, remove it from KNOWN" for s, t in KNOWN if (s, t) not in seen] == []


def test_the_graph_sees_imports_in_functions_and_type_checking_blocks(tmp_path: Path) -> None:
    """The checks above can fail: a small tree of our own with an import going up in a function,
    a circle of two modules, and a type-only back reference, which is no circle."""
    root = tmp_path / "importer"
    (root / "load").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "errors.py").write_text("def fail():\n    from importer.load import pipeline\n")
    (root / "load" / "__init__.py").write_text("")
    (root / "load" / "pipeline.py").write_text("from importer.errors import fail\nfrom . import calls\n")
    (root / "load" / "calls.py").write_text("import importer.load.state\n")
    (root / "load" / "state.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from importer.load.pipeline import x\n"
        "def later():\n    from importer.load import calls\n")
    modules, arrows = import_graph(root)
    assert modules == {"importer", "importer.errors", "importer.load", "importer.load.pipeline",
                       "importer.load.calls", "importer.load.state"}
    assert [str(a) for a in upward(arrows)] == ["importer.errors (line 2) imports importer.load.pipeline"]
    assert circles_within_units(modules, arrows) == [["importer.load.calls", "importer.load.state"]]
    assert Arrow("importer.load.state", "importer.load.pipeline", 3, True) in arrows
