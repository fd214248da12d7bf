"""The write-up build: execute the section notebooks, then one HTML and one PDF report.

``python -m genmod.report --device D --profile P --seed S`` (what ``make report`` runs):

1. executes each section notebook with papermill (kernel ``genmod``, cwd ``notebooks/``,
   parameters ``device, seed, profile, results_path, cache_dir``) into
   ``reports/<profile>/<stem>.ipynb``, its ``results.json`` into
   ``reports/<profile>/<stem>/results.json``;
2. turns the executed notebooks into one ``report.html``: a title page with the run's
   metadata, a table of contents of every question heading (``## U1 — …``), one part per
   notebook, no code, no cells tagged ``interactive``/``parameters``, no stderr/progress-bar/
   widget residue, maths typeset offline by a local copy of MathJax 2.7;
3. prints it to ``report.pdf`` with headless Chromium (clickable contents, outline).

A failing notebook stops the build with a one-line error naming the notebook, the cell and
the exception; its partially executed notebook is kept; no report.html is left behind that
could pass for a complete one (the previous one is removed when the build starts, the new
one appears by an atomic rename only when it is complete).
"""

from __future__ import annotations

import argparse
import ast
import copy
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmod.io import atomic_write_text
from genmod.paths import DEFAULT_CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, resolve_path

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
CSS_PATH = HERE / "report.css"

SECTIONS = ("01_diffusion_unconditional", "02_diffusion_conditional", "03_autoregressive_gpt")
PROFILES = ("smoke", "default", "full")
KERNEL_NAME = "genmod"

#: Cells with one of these tags never reach the write-up.
REMOVE_TAGS = frozenset(
    {"interactive", "parameters", "injected-parameters", "remove-cell", "remove_cell"}
)
#: A question heading: ``U1 — title`` (also U1: / U1 - / U1.), ``Bonus — title``.
QID_RE = re.compile(r"^\s*((?:U|C|A)\d+|Bonus)(?=$|[\s.:—–-])[\s.:—–-]*(.*)$", re.S)

PDF_HINT = (
    "no Chromium found, so no PDF: install it (`apt-get install chromium`, or "
    "`pip install playwright && playwright install chromium`), then rerun with --skip-execute"
)


class ReportError(RuntimeError):
    """A build failure with a one-line message meant for the user."""


class NotebookFailed(ReportError):
    """A notebook raised: names the notebook, the cell and the error."""

    def __init__(self, message: str, notebook: Path, cell_index: int | None = None):
        super().__init__(message)
        self.notebook = notebook
        self.cell_index = cell_index


@dataclass
class BuildOptions:
    device: str = "auto"
    profile: str = "default"
    seed: int = 0
    sections: list[str] | None = None  # None: all three
    out_dir: Path | None = None  # None: reports/<profile>
    notebooks_dir: Path = NOTEBOOKS_DIR
    cache_dir: Path = DEFAULT_CACHE_DIR
    extra_params: dict[str, Any] = field(default_factory=dict)
    retrain: bool = False
    execute: bool = True
    pdf: bool = True
    cell_timeout: int | None = None
    kernel_name: str = KERNEL_NAME
    title: str = "Generative models: diffusion in 2D and a small GPT-2"
    virtual_time_budget_ms: int = 60_000


@dataclass
class BuildResult:
    html: Path
    pdf: Path | None
    notebooks: list[Path]
    execute_seconds: dict[str, float]
    html_seconds: float
    pdf_seconds: float | None

    @property
    def build_seconds(self) -> float:
        return self.html_seconds + (self.pdf_seconds or 0.0)


def _log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------------------
# Sections and notebook execution
# --------------------------------------------------------------------------------------


