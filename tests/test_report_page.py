"""The write-up's page (genmod.report.clean, .page, .pdf): what a notebook's outputs become,
headings and their anchors, links to questions, long tables folded, and the PDF's page checks.
Pure functions on hand-made notebooks and HTML: no kernel, no browser."""

from __future__ import annotations

import re

import nbformat
from genmod.report import clean, page
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from report_fixtures import CODE_ONLY, INTERACTIVE, STDERR, fake_notebook, stream, tagged


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
        stream("stderr", "UserWarning: noise\n"),
        stream("stdout", "loss 0.5"),
        stream("stderr", "more noise\n"),
        stream("stdout", "\rloss 0.25\rloss 0.125\n"),
        stream("stdout", "\n\n"),
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
    nb = _cell_with(stream("stderr", f"{STDERR}\n"), stream("stdout", "shown\n"))
    nb.cells.append(tagged(new_code_cell(f"print('{INTERACTIVE}')"), "interactive"))
    nb.cells[-1].outputs = [stream("stdout", f"{INTERACTIVE}\n")]
    body, _ = page.make_exporter().from_notebook_node(nb)
    assert "shown" in body and STDERR not in body and INTERACTIVE not in body
    assert "pass" not in body  # no input


def test_clean_notebook_removes_tagged_cells_and_empty_code():
    nb = fake_notebook("Part 1 — X", ["U1"])
    nb.cells[2].outputs = [stream("stdout", "kept output\n")]
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
