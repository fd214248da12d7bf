"""Shared helpers for the write-up build tests (test_report_*): synthetic section notebooks,
the execution cache's small sections, the build log's decision lines and the browser checks."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import numpy as np
import pytest
from genmod.report import pdf
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

CHROMIUM = pdf.find_chromium()
PDFTOTEXT = shutil.which("pdftotext")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium: apt-get install chromium (PDF/screenshot checks)"
)

# Strings that must never reach the write-up.
CODE_ONLY = "CODE_ONLY_3f9a"  # appears only in cell sources
INTERACTIVE = "INTERACTIVE_OUTPUT_77c1"  # output of a cell tagged `interactive`
STDERR = "STDERR_OUTPUT_51be"  # written to stderr
WARNING = "WARNING_OUTPUT_0d2e"  # a Python warning (stderr)

PARAMS_SOURCE = (
    'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "results.json"\n'
    'cache_dir = "cache"\nretrain = False\n'
)

KERNELSPEC = {"name": "genmod", "display_name": "Python (genmod)", "language": "python"}


def tagged(cell, *tags):
    cell.metadata["tags"] = list(tags)
    return cell


def stream(name, text):
    return nbformat.from_dict({"output_type": "stream", "name": name, "text": text})


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
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    cells = [
        new_markdown_cell(
            f"# {part}\n\nAn intro with inline maths $\\sigma(t) = e^{{5(t-1)}}$ and\n\n"
            "$$L_T(x) = \\frac{T}{2}\\,\\mathbb{E}\\left[\\lVert x - \\hat x_0 \\rVert^2\\right]$$"
        ),
        tagged(new_code_cell(PARAMS_SOURCE), "parameters"),
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
        tagged(new_code_cell(f"print('{INTERACTIVE}')"), "interactive"),
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


def write_fakes(folder: Path) -> dict[str, list[str]]:
    """Two fake sections, 01_alpha and 02_beta, in ``folder``; stem → question ids."""
    folder.mkdir(parents=True, exist_ok=True)
    fakes = {
        "01_alpha": ("Part 1 — Fake diffusion", ["U1", "U2"]),
        "02_beta": ("Part 2 — Fake GPT", ["A1", "Bonus"]),
    }
    for stem, (title, qids) in fakes.items():
        nbformat.write(fake_notebook(title, qids), folder / f"{stem}.ipynb")
    return {stem: qids for stem, (_, qids) in fakes.items()}


def screenshot_not_blank(html: Path, png: Path) -> float:
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


# ------------------------------------------------------------ the execution cache's sections
CACHE_SECTIONS = {
    "01_alpha": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\nepochs = None\n',
    "02_beta": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\ntemperature = 1.0\n',
    "03_gamma": 'device = "auto"\nseed = 0\nprofile = "default"\nresults_path = "r.json"\n'
    'cache_dir = "cache"\nretrain = False\n',
}


def small_notebook(stem: str, params_source: str):
    """A section of three cells: a heading, the parameters, one that prints 'work'."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.cells = [
        new_markdown_cell(f"# Part — {stem}\n\n## U1 — A question\n\nText."),
        tagged(new_code_cell(params_source), "parameters"),
        new_code_cell("print('work')"),
    ]
    return nb


def decision_lines(log_text: str) -> dict[str, str]:
    """Section stem → its decision line (reused / running) in the build's log."""
    found = {}
    for line in log_text.splitlines():
        m = re.match(r"\[\d+/\d+\] (\w+)\.ipynb: (reused .*|running .*)", line)
        if m:
            found[m.group(1)] = m.group(2)
    return found