def resolve_sections(names: list[str] | None, notebooks_dir: Path) -> list[Path]:
    """Map section names to notebook files; every one must exist.

    A name is a stem (``02_diffusion_conditional``), a file name, or its number (``2``).
    """
    notebooks_dir = Path(notebooks_dir)
    paths: list[Path] = []
    missing: list[str] = []
    for name in names or list(SECTIONS):
        name = str(name).strip()
        stem = name[:-6] if name.endswith(".ipynb") else name
        if stem.isdigit():
            number = f"{int(stem):02d}"
            known = [s for s in SECTIONS if s.startswith(number + "_")]
            found = sorted(p.stem for p in notebooks_dir.glob(f"{number}_*.ipynb"))
            candidates = found if len(found) == 1 else (known if not found else found)
            if len(candidates) != 1:
                raise ReportError(
                    f"section {name!r}: no single notebook {number}_*.ipynb in {notebooks_dir} "
                    f"(sections: {', '.join(SECTIONS)})"
                )
            stem = candidates[0]
        path = notebooks_dir / f"{stem}.ipynb"
        if not path.is_file():
            missing.append(str(path))
        elif path not in paths:
            paths.append(path)
    if missing:
        raise ReportError(
            f"notebook{'s' if len(missing) > 1 else ''} not found: {', '.join(missing)} "
            f"(sections: {', '.join(SECTIONS)}; choose the ones to build with --sections)"
        )
    return paths


def notebook_parameters(path: Path) -> set[str]:
    """Names declared in the notebook's cell tagged ``parameters``."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "parameters" in cell.metadata.get("tags", []):
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                return set()
            names = set()
            for node in tree.body:
                targets = (
                    node.targets
                    if isinstance(node, ast.Assign)
                    else [getattr(node, "target", None)]
                )
                names.update(t.id for t in targets if isinstance(t, ast.Name))
            return names
    return set()


def _check_kernel(kernel_name: str) -> None:
    """The kernel must exist; say so when it runs another Python than this build's."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    install = (
        f"`{sys.executable} -m ipykernel install --sys-prefix --name {kernel_name} "
        f'--display-name "Python ({kernel_name})"`'
    )
    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name)
    except NoSuchKernel:
        raise ReportError(
            f"Jupyter kernel {kernel_name!r} is not installed; run `make venv` or {install}"
        ) from None
    exe = spec.argv[0] if spec.argv else ""
    if os.path.isabs(exe) and Path(exe).resolve() != Path(sys.executable).resolve():
        same_env = Path(exe).parent.resolve() == Path(sys.executable).parent.resolve()
        if not same_env:
            _log(
                f"report: warning: kernel {kernel_name!r} ({spec.resource_dir}) runs {exe}, "
                f"not this environment's {sys.executable}; to pin it: {install}"
            )


def _first_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).strip().split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def execute_notebook(
    notebook: Path,
    output: Path,
    parameters: dict[str, Any],
    cwd: Path,
    kernel_name: str = KERNEL_NAME,
    cell_timeout: int | None = None,
) -> None:
    """Run ``notebook`` with papermill into ``output`` (kept, partial, if it fails).

    Papermill saves as it goes into a hidden file beside ``output``; that file replaces
    ``output`` by an atomic rename once the run ends, successfully or not.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    running = output.with_name(f".{output.stem}.running.ipynb")
    try:
        pm.execute_notebook(
            str(notebook),
            str(running),
            parameters=parameters,
            kernel_name=kernel_name,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=True,
            execution_timeout=cell_timeout,
            # Quiet kernel start-up (e.g. ipykernel's warning about TCP transport); cell
            # output, warnings included, still reaches the notebook.
            extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
        )
    except PapermillExecutionError as err:
        _keep(running, output)
        source = _first_line(err.source.splitlines()[0] if err.source.strip() else "", 80)
        raise NotebookFailed(
            f"notebook {notebook.name} failed in cell {err.cell_index} "
            f"(In [{err.exec_count}]: `{source}`): {err.ename}: {_first_line(err.evalue)} "
            f"— partially executed notebook kept at {output}",
            notebook,
            err.cell_index,
        ) from None
    except Exception as err:  # dead kernel, cell timeout, missing kernel, …
        _keep(running, output)
        raise NotebookFailed(
            f"notebook {notebook.name} failed: {type(err).__name__}: {_first_line(err)}"
            + (f" — partially executed notebook kept at {output}" if output.exists() else ""),
            notebook,
        ) from err
    except BaseException:  # Ctrl-C: keep what ran, never a half-written file
        _keep(running, output)
        raise
    _keep(running, output)
    nbformat.read(output, as_version=4)  # the kept file is a whole notebook


def _keep(running: Path, output: Path) -> None:
    """Move papermill's working file over ``output`` if it is a readable notebook."""
    import nbformat

    if not running.exists():
        return
    try:
        nbformat.read(running, as_version=4)
    except Exception:
        running.unlink(missing_ok=True)
        return
    os.replace(running, output)


