"""Sweeps: the section notebooks over several seeds (and parameter values), through Dask.

``python -m genmod.report.sweep --seeds 0 1 2 [--sections 01] [-p lam=0,0.5,1]`` (what
``make sweep SEEDS="0 1 2" ARGS="..."`` runs) executes every (section, parameter set) once:

* each run is the report's own section execution (:func:`genmod.report.build._plan`): with
  the same inputs as an earlier run, the report's included, it is restored from the execution
  cache instead of executed, and every finished run is cached at once, so an interrupted
  sweep resumes where it stopped;
* the runs are tasks of Dask distributed: by default on an embedded ``LocalCluster`` sized
  to the machine's cores (each task claims the CPU threads its section uses), or on the
  cluster whose scheduler ``--scheduler tcp://host:8786`` names, or whose scheduler file
  ``--scheduler-file PATH`` (what ``dask scheduler --scheduler-file PATH`` writes) points
  to, or else ``DASK_SCHEDULER_ADDRESS`` names; a worker needs the repository and its
  environment, and writes where the sweep's outputs are (a shared folder on a cluster: see
  docs/cluster.md);
* a worker that dies mid-run (killed, out of memory) is restarted by its nanny and the
  scheduler gives the run to a worker again, which executes it from the start;
* a failed run is reported with its section, parameters and the notebook's failing cell;
  the others go on.

With ``GENMOD_SWEEP_MARKERS=FOLDER`` in a worker's environment, each run drops a marker file
in FOLDER when it starts (``<section>-<run>.<pid>.started``) and when it returns
(``….finished``), each a JSON object with the run, its status (finished only), the host and
the id of the process that runs it: a way to watch which worker runs what (the cluster test
kills a worker process from it).

Outputs, in ``reports/sweep/<profile>/``: ``runs/<run>/<notebook>.ipynb`` and
``runs/<run>/<notebook>/results.json`` per run, ``sweep.json`` (every run's headline figures
and verdicts, and per section and question: mean, standard deviation, min and max of the
figure and how many runs each verdict holds in), and ``sweep.html`` / ``sweep.pdf``.
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genmod.io import atomic_write_json, atomic_write_text
from genmod.params import parse_value
from genmod.paths import DEFAULT_CACHE_DIR, NOTEBOOKS_DIR, REPORTS_DIR, resolve_path
from genmod.report.base import ReportError, first_line, fmt_seconds, log


@dataclass
class RunSpec:
    """One (section, parameter set) of a sweep."""

    stem: str
    source: str
    name: str  # "seed=1" or "seed=1,lam=0.5"
    seed: int
    params: dict  # the swept parameters besides the seed
    out_dir: str
    profile: str = "default"
    device: str = "auto"
    cache_dir: str = str(DEFAULT_CACHE_DIR)
    notebooks_dir: str = str(NOTEBOOKS_DIR)
    threads: int | None = None

    @property
    def results_path(self) -> Path:
        return Path(self.out_dir) / self.stem / "results.json"


# ------------------------------------------------------------------------------ planning
def parse_seeds(text: str | list) -> list[int]:
    """'0 1 2' or '0,1,2' (or a list) → [0, 1, 2]; a one-line ValueError naming SEEDS."""
    items = text if isinstance(text, list) else str(text).replace(",", " ").split()
    seeds = []
    for item in items:
        try:
            value = int(str(item))
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(f"SEEDS={text!r}: {item!r} is not an integer >= 0")
        if value not in seeds:
            seeds.append(value)
    if not seeds:
        raise ValueError(f'SEEDS={text!r}: give at least one seed, e.g. SEEDS="0 1 2"')
    return seeds


def parse_sweep_param(item: str) -> tuple[str, list]:
    """``NAME=V1,V2`` → (NAME, [V1, V2]); a single value or a JSON list is one value."""
    name, sep, text = item.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise ValueError(f"--param {item!r}: expected NAME=VALUE or NAME=V1,V2,...")
    value = parse_value(text)
    return name, list(value) if isinstance(value, tuple) else [value]


def plan(
    sources: list[Path],
    seeds: list[int],
    swept: dict[str, list],
    out_root: Path,
    profile: str,
    device: str,
    cache_dir: Path,
    notebooks_dir: Path,
) -> list[RunSpec]:
    """Every (section, parameter set): each section crosses the seeds with the swept
    parameters it declares (a section that declares none runs once per seed)."""
    from genmod.report import execution_cache

    declared_by = {s.stem: execution_cache.notebook_defaults(s) for s in sources}
    unknown = [k for k in swept if not any(k in d for d in declared_by.values())]
    if unknown:
        raise ValueError(
            f"--param {', '.join(unknown)}: not a parameter of {', '.join(s.name for s in sources)}"
        )
    from genmod.report.build import section_threads
    from genmod.runtime import resolve_device

    kind = resolve_device(device).type
    threads = {s.stem: section_threads(s.stem, profile, kind) for s in sources}
    runs = []
    for src in sources:
        names = [k for k in swept if k in declared_by[src.stem]]
        for seed in seeds:
            for values in itertools.product(*(swept[k] for k in names)):
                params = dict(zip(names, values, strict=True))
                name = ",".join(
                    [f"seed={seed}", *(f"{k}={json.dumps(v)}" for k, v in params.items())]
                )
                spec = RunSpec(
                    src.stem, str(src), name, seed, params, str(out_root / "runs" / _safe(name)),
                    profile, device, str(cache_dir), str(notebooks_dir),
                )  # fmt: skip
                spec.threads = threads[src.stem]
                runs.append(spec)
    return runs


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "=,.-_" else "_" for c in name)


# ------------------------------------------------------------------------------ one run
#: A folder in which each run drops a marker file when it starts and when it returns
#: (unset: none); see the module's docstring.
MARKERS_ENV = "GENMOD_SWEEP_MARKERS"


def _drop_marker(spec: RunSpec, event: str, **extra: Any) -> None:
    """``$GENMOD_SWEEP_MARKERS/<stem>-<run>.<pid>.<event>``: the run, the host, the pid."""
    folder = os.environ.get(MARKERS_ENV)
    if not folder:
        return
    import socket

    pid = os.getpid()
    doc = {"run": spec.name, "stem": spec.stem, "pid": pid, "host": socket.gethostname()}
    path = Path(folder) / f"{spec.stem}-{_safe(spec.name)}.{pid}.{event}"
    atomic_write_text(path, json.dumps(doc | extra))


def run_one(spec: RunSpec) -> dict:
    """Execute (or restore from the execution cache) one run; never raises for a failing
    notebook: the record says what failed where."""
    from genmod.report import build, execute

    _drop_marker(spec, "started")
    t0 = time.perf_counter()
    out_dir = Path(spec.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker = out_dir / f".{spec.stem}.running"
    opts = build.BuildOptions(
        device=spec.device, profile=spec.profile, seed=spec.seed,
        extra_params=dict(spec.params), cache_dir=Path(spec.cache_dir),
        notebooks_dir=Path(spec.notebooks_dir),
    )  # fmt: skip
    record = {"name": spec.name, "stem": spec.stem, "seed": spec.seed, "params": spec.params}
    try:
        plans, store = build._plan(opts, [Path(spec.source)], out_dir, Path(spec.cache_dir))
        p = plans[0]
        if p.cached:
            p.restore()
            record["status"] = "reused"
        else:
            atomic_write_text(marker, str(time.time()))
            p.results.unlink(missing_ok=True)  # never read a previous run's numbers
            with execute.kernel_environment():
                execute.execute_notebook(
                    p.source, p.output, p.params, Path(spec.notebooks_dir), opts.kernel_name
                )
            p.keep(store)
            record["status"] = "ran"
    except (ReportError, ValueError) as err:
        record.update(status="failed", error=first_line(err, 400))
    finally:
        marker.unlink(missing_ok=True)
    record["seconds"] = time.perf_counter() - t0
    record["results"] = str(spec.results_path)
    _drop_marker(spec, "finished", status=record["status"])
    return record


# ------------------------------------------------------------------------------ aggregate
def _stats(values: list[float]) -> dict:
    n = len(values)
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
    return {"n": n, "mean": mean, "sd": sd, "min": min(values), "max": max(values)}


def _claims(per_run: list[list | None]) -> list[dict]:
    """The claims of one question's answer over the runs that recorded them: per claim (its
    ``name``, see :mod:`genmod.sections.findings`; ``site`` for a comparison recorded by
    :func:`genmod.sections.markdown.compare`), its words if any, the runs that decided it and
    how many reached each outcome."""
    out: dict[str, dict] = {}
    for claims in per_run:
        for c in claims or []:
            key = c.get("name") or c["site"]
            entry = out.setdefault(key, {"site": key, "words": c.get("words"), "runs": 0,
                                         "sides": {}})  # fmt: skip
            entry["runs"] += 1
            side = str(c["outcome"]) if "rule" in c else c.get("side", "?")
            entry["sides"][side] = entry["sides"].get(side, 0) + 1
    return list(out.values())


_SIDES = {"more": 0, "less": 1, "same": 2}


def side_label(claim: dict, side: str, width: int = 60) -> str:
    """The words a comparison uses for ``side`` (its first run's), shortened to ``width``."""
    words = claim["words"][_SIDES[side]] if claim.get("words") and side in _SIDES else side
    return words if len(words) <= width else words[: width - 1].rstrip() + "…"


def aggregate(records: list[dict]) -> dict:
    """Per section, parameter set (besides the seed) and question: the headline figure's
    mean, sd, min and max over the runs, and how many runs each verdict holds in. A record
    holds ``stem``, ``params`` and ``results`` (a results.json dict, or None if it failed)."""
    groups: dict[tuple, list[dict]] = {}
    for r in records:
        if r.get("results") is None:
            continue
        groups.setdefault((r["stem"], json.dumps(r["params"], sort_keys=True)), []).append(r)
    out = []
    for (stem, params), rs in groups.items():  # in the order of the runs
        qids: list[str] = []
        for r in rs:
            qids += [q for q in r["results"].get("headlines", {}) if q not in qids]
        questions = []
        for q in qids:
            heads = [r["results"]["headlines"][q] for r in rs if q in r["results"]["headlines"]]
            values = [h["value"] for h in heads if isinstance(h.get("value"), int | float)]
            verdicts: dict[str, int] = {}
            for h in heads:
                verdicts[h["verdict"]] = verdicts.get(h["verdict"], 0) + 1
            title = rs[0]["results"].get("questions", {}).get(q, {}).get("title", "")
            questions.append(
                {
                    "qid": q, "title": title, "figure": heads[0]["figure"],
                    "fmt": heads[0].get("fmt", ".4g"), "runs": len(heads),
                    "figure_stats": _stats(values) if values else None,
                    "verdicts": verdicts,
                    "claims": _claims([r["results"].get("claims", {}).get(q) for r in rs]),
                }
            )  # fmt: skip
        out.append(
            {"stem": stem, "params": json.loads(params), "runs": len(rs), "questions": questions}
        )
    return {"groups": out}


# ------------------------------------------------------------------------------ write-up
def _fmt(v: Any, fmt: str) -> str:
    from genmod.sections.summary import format_value

    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if fmt.endswith("d") and isinstance(v, float):  # a mean or sd of whole numbers
        return format_value(int(v), fmt) if v.is_integer() else format(v, ".2f")
    return format_value(v, fmt)


def render_html(summary: dict, records: list[dict], meta: list[tuple[str, str]]) -> str:
    """The sweep's page: per section and question the figure's spread and the verdicts'
    counts; per run its figures (appendix)."""
    from genmod.report.page import CSS_PATH

    e = html.escape
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>genmod sweep</title><style>{CSS_PATH.read_text()}</style></head><body>",
        "<main class='gm-report'><header class='gm-title-page' id='title'>",
        "<h1 class='gm-title'>Sweep: the headline figures over runs</h1><table class='gm-meta'>",
        *(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in meta),
        "</table><p class='gm-note'>Each figure and verdict is the one the run's own answer "
        "functions recorded in its results.json; sd is the sample standard deviation over the "
        "runs (— for a single run).</p></header>",
    ]
    for g in summary["groups"]:
        label = ", ".join(f"{k}={json.dumps(v)}" for k, v in g["params"].items())
        parts.append(
            f"<section class='gm-part'><h1>{e(g['stem'])}{' — ' + e(label) if label else ''}</h1>"
            f"<p>{g['runs']} run{'s' if g['runs'] != 1 else ''}.</p><div class='jp-RenderedHTMLCommon'>"
            "<table><tr><th>question</th><th>headline figure</th><th>mean</th><th>sd</th>"
            "<th>min</th><th>max</th><th>verdicts (runs)</th></tr>"
        )
        for q in g["questions"]:
            s, f = q["figure_stats"] or {}, q["fmt"]
            verdicts = "; ".join(f"{e(k)}: {v} of {q['runs']}" for k, v in q["verdicts"].items())
            parts.append(
                f"<tr><td>{e(q['qid'])} {e(q['title'])}</td><td>{e(q['figure'])}</td>"
                + "".join(f"<td>{_fmt(s.get(k), f)}</td>" for k in ("mean", "sd", "min", "max"))
                + f"<td style='text-align:left'>{verdicts}</td></tr>"
            )
        parts.append("</table></div>")
        claims = [(q, c) for q in g["questions"] for c in q.get("claims", [])]
        if claims:
            parts.append(
                "<h2>Comparisons the answers decided</h2><p>Each comparison an answer makes "
                "between two measured values (the larger, the smaller, or within two standard "
                "errors of each other), named by the function that makes it, and how many runs "
                "chose each side.</p><div class='jp-RenderedHTMLCommon'><table><tr>"
                "<th>question</th><th>comparison</th><th>sides (runs)</th></tr>"
            )
            for q, c in claims:
                sides = "; ".join(
                    f"{e(side_label(c, k))}: {v} of {c['runs']}" for k, v in c["sides"].items()
                )
                parts.append(
                    f"<tr><td>{e(q['qid'])}</td><td style='text-align:left'><code>{e(c['site'])}"
                    f"</code></td><td style='text-align:left'>{sides}</td></tr>"
                )
            parts.append("</table></div>")
        parts.append("</section>")
    parts.append("<section class='gm-part gm-appendix'><h1 id='runs'>Appendix. Every run</h1>")
    parts.append(
        "<div class='jp-RenderedHTMLCommon'><table><tr><th>run</th><th>section</th>"
        "<th>status</th><th>seconds</th><th>figures (question: value, verdict)</th></tr>"
    )
    for r in records:
        heads = (r.get("results") or {}).get("headlines", {})
        figs = "; ".join(
            f"{e(q)}: {_fmt(h.get('value'), h.get('fmt', '.4g'))}, {e(h['verdict'])}"
            for q, h in heads.items()
        )
        status = r["status"] + (f": {r['error']}" if r.get("error") else "")
        parts.append(
            f"<tr><td>{e(r['name'])}</td><td>{e(r['stem'])}</td><td style='text-align:left'>"
            f"{e(status)}</td><td>{r['seconds']:.1f}</td><td style='text-align:left'>{figs}</td></tr>"
        )
    parts.append("</table></div></section></main></body></html>")
    return "\n".join(parts)


