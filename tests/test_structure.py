"""The layout rules: imports run downwards, notebooks narrate and call, the repository explains
itself."""

import ast
import re
import subprocess
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "lib" / "genmod"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
MAX_NOTEBOOK_CODE_LINES = 150
MAX_CELL_CODE_LINES = 30

# what each layer may not import
FORBIDDEN = {
    "diffusion": ("genmod.sections", "genmod.report", "genmod.explore", "genmod.gpt"),
    "gpt": ("genmod.sections", "genmod.report", "genmod.explore", "genmod.diffusion"),
    "sections": ("genmod.report", "genmod.explore"),
}
GROUND_FLOOR = ("runtime.py", "cache.py", "io.py", "paths.py", "style.py", "params.py", "text.py")


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(files, forbidden):
    return [
        f"{f.relative_to(ROOT)} imports {name}"
        for f in files
        for name in sorted(_imports(f))
        if any(name == b or name.startswith(b + ".") for b in forbidden)
    ]


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_run_downwards(layer):
    files = sorted((PKG / layer).rglob("*.py"))
    assert files, layer
    assert _violations(files, FORBIDDEN[layer]) == []


def test_ground_floor_imports_nothing_above_it():
    files = [PKG / f for f in GROUND_FLOOR]
    assert all(f.exists() for f in files), GROUND_FLOOR
    above = ("genmod.diffusion", "genmod.gpt", "genmod.sections", "genmod.report", "genmod.explore")
    assert _violations(files, above) == []


def _code_lines(source: str) -> int:
    return sum(
        1 for line in source.splitlines() if line.strip() and not line.strip().startswith("#")
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_narrate_and_call(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code"]
    total = sum(_code_lines(c.source) for c in cells)
    assert total <= MAX_NOTEBOOK_CODE_LINES, f"{path.name}: {total} code lines"
    for k, cell in enumerate(cells):
        n = _code_lines(cell.source)
        assert n <= MAX_CELL_CODE_LINES, f"{path.name}, code cell {k}: {n} lines"
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            # no results-dict assembly: records go through run.record(...)
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store):
                assert not (isinstance(node.value, ast.Name) and node.value.id == "results"), (
                    f"{path.name}, code cell {k}: assigns into results[...]"
                )
            # no prose assembled in a cell: answers come from the section's answer functions
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) in (
                "answer",
                "show",
            ):
                assert not any(
                    isinstance(a, ast.JoinedStr | ast.Constant | ast.BinOp)
                    and not (
                        isinstance(a, ast.Constant)
                        and isinstance(a.value, str)
                        and len(a.value) <= 12
                    )
                    for a in node.args
                ), f"{path.name}, code cell {k}: text typed into {node.func.attr}()"


EXTERNAL = re.compile(r"REPORT_SPEC|DESIGN\.md|\bissues? #?\d+\b|\(issue\b", re.I)


def test_no_reference_to_documents_outside_the_repository():
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    hits = []
    for name in files:
        p = ROOT / name
        if (
            p == Path(__file__)
            or not p.is_file()
            or p.suffix not in (".py", ".ipynb", ".md", ".j2", ".css", "")
        ):
            continue
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1):
            if EXTERNAL.search(line):
                hits.append(f"{name}:{n}: {line.strip()[:100]}")
    assert hits == []


