"""The real build pipeline (papermill on the ``genmod`` kernel, nbconvert, headless Chromium)
on two tiny synthetic notebooks: the executed notebooks, results and report it writes, the
page's contents, local maths, the PDF, a failing notebook, and an unchanged rebuild."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from genmod.report import build as rb
from genmod.report import cli, pdf
from genmod.report.base import ReportError
from report_fixtures import (
    CHROMIUM,
    CODE_ONLY,
    INTERACTIVE,
    PDFTOTEXT,
    STDERR,
    WARNING,
    fake_notebook,
    headlines_of,
    needs_chromium,
    screenshot_not_blank,
    write_fakes,
)


def _dump_dom(html: Path) -> str:
    proc = pdf.run_chromium(
        [CHROMIUM, "--virtual-time-budget=60000", "--dump-dom", html.resolve().as_uri()]
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    nb_dir = root / "notebooks"
    qids = write_fakes(nb_dir)
    out = root / "out"
    out.mkdir()
    (out / "report.html").write_text("<html>stale report from an earlier run</html>")
    opts = rb.BuildOptions(
        profile="smoke",
        sections=list(qids),
        notebooks_dir=nb_dir,
        out_dir=out,
        cache_dir=root / "cache",
    )
    result = rb.build_report(opts)
    return result, qids, out


def test_build_writes_executed_notebooks_results_and_report(built):
    result, qids, out = built
    assert result.html == out / "report.html" and result.html.is_file()
    for stem in qids:
        nb = nbformat.read(out / f"{stem}.ipynb", as_version=4)
        assert nb.metadata.papermill.parameters["profile"] == "smoke"
        assert json.loads((out / stem / "results.json").read_text())["params"]["profile"] == "smoke"
    assert not list(out.glob(".*.tmp")) and not list(out.glob(".*running*"))
    assert not (out / ".report.pending.html").exists()
    print(f"build step: HTML {result.html_seconds:.1f} s, PDF {result.pdf_seconds} s")


def test_html_has_title_page_toc_parts_and_no_code(built):
    result, qids, _ = built
    page = result.html.read_text()
    assert "stale report" not in page
    # Title page with the run's metadata.
    for label in ("Date", "Git commit", "Device", "Profile", "Seed", "torch"):
        assert f"<th>{label}</th>" in page
    assert "<td>smoke</td>" in page
    # Every question heading, linked from the contents; one part per notebook.
    for ids in qids.values():
        for q in ids:
            assert f'<h2 id="{q}"' in page
            assert f'href="#{q}"' in page
    assert page.count('<section class="gm-part"') == len(qids)
    assert 'href="#part-1"' in page and 'href="#part-2"' in page
    # No code, no interactive cells, no stderr/warnings/progress bars/object reprs.
    for needle in (CODE_ONLY, INTERACTIVE, STDERR, WARNING, "results_path", "it/s]"):
        assert needle not in page, needle
    for residue in ("<matplotlib.", "Line2D", "&lt;Figure size", "jp-InputArea-editor"):
        assert residue not in page, residue
    # The figures, the long line, the painted tokens and the Markdown answers are there.
    assert len(re.findall(r'<img [^>]*src="data:image/png;base64,', page)) == 2 * 2 + 2
    assert "long line " + "x" * 400 in page
    assert "background-color: rgb(255, 0, 0)" in page
    assert 'Measured for <a href="#U2">U2</a>: $\\sigma = 1.5$.' in page
    assert "|##|" in page  # the carriage-return redraws resolved to the last state


def test_glance_table_callouts_and_links(built):
    result, qids, _ = built
    page = result.html.read_text()
    glance = page[page.index('id="glance"') : page.index('id="contents"')]
    # mentions of a question id in running text are links (checked below); read without them
    text = re.sub(r'<a href="#((?:U|C|A)\d|Bonus)">\1</a>', r"\1", page)
    assert page.index('id="title"') < page.index('id="glance"') < page.index('id="contents"')
    for ids in qids.values():
        heads = headlines_of(ids)
        for q in ids:
            # one row per question, linked to its heading, with its figure as recorded
            row = re.search(rf'<tr data-qid="{q}">(.*?)</tr>', glance, re.S)
            assert row, q
            assert f'href="#{q}"' in row.group(1)
            assert f"Short answer of {q} with <strong>bold</strong>." in row.group(1)
            value = f"{heads[q]['value']:{heads[q]['fmt']}}"
            assert f'<span class="gm-fig-value">{value}</span>' in row.group(1)
            # under the heading: the question stated, then the short answer, then the rest;
            # the full answer further down, linked from the short one
            h = text.index(f'<h2 id="{q}"')
            question = text.index(f"What does {q} ask?", h)
            short = text.index(f"Short answer of {q}", question)
            assert text.index("</h2>", h) < question < short
            assert short < text.index(f'id="answer-{q}"') < text.index(f"Measured for {q}")
            assert f'Measured for <a href="#{q}">{q}</a>' in page
            assert f'href="#answer-{q}"' in page
    # every internal link resolves to an id of the page
    ids = set(re.findall(r'\sid="([^"]+)"', page))
    missing = sorted(set(re.findall(r'href="#([^"]+)"', page)) - ids)
    assert missing == []


def test_math_is_served_locally(built):
    result, _, out = built
    page = result.html.read_text()
    assert '<script src="http' not in page and "cdnjs" not in page
    src = re.search(r'<script src="([^"]*MathJax\.js)[^"]*"', page)
    assert src, "no MathJax script"
    assert not src.group(1).startswith(("http:", "https:", "//"))
    assert (out / src.group(1)).is_file()
    assert (out / "mathjax/config/TeX-AMS-MML_HTMLorMML-full.js").is_file()


@needs_chromium
def test_math_renders_offline_in_a_real_browser(built):
    result, _, _ = built
    dom = _dump_dom(result.html)
    assert 'data-mathjax="done"' in dom
    assert dom.count('class="MathJax"') >= 4  # typeset inline formulas
    assert "MathJax_Display" in dom
    assert "Math Processing Error" not in dom and 'class="MathJax_Error"' not in dom


@needs_chromium
def test_pdf_has_every_question_and_a_clickable_contents(built):
    result, qids, _ = built
    assert result.pdf is not None and result.pdf.is_file()
    data = result.pdf.read_bytes()
    assert data.startswith(b"%PDF")
    assert b"/Link" in data  # contents entries are links
    assert b"/Outlines" in data  # bookmarks
    if PDFTOTEXT:
        text = subprocess.run(
            [PDFTOTEXT, "-layout", str(result.pdf), "-"], capture_output=True, text=True
        ).stdout
        for ids in qids.values():
            for q in ids:
                assert re.search(rf"\b{q}\b", text), q
        assert CODE_ONLY not in text and STDERR not in text
    # Build step (conversion + PDF), excluding notebook execution.
    assert result.build_seconds < 30, result.build_seconds


@needs_chromium
def test_screenshot_of_the_html_is_not_blank(built, tmp_path):
    result, _, _ = built
    assert screenshot_not_blank(result.html, tmp_path / "shot.png") > 0.02


def test_without_chromium_html_is_written_and_the_way_to_pdf_is_said(
    built, tmp_path, monkeypatch, capsys
):
    _, qids, out = built
    for stem in qids:  # rebuild from the executed notebooks, in a fresh folder
        shutil.copy(out / f"{stem}.ipynb", tmp_path / f"{stem}.ipynb")
        shutil.copytree(out / stem, tmp_path / stem)
    monkeypatch.setattr(pdf, "find_chromium", lambda: None)
    opts = rb.BuildOptions(
        profile="smoke",
        sections=list(qids),
        notebooks_dir=out.parent / "notebooks",
        out_dir=tmp_path,
        execute=False,
    )
    result = rb.build_report(opts)
    assert result.html.is_file() and result.pdf is None
    assert not (tmp_path / "report.pdf").exists()
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "Chromium" in ln]
    assert len(lines) == 1 and "apt-get install chromium" in lines[0]
    assert "playwright install chromium" in lines[0]


def test_failing_notebook_names_notebook_and_cell_and_leaves_no_report(tmp_path, capsys):
    nb_dir, out = tmp_path / "notebooks", tmp_path / "out"
    nb_dir.mkdir()
    nbformat.write(fake_notebook("Part 1 — Broken", ["U1"], fail=True), nb_dir / "01_broken.ipynb")
    out.mkdir()
    (out / "report.html").write_text("<html>complete-looking old report</html>")
    (out / "report.pdf").write_bytes(b"%PDF-1.4 old")
    argv = ["--profile", "smoke", "--sections", "01_broken", "--notebooks-dir", str(nb_dir)]
    argv += ["--out-dir", str(out), "--cache-dir", str(tmp_path / "cache")]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err  # one line
    assert "01_broken.ipynb" in err[0]
    assert re.search(r"cell \d+ \(In \[\d+\]", err[0])
    assert "RuntimeError: synthetic failure in the model cell" in err[0]
    # No report that could pass for a complete one; the partial notebook is kept.
    assert not (out / "report.html").exists() and not (out / "report.pdf").exists()
    assert not list(out.glob(".*"))
    partial = nbformat.read(out / "01_broken.ipynb", as_version=4)
    errors = [o for c in partial.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.get("ename") == "RuntimeError" for o in errors)


def test_undeclared_extra_parameter_is_refused_before_running(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    nbformat.write(fake_notebook("Part 1 — X", ["U1"]), nb_dir / "01_x.ipynb")
    opts = rb.BuildOptions(
        sections=["01_x"], notebooks_dir=nb_dir, out_dir=tmp_path / "out", cache_dir=tmp_path
    )
    opts.extra_params = {"undeclared_name": 3}
    with pytest.raises(ReportError, match="undeclared_name"):
        rb.build_report(opts)


def test_unchanged_rebuild_executes_nothing(built, capsys):
    """The real pipeline's executed notebooks are reused: no kernel starts the second time."""
    result, qids, out = built
    before = {stem: (out / f"{stem}.ipynb").read_bytes() for stem in qids}
    opts = rb.BuildOptions(
        profile="smoke",
        sections=list(qids),
        notebooks_dir=out.parent / "notebooks",
        out_dir=out,
        cache_dir=out.parent / "cache",
        pdf=False,
    )
    again = rb.build_report(opts)
    assert again.reused == list(qids) and again.ran == [] and again.execute_seconds == {}
    assert {stem: (out / f"{stem}.ipynb").read_bytes() for stem in qids} == before
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]
    assert len(lines) == len(qids) and all(": reused (key " in ln for ln in lines), lines
    assert 'Measured for <a href="#U2">U2</a>' in again.html.read_text()
