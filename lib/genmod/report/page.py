"""The HTML: one page from the executed notebooks (title page, contents, parts, appendix).

Each notebook is converted by nbconvert's ``HTMLExporter`` with the ``genmod_fragment``
template (no code, no prompts) after the write-up preprocessors of
:mod:`genmod.report.clean`; the fragments are wrapped in ``templates/page.html.j2``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmod.report.base import SECTIONS, fmt_seconds, log

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
CSS_PATH = HERE / "report.css"
TITLE = "Generative models: diffusion in 2D and a small GPT-2"

#: A question heading: ``U1 — title`` (also U1: / U1 - / U1.), ``Bonus — title``.
QID_RE = re.compile(r"^\s*((?:U|C|A)\d+|Bonus)(?=$|[\s.:—–-])[\s.:—–-]*(.*)$", re.S)

_HEADING_RE = re.compile(r"<h([1-6])\b([^>]*)>(.*?)</h\1>", re.S | re.I)
_ID_RE = re.compile(r"""\sid\s*=\s*(["'])(.*?)\1""", re.S)
_TAG_RE = re.compile(r"<[^>]+>")


@dataclass
class Heading:
    level: int
    text: str
    anchor: str
    qid: str | None = None
    rest: str = ""


@dataclass
class Glance:
    """One row of "results at a glance": a question, its short answer and headline figure."""

    qid: str
    title: str
    question: str
    answer_html: str
    figure: str
    value: str
    verdict: str
    anchor: str


def inline_markdown(text: str) -> str:
    """A short Markdown text as inline HTML (math left for MathJax)."""
    from nbconvert.filters.markdown import markdown2html_mistune

    out = markdown2html_mistune(text).strip()
    if out.startswith("<p>") and out.endswith("</p>") and out.count("<p>") == 1:
        out = out[3:-4]
    return out


def glance_rows(results: dict, anchors: dict[str, str]) -> list[Glance]:
    """The rows of a part from its results.json (``questions`` and ``headlines``), in the
    order of the part's question headings (``anchors``: question id → heading anchor)."""
    from genmod.sections.summary import format_value

    questions = results.get("questions") if isinstance(results.get("questions"), dict) else {}
    heads = results.get("headlines") if isinstance(results.get("headlines"), dict) else {}
    order = [q for q in anchors if q in heads] + [q for q in heads if q not in anchors]
    rows = []
    for qid in order:
        h, q = heads[qid], questions.get(qid, {})
        rows.append(
            Glance(
                qid=qid,
                title=str(q.get("title", "")),
                question=str(q.get("text", "")),
                answer_html=inline_markdown(str(h.get("answer", ""))),
                figure=str(h.get("figure", "")),
                value=format_value(h.get("value"), str(h.get("fmt", ".4g"))),
                verdict=str(h.get("verdict", "")),
                anchor=anchors.get(qid, qid),
            )
        )
    return rows


def question_callout(row: Glance) -> str:
    """The question, stated, and its short answer, placed right under the question heading."""
    return (
        f'<div class="gm-question"><span class="gm-label">Question {html.escape(row.qid)}</span> '
        f"{inline_markdown(row.question)}</div>\n"
        f'<div class="gm-short"><span class="gm-label">Answer</span> {row.answer_html} '
        f'<a class="gm-more" href="#answer-{html.escape(row.qid)}">full answer ↓</a></div>\n'
    )


@dataclass
class Part:
    number: int
    notebook: str
    title: str
    anchor: str
    html: str
    headings: list[Heading]
    device: str = "—"
    wall: str = "—"
    stages: str = "—"
    glance: list[Glance] = field(default_factory=list)

    @property
    def label(self) -> str:
        """The title as listed: numbered unless it already says which part it is."""
        return (
            self.title if self.title.lower().startswith("part") else f"{self.number}. {self.title}"
        )


def heading_html(page_html: str, levels: str = "123") -> list[str]:
    """The inner HTML of every heading of the given levels in a page."""
    return [m.group(3) for m in _HEADING_RE.finditer(page_html) if m.group(1) in levels]


def heading_text(inner: str) -> str:
    """A heading's text as printed (tags and the "↑ contents" link removed)."""
    inner = re.sub(r'<a class="gm-up".*?</a>', "", inner, flags=re.S)
    return " ".join(html.unescape(_TAG_RE.sub("", inner)).split())


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text.lower(), flags=re.U).strip("-")
    return slug[:60] or "section"


