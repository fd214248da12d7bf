"""The write-up build (genmod.report): notebooks in, one HTML and one PDF out.

Fast tests run the real pipeline (papermill on the ``genmod`` kernel, nbconvert, headless
Chromium) on two tiny synthetic notebooks written here, and the execution cache with a
stand-in for papermill (no kernel); the slow tests kill a real build mid-section and build
the real report on the smoke profile from whichever section notebooks exist.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from genmod.paths import NOTEBOOKS_DIR, REPO_ROOT
from genmod.report import build as rb
from genmod.report import clean, cli, execute, execution_cache, page, pdf
from genmod.report.base import ReportError
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHROMIUM = pdf.find_chromium()
PDFTOTEXT = shutil.which("pdftotext")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium (PDF/screenshot checks)"
)

QIDS = {
    "01_diffusion_unconditional": ["U1", "U2", "U3", "U4", "U5", "U6"],
    "02_diffusion_conditional": ["C1", "C2", "C3", "C4", "C5", "C6", "Bonus"],
    "03_autoregressive_gpt": ["A1", "A2", "A3", "A4", "A5"],
}

# Strings that must never reach the write-up.
CODE_ONLY = "CODE_ONLY_3f9a"  # appears only in cell sources
INTERACTIVE = "INTERACTIVE_OUTPUT_77c1"  # output of a cell tagged `interactive`
STDERR = "STDERR_OUTPUT_51be"  # written to stderr
WARNING = "WARNING_OUTPUT_0d2e"  # a Python warning (stderr)

PARAMS_SOURCE = (
    'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "results.json"\n'
    'cache_dir = "cache"\nretrain = False\n'
)


def _tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def questions_of(qids: list[str]) -> dict:
    return {q: {"title": f"Title of {q}", "text": f"What does {q} ask?"} for q in qids}


def headlines_of(qids: list[str]) -> dict:
    """Short answers shaped like genmod.sections.summary.Headline.to_json()."""
    return {
        q: {
            "answer": f"Short answer of {q} with **bold**.",
            "verdict": "yes" if i % 2 else "no",
            "figure": f"figure of {q}",
            "path": f"m.{i}",
            "value": 0.125 * (i + 1),
            "fmt": ".3f",
            "reduce": None,
        }
        for i, q in enumerate(qids)
    }


def fake_notebook(part: str, qids: list[str], *, fail: bool = False):
    """A small notebook shaped like a section: title, parameters, questions, figures."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "genmod",
        "display_name": "Python (genmod)",
        "language": "python",
    }
    cells = [
        new_markdown_cell(
            f"# {part}\n\nAn intro with inline maths $\\sigma(t) = e^{{5(t-1)}}$ and\n\n"
            "$$L_T(x) = \\frac{T}{2}\\,\\mathbb{E}\\left[\\lVert x - \\hat x_0 \\rVert^2\\right]$$"
        ),
        _tagged(new_code_cell(PARAMS_SOURCE), "parameters"),
        new_code_cell(
            f"# {CODE_ONLY}\nimport sys, time, warnings\nimport numpy as np\n"
            "import matplotlib.pyplot as plt\nfrom IPython.display import HTML, Markdown, display\n"
            "from genmod.style import setup_notebook\nsetup_notebook()\n"
            "t_start = time.perf_counter()"
        ),
    ]
    if fail:
        cells.append(new_code_cell("raise RuntimeError('synthetic failure in the model cell')"))
    for i, q in enumerate(qids):
        cells += [
            new_markdown_cell(f"## {q} — Question {q} with $x_t$\n\nWhat {q} asks.\n\n### Setup"),
            new_code_cell(
                f"fig, ax = plt.subplots(figsize=(7, 2.5))\n"
                f"ax.plot(np.arange(10), np.arange(10) ** {i + 1})\nax.set_title('{q}')\n"
                "plt.show()\n"
                f"sys.stderr.write('{STDERR}\\n')\nwarnings.warn('{WARNING}')\n"
                "print('long line ' + 'x' * 400)\n"
                f"text = '<a id=\"answer-{q}\"></a>\\n\\nMeasured for {q}: $\\\\sigma = {i}.5$.'\n"
                "display(Markdown(text))"
            ),
        ]
    cells += [
        new_code_cell(
            "display(HTML('<span style=\"background-color: rgb(255, 0, 0)\">painted</span>'))\n"
            "for k in range(3):\n    print(f'\\r{k}/3 |{\"#\" * k}|', end='')\nprint()\n"
            "from tqdm import tqdm\nfor _ in tqdm(range(5), file=sys.stdout):\n    pass\n"
            "plt.plot([0, 1])\nplt.show()"
        ),
        _tagged(new_code_cell(f"print('{INTERACTIVE}')"), "interactive"),
        new_code_cell(
            "from genmod.io import atomic_write_json\n"
            "atomic_write_json(results_path, {'section': 'fake', 'params': {'device': device, "
            "'seed': seed, 'profile': profile}, 'runtime': {'device': 'cpu', 'torch': 'test', "
            "'seconds': {'work': time.perf_counter() - t_start}}, 'answers': {}, "
            f"'questions': {questions_of(qids)!r}, 'headlines': {headlines_of(qids)!r}}})"
        ),
    ]
    nb.cells = cells
    return nb


