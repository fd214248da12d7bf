"""The write-up build: execute the section notebooks, then one HTML and one PDF report.

``python -m genmod.report --device D --profile P --seed S`` (what ``make report`` runs):

1. executes each section notebook (:mod:`genmod.report.execute`, papermill, kernel
   ``genmod``, parameters ``device, seed, profile, results_path, cache_dir``) into
   ``reports/<profile>/<stem>.ipynb``, its ``results.json`` into
   ``reports/<profile>/<stem>/results.json`` — unless the execution cache
   (:mod:`genmod.report.execution_cache`) holds a run with the same key, which is then reused;
   each section's run is cached as soon as it finishes, so an interrupted build resumes with
   the sections that had not finished;
2. turns the executed notebooks into one ``report.html`` (:mod:`genmod.report.page`, with the
   write-up preprocessors of :mod:`genmod.report.clean`): a title page with the run's metadata,
   a table of contents of every question heading, one part per notebook, no code;
3. prints it to ``report.pdf`` with headless Chromium (:mod:`genmod.report.pdf`).

A failing notebook stops the build with a one-line error naming the notebook, the cell and
the exception; its partially executed notebook is kept; no report.html is left behind that
could pass for a complete one (the previous one is removed when the build starts, the new
one appears by an atomic rename only when it is complete).
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmod.io import atomic_write_text
from genmod.paths import DATA_DIR, DEFAULT_CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, resolve_path
from genmod.report import execute, execution_cache, page, pdf
from genmod.report.base import KERNEL_NAME, SECTIONS, ReportError, first_line, fmt_seconds, log

#: Folder of the execution cache inside the cache folder.
EXECUTED_SUBDIR = "executed"


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
    rerun: bool = False  # execute every section, whatever the execution cache holds
    jobs: int | None = None  # sections executed at once (None: as the cores allow)
    execute: bool = True
    pdf: bool = True
    cell_timeout: int | None = None
    kernel_name: str = KERNEL_NAME
    title: str = page.TITLE
    virtual_time_budget_ms: int = 60_000
    package_dir: Path | None = None  # the package the key hashes (None: this genmod)
    data_dir: Path = DATA_DIR  # the data the key hashes


@dataclass
class BuildResult:
    html: Path
    pdf: Path | None
    notebooks: list[Path]
    execute_seconds: dict[str, float]
    html_seconds: float
    pdf_seconds: float | None
    #: stem → "reused (key …)" or why it ran, for each section of this build
    decisions: dict[str, str] = field(default_factory=dict)

    @property
    def build_seconds(self) -> float:
        return self.html_seconds + (self.pdf_seconds or 0.0)

    @property
    def ran(self) -> list[str]:
        return [s for s, d in self.decisions.items() if not d.startswith("reused")]

    @property
    def reused(self) -> list[str]:
        return [s for s, d in self.decisions.items() if d.startswith("reused")]


# --------------------------------------------------------------------------------------
# Sections
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


def default_package_dir() -> Path:
    import genmod

    return Path(genmod.__file__).resolve().parent


@dataclass
class _Section:
    number: int
    source: Path
    output: Path
    results: Path
    params: dict
    key: execution_cache.Key | None = None
    lookup: execution_cache.Lookup | None = None
    reason: str = ""
    threads: int | None = None  # CPU threads it uses (None: unknown, all of them)

    @property
    def cached(self) -> bool:
        """Whether an earlier run with the same key can be restored instead of executed."""
        return self.lookup is not None and self.lookup.entry is not None

    def restore(self) -> None:
        """The cached run's notebook and results.json, in place."""
        execution_cache.restore(self.lookup.entry, self.output, self.results)

    def keep(self, store: execution_cache.ExecutionCache) -> None:
        """After a run: cache it (warn if it wrote no results.json)."""
        if not self.results.is_file():
            log(f"report: warning: {self.source.name} wrote no results.json at {self.results}")
        if self.key is not None:
            store.save(self.source.stem, self.key, self.output, self.results)


