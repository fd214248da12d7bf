"""An interrupted write-up build: the partial notebook is kept and no report is left; a real
build killed (or stopped with Ctrl-C) during a section resumes with the unfinished sections.
The real-kernel runs are slow."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from genmod.paths import REPO_ROOT
from genmod.report import build as rb
from report_fixtures import CACHE_SECTIONS, decision_lines, fake_notebook, small_notebook


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


def _write_sections(tmp_path, holding) -> Path:
    """The three cache sections in ``tmp_path/notebooks``; those named in ``holding`` hold
    still when told to (GENMOD_TEST_HOLD), after touching ``tmp_path/<stem>.started``, so a
    test can stop the build there."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for stem, source in CACHE_SECTIONS.items():
        nb = small_notebook(stem, source)
        if stem in holding:
            nb.cells[2].source = (
                "import os, pathlib, time\n"
                "if os.environ.get('GENMOD_TEST_HOLD'):\n"
                f"    pathlib.Path({str(tmp_path / f'{stem}.started')!r}).touch()\n"
                "    time.sleep(300)\n"
                "print('work')"
            )
        nbformat.write(nb, nb_dir / f"{stem}.ipynb")
    return nb_dir


def _report_command(tmp_path, nb_dir, *extra) -> list[str]:
    cmd = [sys.executable, "-m", "genmod.report", "--profile", "smoke", "--device", "cpu"]
    cmd += ["--notebooks-dir", str(nb_dir), "--out-dir", str(tmp_path / "out"), *extra]
    cmd += ["--cache-dir", str(tmp_path / "cache"), "--no-pdf", "--sections", *CACHE_SECTIONS]
    return cmd


def _start_holding(cmd, tmp_path, stems, what) -> subprocess.Popen:
    """Start the build in its own process group with the holding sections told to hold;
    return once every section of ``stems`` has started (``what`` says which did not)."""
    proc = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env={**os.environ, "GENMOD_TEST_HOLD": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not all((tmp_path / f"{s}.started").exists() for s in stems):
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, what
            time.sleep(0.2)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):  # ended on its own
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)
        raise
    return proc


def _run(cmd) -> subprocess.CompletedProcess:
    """The build run again to its end; it must succeed."""
    done = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.mark.slow
def test_killed_build_resumes_with_unfinished_sections(tmp_path):
    nb_dir = _write_sections(tmp_path, holding=["02_beta"])
    cmd = _report_command(tmp_path, nb_dir)
    proc = _start_holding(cmd, tmp_path, ["02_beta"], "section 02 never started")
    os.killpg(proc.pid, signal.SIGKILL)  # the build, as a hard kill would
    first = proc.communicate(timeout=60)[0]
    assert "01_alpha.ipynb: done" in first and "03_gamma" not in first.split("02_beta")[-1]

    again = _run(cmd)
    lines = decision_lines(again.stdout)
    assert lines["01_alpha"].startswith("reused (key "), again.stdout
    assert lines["02_beta"].startswith("running (no previous run;")
    assert lines["03_gamma"].startswith("running (no previous run;")
    assert (tmp_path / "out" / "report.html").is_file()


@pytest.mark.slow
def test_ctrl_c_during_concurrent_sections_then_resume(tmp_path):
    """--jobs 2 on real kernels: Ctrl-C (SIGINT to the build's process group, as a terminal
    sends it) while two sections run stops both, keeps their partial notebooks and caches
    nothing of them; the same command then runs them, and a third time reuses everything."""
    nb_dir = _write_sections(tmp_path, holding=list(CACHE_SECTIONS))
    cmd = _report_command(tmp_path, nb_dir, "--jobs", "2")
    proc = _start_holding(
        cmd, tmp_path, ["01_alpha", "02_beta"], "the two sections never ran together"
    )
    os.killpg(proc.pid, signal.SIGINT)
    first = proc.communicate(timeout=120)[0]
    assert proc.returncode == 130, first
    assert "resumes" in first and "03_gamma.ipynb: running" not in first
    for stem in ("01_alpha", "02_beta"):  # the partial notebooks are kept, whole
        nbformat.read(tmp_path / "out" / f"{stem}.ipynb", as_version=4)
    assert not list((tmp_path / "cache").glob("executed/*.json"))
    assert not (tmp_path / "out" / "report.html").exists()

    again = _run(cmd)
    assert all(
        line.startswith("running (no previous run;")
        for line in decision_lines(again.stdout).values()
    )
    third = _run(cmd)
    assert len(decision_lines(third.stdout)) == 3
    assert all(line.startswith("reused (key ") for line in decision_lines(third.stdout).values()), (
        third.stdout
    )