def _write_fakes(folder: Path) -> dict[str, list[str]]:
    folder.mkdir(parents=True, exist_ok=True)
    fakes = {
        "01_alpha": ("Part 1 — Fake diffusion", ["U1", "U2"]),
        "02_beta": ("Part 2 — Fake GPT", ["A1", "Bonus"]),
    }
    for stem, (title, qids) in fakes.items():
        nbformat.write(fake_notebook(title, qids), folder / f"{stem}.ipynb")
    return {stem: qids for stem, (_, qids) in fakes.items()}


def _dump_dom(html: Path) -> str:
    proc = pdf.run_chromium(
        [CHROMIUM, "--virtual-time-budget=60000", "--dump-dom", html.resolve().as_uri()]
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _screenshot_not_blank(html: Path, png: Path) -> float:
    """Screenshot the page in a real headless browser; return the pixel std (0 = blank)."""
    import matplotlib.image as mpimg

    proc = pdf.run_chromium(
        [
            CHROMIUM,
            "--virtual-time-budget=60000",
            "--hide-scrollbars",
            f"--screenshot={png}",
            "--window-size=1200,1600",
            html.resolve().as_uri(),
        ]
    )
    assert png.is_file(), proc.stderr[-2000:]
    img = mpimg.imread(png)[..., :3]
    assert img.shape[:2] == (1600, 1200)
    gray = img.mean(axis=2)
    ink = float((gray < 0.9).mean())  # share of non-white pixels
    assert ink > 0.005, f"screenshot looks blank: {ink:.4f} of pixels have ink"
    return float(np.std(gray))


# ---------------------------------------------------------------------------------------
# Pure unit tests: cleaning and headings (no kernel, no browser)
# ---------------------------------------------------------------------------------------


def _stream(name, text):
    return nbformat.from_dict({"output_type": "stream", "name": name, "text": text})


def _data(kind, data, **extra):
    out = {"output_type": kind, "data": data, "metadata": {}}
    if kind == "execute_result":
        out["execution_count"] = 1
    out.update(extra)
    return nbformat.from_dict(out)


def _cell_with(*outputs):
    cell = new_code_cell("pass")
    cell.outputs = list(outputs)
    nb = new_notebook()
    nb.cells = [new_markdown_cell("# T"), cell]
    return nb


def test_writeup_drops_stderr_and_widgets_and_resolves_redraws():
    outs = [
        _stream("stderr", "UserWarning: noise\n"),
        _stream("stdout", "loss 0.5"),
        _stream("stderr", "more noise\n"),
        _stream("stdout", "\rloss 0.25\rloss 0.125\n"),
        _stream("stdout", "\n\n"),
        _data(
            "display_data",
            {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "HBox()"},
        ),
        _data("display_data", {"text/markdown": "Answer: $x$", "text/plain": "<Markdown>"}),
        _data("execute_result", {"text/plain": "0.75"}),
    ]
    nb = _cell_with(*outs)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    cleaned = clean.clean_notebook(nb)
    kept = cleaned.cells[1].outputs
    kinds = [(o.output_type, sorted(o.get("data", {})) or o.get("text")) for o in kept]
    # stdout chunks merge across the dropped stderr and their carriage returns resolve
    assert kinds == [
        ("stream", "loss 0.125\n\n\n"),
        ("display_data", ["text/markdown", "text/plain"]),
        ("execute_result", ["text/plain"]),
    ]
    assert kept[-1]["data"]["text/plain"] == "0.75"
    assert "widgets" not in cleaned.metadata and "widgets" in nb.metadata  # copy only
    # a cell left with nothing to show (stderr, a blank line) is left out
    assert len(clean.clean_notebook(_cell_with(outs[0], outs[4])).cells) == 1


def test_exporter_runs_the_writeup_preprocessors():
    nb = _cell_with(_stream("stderr", f"{STDERR}\n"), _stream("stdout", "shown\n"))
    nb.cells.append(_tagged(new_code_cell(f"print('{INTERACTIVE}')"), "interactive"))
    nb.cells[-1].outputs = [_stream("stdout", f"{INTERACTIVE}\n")]
    body, _ = page.make_exporter().from_notebook_node(nb)
    assert "shown" in body and STDERR not in body and INTERACTIVE not in body
    assert "pass" not in body  # no input


def test_clean_notebook_removes_tagged_cells_and_empty_code():
    nb = fake_notebook("Part 1 — X", ["U1"])
    nb.cells[2].outputs = [_stream("stdout", "kept output\n")]
    cleaned = clean.clean_notebook(nb)
    sources = "\n".join(c.source for c in cleaned.cells)
    assert INTERACTIVE not in sources and "results_path" not in sources
    # Code cells without outputs are gone; markdown stays; the input itself stays in the
    # node (the exporter hides it) but the parameters cell is removed entirely.
    assert [c.cell_type for c in cleaned.cells] == ["markdown", "code", "markdown"]
    assert len(nb.cells) > len(cleaned.cells)  # the original is untouched


def test_notebook_part_anchors_are_unique_and_questions_keep_their_ids():
    used: set[str] = set()
    nb1 = fake_notebook("Part 1 — One", ["U1", "U2"])
    nb2 = fake_notebook("Part 2 — Two", ["C1", "Bonus"])
    exporter = page.make_exporter()
    p1 = page.notebook_part(nb1, 1, "01_one", exporter, used)
    p2 = page.notebook_part(nb2, 2, "02_two", exporter, used)
    assert (p1.title, p1.anchor, p2.title, p2.anchor) == (
        "Part 1 — One",
        "part-1",
        "Part 2 — Two",
        "part-2",
    )
    assert [(h.qid, h.anchor) for h in p1.headings + p2.headings] == [
        ("U1", "U1"),
        ("U2", "U2"),
        ("C1", "C1"),
        ("Bonus", "Bonus"),
    ]
    ids = re.findall(r'<h\d id="([^"]+)"', p1.html + p2.html)
    assert len(ids) == len(set(ids)) == 2 + 4 + 4  # 2 parts, 4 questions, 4 "Setup"s
    assert CODE_ONLY not in p1.html  # input cells are not exported


def test_qid_pattern():
    m = page.QID_RE.match
    assert m("U1 — Forward process").groups() == ("U1", "Forward process")
    assert m("C6: log p").groups() == ("C6", "log p")
    assert m("Bonus — reach (4, 5.5)").group(1) == "Bonus"
    assert m("A12 - x").group(1) == "A12"
    assert m("Unconditional model") is None and m("Analysis") is None


def test_resolve_sections_names_the_missing_notebook(tmp_path):
    _write_fakes(tmp_path)
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


# ---------------------------------------------------------------------------------------
# The real pipeline on synthetic notebooks (papermill + nbconvert + Chromium)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("report")
    nb_dir = root / "notebooks"
    qids = _write_fakes(nb_dir)
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
    assert _screenshot_not_blank(result.html, tmp_path / "shot.png") > 0.02


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


# ---------------------------------------------------------------------------------------
# End to end: the real notebooks on the smoke profile
# ---------------------------------------------------------------------------------------


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
    _screenshot_not_blank(html, tmp_path / "report.png")


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


def test_interrupted_run_keeps_partial_notebook_and_leaves_no_report(tmp_path, monkeypatch):
    """Ctrl-C during execution: the partial notebook is kept whole, nothing else remains."""
    import papermill

    nb_dir, out = tmp_path / "notebooks", tmp_path / "out"
    nb_dir.mkdir()
    nbformat.write(fake_notebook("Part 1 — X", ["U1"]), nb_dir / "01_x.ipynb")
    out.mkdir()
    (out / "report.html").write_text("<html>old</html>")
    (out / ".01_x.running.ipynb").write_text("{ truncated by a kill")  # an earlier kill

    def interrupted(src, dest, **kwargs):
        nb = nbformat.read(src, as_version=4)
        nb.cells[0].source += "\n\npartially executed"
        nbformat.write(nb, dest)
        raise KeyboardInterrupt

    monkeypatch.setattr(papermill, "execute_notebook", interrupted)
    opts = rb.BuildOptions(
        sections=["01_x"], notebooks_dir=nb_dir, out_dir=out, cache_dir=tmp_path / "cache"
    )
    with pytest.raises(KeyboardInterrupt):
        rb.build_report(opts)
    assert sorted(p.name for p in out.iterdir()) == ["01_x.ipynb"]
    kept = nbformat.read(out / "01_x.ipynb", as_version=4)
    assert kept.cells[0].source.endswith("partially executed")


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


# ---------------------------------------------------------------------------------------
# The execution cache (papermill replaced by a stand-in: no kernel, fast)
# ---------------------------------------------------------------------------------------

CACHE_SECTIONS = {
    "01_alpha": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\nepochs = None\n',
    "02_beta": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\ntemperature = 1.0\n',
    "03_gamma": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\n',
}


def _small_notebook(stem: str, params_source: str):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "genmod",
        "display_name": "Python (genmod)",
        "language": "python",
    }
    nb.cells = [
        new_markdown_cell(f"# Part — {stem}\n\n## U1 — A question\n\nText."),
        _tagged(new_code_cell(params_source), "parameters"),
        new_code_cell("print('work')"),
    ]
    return nb


