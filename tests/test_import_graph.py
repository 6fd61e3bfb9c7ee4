"""The project's import graph, read from the source with :mod:`ast` (nothing is imported).

Every ``import a.b`` and ``from a.b import c`` of a project module is an edge, wherever it stands:
at module level, in a class body, or inside a function or method (an import deferred into a
function still ties the two modules together). Relative imports are resolved against the importing
module. An edge points at the most specific project module named: ``from a.b import c`` is an import
of ``a.b.c`` when that is a module, else of ``a.b``; an import of a package is an import of its
``__init__``, whose module name is the package's. Imports built from strings at run time
(``importlib.import_module``) are not seen.

The rules are in the tables below; each failure lists the offending edges as
``importer -> imported (file:line)``.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Project packages (folders) and top-level scripts whose imports make up the graph.
PACKAGES = ("kernels", "twin", "viz")
SCRIPTS = ("run_scenario.py",)

#: The stages of twin, lowest first: a module of one stage imports only its own stage and those
#: listed before it. Change the order here.
TWIN_STAGE_ORDER = ("twin.core", "twin.io", "twin.build", "twin.scenario", "twin.events", "twin.risk", "twin.hazards",
                    "twin.ensemble", "twin.pipeline", "twin.adaptation", "twin.cli")
#: Sample data generators, outside the stage order, with what they may import of twin (besides
#: themselves) and who may import them.
SAMPLES = "twin.samples"
SAMPLES_MAY_IMPORT = ("twin.core", "twin.io")
MAY_IMPORT_SAMPLES = ("twin.cli", "twin.pipeline")
#: Top-level packages and the packages they must never import.
FORBIDDEN = {"kernels": ("twin", "viz"), "viz": ("kernels",), "twin": ("viz",)}
#: Entry points inside a package, exempt from FORBIDDEN: the `twin` command renders with viz
#: (docs/architecture.md, "Layers").
ENTRY_POINTS = ("twin.cli",)
#: The package whose subpackages are hazards, which never import one another.
HAZARDS = "twin.hazards"


@dataclass(frozen=True)
class Import:
    """One import statement's edge of the graph.

    Attributes
    ----------
    source, target : str
        Importing and imported module (dotted names).
    path : str
        File of the import, relative to the repository root.
    line : int
        Line of the import statement.
    in_function : bool
        The import stands inside a function or method rather than at module level.
    """

    source: str
    target: str
    path: str
    line: int
    in_function: bool

    def __str__(self) -> str:
        where = ", in a function" if self.in_function else ""
        return f"{self.source} -> {self.target} ({self.path}:{self.line}{where})"


@dataclass(frozen=True)
class Graph:
    """The project's modules and the imports between them.

    Attributes
    ----------
    modules : dict of str to str
        Module name -> file (relative to the repository root).
    packages : frozenset of str
        The modules that are packages (an ``__init__.py``).
    edges : tuple of Import
        Every resolved import of a project module.
    unresolved : tuple of str
        Imports of a project name that is no project module, as ``name (file:line)``.
    """

    modules: dict
    packages: frozenset
    edges: tuple
    unresolved: tuple


def module_name(relative: Path) -> str:
    """Dotted module name of a file given relative to the repository root."""
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def within(module: str, package: str) -> bool:
    """True when ``module`` is ``package`` or lies under it."""
    return module == package or module.startswith(package + ".")


def _statements(tree: ast.AST, in_function: bool = False) -> Iterable[tuple[ast.stmt, bool]]:
    """Every import statement under ``tree``, with whether it stands inside a function."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, in_function
        else:
            nested = in_function or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            yield from _statements(node, nested)


def _base(node: ast.ImportFrom, module: str, is_package: bool) -> str | None:
    """The module a ``from ... import`` names, relative imports resolved; None above the top."""
    if not node.level:
        return node.module
    package = module.split(".") if is_package else module.split(".")[:-1]
    if node.level - 1 >= len(package):
        return None
    anchor = package[:len(package) - (node.level - 1)]
    return ".".join(anchor + ([node.module] if node.module else []))