def _plan(opts: BuildOptions, sources: list[Path], out_dir: Path, cache_dir: Path):
    """Each section's parameters, key and cache lookup (nothing runs yet)."""
    defaults = {src.stem: execution_cache.notebook_defaults(src) for src in sources}
    unknown = [k for k in opts.extra_params if not any(k in d for d in defaults.values())]
    if unknown:
        raise ReportError(
            f"parameter(s) {', '.join(unknown)} not declared by any of "
            f"{', '.join(s.name for s in sources)}"
        )
    store = execution_cache.ExecutionCache(cache_dir / EXECUTED_SUBDIR)
    package_dir = Path(opts.package_dir or default_package_dir())
    package = execution_cache.package_digest(package_dir)
    plans = []
    for number, src in enumerate(sources, start=1):
        declared = defaults[src.stem]
        params = {
            "device": opts.device,
            "seed": opts.seed,
            "profile": opts.profile,
            "results_path": str(out_dir / src.stem / "results.json"),
            "cache_dir": str(cache_dir),
        }
        if opts.retrain:
            params["retrain"] = True
        params.update({k: v for k, v in opts.extra_params.items() if k in declared})
        plan = _Section(
            number, src, out_dir / f"{src.stem}.ipynb", Path(params["results_path"]), params
        )
        try:
            plan.key = execution_cache.section_key(
                src, {**declared, **params}, package_dir, opts.data_dir, package
            )
        except Exception as err:  # noqa: BLE001 - the notebook reports it when it runs
            plan.reason = f"no cache key: {type(err).__name__}: {first_line(err, 120)}"
        if plan.key is not None:
            plan.threads = section_threads(src.stem, opts.profile, plan.key.components["device"])
            if opts.rerun or opts.retrain:
                plan.reason = "forced by --rerun" if opts.rerun else "forced by --retrain"
            else:
                plan.lookup = store.lookup(src.stem, plan.key)
                plan.reason = plan.lookup.reason
        plans.append(plan)
    return plans, store


def section_threads(stem: str, profile: str, device_type: str) -> int | None:
    """The CPU threads a section uses: 1 off the CPU (the device computes), else its
    config's ``settings(profile).cpu_threads``; None when unknown (torch's default: all)."""
    if device_type != "cpu":
        return 1
    try:
        settings = execution_cache.section_config(stem).settings(profile)
    except Exception:  # noqa: BLE001 - no config (older notebooks) or no settings: unknown
        return None
    threads = getattr(settings, "cpu_threads", None)
    return threads if isinstance(threads, int) and threads > 0 else None


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _execute_sections(
    opts: BuildOptions, sources: list[Path], out_dir: Path, cache_dir: Path, notebooks_dir: Path
) -> tuple[dict[str, float], dict[str, str]]:
    """Reuse or run each section; cache each run as soon as it finishes."""
    execute.check_kernel(opts.kernel_name)
    plans, store = _plan(opts, sources, out_dir, cache_dir)
    n = len(plans)
    seconds: dict[str, float] = {}
    decisions = {p.source.stem: p.reason for p in plans}

    def reuse(p: _Section) -> None:
        p.restore()
        log(
            f"[{p.number}/{n}] {p.source.name}: {p.reason}, run of {p.lookup.entry.created} "
            f"→ {p.output}"
        )

    def done(p: _Section) -> None:
        log(
            f"[{p.number}/{n}] {p.source.name}: done in {fmt_seconds(seconds[p.source.stem])} → {p.output}"
        )
        p.keep(store)

    def run(p: _Section) -> None:
        p.results.unlink(missing_ok=True)  # never read a previous run's numbers
        log(
            f"[{p.number}/{n}] {p.source.name}: running ({p.reason}; device={opts.device}, "
            f"profile={opts.profile}, seed={opts.seed}) …"
        )
        t0 = time.perf_counter()
        try:
            execute.execute_notebook(
                p.source, p.output, p.params, notebooks_dir, opts.kernel_name, opts.cell_timeout
            )
        finally:
            seconds[p.source.stem] = time.perf_counter() - t0
        done(p)

    def finish(p: _Section, worker: execute.Worker, t0: float) -> None:
        seconds[p.source.stem] = time.perf_counter() - t0
        worker.result()
        done(p)

    def launch(p: _Section) -> execute.Worker:
        p.results.unlink(missing_ok=True)
        log(
            f"[{p.number}/{n}] {p.source.name}: running ({p.reason}; device={opts.device}, "
            f"profile={opts.profile}, seed={opts.seed}; {_threads_text(p)}) …"
        )
        return execute.Worker(
            p.source, p.output, p.params, notebooks_dir, opts.kernel_name, opts.cell_timeout
        )

    hits = [p for p in plans if p.cached]
    todo = [p for p in plans if p not in hits]
    if opts.jobs is None:  # as the cores allow: each section takes the threads it uses
        capacity = cpu_cores()
        needs = {p.source.stem: min(p.threads or capacity, capacity) for p in todo}
    else:
        capacity = opts.jobs
        needs = {p.source.stem: 1 for p in todo}
    concurrent = sum(1 for v in needs.values() if v < capacity) >= 2
    with execute.kernel_environment():
        if not concurrent:
            for p in plans:  # in order, each cached as soon as it finishes
                if p in hits:
                    reuse(p)
                else:
                    run(p)
        else:
            for p in hits:
                reuse(p)
            _run_concurrently(todo, needs, capacity, launch, finish)
    return seconds, decisions