class StandIn:
    """Replaces papermill: writes an 'executed' notebook and a results.json, records calls;
    ``interrupt`` raises KeyboardInterrupt in that section (after a partial save)."""

    def __init__(self):
        self.calls: list[str] = []
        self.interrupt: str | None = None

    def __call__(self, notebook, output, parameters, cwd, kernel_name="genmod", timeout=None):
        self.calls.append(notebook.stem)
        nb = nbformat.read(notebook, as_version=4)
        nb.metadata["papermill"] = {"parameters": dict(parameters), "duration": 0.5}
        nb.cells[-1].outputs = [_stream("stdout", f"work {len(self.calls)}\n")]
        nbformat.write(nb, output)
        if notebook.stem == self.interrupt:
            raise KeyboardInterrupt
        results = Path(parameters["results_path"])
        results.parent.mkdir(parents=True, exist_ok=True)
        record = {"section": notebook.stem, "params": parameters, "runtime": {"seconds": {}}}
        results.write_text(json.dumps(record))


@pytest.fixture
def cache_env(tmp_path, monkeypatch, capsys):
    """Three small sections, a stand-in executor and ``build(**options)`` → (result, log)."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for stem, source in CACHE_SECTIONS.items():
        nbformat.write(_small_notebook(stem, source), nb_dir / f"{stem}.ipynb")
    stand_in = StandIn()
    monkeypatch.setattr(execute, "execute_notebook", stand_in)
    package = tmp_path / "package" / "genmod"  # a package nobody edits while the test runs
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A stand-in package."""\n')

    def build(**options):
        stand_in.calls.clear()
        capsys.readouterr()
        opts = rb.BuildOptions(
            profile="smoke",
            device="cpu",
            sections=list(CACHE_SECTIONS),
            notebooks_dir=nb_dir,
            out_dir=tmp_path / "out",
            cache_dir=tmp_path / "cache",
            pdf=False,
            data_dir=tmp_path / "data",
            package_dir=package,
        )
        for name, value in options.items():
            setattr(opts, name, value)
        result = rb.build_report(opts)
        return result, capsys.readouterr().out

    return SimpleNamespace(
        build=build,
        stand_in=stand_in,
        nb_dir=nb_dir,
        tmp=tmp_path,
        store=tmp_path / "cache/executed",
    )