# ------------------------------------------------------------------------------ driver
@dataclass
class SweepOptions:
    seeds: list[int]
    swept: dict[str, list] = field(default_factory=dict)
    sections: list[str] | None = None
    profile: str = "default"
    device: str = "auto"
    out_dir: Path | None = None
    cache_dir: Path = DEFAULT_CACHE_DIR
    notebooks_dir: Path = NOTEBOOKS_DIR
    # the Dask scheduler: its address or its scheduler file, at most one of them (neither:
    # $DASK_SCHEDULER_ADDRESS, else an embedded LocalCluster)
    scheduler: str | None = None
    scheduler_file: Path | None = None
    pdf: bool = True
    poll_seconds: float = 10.0
    render_only: bool = False  # write the write-up from the runs already on disk


def scheduler_address(scheduler: str | None, scheduler_file: Path | str | None) -> str | None:
    """The address of the scheduler to use: ``scheduler``, or the ``address`` that
    ``scheduler_file`` holds, or ``$DASK_SCHEDULER_ADDRESS``; None: an embedded cluster.
    A one-line ValueError for both given, or for a scheduler file that is missing or holds
    no address."""
    if scheduler and scheduler_file:
        raise ValueError("--scheduler and --scheduler-file: give one of them, not both")
    if scheduler is not None and not str(scheduler).strip():
        raise ValueError("--scheduler '': give an address, e.g. tcp://host:8786")
    if scheduler_file:
        path = Path(scheduler_file).expanduser()
        try:
            doc = json.loads(path.read_text())
        except OSError as err:
            raise ValueError(
                f"--scheduler-file {path}: cannot read it ({err.strerror or err}); it is "
                "written by `dask scheduler --scheduler-file PATH` on a folder the workers "
                "and this machine share"
            ) from None
        except ValueError:
            raise ValueError(f"--scheduler-file {path}: not a JSON scheduler file") from None
        address = doc.get("address") if isinstance(doc, dict) else None
        if not isinstance(address, str) or not address:
            raise ValueError(f"--scheduler-file {path}: holds no scheduler address")
        return address
    return scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