def _threads_text(p: _Section) -> str:
    return f"{p.threads} thread{'s' if p.threads != 1 else ''}" if p.threads else "all threads"


def _run_concurrently(todo: list[_Section], needs: dict, capacity: int, launch, finish) -> None:
    """Run the sections of ``todo`` in order, each in a worker, as many at a time as their
    ``needs`` fit in ``capacity`` (one that needs it all runs alone). Each is finished
    (cached) as soon as it ends; after a failure nothing new starts and the first failure is
    raised once the running ones have ended. Ctrl-C interrupts the running ones (the
    sections that finished stay cached)."""
    pending = list(todo)
    running: dict[str, tuple[_Section, execute.Worker, float]] = {}
    failure: BaseException | None = None

    def reap(block: bool) -> None:
        nonlocal failure
        for stem, (p, worker, t0) in list(running.items()):
            if worker.poll() is None and not block:
                continue
            del running[stem]
            try:
                finish(p, worker, t0)
            except (ReportError, KeyboardInterrupt) as err:
                failure = failure or err

    try:
        while pending or running:
            while pending and failure is None:
                used = sum(needs[stem] for stem in running)
                if running and used + needs[pending[0].source.stem] > capacity:
                    break
                p = pending.pop(0)
                running[p.source.stem] = (p, launch(p), time.perf_counter())
            if not running:
                break
            time.sleep(0.2)
            reap(block=False)
    except KeyboardInterrupt:
        # Ctrl-C reached the workers too (same process group); a signal to the build alone
        # is passed on. Either way each worker keeps its partial notebook and ends.
        deadline = time.monotonic() + 3
        while any(w.poll() is None for _, w, _ in running.values()) and time.monotonic() < deadline:
            time.sleep(0.1)
        for _, worker, _ in running.values():
            worker.interrupt()
        for _, worker, _ in running.values():
            worker.stop()
        reap(block=True)  # a section that finished meanwhile is still cached
        raise KeyboardInterrupt from None
    if failure is not None:
        raise failure


# --------------------------------------------------------------------------------------
# The build
# --------------------------------------------------------------------------------------


def validate(opts: BuildOptions) -> None:
    """Fail at once, in one line, on a bad device, profile, seed or jobs."""
    from genmod.params import check_profile
    from genmod.runtime import check_device_name

    check_device_name(opts.device)
    check_profile(opts.profile)
    if isinstance(opts.seed, bool) or not isinstance(opts.seed, int) or opts.seed < 0:
        raise ValueError(f"seed={opts.seed!r}: accepted: an integer >= 0")
    jobs = opts.jobs
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs={jobs!r}: accepted: auto or an integer >= 1")