def _lines(log_text: str) -> dict[str, str]:
    """Section stem → its decision line (reused / running) in the build's log."""
    found = {}
    for line in log_text.splitlines():
        m = re.match(r"\[\d+/\d+\] (\w+)\.ipynb: (reused .*|running .*)", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found


def test_unchanged_rerun_skips_all_sections(cache_env):
    first, log1 = cache_env.build()
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("no previous run" in line for line in _lines(log1).values()), log1
    out = cache_env.tmp / "out"
    notebooks = {s: (out / f"{s}.ipynb").read_bytes() for s in CACHE_SECTIONS}
    (out / "03_gamma/results.json").unlink()  # restored from the cache
    second, log2 = cache_env.build()
    assert cache_env.stand_in.calls == []
    assert second.reused == list(CACHE_SECTIONS) and second.ran == []
    lines = _lines(log2)
    assert sorted(lines) == sorted(CACHE_SECTIONS)
    assert all(re.match(r"reused \(key [0-9a-f]{16}\)", line) for line in lines.values()), log2
    assert {s: (out / f"{s}.ipynb").read_bytes() for s in CACHE_SECTIONS} == notebooks
    assert json.loads((out / "03_gamma/results.json").read_text())["section"] == "03_gamma"
    assert "work 3" in second.html.read_text()  # the reused outputs are the ones shown


def test_changed_parameter_reruns_that_section_only(cache_env):
    cache_env.build()
    result, log = cache_env.build(extra_params={"epochs": 7})  # declared by 01_alpha only
    assert cache_env.stand_in.calls == ["01_alpha"]
    lines = _lines(log)
    assert lines["01_alpha"].startswith("running (parameters changed: epochs;")
    assert lines["02_beta"].startswith("reused") and lines["03_gamma"].startswith("reused")
    assert result.decisions["01_alpha"] == "parameters changed: epochs"
    # switching back reuses the earlier run (several entries are kept per section)
    cache_env.build()
    assert cache_env.stand_in.calls == []


def test_profile_resolution_keys_the_values_used(cache_env, monkeypatch):
    """With a section config, a value given explicitly that equals the profile's value is the
    same run; without one (older notebooks) the given values plus the profile key the run."""
    smoke = {"epochs": 3}

    def resolve_params(given):
        return {
            **given,
            "epochs": given["epochs"] if given["epochs"] is not None else smoke["epochs"],
        }

    names = ("device", "seed", "profile", "results_path", "cache_dir", "retrain", "epochs")
    config = SimpleNamespace(PARAMETERS=names, resolve_params=resolve_params)
    real = execution_cache.section_config
    monkeypatch.setattr(
        execution_cache, "section_config", lambda stem: config if stem == "01_alpha" else real(stem)
    )
    cache_env.build()
    cache_env.build(extra_params={"epochs": 3})
    assert cache_env.stand_in.calls == []
    _, log = cache_env.build(extra_params={"epochs": 4})
    assert cache_env.stand_in.calls == ["01_alpha"]
    assert "parameters changed: epochs" in _lines(log)["01_alpha"]
    _, log = cache_env.build(profile="default")
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert "parameters changed: profile" in _lines(log)["02_beta"]


def test_changed_notebook_reruns_that_section_only(cache_env):
    cache_env.build()
    path = cache_env.nb_dir / "02_beta.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, path)
    _, log = cache_env.build()
    assert cache_env.stand_in.calls == ["02_beta"]
    assert _lines(log)["02_beta"].startswith("running (notebook changed;")


def test_package_change_reruns_every_section(cache_env):
    package = cache_env.tmp / "genmod"
    shutil.copytree(
        Path(rb.default_package_dir()), package, ignore=shutil.ignore_patterns("__pycache__")
    )
    cache_env.build(package_dir=package)
    # the report build's own files shape the page, not the execution: no re-run
    css = package / "report" / "report.css"
    css.write_text(css.read_text() + "\n/* restyled */\n")
    cache_env.build(package_dir=package)
    assert cache_env.stand_in.calls == []
    runtime = package / "runtime.py"
    runtime.write_text(runtime.read_text() + "\n# changed\n")
    result, log = cache_env.build(package_dir=package)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all(line.startswith("running (package changed;") for line in _lines(log).values())
    assert result.ran == list(CACHE_SECTIONS)


def test_data_change_reruns_every_section(cache_env):
    data = cache_env.tmp / "data"
    data.mkdir()
    (data / "corpus.txt").write_text("one")
    (data / "SHA256SUMS").write_text("0" * 64 + "  corpus.txt\n")
    cache_env.build()
    (data / "corpus.txt").write_text("two")
    _, log = cache_env.build()
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("data changed: corpus.txt" in line for line in _lines(log).values()), log


def test_interrupted_build_resumes_with_unfinished_sections(cache_env):
    cache_env.stand_in.interrupt = "02_beta"
    with pytest.raises(KeyboardInterrupt):
        cache_env.build()
    assert cache_env.stand_in.calls == ["01_alpha", "02_beta"]
    cache_env.stand_in.interrupt = None
    result, log = cache_env.build()
    assert cache_env.stand_in.calls == ["02_beta", "03_gamma"]
    assert result.reused == ["01_alpha"]
    assert "no previous run" in _lines(log)["02_beta"]


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("notebook", "notebook checksum mismatch"),
        ("results", "results checksum mismatch"),
        ("manifest", "manifest unreadable"),
        ("missing", "notebook missing"),
    ],
)
def test_corrupted_entry_is_rerun_with_one_line(cache_env, damage, problem):
    cache_env.build()
    (manifest,) = [
        p for p in cache_env.store.glob("01_alpha-*.json") if not p.name.endswith(".results.json")
    ]
    target = {
        "notebook": manifest.with_suffix(".ipynb"),
        "results": manifest.with_name(manifest.stem + ".results.json"),
        "manifest": manifest,
        "missing": manifest.with_suffix(".ipynb"),
    }[damage]
    if damage == "missing":
        target.unlink()
    else:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk
    result, log = cache_env.build()
    assert cache_env.stand_in.calls == ["01_alpha"]
    damaged = [ln for ln in log.splitlines() if "damaged" in ln]
    assert len(damaged) == 1 and "01_alpha" in damaged[0] and problem in damaged[0], log
    assert result.reused == ["02_beta", "03_gamma"]
    cache_env.build()  # the re-run replaced the damaged entry
    assert cache_env.stand_in.calls == []