# --------------------------------------------------------------------------------------
# Cleaning executed notebooks for the write-up
# --------------------------------------------------------------------------------------

_CSI_NON_COLOUR = re.compile(r"\x1b\[[0-9;?]*[A-HJKSTfhlsu]")
_OBJECT_REPR = re.compile(r"<[^<>\n]*>|Text\([^()\n]*\)|(?:Posix|Windows)?Path\([^()\n]*\)")
#: A tqdm progress line ("desc: 100%|█████| 3/3 [00:01<00:00, 2.9it/s]", "7it [00:01, …]").
_PROGRESS_LINE = re.compile(
    r"^.*?\d{1,3}%\|.*\|\s*[\d.]+[kMGT]?/[\d.?]+[kMGT]?\s*\[.*$"
    r"|^\s*(?:.*: )?[\d.]+[kMGT]?(?:it|B)? \[\d+:\d+.*(?:it|s)/s\]\s*$"
)
_WIDGET_MIME = "application/vnd.jupyter.widget"


def clean_stream_text(text: str) -> str:
    """Resolve carriage returns and cursor moves, drop progress-bar lines."""
    text = _CSI_NON_COLOUR.sub("", text)
    lines = []
    for line in text.split("\n"):
        last = line.rstrip("\r").split("\r")[-1]
        if not _PROGRESS_LINE.match(last):
            lines.append(last)
    return "\n".join(lines)


def _is_repr_residue(text: str) -> bool:
    """``[<matplotlib.lines.Line2D at 0x…>]``, ``Text(0.5, 1.0, 't')``, ``PosixPath('…')``."""
    rest = _OBJECT_REPR.sub("", text)
    return bool(text.strip()) and not rest.strip(" \n\t[](),")


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def clean_outputs(outputs: list[dict]) -> list[dict]:
    """A cell's outputs as the write-up shows them.

    Dropped: stderr (warnings, logging, progress bars), progress-bar lines on stdout,
    widgets (a static page cannot run them), object reprs a plotting call leaves as the
    cell's value, and a returned string that repeats Markdown the cell already displayed
    (``results.answer(...)`` as the last line). Consecutive stdout chunks are merged first
    so that carriage returns resolve across them.
    """
    merged: list[dict] = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            if out.get("name") != "stdout":
                continue
            if merged and merged[-1].get("output_type") == "stream":
                merged[-1]["text"] += out.get("text", "")
                continue
            out = copy.deepcopy(out)
            out["text"] = out.get("text", "")
        merged.append(out)

    shown_markdown = {
        str(o["data"]["text/markdown"]).strip()
        for o in merged
        if o.get("output_type") == "display_data" and "text/markdown" in o.get("data", {})
    }
    kept = []
    for out in merged:
        kind = out.get("output_type")
        if kind == "stream":
            text = clean_stream_text(out["text"])
            if text.strip():
                out["text"] = text
                kept.append(out)
            continue
        if kind in ("display_data", "execute_result"):
            data = out.get("data", {})
            if any(k.startswith(_WIDGET_MIME) for k in data):
                continue
            if set(data) <= {"text/plain"}:
                plain = str(data.get("text/plain", ""))
                if _is_repr_residue(plain):
                    continue
                value = _literal(plain)
                if isinstance(value, str) and value.strip() in shown_markdown:
                    continue
        kept.append(out)  # errors a cell chose to show (raises-exception) stay visible
    return kept