def _check_layout(pdf_path: Path, html_text: str) -> None:
    """Warn (one line) about headings printed at the foot of a PDF page."""
    pages = pdf.page_texts(pdf_path)
    if pages is None:
        return
    headings = [page.heading_text(h) for h in page.heading_html(html_text)]
    titles = [page.heading_text(h) for h in page.heading_html(html_text, "1")]
    first = pdf.first_page_of(pages, titles[1:2])
    stranded = pdf.stranded_headings(pages, headings, first=first)
    fills = pdf.page_fill(pdf_path)
    sparse = []
    if fills is not None and len(fills) == len(pages):
        sparse = pdf.sparse_pages(fills, [pdf.opens_with(p, titles[1:]) for p in pages], first)
    log(
        f"report: PDF {len(pages)} pages"
        + (
            "; headings at the foot of a page: " + "; ".join(f"p. {n} {h!r}" for n, h in stranded)
            if stranded
            else ", no heading stranded at the foot of a page"
        )
        + (
            "; under half full before more of the same part: "
            + ", ".join(f"p. {n} ({100 * fills[n - 1]:.0f} %)" for n in sparse)
            if sparse
            else ", no page under half full before more of its part"
        )
    )


def check_results(path: Path) -> None:
    """Stop (:class:`ReportError`) if a claim recorded in the results.json at ``path`` does not
    follow from its own operands; say in one line when the run was recorded by an older genmod
    (its claims cannot all be re-derived)."""
    from genmod.sections.findings import SCHEMA_VERSION, check_claims

    results = page.read_results(path)
    if not results:
        return
    version = results.get("schema", 1)
    if version < SCHEMA_VERSION:
        log(f"report: {path} was recorded by an older genmod (results schema {version}, now "
            f"{SCHEMA_VERSION}): its claims are not all re-derived")  # fmt: skip
    problems = check_claims(results)
    if problems:
        raise ReportError(
            f"{path}: {len(problems)} claim(s) disagree with their numbers: " + "; ".join(problems)
        )


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
    decisions: dict[str, str] = {}
    if opts.execute:
        execute_seconds, decisions = _execute_sections(
            opts, sources, out_dir, cache_dir, notebooks_dir
        )
    else:
        missing = [p for p in executed if not p.is_file()]
        if missing:
            raise ReportError(
                f"--skip-execute: executed notebook(s) missing: {', '.join(map(str, missing))}"
            )

    for path in executed:
        check_results(out_dir / path.stem / "results.json")

    # The build step's timer covers conversion and printing, not the one-off imports.
    import jinja2  # noqa: F401
    import nbconvert  # noqa: F401
    import nbformat  # noqa: F401

    import genmod.runtime  # noqa: F401

    t0 = time.perf_counter()
    html_text = page.build_html(
        executed,
        out_dir,
        device=opts.device,
        profile=opts.profile,
        seed=opts.seed,
        title=opts.title,
        execute_seconds=execute_seconds,
    )
    atomic_write_text(pending, html_text)
    os.chmod(pending, 0o644)  # readable like any web page (mkstemp makes it private)
    html_seconds = time.perf_counter() - t0

    pdf_done, pdf_seconds = None, None
    try:
        chromium = pdf.find_chromium() if opts.pdf else None
        if opts.pdf and chromium is None:
            log(f"report: {pdf.PDF_HINT}")
        elif chromium:
            t1 = time.perf_counter()
            pdf_done = pdf.print_pdf(pending, pdf_path, chromium, opts.virtual_time_budget_ms)
            pdf_seconds = time.perf_counter() - t1
            _check_layout(pdf_path, html_text)
    finally:
        # The HTML is complete either way; it appears under its name only now.
        os.replace(pending, html_path)

    log(
        f"report: HTML in {html_seconds:.1f} s"
        + (f", PDF in {pdf_seconds:.1f} s" if pdf_seconds is not None else "")
        + f" (build step {html_seconds + (pdf_seconds or 0):.1f} s) → {html_path}"
        + (f", {pdf_done}" if pdf_done else "")
    )
    return BuildResult(
        html_path, pdf_done, executed, execute_seconds, html_seconds, pdf_seconds, decisions
    )