def test_rerun_and_retrain_force_execution(cache_env):
    cache_env.build()
    _, log = cache_env.build(rerun=True)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("forced by --rerun" in line for line in _lines(log).values())
    _, log = cache_env.build(retrain=True)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("forced by --retrain" in line for line in _lines(log).values())
    cache_env.build()
    assert cache_env.stand_in.calls == []


class FakeWorker:
    """Stands in for execute.Worker: runs the stand-in executor at once, ends after 2 polls."""

    live: list = []  # workers not yet ended
    most = 0  # most workers alive at once

    def __init__(self, notebook, output, parameters, cwd, kernel_name="genmod", timeout=None):
        self.polls, self.error = 0, None
        try:
            execute.execute_notebook(notebook, output, parameters, cwd)
        except BaseException as err:  # noqa: BLE001 - re-raised by result()
            self.error = err
        FakeWorker.live.append(self)
        FakeWorker.most = max(FakeWorker.most, len(FakeWorker.live))

    def poll(self):
        self.polls += 1
        if self.polls < 2:
            return None
        if self in FakeWorker.live:
            FakeWorker.live.remove(self)
        return 0

    def result(self):
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize(
    "jobs, threads, most",
    [(2, {}, 2), (3, {}, 3), (None, {"01_alpha": 1, "02_beta": 1}, 2), (None, {}, 1)],
)
def test_concurrent_sections_are_each_cached(cache_env, monkeypatch, jobs, threads, most):
    """--jobs N runs N at a time; auto lets sections run together as their threads fit in
    the cores (here 2; a section of unknown threads runs alone)."""
    monkeypatch.setattr(execute, "Worker", FakeWorker)
    monkeypatch.setattr(rb, "cpu_cores", lambda: 2)
    monkeypatch.setattr(rb, "section_threads", lambda stem, profile, kind: threads.get(stem))
    FakeWorker.live, FakeWorker.most = [], 0
    result, log = cache_env.build(jobs=jobs)
    assert sorted(cache_env.stand_in.calls) == sorted(CACHE_SECTIONS)
    assert FakeWorker.most == (most if most > 1 else 0)  # 1: in order, without workers
    assert result.ran == list(CACHE_SECTIONS)
    assert len(re.findall(r": done in ", log)) == 3
    cache_env.build(jobs=jobs)
    assert cache_env.stand_in.calls == []