def make_exporter():
    """nbconvert's HTML exporter: the fragment template, no code, the write-up preprocessors."""
    from nbconvert import HTMLExporter

    from genmod.report.clean import writeup_preprocessors

    return HTMLExporter(
        template_name="genmod_fragment",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
        preprocessors=writeup_preprocessors(),
    )


def notebook_part(
    nb,
    number: int,
    name: str,
    exporter=None,
    used_ids: set | None = None,
    results: dict | None = None,
) -> Part:
    """Convert one executed notebook into a part: its HTML with unique heading anchors.

    The part's title is its first level-1 heading. Level-2 headings that start with a
    question id (``U1 — …``) get that id as anchor (``#U1``); every other heading gets an
    anchor prefixed by the part number, so parts never collide. With the part's
    ``results`` (its results.json), each question heading is followed by the question, stated,
    and its short answer (:func:`question_callout`), and the part carries its rows of "results
    at a glance".
    """
    exporter = exporter or make_exporter()
    body, _ = exporter.from_notebook_node(nb)
    used = used_ids if used_ids is not None else set()
    renamed: dict[str, str] = {}
    headings: list[Heading] = []
    title: list[str] = []
    part_anchor = f"part-{number}"
    used.add(part_anchor)
    used.add(part_anchor + "-section")

    def unique(base: str) -> str:
        anchor, k = base, 2
        while anchor in used:
            anchor, k = f"{base}-{k}", k + 1
        used.add(anchor)
        return anchor

    def replace(match: re.Match) -> str:
        level, attrs, inner = int(match.group(1)), match.group(2), match.group(3)
        text = " ".join(html.unescape(_TAG_RE.sub("", inner)).split())
        old = _ID_RE.search(attrs)
        qid = None
        if level == 1 and not title:
            title.append(text)
            anchor = part_anchor
        else:
            m = QID_RE.match(text) if level == 2 else None
            if m:
                qid = m.group(1)
                anchor = unique(qid)
            else:
                anchor = unique(f"p{number}-{_slug(text)}")
        if old:
            renamed[old.group(2)] = anchor
            attrs = _ID_RE.sub("", attrs)
        if level == 2:
            rest = QID_RE.match(text).group(2).strip() if qid else ""
            headings.append(Heading(level, text, anchor, qid, rest))
            inner += '<a class="gm-up" href="#contents">↑ contents</a>'
        return f'<h{level} id="{anchor}"{attrs}>{inner}</h{level}>'

    body = _HEADING_RE.sub(replace, body)
    anchors = {h.qid: h.anchor for h in headings if h.qid}
    rows = glance_rows(results or {}, anchors)
    by_anchor = {r.anchor: r for r in rows if r.anchor in anchors.values()}
    if by_anchor:

        def callout(match: re.Match) -> str:
            row = by_anchor.get(match.group(1))
            return match.group(0) + (question_callout(row) if row else "")

        body = re.sub(r'<h2 id="([^"]+)"[^>]*>.*?</h2>\s*', callout, body, flags=re.S)
    # In-part links to the old (nbconvert) heading ids follow them.
    for old, new in renamed.items():
        body = body.replace(f'href="#{old}"', f'href="#{new}"')
    if not title:  # no "# Part N — …" heading: still give the part an anchor and a title
        title.append(name)
        body = f'<h1 id="{part_anchor}">{html.escape(name)}</h1>\n' + body
    return Part(number, name, title[0], part_anchor, body, headings, glance=rows)