def clean_notebook(nb):
    """A copy of ``nb`` holding only what the write-up shows."""
    nb = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if set(cell.metadata.get("tags", [])) & REMOVE_TAGS:
            continue
        if cell.cell_type == "code":
            cell.outputs = clean_outputs(cell.get("outputs", []))
            if not cell.outputs:
                continue
        elif cell.cell_type == "markdown":
            if not cell.source.strip():
                continue
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("widgets", None)
    return nb


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------

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

    @property
    def label(self) -> str:
        """The title as listed: numbered unless it already says which part it is."""
        return (
            self.title if self.title.lower().startswith("part") else f"{self.number}. {self.title}"
        )


def _slug(text: str) -> str:
    slug = re.sub(r"[^\w]+", "-", text.lower(), flags=re.U).strip("-")
    return slug[:60] or "section"


def make_exporter():
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="genmod_fragment",
        extra_template_basedirs=[str(TEMPLATES_DIR)],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        exclude_anchor_links=True,
    )


def notebook_part(nb, number: int, name: str, exporter=None, used_ids: set | None = None) -> Part:
    """Convert one executed notebook into a part: its HTML with unique heading anchors.

    The part's title is its first level-1 heading. Level-2 headings that start with a
    question id (``U1 — …``) get that id as anchor (``#U1``); every other heading gets an
    anchor prefixed by the part number, so parts never collide.
    """
    exporter = exporter or make_exporter()
    body, _ = exporter.from_notebook_node(clean_notebook(nb))
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
    # In-part links to the old (nbconvert) heading ids follow them.
    for old, new in renamed.items():
        body = body.replace(f'href="#{old}"', f'href="#{new}"')
    if not title:  # no "# Part N — …" heading: still give the part an anchor and a title
        title.append(name)
        body = f'<h1 id="{part_anchor}">{html.escape(name)}</h1>\n' + body
    return Part(number, name, title[0], part_anchor, body, headings)


def _fmt_seconds(s: float | None) -> str:
    if s is None:
        return "—"
    if s < 60:
        return f"{s:.1f} s"
    m, sec = divmod(s, 60)
    return f"{int(m)} min {sec:.0f} s"