def test_concurrent_failure_stops_new_sections_and_keeps_finished_ones(cache_env, monkeypatch):
    monkeypatch.setattr(execute, "Worker", FakeWorker)
    FakeWorker.live, FakeWorker.most = [], 0
    cache_env.stand_in.interrupt = "02_beta"  # raises KeyboardInterrupt in its worker
    with pytest.raises(KeyboardInterrupt):
        cache_env.build(jobs=2)
    assert cache_env.stand_in.calls == ["01_alpha", "02_beta"]  # 03 never started
    cache_env.stand_in.interrupt = None
    result, _ = cache_env.build(jobs=2)
    assert result.reused == ["01_alpha"] and sorted(result.ran) == ["02_beta", "03_gamma"]


def test_old_entries_are_pruned(cache_env):
    for epochs in range(execution_cache.KEEP + 2):
        cache_env.build(extra_params={"epochs": epochs}, sections=["01_alpha"])
    manifests = [
        p for p in cache_env.store.glob("01_alpha-*.json") if not p.name.endswith(".results.json")
    ]
    assert len(manifests) == execution_cache.KEEP
    assert len(list(cache_env.store.glob("01_alpha-*.ipynb"))) == execution_cache.KEEP


def test_key_components():
    nb = _small_notebook("01_alpha", CACHE_SECTIONS["01_alpha"])
    nb2 = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb2.cells[2].outputs = [_stream("stdout", "x\n")]
    nb2.cells[2].execution_count = 3
    assert execution_cache.notebook_digest_of(nb) == execution_cache.notebook_digest_of(nb2)
    nb2.cells[2].source = "print('other')"
    assert execution_cache.notebook_digest_of(nb) != execution_cache.notebook_digest_of(nb2)
    files = {
        p.relative_to(rb.default_package_dir()).as_posix()
        for p in execution_cache.package_files(rb.default_package_dir())
    }
    assert "io.py" in files and "sections/common.py" in files
    assert not any(f.startswith("report/") or "__pycache__" in f for f in files)