# ------------------------------------------------------------------------------ import cycles
def _module_name(path: Path, pkg: Path = PKG) -> str:
    parts = path.relative_to(pkg.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(pkg: Path = PKG) -> dict[str, dict[str, int]]:
    """The package's module import graph from its source: module → {imported module: line}.

    Every ``import``/``from … import`` statement counts, wherever it stands: at module level,
    inside functions, and inside ``if TYPE_CHECKING:`` blocks (a type-only circle is still a
    circle that a refactoring or ``typing.get_type_hints`` turns into a real one).

    The rule for an edge (only modules of the package are nodes; a package is its
    ``__init__``):

    * ``import a.b.c`` and ``from a.b.c import name`` point at ``a.b.c``; relative imports
      are resolved first;
    * ``from a.b import c`` points at the submodule ``a.b.c`` when there is one, otherwise at
      ``a.b`` itself: a name re-exported by a package's ``__init__`` counts as an import of
      that ``__init__``, which imports its submodules — so a submodule that takes a name from
      its own package's ``__init__`` closes a circle, as it does at run time;
    * the implicit import of the parent packages (``a`` and ``a.b`` for ``a.b.c``) is not an
      edge: Python starts a parent before its child whatever the parent imports, so a package
      ``__init__`` that imports its submodules is no circle with them for that alone.
    """
    files = sorted(pkg.rglob("*.py"))
    modules = {_module_name(f, pkg): f for f in files}
    graph: dict[str, dict[str, int]] = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        found: list[tuple[str, int]] = []
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found += [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = name.split(".") if is_package else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    found.append((sub if sub in modules else module, node.lineno))
        edges: dict[str, int] = {}
        for target, line in sorted(found, key=lambda t: t[1]):
            if target in modules and target != name:
                edges.setdefault(target, line)
        graph[name] = edges
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _a_cycle(graph: dict[str, dict[str, int]], component: list[str]) -> str:
    """One shortest circle through the component's first module: ``a:12 → b:3 → a`` (a
    imports b on its line 12, b imports a on its line 3)."""
    inside = set(component)
    start = component[0]
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v]):
            if w == start:
                hops = [*paths[v], start]
                steps = [f"{a}:{graph[a][b]}" for a, b in zip(hops, hops[1:])]
                return " → ".join([*steps, start])
            if w in inside and w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    return " ↔ ".join(component)


def test_the_import_graph_has_no_cycle():
    """No two modules of the package import each other, directly or through others: no
    strongly connected component of the import graph holds more than one module.

    Every import counts (module level, in functions, under ``if TYPE_CHECKING:``). A name taken
    from a package (``from genmod.x import name``) imports that package's ``__init__`` unless
    ``name`` is a submodule; the implicit import of parent packages is no edge. So an
    ``__init__`` that re-exports its submodules is fine, unless one of them imports a name from
    that ``__init__`` (the details: :func:`import_graph`)."""
    graph = import_graph()
    assert len(graph) == len(list(PKG.rglob("*.py"))) and sum(map(len, graph.values())) > 50
    cycles = [
        f"{', '.join(c)}: {_a_cycle(graph, c)}" for c in strongly_connected(graph) if len(c) > 1
    ]
    assert cycles == [], "import cycles:\n" + "\n".join(cycles)


def test_the_cycle_finder_finds_a_type_checking_circle(tmp_path):
    pkg = tmp_path / "genmod"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from genmod.sub.a import A\nfrom . import c\n")
    (pkg / "sub" / "a.py").write_text("from typing import TYPE_CHECKING\nA = 1\n"
                                      "if TYPE_CHECKING:\n    from .b import B\n")  # fmt: skip
    (pkg / "sub" / "b.py").write_text("def f():\n    from genmod.sub import a\n")
    (pkg / "sub" / "c.py").write_text("from genmod.sub import A\n")  # a re-export: a circle
    (pkg / "sub" / "d.py").write_text("import genmod.sub.c\n")  # its parents are no edge
    graph = import_graph(pkg)
    assert graph["genmod.sub.a"] == {"genmod.sub.b": 4}
    assert graph["genmod.sub.b"] == {"genmod.sub.a": 2}
    assert graph["genmod.sub.c"] == {"genmod.sub": 1}
    assert graph["genmod.sub"] == {"genmod.sub.a": 1, "genmod.sub.c": 2}
    assert graph["genmod.sub.d"] == {"genmod.sub.c": 1}
    components = sorted(c for c in strongly_connected(graph) if len(c) > 1)
    assert components == [["genmod.sub", "genmod.sub.c"], ["genmod.sub.a", "genmod.sub.b"]]
    assert _a_cycle(graph, components[1]) == "genmod.sub.a:4 → genmod.sub.b:2 → genmod.sub.a"
    assert _a_cycle(graph, components[0]) == "genmod.sub:2 → genmod.sub.c:1 → genmod.sub"