def _stage_summary(runtime: dict) -> str:
    """Seconds per stage from a results.json ``runtime`` (whatever key holds them)."""
    stages = None
    for key in ("seconds", "stages", "stage_seconds", "timings", "time"):
        value = runtime.get(key)
        if (
            isinstance(value, dict)
            and value
            and all(isinstance(v, int | float) for v in value.values())
        ):
            stages = value
            break
    if not stages:
        return "—"
    total = sum(stages.values())
    items = ", ".join(f"{k} {_fmt_seconds(v)}" for k, v in stages.items())
    return f"{_fmt_seconds(total)} ({items})"


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
    opts: BuildOptions,
    execute_seconds: dict[str, float] | None = None,
) -> str:
    """The page's HTML for the executed ``notebooks`` (also copies MathJax to ``out_dir``)."""
    import nbformat

    execute_seconds = execute_seconds or {}
    exporter = make_exporter()
    used: set[str] = {"title", "contents", "run-record", "run-record-section"}
    parts, appendix, runtimes, ran_with = [], [], [], []
    total = 0.0
    for number, path in enumerate(notebooks, start=1):
        nb = nbformat.read(path, as_version=4)
        ran_with.append(dict(nb.metadata.get("papermill", {}).get("parameters", {})))
        part = notebook_part(nb, number, path.stem, exporter, used)
        results = read_results(out_dir / path.stem / "results.json")
        runtime = results.get("runtime", {}) if isinstance(results.get("runtime"), dict) else {}
        runtimes.append(runtime)
        part.device = str(runtime.get("device", "—"))
        duration = execute_seconds.get(path.stem)
        if duration is None:  # not executed by this build: papermill recorded it
            duration = nb.metadata.get("papermill", {}).get("duration")
        duration = duration if isinstance(duration, int | float) else None
        total += duration or 0.0
        part.wall = _fmt_seconds(duration)
        part.stages = _stage_summary(runtime)
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
    meta = run_meta(opts, runtimes, ran_with, [p.stem for p in notebooks])
    if len(parts) > 1 and total > 0:
        meta.append(("Notebooks executed in", _fmt_seconds(total)))
    mathjax_src = copy_mathjax(out_dir)
    if mathjax_src is None:
        _log(
            "report: warning: MathJax not found (pip install jupyter-server-mathjax); "
            "formulas will show as TeX source"
        )
    return render_page(parts, meta, appendix, opts.title, mathjax_src)


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
    opts: BuildOptions,
    runtimes: list[dict],
    ran_with: list[dict] | None = None,
    stems: list[str] | None = None,
) -> list[tuple[str, str]]:
    """Title-page rows: date, commit, device, versions, profile, seed, how to reproduce."""
    from genmod.runtime import git_commit

    ran_with = ran_with or []
    first = next((r for r in runtimes if r), {})
    requested = _ran_with("device", ran_with, opts.device)
    profile = _ran_with("profile", ran_with, opts.profile)
    seed = _ran_with("seed", ran_with, opts.seed)
    devices = sorted({str(r["device"]) for r in runtimes if r.get("device")})
    device = requested + (f" → {', '.join(devices)}" if devices else "")
    name = first.get("device_name")
    standard = {"device", "seed", "profile", "results_path", "cache_dir"}
    extras: dict[str, Any] = {}
    for params in ran_with:
        extras.update({k: v for k, v in params.items() if k not in standard})
    if (stems is None or list(stems) == list(SECTIONS)) and not extras:
        command = f"make report DEVICE={requested} PROFILE={profile} SEED={seed}"
    else:
        command = f"python -m genmod.report --device {requested} --profile {profile} --seed {seed}"
        if stems is not None and list(stems) != list(SECTIONS):
            command += f" --sections {' '.join(stems)}"
        for k, v in extras.items():
            command += (
                " --retrain" if k == "retrain" and v is True else f" -p '{k}={json.dumps(v)}'"
            )
    rows = [
        ("Date", time.strftime("%Y-%m-%d %H:%M %Z")),
        ("Git commit", str(first.get("git_commit") or git_commit() or "—")),
        ("Device", device + (f" ({name})" if name else "")),
        ("Profile", profile),
        ("Seed", seed),
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


# --------------------------------------------------------------------------------------
# PDF with headless Chromium
# --------------------------------------------------------------------------------------

_CHROMIUM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "headless_shell",
)