def _is_project(node: ast.stmt, name: str, tops: set[str]) -> bool:
    """True for a relative import or an absolute one whose top-level name is a project module."""
    return bool(getattr(node, "level", 0)) or name.split(".")[0] in tops


def imports_of(source: str, module: str, is_package: bool, modules: Iterable[str]
               ) -> tuple[list[tuple[str, int, bool]], list[tuple[str, int]]]:
    """The project modules one source file imports.

    Parameters
    ----------
    source : str
        Python source of the file.
    module : str
        Its dotted module name.
    is_package : bool
        The file is a package's ``__init__.py`` (relative imports start from the package itself).
    modules : iterable of str
        Every project module; an absolute import counts when its top-level name is one of theirs.

    Returns
    -------
    tuple
        ``([(imported module, line, in a function), ...], [(unresolved name, line), ...])``.
    """
    known = set(modules)
    tops = {m.split(".")[0] for m in known}
    found, unresolved = [], []
    for node, in_function in _statements(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [(alias.name, None) for alias in node.names]
        else:
            base = _base(node, module, is_package)
            if base is None:
                unresolved.append(("." * node.level + (node.module or ""), node.lineno))
                continue
            names = [(base, alias.name) for alias in node.names]
        for name, member in names:
            if not _is_project(node, name, tops):
                continue
            target = f"{name}.{member}" if member and f"{name}.{member}" in known else name
            if target in known:
                if (target, node.lineno, in_function) not in found:      # one edge per statement
                    found.append((target, node.lineno, in_function))
            else:
                unresolved.append((target, node.lineno))
    return found, unresolved


def project_files() -> list[Path]:
    """Every .py file of the project packages and the top-level scripts, relative to the root."""
    files = [p.relative_to(ROOT) for package in PACKAGES for p in (ROOT / package).rglob("*.py")]
    return sorted(files + [Path(s) for s in SCRIPTS])


@functools.cache
def project_graph() -> Graph:
    """The import graph of the project as it is on disk."""
    files = project_files()
    modules = {module_name(f): f.as_posix() for f in files}
    packages = frozenset(module_name(f) for f in files if f.name == "__init__.py")
    edges, unresolved = [], []
    for module, path in modules.items():
        found, missing = imports_of((ROOT / path).read_text(encoding="utf-8"), module,
                                    module in packages, modules)
        edges += [Import(module, target, path, line, nested) for target, line, nested in found]
        unresolved += [f"{name} ({path}:{line})" for name, line in missing]
    return Graph(modules, packages, tuple(edges), tuple(unresolved))


def strongly_connected(nodes: Iterable[str], edges: Iterable[Import]) -> list[set[str]]:
    """Strongly connected components of the graph (Tarjan's algorithm)."""
    successors: dict[str, set[str]] = {n: set() for n in nodes}
    for edge in edges:
        successors.setdefault(edge.source, set()).add(edge.target)
        successors.setdefault(edge.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(successors[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            components.append(component)

    for node in sorted(successors):
        if node not in index:
            visit(node)
    return components


def import_cycles(graph: Graph) -> list[list[Import]]:
    """The edges of each import cycle: a self-import, or those within a strongly connected
    component of more than one module."""
    cycles = [[e] for e in graph.edges if e.source == e.target]
    for component in strongly_connected(graph.modules, graph.edges):
        if len(component) > 1:
            cycles.append([e for e in graph.edges if e.source in component and e.target in component])
    return cycles


def stage_rank(module: str) -> int | None:
    """Position of a module's stage in :data:`TWIN_STAGE_ORDER`, None outside every stage."""
    return next((rank for rank, stage in enumerate(TWIN_STAGE_ORDER) if within(module, stage)), None)


def hazard_package(module: str, packages: frozenset) -> str | None:
    """The hazard package (a subpackage of :data:`HAZARDS`) a module lies in, if any."""
    parts = module.split(".")
    depth = len(HAZARDS.split("."))
    if not within(module, HAZARDS) or len(parts) <= depth:
        return None
    candidate = ".".join(parts[:depth + 1])
    return candidate if candidate in packages else None


def layer_violations(graph: Graph) -> list[Import]:
    """Imports of a package that :data:`FORBIDDEN` bans for the importer's top-level package."""
    return [e for e in graph.edges for package, banned in FORBIDDEN.items()
            if within(e.source, package) and e.source not in ENTRY_POINTS and any(within(e.target, b) for b in banned)]


def hazard_violations(graph: Graph) -> list[Import]:
    """Imports from one hazard package into another."""
    bad = []
    for e in graph.edges:
        own, other = hazard_package(e.source, graph.packages), hazard_package(e.target, graph.packages)
        if own and other and own != other:
            bad.append(e)
    return bad


def stage_violations(graph: Graph) -> list[Import]:
    """Imports from a stage of twin into a later one."""
    return [e for e in graph.edges
            if None not in (stage_rank(e.source), stage_rank(e.target))
            and stage_rank(e.target) > stage_rank(e.source)]


def samples_violations(graph: Graph) -> list[Import]:
    """Imports by :data:`SAMPLES` of twin beyond :data:`SAMPLES_MAY_IMPORT`, and imports of it by
    modules other than :data:`MAY_IMPORT_SAMPLES`."""
    allowed = (SAMPLES, *SAMPLES_MAY_IMPORT)
    importers = (SAMPLES, *MAY_IMPORT_SAMPLES)
    return [e for e in graph.edges
            if (within(e.source, SAMPLES) and within(e.target, "twin")
                and not any(within(e.target, a) for a in allowed))
            or (within(e.target, SAMPLES) and not any(within(e.source, a) for a in importers))]


#: Each rule: its statement and the function listing the imports that break it.
RULES = {
    "layers": ("; ".join(f"{p} never imports {', '.join(b)}" for p, b in FORBIDDEN.items())
               + f" (entry points {', '.join(ENTRY_POINTS)} excepted)",
               layer_violations),
    "hazards": (f"a hazard package (subpackage of {HAZARDS}) never imports another", hazard_violations),
    "stages": ("twin's stages import only downwards: " + " < ".join(TWIN_STAGE_ORDER), stage_violations),
    "samples": (f"{SAMPLES} imports of twin only {', '.join(SAMPLES_MAY_IMPORT)}; only "
                f"{', '.join(MAY_IMPORT_SAMPLES)} import {SAMPLES}", samples_violations),
}
#: Per rule, edges between real modules that break it and edges that do not.
PLANTED = {
    "layers": ([("kernels.flood", "twin.core.errors"), ("kernels.fire", "viz.scene"),
                ("viz.scene", "kernels.flood"), ("twin.risk.exposure", "viz.buildings")],
               [("viz.scene", "twin.core.errors"), ("twin.risk.exposure", "kernels.flood"),
                ("twin.cli", "viz.products")]),
    "hazards": ([("twin.hazards.fire.model", "twin.hazards.flood.model"),
                 ("twin.hazards.flood", "twin.hazards.fire.run")],
                [("twin.hazards.fire.run", "twin.hazards.fields"), ("twin.hazards", "twin.hazards.flood"),
                 ("twin.hazards.flood.run", "twin.hazards.flood.model")]),
    "stages": ([("twin.core.grid", "twin.cli"), ("twin.io.outputs", "twin.scenario.schema"),
                ("twin.hazards.flood.run", "twin.ensemble.draws")],
               [("twin.cli", "twin.core.grid"), ("twin.pipeline.run", "twin.pipeline.budget"),
                ("twin.core.grid", "kernels.flood")]),
    "samples": ([("twin.samples.city", "twin.risk.exposure"), ("twin.ensemble.draws", "twin.samples.city"),
                 ("viz.scene", "twin.samples.forecast")],
                [("twin.samples.city", "twin.core.errors"), ("twin.samples.forecast", "twin.core.atomic"),
                 ("twin.cli", "twin.samples.city"), ("twin.pipeline.batch", "twin.samples.forecast")]),
}


def _report(rule: str, edges: Iterable[Import]) -> str:
    lines = sorted(str(e) for e in edges)
    return f"{len(lines)} import(s) break the rule: {rule}\n  " + "\n  ".join(lines)


# --- the parser itself ----------------------------------------------------------------------------

SYNTHETIC = {"pkg", "pkg.sub", "pkg.sub.a", "pkg.sub.b", "pkg.sub.b.c", "pkg.x", "pkg.sub.d"}


def test_parser_sees_function_level_and_relative_imports():
    source = (
        "import numpy\n"
        "from . import d\n"
        "class K:\n"
        "    from pkg.x import helper\n"
        "    def method(self):\n"
        "        from ..x import thing\n"
        "def f():\n"
        "    if True:\n"
        "        from .b import c, not_a_module\n"
        "    import pkg.sub.b\n")
    found, unresolved = imports_of(source, "pkg.sub.a", False, SYNTHETIC)
    assert sorted(found) == [("pkg.sub.b", 9, True), ("pkg.sub.b", 10, True),
                             ("pkg.sub.b.c", 9, True), ("pkg.sub.d", 2, False),
                             ("pkg.x", 4, False), ("pkg.x", 6, True)]
    assert unresolved == []


def test_parser_resolves_relative_imports_of_a_package_and_flags_missing_modules():
    source = "from . import a\nfrom .b import c\nfrom .... import far\nimport pkg.nowhere\n"
    found, unresolved = imports_of(source, "pkg.sub", True, SYNTHETIC)
    assert found == [("pkg.sub.a", 1, False), ("pkg.sub.b.c", 2, False)]
    assert unresolved == [("....", 3), ("pkg.nowhere", 4)]


def test_cycle_finder_finds_cycles_and_self_imports():
    edges = tuple(Import(s, t, "f.py", 1, False) for s, t in
                  [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e")])
    cycles = import_cycles(Graph({m: "f.py" for m in "abcde"}, frozenset(), edges, ()))
    assert sorted(sorted((e.source, e.target) for e in c) for c in cycles) == [
        [("a", "b"), ("b", "c"), ("c", "a")], [("e", "e")]]


def test_graph_holds_every_file_and_plausibly_many_imports():
    graph = project_graph()
    files = project_files()
    assert len(files) >= 40, files
    assert sorted(graph.modules.values()) == sorted(f.as_posix() for f in files)
    assert len(graph.modules) == len(files)                       # no two files share a name
    importers = {e.source for e in graph.edges}
    assert len(graph.edges) >= len(files), len(graph.edges)
    for package in PACKAGES:
        assert any(within(m, package) for m in importers), package
    assert any(e.in_function for e in graph.edges)                # deferred imports are seen
    assert not graph.unresolved, "imports of project names that are no module:\n  " + \
        "\n  ".join(graph.unresolved)


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_catches_planted_imports(rule):
    graph = project_graph()
    bad, fine = ([Import(s, t, "planted.py", 1, False) for s, t in pairs] for pairs in PLANTED[rule])
    assert {e.source for e in bad + fine} | {e.target for e in bad + fine} <= set(graph.modules)
    assert RULES[rule][1](replace(graph, edges=tuple(bad + fine))) == bad


# --- the rules ------------------------------------------------------------------------------------

def test_no_import_cycles():
    cycles = import_cycles(project_graph())
    assert not cycles, f"{len(cycles)} import cycle(s):\n" + "\n".join(
        _report("no cycles; modules " + ", ".join(sorted({e.source for e in c})), c) for c in cycles)


@pytest.mark.parametrize("rule", list(RULES))
def test_imports_keep_the_rule(rule):
    statement, violations = RULES[rule]
    bad = violations(project_graph())
    assert not bad, _report(statement, bad)