# ---------------------------------------------------------------------------------------
# A real build killed during a section resumes with the unfinished sections
# ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_build_resumes_with_unfinished_sections(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    started = tmp_path / "02_started"
    for stem, source in CACHE_SECTIONS.items():
        nb = _small_notebook(stem, source)
        if stem == "02_beta":  # holds still when told to, so the test can kill it there
            nb.cells[2].source = (
                "import os, pathlib, time\n"
                "if os.environ.get('GENMOD_TEST_HOLD'):\n"
                f"    pathlib.Path({str(started)!r}).touch()\n"
                "    time.sleep(300)\n"
                "print('work')"
            )
        nbformat.write(nb, nb_dir / f"{stem}.ipynb")
    cmd = [sys.executable, "-m", "genmod.report", "--profile", "smoke", "--device", "cpu"]
    cmd += ["--notebooks-dir", str(nb_dir), "--out-dir", str(tmp_path / "out")]
    cmd += ["--cache-dir", str(tmp_path / "cache"), "--no-pdf", "--sections", *CACHE_SECTIONS]
    env = {**os.environ, "GENMOD_TEST_HOLD": "1"}
    proc = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not started.exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "section 02 never started"
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the build, as a hard kill would
        first = proc.communicate(timeout=60)[0]
    assert "01_alpha.ipynb: done" in first and "03_gamma" not in first.split("02_beta")[-1]

    again = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    lines = _lines(again.stdout)
    assert lines["01_alpha"].startswith("reused (key "), again.stdout
    assert lines["02_beta"].startswith("running (no previous run;")
    assert lines["03_gamma"].startswith("running (no previous run;")
    assert (tmp_path / "out" / "report.html").is_file()