#: Tables with more body rows than this are folded (:func:`fold_long_tables`).
LONG_TABLE_ROWS = 20
_TABLE_RE = re.compile(r"<table\b.*?</table>", re.S | re.I)
_ROW_RE = re.compile(r"<tr\b", re.I)
_THEAD_RE = re.compile(r"<thead\b.*?</thead>", re.S | re.I)


@dataclass
class LongTable:
    """A table folded out of the running text: the text keeps it in a collapsed
    ``<details>`` block (``source``), the PDF prints it in the appendix (``anchor``)."""

    number: int
    anchor: str
    source: str
    under: str  # the heading it sits under
    rows: int
    html: str


def body_rows(table_html: str) -> int:
    """Rows of a table outside its header."""
    head = _THEAD_RE.search(table_html)
    if head:
        return len(_ROW_RE.findall(table_html)) - len(_ROW_RE.findall(head.group(0)))
    return max(len(_ROW_RE.findall(table_html)) - 1, 0)


def fold_long_tables(
    body: str, first: int = 1, min_rows: int = LONG_TABLE_ROWS
) -> tuple[str, list[LongTable]]:
    """Fold every table of more than ``min_rows`` body rows into a collapsed ``<details>``
    block whose summary names its size and its appendix copy (Table ``first``, ``first`` +
    1, …); return the new body and the folded tables, for the appendix. On screen the block
    opens in place; in print the block shows only its summary and the appendix the table."""
    headings = [(m.start(), heading_text(m.group(3))) for m in _HEADING_RE.finditer(body)]
    tables: list[LongTable] = []

    def fold(match: re.Match) -> str:
        rows = body_rows(match.group(0))
        if rows <= min_rows:
            return match.group(0)
        number = first + len(tables)
        under = next((t for pos, t in reversed(headings) if pos < match.start()), "")
        t = LongTable(
            number, f"table-{number}", f"table-{number}-text", under, rows, match.group(0)
        )
        tables.append(t)
        return (
            f'<details class="gm-long" id="{t.source}"><summary>'
            f'<span class="gm-screen-only">Table {number}: {rows} rows (show)</span>'
            f'<span class="gm-print-only">Table {number} ({rows} rows) is printed in the '
            f'appendix: <a href="#{t.anchor}">Table {number}</a>.</span>'
            f"</summary>\n{match.group(0)}\n</details>"
        )

    return _TABLE_RE.sub(fold, body), tables


