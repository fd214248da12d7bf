"""The command line: ``python -m genmod.report [options]`` (what ``make report`` runs)."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from genmod.params import PROFILES, parse_value
from genmod.paths import DEFAULT_CACHE_DIR, NOTEBOOKS_DIR
from genmod.report.base import SECTIONS, ReportError, fmt_seconds, log
from genmod.report.build import BuildOptions, build_report, validate


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
    p.add_argument(
        "--cache-dir",
        type=Path,
        default=DEFAULT_CACHE_DIR,
        help="trained-model cache; executed sections are cached in its executed/ folder",
    )
    p.add_argument(
        "--notebooks-dir",
        type=Path,
        default=NOTEBOOKS_DIR,
        help="folder of the section notebooks (default notebooks/)",
    )
    p.add_argument(
        "-p",
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra notebook parameter (JSON/Python literal), passed to the notebooks that "
        "declare it; repeatable",
    )
    p.add_argument(
        "--retrain",
        action="store_true",
        help="retrain instead of using the model cache (executes every section)",
    )
    p.add_argument(
        "--rerun",
        action="store_true",
        help="execute every section even when the execution cache holds a run with the same "
        "inputs (trained models are still reused)",
    )
    p.add_argument(
        "--jobs",
        default="auto",
        metavar="N",
        help="sections executed at once; auto (default): as many as the CPU cores allow, "
        "each section taking the torch threads it uses (its config's cpu_threads)",
    )
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
    if a.jobs == "auto":
        jobs = None
    else:
        try:
            jobs = int(a.jobs)
        except ValueError:
            raise ValueError(f"jobs={a.jobs!r}: accepted: auto or an integer >= 1") from None
    extra = {}
    for item in a.param:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ValueError(f"--param {item!r}: expected NAME=VALUE")
        extra[name.strip()] = parse_value(value)
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
        rerun=a.rerun,
        jobs=jobs,
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
        print(
            "report: interrupted; no report written (the sections that finished are cached: "
            "the same command resumes with the others)",
            file=sys.stderr,
        )
        return 130
    log(f"report: total {fmt_seconds(time.perf_counter() - t0)}")
    return 0
