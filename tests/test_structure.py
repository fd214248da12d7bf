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
GROUND_FLOOR = ("runtime.py", "cache.py", "io.py", "paths.py", "style.py", "params.py")


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
    files = [PKG / f for f in GROUND_FLOOR if (PKG / f).exists()]
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