_SPLIT_TAGS = re.compile(r"(<[^>]+>)")
_NO_LINK = {"a", "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "script", "style", "nav"}
_MATH = re.compile(r"(\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\))", re.S)


def link_questions(body: str, anchors: dict[str, str]) -> str:
    """Turn every mention of a question id in running text ("see U5", "C4's") into a link
    to its heading: text outside links, headings, code and maths only."""
    if not anchors:
        return body
    ids = "|".join(sorted(map(re.escape, anchors), key=len, reverse=True))
    mention = re.compile(rf"(?<![\w#-])({ids})(?![\w-])")
    out, closed = [], []
    for piece in _SPLIT_TAGS.split(body):
        if piece.startswith("<"):
            m = re.match(r"<(/?)([a-zA-Z0-9]+)", piece)
            if m and m.group(2).lower() in _NO_LINK and not piece.endswith("/>"):
                if m.group(1):
                    if closed and closed[-1] == m.group(2).lower():
                        closed.pop()
                else:
                    closed.append(m.group(2).lower())
            out.append(piece)
        elif closed or not piece.strip():
            out.append(piece)
        else:
            parts = _MATH.split(piece)
            for i in range(0, len(parts), 2):  # even items: outside maths
                parts[i] = mention.sub(
                    lambda m: f'<a href="#{anchors[m.group(1)]}">{m.group(1)}</a>', parts[i]
                )
            out.append("".join(parts))
    return "".join(out)


def stage_summary(runtime: dict) -> str:
    """``sum (stage s, …)`` of a results.json's ``runtime.seconds`` ({stage: seconds})."""
    stages = runtime.get("seconds")
    if not isinstance(stages, dict):
        return "—"
    stages = {k: v for k, v in stages.items() if isinstance(v, int | float)}
    if not stages:
        return "—"
    items = ", ".join(f"{k} {fmt_seconds(v)}" for k, v in stages.items())
    return f"{fmt_seconds(sum(stages.values()))} ({items})"


def read_results(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return {}


def copy_mathjax(out_dir: Path) -> str | None:
    """Copy MathJax 2.7 (from jupyter-server-mathjax) next to the report; return its src.

    Everything but the unused SVG output and the non-English translations (≈ 7 MB). A
    marker file makes the copy once per output folder.
    """
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    src = Path(jupyter_server_mathjax.__file__).parent / "static"
    if not (src / "MathJax.js").is_file():
        return None
    dest = Path(out_dir) / "mathjax"
    marker = dest / ".genmod-mathjax"
    stamp = f"{src}\n{(src / 'MathJax.js').stat().st_size}\n"
    if not (marker.is_file() and marker.read_text() == stamp):

        def ignore(folder: str, names: list[str]) -> list[str]:
            folder_path = Path(folder)
            skip = []
            for n in names:
                if folder_path == src / "jax" / "output" and n == "SVG":
                    skip.append(n)
                if folder_path == src / "localization" and n != "en":
                    skip.append(n)
            return skip

        tmp = Path(tempfile.mkdtemp(prefix=".mathjax.", dir=out_dir))
        try:
            shutil.copytree(src, tmp / "mathjax", ignore=ignore)
            (tmp / "mathjax" / ".genmod-mathjax").write_text(stamp)
            if dest.exists():
                shutil.rmtree(dest)
            os.replace(tmp / "mathjax", dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"


def render_page(
    parts: list[Part],
    meta: list[tuple[str, str]],
    appendix: list[dict],
    title: str,
    mathjax_src: str | None,
    long_tables: list[LongTable] = (),
) -> str:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=False,
        keep_trailing_newline=True,
    )
    page = env.get_template("page.html.j2")
    n = len(parts)
    return page.render(
        title=title,
        subtitle=f"A reproducible report in {n} part{'s' if n != 1 else ''}, "
        "computed from the run it describes",
        meta=meta,
        parts=parts,
        appendix=appendix,
        long_tables=list(long_tables),
        css=CSS_PATH.read_text(),
        mathjax_src=mathjax_src,
        note=(
            "Every number and claim in this report is rendered from the run's measured "
            "values. The executed notebooks, with their code, lie next to this file."
        ),
    )


def build_html(
    notebooks: list[Path],
    out_dir: Path,
    *,
    device: str,
    profile: str,
    seed: int,
    title: str = TITLE,
    execute_seconds: dict[str, float] | None = None,
) -> str:
    """The page's HTML for the executed ``notebooks`` (also copies MathJax to ``out_dir``).

    ``device``, ``profile`` and ``seed`` are the build's (the title page shows what the
    notebooks were executed with where papermill recorded it, these otherwise)."""
    import nbformat

    execute_seconds = execute_seconds or {}
    exporter = make_exporter()
    used: set[str] = {
        "title",
        "glance",
        "contents",
        "run-record",
        "run-record-section",
        "long-tables",
    }
    parts, appendix, runtimes, ran_with = [], [], [], []
    total = 0.0
    for number, path in enumerate(notebooks, start=1):
        nb = nbformat.read(path, as_version=4)
        ran_with.append(dict(nb.metadata.get("papermill", {}).get("parameters", {})))
        results = read_results(out_dir / path.stem / "results.json")
        part = notebook_part(nb, number, path.stem, exporter, used, results)
        runtime = results.get("runtime", {}) if isinstance(results.get("runtime"), dict) else {}
        runtimes.append(runtime)
        part.device = str(runtime.get("device", "—"))
        duration = execute_seconds.get(path.stem)
        if duration is None:  # not executed by this build: papermill recorded it
            duration = nb.metadata.get("papermill", {}).get("duration")
        duration = duration if isinstance(duration, int | float) else None
        total += duration or 0.0
        part.wall = fmt_seconds(duration)
        part.stages = stage_summary(runtime)
        parts.append(part)
        params = results.get("params")
        if isinstance(params, dict) and params:
            appendix.append(
                {
                    "title": part.title,
                    "params": [
                        (k, json.dumps(v) if not isinstance(v, str) else v)
                        for k, v in params.items()
                    ],
                }
            )
    anchors = {h.qid: h.anchor for part in parts for h in part.headings if h.qid}
    long_tables: list[LongTable] = []
    for part in parts:
        part.html, folded = fold_long_tables(
            link_questions(part.html, anchors), first=len(long_tables) + 1
        )
        long_tables += folded
    meta = run_meta(
        runtimes,
        ran_with,
        [p.stem for p in notebooks],
        device=device,
        profile=profile,
        seed=seed,
    )
    if len(parts) > 1 and total > 0:
        meta.append(("Notebooks executed in", fmt_seconds(total)))
    mathjax_src = copy_mathjax(out_dir)
    if mathjax_src is None:
        log(
            "report: warning: MathJax not found (pip install jupyter-server-mathjax); "
            "formulas will show as TeX source"
        )
    return render_page(parts, meta, appendix, title, mathjax_src, long_tables)


def _torch_version() -> str:
    try:
        from importlib.metadata import version

        return version("torch")
    except Exception:
        return "—"


def _ran_with(key: str, ran_with: list[dict], default: Any) -> str:
    """The value the notebooks were executed with (papermill's record), else ``default``."""
    values = []
    for params in ran_with:
        value = params.get(key, default)
        if value not in values:
            values.append(value)
    return " / ".join(str(v) for v in values) if values else str(default)


def run_meta(
    runtimes: list[dict],
    ran_with: list[dict] | None = None,
    stems: list[str] | None = None,
    *,
    device: str,
    profile: str,
    seed: int,
) -> list[tuple[str, str]]:
    """Title-page rows: date, commit, device, versions, profile, seed, how to reproduce
    (``device``, ``profile``, ``seed``: the build's, where papermill recorded none)."""
    from genmod.runtime import git_commit

    ran_with = ran_with or []
    first = next((r for r in runtimes if r), {})
    requested = _ran_with("device", ran_with, device)
    ran_profile = _ran_with("profile", ran_with, profile)
    ran_seed = _ran_with("seed", ran_with, seed)
    devices = sorted({str(r["device"]) for r in runtimes if r.get("device")})
    device_row = requested + (f" → {', '.join(devices)}" if devices else "")
    name = first.get("device_name")
    standard = {"device", "seed", "profile", "results_path", "cache_dir"}
    extras: dict[str, Any] = {}
    for params in ran_with:
        extras.update({k: v for k, v in params.items() if k not in standard})
    if (stems is None or list(stems) == list(SECTIONS)) and not extras:
        command = f"make report DEVICE={requested} PROFILE={ran_profile} SEED={ran_seed}"
    else:
        command = (
            f"python -m genmod.report --device {requested} --profile {ran_profile} "
            f"--seed {ran_seed}"
        )
        if stems is not None and list(stems) != list(SECTIONS):
            command += f" --sections {' '.join(stems)}"
        for k, v in extras.items():
            command += (
                " --retrain" if k == "retrain" and v is True else f" -p '{k}={json.dumps(v)}'"
            )
    rows = [
        ("Date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("Git commit", str(first.get("git_commit") or git_commit() or "—")),
        ("Device", device_row + (f" ({name})" if name else "")),
        ("Profile", ran_profile),
        ("Seed", ran_seed),
        ("torch", str(first.get("torch") or _torch_version())),
    ]
    if first.get("python"):
        rows.append(("Python", str(first["python"])))
    if first.get("platform"):
        threads = first.get("torch_threads")
        rows.append(
            ("Platform", str(first["platform"]) + (f", {threads} torch threads" if threads else ""))
        )
    rows.append(("Reproduce", command))
    return rows
