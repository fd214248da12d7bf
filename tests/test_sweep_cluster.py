"""The sweep on an external Dask cluster: ``dask scheduler`` and two ``dask worker`` processes
on 127.0.0.1, reached through the scheduler file, with one worker process killed mid-run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")  # distributed's own dependency

ROOT = Path(__file__).resolve().parents[1]
DASK = Path(sys.executable).with_name("dask")  # the venv's dask CLI
STEM = "01_diffusion_unconditional"  # the cheapest section


def _wait_for(predicate, timeout: float, what: str, alive=()):
    """Poll ``predicate`` until it returns something true; fail after ``timeout`` seconds or
    as soon as one of the ``alive`` processes has exited."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        for p in alive:
            if p.poll() is not None:
                raise AssertionError(f"{what}: {p.args[:3]} exited with {p.returncode}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:.0f} s")
        time.sleep(0.2)


def _tree(pid: int) -> list:
    """The process and its descendants (those alive)."""
    try:
        p = psutil.Process(pid)
        return [p, *p.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _stop(processes: list) -> None:
    """SIGTERM, then SIGKILL after 10 s, to every process of the list still alive."""
    alive = []
    for p in processes:
        try:
            p.terminate()
            alive.append(p)
        except psutil.NoSuchProcess:
            pass
    _, survivors = psutil.wait_procs(alive, timeout=10)
    for p in survivors:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(survivors, timeout=10)


def _markers(folder: Path, event: str) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob(f"[!.]*.{event}"))]


@pytest.mark.slow
@pytest.mark.skipif(not DASK.is_file(), reason=f"no dask CLI at {DASK}")
def test_sweep_on_dask_scheduler_and_workers_survives_a_killed_worker(tmp_path):
    """Two seeds of the smoke profile of section 01 on a scheduler and two one-thread workers
    started with today's ``dask`` commands; as soon as a run has started (its marker file,
    :data:`genmod.report.sweep.MARKERS_ENV`), the worker process running it is killed
    (SIGKILL, the process, not its nanny). The nanny restarts it, the scheduler gives the run
    out again, and the sweep completes with every run finished exactly once."""
    scheduler_file = tmp_path / "scheduler.json"
    markers = tmp_path / "markers"
    markers.mkdir()
    out, cache = tmp_path / "sw", tmp_path / "cache"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASK_")}
    env["GENMOD_SWEEP_MARKERS"] = str(markers)
    logs = {}

    def start(name: str, args: list[str]) -> subprocess.Popen:
        logs[name] = tmp_path / f"{name}.log"
        with open(logs[name], "w") as log:
            return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    def tails() -> str:
        return "\n".join(
            f"--- {name}:\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:])
            for name, path in logs.items()
            if path.is_file()
        )

    t0 = time.perf_counter()
    procs: list[subprocess.Popen] = []
    orphans: list = []  # the killed worker's children (its notebook kernel)
    try:
        scheduler = start("scheduler", [str(DASK), "scheduler", "--host", "127.0.0.1",
                                        "--port", "0", "--no-dashboard",
                                        "--scheduler-file", str(scheduler_file)])  # fmt: skip
        procs.append(scheduler)
        _wait_for(scheduler_file.is_file, 120, "the scheduler file", [scheduler])
        workers = []
        for k in range(2):
            workers.append(
                start(f"worker-{k}", [str(DASK), "worker", "--scheduler-file",
                                      str(scheduler_file), "--nworkers", "1", "--nthreads", "1",
                                      "--host", "127.0.0.1", "--no-dashboard",
                                      "--local-directory", str(tmp_path / f"worker-{k}")])
            )  # fmt: skip
            procs.append(workers[-1])
        address = json.loads(scheduler_file.read_text())["address"]

        def workers_joined() -> bool:
            text = logs["scheduler"].read_text(errors="replace")
            return text.count("Register worker") >= 2

        _wait_for(workers_joined, 180, "two workers joining the scheduler", procs)

        sweep = start("sweep", [sys.executable, "-m", "genmod.report.sweep", "--seeds", "0 1",
                                "--sections", "01", "--profile", "smoke", "--device", "cpu",
                                "--out-dir", str(out), "--cache-dir", str(cache), "--no-pdf",
                                "--scheduler-file", str(scheduler_file)])  # fmt: skip
        procs.append(sweep)

        # The first run that starts: kill the worker process that runs it.
        first = _wait_for(lambda: _markers(markers, "started"), 300, "a run starting", procs)[0]
        victim = psutil.Process(first["pid"])
        nannies = {w.pid for w in workers}
        assert victim.ppid() in nannies, (first, nannies)  # a worker process, not a nanny
        orphans += victim.children(recursive=True)
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(30)
        killed_at = time.perf_counter()

        rc = sweep.wait(timeout=900)
        assert rc == 0, tails()
        log = logs["sweep"].read_text()
        assert f"2 runs on {address}" in log, log
        assert log.count(": ran in") == 2, log

        # Every run finished exactly once: one "finished" marker each, none from the killed
        # process; the killed run started twice (killed, retried), the other once.
        started, finished = _markers(markers, "started"), _markers(markers, "finished")
        runs = {"seed=0", "seed=1"}
        assert sorted(m["run"] for m in finished) == sorted(runs), finished
        assert all(m["status"] == "ran" for m in finished), finished
        assert victim.pid not in {m["pid"] for m in finished}
        counts = {r: sum(m["run"] == r for m in started) for r in runs}
        assert counts == {r: 2 if r == first["run"] else 1 for r in runs}, started
        # Each seed's results exist once: one folder per run, one notebook and one
        # results.json in it, no marker or temporary file left; two runs in sweep.json.
        assert sorted(p.name for p in (out / "runs").iterdir()) == sorted(runs)
        for seed in (0, 1):
            run_dir = out / "runs" / f"seed={seed}"
            assert sorted(p.name for p in run_dir.iterdir()) == [STEM, f"{STEM}.ipynb"]
            results = json.loads((run_dir / STEM / "results.json").read_text())
            assert results["params"]["seed"] == seed
        doc = json.loads((out / "sweep.json").read_text())
        assert sorted(r["name"] for r in doc["runs"]) == sorted(runs)
        assert [r["status"] for r in doc["runs"]] == ["ran", "ran"]
        assert doc["groups"][0]["runs"] == 2
        # and the execution cache holds one entry per run
        assert len(list((cache / "executed").glob(f"{STEM}-*.results.json"))) == 2
        print(
            f"\ncluster sweep: {time.perf_counter() - t0:.1f} s in all, "
            f"{time.perf_counter() - killed_at:.1f} s after the kill of pid {victim.pid} "
            f"({first['run']}); sweep wall {doc['wall_seconds']:.1f} s"
        )
    finally:
        t1 = time.perf_counter()
        everything = [p for proc in reversed(procs) for p in _tree(proc.pid)]
        _stop(everything + [p for p in orphans if p.is_running()])
        for proc in procs:
            proc.wait(timeout=30)
        print(f"cluster test: processes stopped in {time.perf_counter() - t1:.1f} s")