def _client(scheduler: str | None):
    from distributed import Client, LocalCluster

    from genmod.report.build import cpu_cores

    if scheduler:
        try:
            return Client(scheduler), None, False
        except (OSError, TimeoutError) as err:
            raise ReportError(
                f"no Dask scheduler answers at {scheduler}: {first_line(err, 200)}"
            ) from None
    cores = cpu_cores()
    cluster = LocalCluster(
        n_workers=1, threads_per_worker=cores, processes=True, dashboard_address=None,
        resources={"cores": cores},
    )  # fmt: skip
    return Client(cluster), cluster, True


def run_sweep(opts: SweepOptions) -> dict:
    from genmod.params import check_profile
    from genmod.report.base import KERNEL_NAME
    from genmod.report.build import cpu_cores, resolve_sections
    from genmod.runtime import check_device_name

    check_profile(opts.profile)
    check_device_name(opts.device)
    address = scheduler_address(opts.scheduler, opts.scheduler_file)
    notebooks_dir = resolve_path(opts.notebooks_dir)
    out_root = resolve_path(opts.out_dir) if opts.out_dir else REPORTS_DIR / "sweep" / opts.profile
    sources = resolve_sections(opts.sections, notebooks_dir)
    runs = plan(sources, opts.seeds, opts.swept, out_root, opts.profile, opts.device,
                resolve_path(opts.cache_dir), notebooks_dir)  # fmt: skip
    from genmod.report import execute

    t0 = time.perf_counter()
    if opts.render_only:  # the write-up from the runs' results.json on disk: nothing runs
        records = [
            {"name": r.name, "stem": r.stem, "seed": r.seed, "params": r.params,
             "results": str(r.results_path), "seconds": math.nan}
            | ({"status": "on disk"} if r.results_path.is_file()
               else {"status": "failed", "error": f"no {r.results_path}"})
            for r in runs
        ]  # fmt: skip
        return _write_up(opts, runs, records, out_root, t0, None)
    execute.check_kernel(KERNEL_NAME)
    client, cluster, embedded = _client(address)
    startup = time.perf_counter() - t0
    log(f"sweep: {len(runs)} runs on {'an embedded LocalCluster' if embedded else client.scheduler.address}"
        f" ({cpu_cores()} cores; started in {startup:.1f} s)")  # fmt: skip
    records: list[dict] = []
    try:
        cores = cpu_cores()
        futures = {}
        for spec in runs:
            kw = {"resources": {"cores": min(spec.threads or cores, cores)}} if embedded else {}
            futures[client.submit(run_one, spec, key=f"run-{spec.stem}-{_safe(spec.name)}",
                                  pure=False, **kw)] = spec  # fmt: skip
        from distributed import wait

        pending = set(futures)
        while pending:
            try:
                done, pending = wait(pending, opts.poll_seconds, return_when="FIRST_COMPLETED")
            except TimeoutError:  # nothing finished within the poll: show what runs
                done = set()
            for f in done:
                spec = futures[f]
                try:
                    r = f.result()
                except Exception as err:  # noqa: BLE001 - a worker died too often: report it
                    r = {"name": spec.name, "stem": spec.stem, "seed": spec.seed,
                         "params": spec.params, "status": "failed", "seconds": math.nan,
                         "error": f"{type(err).__name__}: {first_line(err, 300)}"}  # fmt: skip
                records.append(r)
                extra = f": {r['error']}" if r["status"] == "failed" else ""
                log(f"sweep: [{len(records)}/{len(runs)}] {r['stem']} {r['name']}: {r['status']}"
                    f" in {fmt_seconds(r['seconds'])}{extra}")  # fmt: skip
            running = []
            for spec in runs:
                marker = Path(spec.out_dir) / f".{spec.stem}.running"
                try:
                    since = float(marker.read_text())
                    running.append(f"{spec.stem} {spec.name} ({fmt_seconds(time.time() - since)})")
                except (OSError, ValueError):
                    pass
            if pending and running:
                log(f"sweep: {len(records)}/{len(runs)} done; running: {'; '.join(running)}")
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
    return _write_up(opts, runs, records, out_root, t0, startup)


