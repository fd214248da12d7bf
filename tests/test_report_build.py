"""The write-up build (genmod.report.build): notebooks in, one HTML and one PDF out.

Fast tests run the real pipeline (papermill on the ``genmod`` kernel, nbconvert, headless
Chromium) on two tiny synthetic notebooks written here; the slow test builds the real
report on the smoke profile from whichever section notebooks exist.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from genmod.paths import NOTEBOOKS_DIR, REPO_ROOT
from genmod.report import build as rb
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHROMIUM = rb.find_chromium()
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
                f"text = 'Measured for {q}: $\\\\sigma = {i}.5$.'\n"
                "display(Markdown(text))\ntext"
            ),
        ]
    cells += [
        new_code_cell(
            "display(HTML('<span style=\"background-color: rgb(255, 0, 0)\">painted</span>'))\n"
            "for k in range(3):\n    print(f'\\r{k}/3 |{\"#\" * k}|', end='')\nprint()\n"
            "from tqdm import tqdm\nfor _ in tqdm(range(5), file=sys.stdout):\n    pass\n"
            "plt.plot([0, 1])"
        ),
        _tagged(new_code_cell(f"print('{INTERACTIVE}')"), "interactive"),
        new_code_cell(
            "from genmod.io import atomic_write_json\n"
            "atomic_write_json(results_path, {'section': 'fake', 'params': {'device': device, "
            "'seed': seed, 'profile': profile}, 'runtime': {'device': 'cpu', 'torch': 'test', "
            "'seconds': {'work': time.perf_counter() - t_start}}, 'answers': {}})"
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
    proc = rb.run_chromium(
        [CHROMIUM, "--virtual-time-budget=60000", "--dump-dom", html.resolve().as_uri()]
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def _screenshot_not_blank(html: Path, png: Path) -> float:
    """Screenshot the page in a real headless browser; return the pixel std (0 = blank)."""
    import matplotlib.image as mpimg

    proc = rb.run_chromium(
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


def test_clean_outputs_drops_residue_and_keeps_content():
    outs = [
        _stream("stderr", "UserWarning: noise\n"),
        _stream("stdout", "\r  0%|          | 0/3 [00:00<?, ?it/s]"),
        _stream("stdout", "\r100%|██████████| 3/3 [00:00<00:00, 2.00it/s]"),
        _stream("stdout", "\nloss 0.25\rloss 0.125\n"),
        _data(
            "display_data",
            {"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "HBox()"},
        ),
        _data("display_data", {"text/markdown": "Answer: $x$", "text/plain": "<Markdown>"}),
        _data("execute_result", {"text/plain": "'Answer: $x$'"}),
        _data("execute_result", {"text/plain": "[<matplotlib.lines.Line2D at 0x7f3a>]"}),
        _data("execute_result", {"text/plain": "Text(0.5, 1.0, 'title')"}),
        _data("execute_result", {"text/plain": "PosixPath('/tmp/results.json')"}),
        _data("display_data", {"text/plain": "<Figure size 700x400 with 1 Axes>"}),
        _data("execute_result", {"text/plain": "0.75"}),
    ]
    kept = rb.clean_outputs(outs)
    kinds = [(o.output_type, sorted(o.get("data", {})) or o.get("text")) for o in kept]
    assert kinds == [
        ("stream", "loss 0.125\n"),
        ("display_data", ["text/markdown", "text/plain"]),
        ("execute_result", ["text/plain"]),
    ]
    assert kept[-1]["data"]["text/plain"] == "0.75"


def test_clean_notebook_removes_tagged_cells_and_empty_code():
    nb = fake_notebook("Part 1 — X", ["U1"])
    nb.cells[2].outputs = [_stream("stdout", "kept output\n")]
    cleaned = rb.clean_notebook(nb)
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
    exporter = rb.make_exporter()
    p1 = rb.notebook_part(nb1, 1, "01_one", exporter, used)
    p2 = rb.notebook_part(nb2, 2, "02_two", exporter, used)
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
    m = rb.QID_RE.match
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
        rb.ReportError, match=r"not found: .*01_diffusion_unconditional\.ipynb, .*02_diff"
    ):
        rb.resolve_sections(None, tmp_path)
    with pytest.raises(rb.ReportError, match="03_gamma.ipynb"):
        rb.resolve_sections(["03_gamma"], tmp_path)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--device", "tpu"], "device='tpu'"),
        (["--profile", "fast"], "profile='fast'"),
        (["--seed", "-1"], "seed=-1"),
        (["--seed", "abc"], "seed='abc'"),
        (["-p", "epochs"], "NAME=VALUE"),
    ],
)
def test_bad_arguments_fail_at_once(argv, needle, capsys):
    t0 = time.perf_counter()
    assert rb.main(argv) == 2
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
    assert "Measured for U2: $\\sigma = 1.5$." in page
    assert "|##|" in page  # the carriage-return redraws resolved to the last state


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
    monkeypatch.setattr(rb, "find_chromium", lambda: None)
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
    assert rb.main(argv) == 1
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
    with pytest.raises(rb.ReportError, match="undeclared_name"):
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
    page = html.read_text()
    for stem in present:
        assert (out / f"{stem}.ipynb").is_file()
        assert (out / stem / "results.json").is_file()
        for q in QIDS[stem]:
            assert f'<h2 id="{q}"' in page, f"{stem}: no heading for {q}"
    assert '<script src="http' not in page

    build = re.search(r"build step ([\d.]+) s", proc.stdout)
    assert build and float(build.group(1)) <= 30, proc.stdout

    if CHROMIUM is None:
        pytest.skip("no Chromium: HTML checked; PDF and screenshot need `apt-get install chromium`")
    pdf = out / "report.pdf"
    assert pdf.is_file() and pdf.read_bytes().startswith(b"%PDF")
    if PDFTOTEXT:
        text = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True).stdout
        for stem in present:
            for q in QIDS[stem]:
                assert re.search(rf"\b{q}\b", text), f"PDF text lacks {q}"
    _screenshot_not_blank(html, tmp_path / "report.png")


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