def find_chromium() -> str | None:
    """$GENMOD_CHROMIUM, a Chromium/Chrome on PATH, or Playwright's downloaded Chromium."""
    env = os.environ.get("GENMOD_CHROMIUM")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for app in (
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    ):
        if Path(app).is_file():
            return app
    caches = [Path.home() / ".cache/ms-playwright", Path.home() / "Library/Caches/ms-playwright"]
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH"):
        caches.insert(0, Path(os.environ["PLAYWRIGHT_BROWSERS_PATH"]))
    for cache in caches:
        for pattern in (
            "chromium-*/chrome-linux*/chrome",
            "chromium_headless_shell-*/chrome-linux*/headless_shell",
            "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        ):
            hits = sorted(cache.glob(pattern))
            if hits:
                return str(hits[-1])
    return None


def chromium_args(chromium: str, user_data_dir: str | os.PathLike) -> list[str]:
    """Headless, offline, quiet, with a throwaway profile."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={user_data_dir}",
    ]


def run_chromium(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="genmod-chromium-") as profile:
        cmd = chromium_args(args[0], profile) + args[1:]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish within {timeout:.0f} s: {cmd}") from None


def print_pdf(
    html_path: Path, pdf_path: Path, chromium: str, virtual_time_budget_ms: int = 60_000
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (atomically) with headless Chromium.

    ``--virtual-time-budget`` lets MathJax finish typesetting before the page is printed
    (virtual time runs fast while the page is idle, so a generous budget costs little).
    """
    pdf_path = Path(pdf_path)
    tmp = pdf_path.with_name(f".{pdf_path.stem}.printing.pdf")
    tmp.unlink(missing_ok=True)
    try:
        proc = run_chromium(
            [
                chromium,
                f"--virtual-time-budget={virtual_time_budget_ms}",
                "--run-all-compositor-stages-before-draw",
                "--no-pdf-header-footer",
                "--generate-pdf-document-outline",
                f"--print-to-pdf={tmp}",
                Path(html_path).resolve().as_uri(),
            ]
        )
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size < 1000:
            err = [ln for ln in proc.stderr.splitlines() if ln.strip()][-3:]
            raise ReportError(
                f"Chromium could not print the PDF (exit {proc.returncode}): {' | '.join(err)}"
            )
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf_path


# --------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------


def validate(opts: BuildOptions) -> None:
    """Fail at once, in one line, on a bad device, profile or seed."""
    from genmod.runtime import check_device_name

    check_device_name(opts.device)
    if opts.profile not in PROFILES:
        raise ValueError(f"profile={opts.profile!r}: accepted: {' | '.join(PROFILES)}")
    if isinstance(opts.seed, bool) or not isinstance(opts.seed, int) or opts.seed < 0:
        raise ValueError(f"seed={opts.seed!r}: accepted: an integer >= 0")


def build_report(opts: BuildOptions) -> BuildResult:
    """Execute (unless ``opts.execute`` is False) and build report.html and report.pdf."""
    validate(opts)
    notebooks_dir = resolve_path(opts.notebooks_dir)
    out_dir = resolve_path(opts.out_dir) if opts.out_dir else REPORTS_DIR / opts.profile
    cache_dir = resolve_path(opts.cache_dir)
    sources = resolve_sections(opts.sections, notebooks_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    html_path, pdf_path = out_dir / "report.html", out_dir / "report.pdf"
    pending = out_dir / ".report.pending.html"

    # A report from an earlier run must not pass for this one's (even if this one fails),
    # and an earlier run that was killed may have left its working files.
    for stale in (html_path, pdf_path, pending, *out_dir.glob(".*.running.ipynb")):
        stale.unlink(missing_ok=True)
    for stale in (*out_dir.glob(".*.printing.pdf"), *out_dir.glob(".mathjax.*")):
        if stale.is_dir():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)

    executed = [out_dir / f"{src.stem}.ipynb" for src in sources]
    execute_seconds: dict[str, float] = {}
    if opts.execute:
        _check_kernel(opts.kernel_name)
        declared = {src.stem: notebook_parameters(src) for src in sources}
        unknown = [k for k in opts.extra_params if not any(k in d for d in declared.values())]
        if unknown:
            raise ReportError(
                f"parameter(s) {', '.join(unknown)} not declared by any of "
                f"{', '.join(s.name for s in sources)}"
            )
        n = len(sources)
        for i, (src, out_nb) in enumerate(zip(sources, executed), start=1):
            results_path = out_dir / src.stem / "results.json"
            results_path.unlink(missing_ok=True)  # never read a previous run's numbers
            params = {
                "device": opts.device,
                "seed": opts.seed,
                "profile": opts.profile,
                "results_path": str(results_path),
                "cache_dir": str(cache_dir),
            }
            if opts.retrain:
                params["retrain"] = True
            params.update({k: v for k, v in opts.extra_params.items() if k in declared[src.stem]})
            _log(
                f"[{i}/{n}] {src.name}: running (device={opts.device}, profile={opts.profile}, seed={opts.seed}) …"
            )
            t0 = time.perf_counter()
            try:
                execute_notebook(
                    src, out_nb, params, notebooks_dir, opts.kernel_name, opts.cell_timeout
                )
            finally:
                execute_seconds[src.stem] = time.perf_counter() - t0
            _log(
                f"[{i}/{n}] {src.name}: done in {_fmt_seconds(execute_seconds[src.stem])} → {out_nb}"
            )
            if not results_path.is_file():
                _log(f"report: warning: {src.name} wrote no results.json at {results_path}")
    else:
        missing = [p for p in executed if not p.is_file()]
        if missing:
            raise ReportError(
                f"--skip-execute: executed notebook(s) missing: {', '.join(map(str, missing))}"
            )

    # The build step's timer covers conversion and printing, not the one-off imports.
    import jinja2  # noqa: F401
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401

    import genmod.runtime  # noqa: F401

    t0 = time.perf_counter()
    page = build_html(executed, out_dir, opts, execute_seconds)
    atomic_write_text(pending, page)
    os.chmod(pending, 0o644)  # readable like any web page (mkstemp makes it private)
    html_seconds = time.perf_counter() - t0

    pdf_done, pdf_seconds = None, None
    try:
        chromium = find_chromium() if opts.pdf else None
        if opts.pdf and chromium is None:
            _log(f"report: {PDF_HINT}")
        elif chromium:
            t1 = time.perf_counter()
            pdf_done = print_pdf(pending, pdf_path, chromium, opts.virtual_time_budget_ms)
            pdf_seconds = time.perf_counter() - t1
    finally:
        # The HTML is complete either way; it appears under its name only now.
        os.replace(pending, html_path)

    _log(
        f"report: HTML in {html_seconds:.1f} s"
        + (f", PDF in {pdf_seconds:.1f} s" if pdf_seconds is not None else "")
        + f" (build step {html_seconds + (pdf_seconds or 0):.1f} s) → {html_path}"
        + (f", {pdf_done}" if pdf_done else "")
    )
    return BuildResult(html_path, pdf_done, executed, execute_seconds, html_seconds, pdf_seconds)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------


def _parse_value(text: str) -> Any:
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(text)
        except (ValueError, SyntaxError):
            pass
    return text


def parse_args(argv: list[str] | None = None) -> BuildOptions:
    p = argparse.ArgumentParser(
        prog="python -m genmod.report",
        description="Execute the section notebooks and build reports/<profile>/report.html "
        "and report.pdf.",
    )
    p.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N | mps")
    p.add_argument("--profile", default="default", help=" | ".join(PROFILES))
    p.add_argument("--seed", default="0", help="integer >= 0")
    p.add_argument(
        "--sections",
        nargs="+",
        metavar="NAME",
        help=f"notebooks to include, by stem or number (default: {' '.join(SECTIONS)})",
    )
    p.add_argument("--out-dir", type=Path, help="output folder (default reports/<profile>)")
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="trained-model cache")
    p.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR, help=argparse.SUPPRESS)
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra notebook parameter (JSON/Python literal), passed to the notebooks that "
        "declare it; repeatable",
    )
    p.add_argument("--retrain", action="store_true", help="retrain instead of using the cache")
    p.add_argument(
        "--skip-execute",
        action="store_true",
        help="rebuild HTML/PDF from the executed notebooks already in the output folder",
    )
    p.add_argument("--no-pdf", action="store_true", help="write the HTML only")
    p.add_argument("--cell-timeout", type=int, default=None, help="seconds per cell")
    a = p.parse_args(argv)
    try:
        seed = int(a.seed)
    except ValueError:
        raise ValueError(f"seed={a.seed!r}: accepted: an integer >= 0") from None
    extra = {}
    for item in a.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"--param {item!r}: expected NAME=VALUE")
        extra[name.strip()] = _parse_value(value)
    return BuildOptions(
        device=a.device,
        profile=a.profile,
        seed=seed,
        sections=a.sections,
        out_dir=a.out_dir,
        notebooks_dir=a.notebooks_dir,
        cache_dir=a.cache_dir,
        extra_params=extra,
        retrain=a.retrain,
        execute=not a.skip_execute,
        pdf=not a.no_pdf,
        cell_timeout=a.cell_timeout,
    )


def main(argv: list[str] | None = None) -> int:
    try:
        opts = parse_args(argv)
        validate(opts)
    except ValueError as err:
        print(f"report: {err}", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    try:
        build_report(opts)
    except ReportError as err:
        print(f"report: FAILED: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("report: interrupted; no report written", file=sys.stderr)
        return 130
    _log(f"report: total {_fmt_seconds(time.perf_counter() - t0)}")
    return 0
