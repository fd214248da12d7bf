"""The write-up's command line (``python -m genmod.report``): arguments checked at once,
sections resolved by name or number, and the real report built end to end from the section
notebooks on the smoke profile (slow)."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time

import nbformat
import pytest
from genmod.paths import NOTEBOOKS_DIR, REPO_ROOT
from genmod.report import build as rb
from genmod.report import clean, cli
from genmod.report.base import ReportError
from report_fixtures import CHROMIUM, PDFTOTEXT, screenshot_not_blank, write_fakes

QIDS = {
    "01_diffusion_unconditional": ["U1", "U2", "U3", "U4", "U5", "U6"],
    "02_diffusion_conditional": ["C1", "C2", "C3", "C4", "C5", "C6", "Bonus"],
    "03_autoregressive_gpt": ["A1", "A2", "A3", "A4", "A5"],
}


def test_resolve_sections_names_the_missing_notebook(tmp_path):
    write_fakes(tmp_path)
    assert [p.name for p in rb.resolve_sections(["01_alpha", "2"], tmp_path)] == [
        "01_alpha.ipynb",
        "02_beta.ipynb",
    ]
    with pytest.raises(
        ReportError, match=r"not found: .*01_diffusion_unconditional\.ipynb, .*02_diff"
    ):
        rb.resolve_sections(None, tmp_path)
    with pytest.raises(ReportError, match="03_gamma.ipynb"):
        rb.resolve_sections(["03_gamma"], tmp_path)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--device", "tpu"], "device='tpu'"),
        (["--profile", "fast"], "profile='fast'"),
        (["--seed", "-1"], "seed=-1"),
        (["--seed", "abc"], "seed='abc'"),
        (["-p", "epochs"], "NAME=VALUE"),
        (["--jobs", "0"], "jobs=0"),
    ],
)
def test_bad_arguments_fail_at_once(argv, needle, capsys):
    t0 = time.perf_counter()
    assert cli.main(argv) == 2
    assert needle in capsys.readouterr().err
    assert time.perf_counter() - t0 < 5


@pytest.mark.slow
def test_real_report_smoke_end_to_end(tmp_path):
    present = [s for s in rb.SECTIONS if (NOTEBOOKS_DIR / f"{s}.ipynb").is_file()]
    if not present:
        pytest.skip("no section notebook exists yet in notebooks/")
    out = tmp_path / "smoke"
    cmd = [sys.executable, "-m", "genmod.report", "--profile", "smoke", "--device", "cpu"]
    cmd += ["--out-dir", str(out), "--cache-dir", str(tmp_path / "cache"), "--sections", *present]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=900)
    wall = time.perf_counter() - t0
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(proc.stdout)
    print(f"smoke report, {len(present)} section(s): {wall:.1f} s")

    html = out / "report.html"
    text_html = html.read_text()
    for stem in present:
        assert (out / f"{stem}.ipynb").is_file()
        assert (out / stem / "results.json").is_file()
        for q in QIDS[stem]:
            assert f'<h2 id="{q}"' in text_html, f"{stem}: no heading for {q}"
        # Residue is fixed where it came from: no cell echoes a returned answer, no progress
        # bar is drawn into stdout (the write-up no longer filters them).
        assert _residue(nbformat.read(out / f"{stem}.ipynb", as_version=4)) == [], stem
    # results at a glance: a row for every question, its figure the one in results.json
    from genmod.sections.summary import format_value, value_at

    for stem in present:
        res = json.loads((out / stem / "results.json").read_text())
        for q in QIDS[stem]:
            h = res["headlines"][q]
            assert h["value"] == value_at(res, h["path"], h["reduce"]), (stem, q)
            row = re.search(rf'<tr data-qid="{q}">(.*?)</tr>', text_html, re.S)
            assert row and format_value(h["value"], h["fmt"]) in row.group(1), (stem, q)
    assert '<script src="http' not in text_html
    for residue in ("&lt;matplotlib.", "Line2D", "&lt;Figure size", "it/s]", "PosixPath("):
        assert residue not in text_html, residue

    build = re.search(r"build step ([\d.]+) s", proc.stdout)
    assert build and float(build.group(1)) <= 30, proc.stdout

    # Unchanged inputs: the same command executes nothing and writes the same report.
    again = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert again.stdout.count(": reused (key ") == len(present), again.stdout
    assert ": running (" not in again.stdout
    print(again.stdout)

    if CHROMIUM is None:
        pytest.skip("no Chromium: HTML checked; PDF and screenshot need `apt-get install chromium`")
    pdf_path = out / "report.pdf"
    assert pdf_path.is_file() and pdf_path.read_bytes().startswith(b"%PDF")
    if PDFTOTEXT:
        text = subprocess.run(
            [PDFTOTEXT, str(pdf_path), "-"], capture_output=True, text=True
        ).stdout
        for stem in present:
            for q in QIDS[stem]:
                assert re.search(rf"\b{q}\b", text), f"PDF text lacks {q}"
        assert "no heading stranded at the foot of a page" in proc.stdout, proc.stdout
        assert "no page under half full before more of its part" in proc.stdout, proc.stdout
    screenshot_not_blank(html, tmp_path / "report.png")


_PROGRESS = re.compile(r"\d{1,3}%\|.*\|\s*[\d.]+[kMGT]?/[\d.?]+[kMGT]?\s*\[")


def _residue(nb) -> list[str]:
    """Outputs of untagged cells that the write-up no longer filters: a returned string that
    repeats displayed Markdown, a text progress bar."""
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or set(cell.metadata.get("tags", [])) & clean.REMOVE_TAGS:
            continue
        outs = cell.get("outputs", [])
        shown = {
            str(o["data"]["text/markdown"]).strip()
            for o in outs
            if o.get("output_type") == "display_data" and "text/markdown" in o.get("data", {})
        }
        for o in outs:
            data = o.get("data", {})
            if o.get("output_type") == "stream" and _PROGRESS.search(o.get("text", "")):
                found.append(f"cell {i}: progress bar")
            if o.get("output_type") == "execute_result" and set(data) <= {"text/plain"}:
                try:
                    value = ast.literal_eval(str(data.get("text/plain", "")))
                except (ValueError, SyntaxError):
                    value = None
                if isinstance(value, str) and value.strip() in shown:
                    found.append(f"cell {i}: echoed answer")
    return found