@pytest.mark.slow
def test_ctrl_c_during_concurrent_sections_then_resume(tmp_path):
    """--jobs 2 on real kernels: Ctrl-C (SIGINT to the build's process group, as a terminal
    sends it) while two sections run stops both, keeps their partial notebooks and caches
    nothing of them; the same command then runs them, and a third time reuses everything."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for stem, source in CACHE_SECTIONS.items():
        nb = _small_notebook(stem, source)
        nb.cells[2].source = (
            "import os, pathlib, time\n"
            "if os.environ.get('GENMOD_TEST_HOLD'):\n"
            f"    pathlib.Path({str(tmp_path)!r}, '{stem}.started').touch()\n"
            "    time.sleep(300)\n"
            "print('work')"
        )
        nbformat.write(nb, nb_dir / f"{stem}.ipynb")
    cmd = [sys.executable, "-m", "genmod.report", "--profile", "smoke", "--device", "cpu"]
    cmd += ["--notebooks-dir", str(nb_dir), "--out-dir", str(tmp_path / "out"), "--jobs", "2"]
    cmd += ["--cache-dir", str(tmp_path / "cache"), "--no-pdf", "--sections", *CACHE_SECTIONS]
    proc = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env={**os.environ, "GENMOD_TEST_HOLD": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 240
    while not all((tmp_path / f"{s}.started").exists() for s in ("01_alpha", "02_beta")):
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the two sections never ran together"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    first = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, first
    assert "resumes" in first and "03_gamma.ipynb: running" not in first
    for stem in ("01_alpha", "02_beta"):  # the partial notebooks are kept, whole
        nbformat.read(tmp_path / "out" / f"{stem}.ipynb", as_version=4)
    assert not list((tmp_path / "cache").glob("executed/*.json"))
    assert not (tmp_path / "out" / "report.html").exists()

    again = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert all(
        line.startswith("running (no previous run;") for line in _lines(again.stdout).values()
    )
    third = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert third.returncode == 0 and len(_lines(third.stdout)) == 3
    assert all(line.startswith("reused (key ") for line in _lines(third.stdout).values()), (
        third.stdout
    )


def test_question_mentions_become_links_outside_code_maths_and_headings():
    from genmod.report.page import link_questions

    body = (
        "<p>see U5 and C4's table; (U5) again, $U5$ and \\(C4\\) stay maths</p>"
        '<h2 id="U5">U5 — title</h2><p><code>U5</code> <a href="#x">U5</a> XU5 U55 U9</p>'
    )
    out = link_questions(body, {"U5": "U5", "C4": "C4"})
    assert out.count('<a href="#U5">U5</a>') == 2 and out.count('<a href="#C4">C4</a>') == 1
    for kept in ("$U5$", "\\(C4\\)", '<h2 id="U5">U5 — title</h2>', "<code>U5</code>"):
        assert kept in out
    assert '<a href="#x">U5</a> XU5 U55 U9</p>' in out
    assert link_questions(body, {}) == body


def test_stranded_heading_is_found_at_the_foot_of_a_page_only():
    from genmod.report.pdf import first_page_of, stranded_headings

    pages = [
        "Intro text\nU4 — Number of sampling steps\n\n  12\n",  # heading, then the page number
        "U5 — An improved sampler\nIts text, long enough.\nMore text.\n",
    ]
    heads = ["U4 — Number of sampling steps", "U5 — An improved sampler"]
    assert stranded_headings(pages, heads) == [(1, "U4 — Number of sampling steps")]
    assert stranded_headings(pages[1:], heads) == []
    # the contents page lists headings as entries: checked only from the first part on
    toc = "Contents\nU1 — x\nU4 — Number of sampling steps\n"
    part = "Part 1 — Diffusion on 2D points: the\nunconditional model\ntext\n"
    assert first_page_of([toc, part], ["Part 1 — Diffusion on 2D points: the unconditional"]) == 2
    assert stranded_headings([toc, part], heads, first=2) == []


def test_sparse_pages_are_those_before_more_of_the_same_part():
    from genmod.report.pdf import opens_with, sparse_pages

    fills = [0.9, 0.3, 0.95, 0.2, 0.9, 0.1]
    opens = [False, False, False, False, True, False]  # page 5 opens a part
    assert sparse_pages(fills, opens) == [2]  # 4 precedes a part title, 6 is the last page
    assert sparse_pages(fills, opens, first=3) == []
    assert opens_with(
        "\n Part 2 — Autoregressive model: a small\nGPT-2\n",
        ["Part 2 — Autoregressive model: a small GPT-2"],
    )
    assert not opens_with("Part\n", ["Part 2 — Autoregressive model"])


def _md_table(rows: int) -> str:
    body = "".join(f"<tr><td>{i}</td><td>{i * i}</td></tr>" for i in range(rows))
    return f"<table><thead><tr><th>n</th><th>n²</th></tr></thead><tbody>{body}</tbody></table>"


def test_long_tables_fold_into_details_and_the_appendix_holds_them():
    body = (
        '<h2 id="U4">U4 — Number of sampling steps</h2><p>text</p>'
        + _md_table(21)
        + '<h3 id="p1-x">Short one</h3>'
        + _md_table(20)
        + '<h2 id="U5">U5 — An improved sampler</h2>'
        + _md_table(32)
    )
    assert page.body_rows(_md_table(21)) == 21
    assert page.body_rows("<table><tr><th>a</th></tr><tr><td>1</td></tr></table>") == 1
    out, tables = page.fold_long_tables(body, first=3)
    assert [(t.number, t.rows, t.under) for t in tables] == [
        (3, 21, "U4 — Number of sampling steps"),
        (4, 32, "U5 — An improved sampler"),
    ]
    assert out.count("<details") == 2 and out.count("<table") == 3  # the 20-row one stays
    short = out.index("Short one")
    assert "<details" not in out[short : out.index("U5 — An")]
    for t in tables:  # each folded table sits whole inside its block, which links its copy
        block = re.search(rf'<details class="gm-long" id="{t.source}">.*?</details>', out, re.S)
        assert block and t.html in block.group(0) and f'href="#{t.anchor}"' in block.group(0)
    assert page.fold_long_tables(body, min_rows=40) == (body, [])
    html = page.render_page([], [], [], "T", None, tables)
    ids = set(re.findall(r'id="([^"]+)"', html + out))
    assert {"long-tables", "table-3", "table-4"} <= ids
    assert all(h[1:] in ids for h in re.findall(r'href="(#[^"]+)"', html) if h != "#contents")
    assert html.count(tables[1].html) == 1 and 'href="#table-4-text"' in html