def _write_up(opts, runs, records, out_root: Path, t0: float, startup: float | None) -> dict:
    """sweep.json, sweep.html and sweep.pdf from the runs' records."""
    for r in records:
        path = Path(r.get("results", ""))
        r["results"] = (
            json.loads(path.read_text()) if r["status"] != "failed" and path.is_file() else None
        )
        if math.isnan(r["seconds"]) and r["results"]:  # read from disk: the run's own timing
            r["seconds"] = r["results"].get("runtime", {}).get("total_seconds", math.nan)
    order = {(s.stem, s.name): i for i, s in enumerate(runs)}
    records.sort(key=lambda r: order[(r["stem"], r["name"])])
    summary = aggregate(records)
    total = time.perf_counter() - t0
    meta = [("Profile", opts.profile), ("Device", opts.device), ("Seeds", " ".join(map(str, opts.seeds))),
            ("Swept", ", ".join(f"{k}={v}" for k, v in opts.swept.items()) or "—"),
            ("Runs", f"{len(runs)} ({sum(r['status'] == 'ran' for r in records)} executed, "
                     f"{sum(r['status'] == 'reused' for r in records)} from the execution cache, "
                     f"{sum(r['status'] == 'failed' for r in records)} failed"
                     + (f", {sum(r['status'] == 'on disk' for r in records)} read from disk"
                        if opts.render_only else "") + ")"),
            ("Wall time", f"{fmt_seconds(total)}" + (f" (cluster start-up {startup:.1f} s)"
                                                     if startup is not None else ""))]  # fmt: skip
    doc = {
        "meta": dict(meta),
        "cluster_startup_seconds": startup,
        "wall_seconds": total,
        "runs": [{k: v for k, v in r.items() if k != "results"}
                 | {"headlines": (r["results"] or {}).get("headlines")} for r in records],
        **summary,
    }  # fmt: skip
    out_root.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out_root / "sweep.json", doc)
    html_path = out_root / "sweep.html"
    atomic_write_text(html_path, render_html(summary, records, meta))
    from genmod.report import pdf

    chromium = pdf.find_chromium() if opts.pdf else None
    if chromium:
        pdf.print_pdf(html_path, out_root / "sweep.pdf", chromium, 30_000)
    log(f"sweep: {fmt_seconds(total)} → {out_root / 'sweep.json'}, {html_path}"
        + (f", {out_root / 'sweep.pdf'}" if chromium else ""))  # fmt: skip
    failed = [r for r in records if r["status"] == "failed"]
    doc["failed"] = len(failed)
    return doc


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m genmod.report.sweep", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    ap.add_argument("--seeds", default="0", help='seeds, e.g. "0 1 2" or 0,1,2')
    ap.add_argument("--sections", nargs="+", metavar="NAME")
    ap.add_argument("--profile", default="default")
    ap.add_argument("--device", default="auto")
    ap.add_argument("-p", "--param", action="append", default=[], metavar="NAME=V1,V2")
    ap.add_argument("--out-dir", type=Path)
    ap.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    ap.add_argument("--notebooks-dir", type=Path, default=NOTEBOOKS_DIR)
    ap.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS, "
        "else an embedded cluster)",
    )
    ap.add_argument(
        "--scheduler-file",
        type=Path,
        metavar="PATH",
        help="the scheduler file that `dask scheduler --scheduler-file PATH` writes "
        "(instead of --scheduler)",
    )
    ap.add_argument("--no-pdf", action="store_true")
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: write sweep.json/html/pdf from the runs' results.json already on disk",
    )
    a = ap.parse_args(argv)
    try:
        swept = dict(parse_sweep_param(item) for item in a.param)
        opts = SweepOptions(
            parse_seeds(a.seeds), swept, a.sections, a.profile, a.device, a.out_dir,
            a.cache_dir, a.notebooks_dir, a.scheduler, a.scheduler_file, not a.no_pdf,
            render_only=a.render_only,
        )  # fmt: skip
        doc = run_sweep(opts)
    except (ValueError, ReportError) as err:
        print(f"sweep: {err}", file=sys.stderr)
        return 2
    return 1 if doc["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
