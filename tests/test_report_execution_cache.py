"""The execution cache of the write-up build (genmod.report.execution_cache), with papermill
replaced by a stand-in (no kernel, fast): what reruns a section, what reuses it, damaged
entries, forced runs, sections run together, pruning and the key's parts."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from genmod.report import build as rb
from genmod.report import execute, execution_cache
from report_fixtures import CACHE_SECTIONS, decision_lines, small_notebook, stream


class StandIn:
    """Replaces papermill: writes an 'executed' notebook and a results.json, records calls;
    ``interrupt`` raises KeyboardInterrupt in that section (after a partial save)."""

    def __init__(self):
        self.calls: list[str] = []
        self.interrupt: str | None = None

    def __call__(self, notebook, output, parameters, cwd, kernel_name="genmod", timeout=None):
        self.calls.append(notebook.stem)
        nb = nbformat.read(notebook, as_version=4)
        nb.metadata["papermill"] = {"parameters": dict(parameters), "duration": 0.5}
        nb.cells[-1].outputs = [stream("stdout", f"work {len(self.calls)}\n")]
        nbformat.write(nb, output)
        if notebook.stem == self.interrupt:
            raise KeyboardInterrupt
        results = Path(parameters["results_path"])
        results.parent.mkdir(parents=True, exist_ok=True)
        record = {"section": notebook.stem, "params": parameters, "runtime": {"seconds": {}}}
        results.write_text(json.dumps(record))


@pytest.fixture
def cache_env(tmp_path, monkeypatch, capsys):
    """Three small sections, a stand-in executor and ``build(**options)`` → (result, log)."""
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    for stem, source in CACHE_SECTIONS.items():
        nbformat.write(small_notebook(stem, source), nb_dir / f"{stem}.ipynb")
    stand_in = StandIn()
    monkeypatch.setattr(execute, "execute_notebook", stand_in)
    package = tmp_path / "package" / "genmod"  # a package nobody edits while the test runs
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('"""A stand-in package."""\n')

    def build(**options):
        stand_in.calls.clear()
        capsys.readouterr()
        opts = rb.BuildOptions(
            profile="smoke",
            device="cpu",
            sections=list(CACHE_SECTIONS),
            notebooks_dir=nb_dir,
            out_dir=tmp_path / "out",
            cache_dir=tmp_path / "cache",
            pdf=False,
            data_dir=tmp_path / "data",
            package_dir=package,
        )
        for name, value in options.items():
            setattr(opts, name, value)
        result = rb.build_report(opts)
        return result, capsys.readouterr().out

    return SimpleNamespace(
        build=build,
        stand_in=stand_in,
        nb_dir=nb_dir,
        tmp=tmp_path,
        store=tmp_path / "cache/executed",
    )


def test_unchanged_rerun_skips_all_sections(cache_env):
    first, log1 = cache_env.build()
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("no previous run" in line for line in decision_lines(log1).values()), log1
    out = cache_env.tmp / "out"
    notebooks = {s: (out / f"{s}.ipynb").read_bytes() for s in CACHE_SECTIONS}
    (out / "03_gamma/results.json").unlink()  # restored from the cache
    second, log2 = cache_env.build()
    assert cache_env.stand_in.calls == []
    assert second.reused == list(CACHE_SECTIONS) and second.ran == []
    lines = decision_lines(log2)
    assert sorted(lines) == sorted(CACHE_SECTIONS)
    assert all(re.match(r"reused \(key [0-9a-f]{16}\)", line) for line in lines.values()), log2
    assert {s: (out / f"{s}.ipynb").read_bytes() for s in CACHE_SECTIONS} == notebooks
    assert json.loads((out / "03_gamma/results.json").read_text())["section"] == "03_gamma"
    assert "work 3" in second.html.read_text()  # the reused outputs are the ones shown


def test_changed_parameter_reruns_that_section_only(cache_env):
    cache_env.build()
    result, log = cache_env.build(extra_params={"epochs": 7})  # declared by 01_alpha only
    assert cache_env.stand_in.calls == ["01_alpha"]
    lines = decision_lines(log)
    assert lines["01_alpha"].startswith("running (parameters changed: epochs;")
    assert lines["02_beta"].startswith("reused") and lines["03_gamma"].startswith("reused")
    assert result.decisions["01_alpha"] == "parameters changed: epochs"
    # switching back reuses the earlier run (several entries are kept per section)
    cache_env.build()
    assert cache_env.stand_in.calls == []


def test_profile_resolution_keys_the_values_used(cache_env, monkeypatch):
    """With a section config, a value given explicitly that equals the profile's value is the
    same run; without one (older notebooks) the given values plus the profile key the run."""
    smoke = {"epochs": 3}

    def resolve_params(given):
        return {
            **given,
            "epochs": given["epochs"] if given["epochs"] is not None else smoke["epochs"],
        }

    names = ("device", "seed", "profile", "results_path", "cache_dir", "retrain", "epochs")
    config = SimpleNamespace(PARAMETERS=names, resolve_params=resolve_params)
    real = execution_cache.section_config
    monkeypatch.setattr(
        execution_cache, "section_config", lambda stem: config if stem == "01_alpha" else real(stem)
    )
    cache_env.build()
    cache_env.build(extra_params={"epochs": 3})
    assert cache_env.stand_in.calls == []
    _, log = cache_env.build(extra_params={"epochs": 4})
    assert cache_env.stand_in.calls == ["01_alpha"]
    assert "parameters changed: epochs" in decision_lines(log)["01_alpha"]
    _, log = cache_env.build(profile="default")
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert "parameters changed: profile" in decision_lines(log)["02_beta"]


def test_changed_notebook_reruns_that_section_only(cache_env):
    cache_env.build()
    path = cache_env.nb_dir / "02_beta.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source += "\n\nOne more sentence."
    nbformat.write(nb, path)
    _, log = cache_env.build()
    assert cache_env.stand_in.calls == ["02_beta"]
    assert decision_lines(log)["02_beta"].startswith("running (notebook changed;")


def test_package_change_reruns_every_section(cache_env):
    package = cache_env.tmp / "genmod"
    shutil.copytree(
        Path(rb.default_package_dir()), package, ignore=shutil.ignore_patterns("__pycache__")
    )
    cache_env.build(package_dir=package)
    # the report build's own files shape the page, not the execution: no re-run
    css = package / "report" / "report.css"
    css.write_text(css.read_text() + "\n/* restyled */\n")
    cache_env.build(package_dir=package)
    assert cache_env.stand_in.calls == []
    runtime = package / "runtime.py"
    runtime.write_text(runtime.read_text() + "\n# changed\n")
    result, log = cache_env.build(package_dir=package)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all(
        line.startswith("running (package changed;") for line in decision_lines(log).values()
    )
    assert result.ran == list(CACHE_SECTIONS)


def test_data_change_reruns_every_section(cache_env):
    data = cache_env.tmp / "data"
    data.mkdir()
    (data / "corpus.txt").write_text("one")
    (data / "SHA256SUMS").write_text("0" * 64 + "  corpus.txt\n")
    cache_env.build()
    (data / "corpus.txt").write_text("two")
    _, log = cache_env.build()
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("data changed: corpus.txt" in line for line in decision_lines(log).values()), log


def test_interrupted_build_resumes_with_unfinished_sections(cache_env):
    cache_env.stand_in.interrupt = "02_beta"
    with pytest.raises(KeyboardInterrupt):
        cache_env.build()
    assert cache_env.stand_in.calls == ["01_alpha", "02_beta"]
    cache_env.stand_in.interrupt = None
    result, log = cache_env.build()
    assert cache_env.stand_in.calls == ["02_beta", "03_gamma"]
    assert result.reused == ["01_alpha"]
    assert "no previous run" in decision_lines(log)["02_beta"]


@pytest.mark.parametrize(
    "damage, problem",
    [
        ("notebook", "notebook checksum mismatch"),
        ("results", "results checksum mismatch"),
        ("manifest", "manifest unreadable"),
        ("missing", "notebook missing"),
    ],
)
def test_corrupted_entry_is_rerun_with_one_line(cache_env, damage, problem):
    cache_env.build()
    (manifest,) = [
        p for p in cache_env.store.glob("01_alpha-*.json") if not p.name.endswith(".results.json")
    ]
    target = {
        "notebook": manifest.with_suffix(".ipynb"),
        "results": manifest.with_name(manifest.stem + ".results.json"),
        "manifest": manifest,
        "missing": manifest.with_suffix(".ipynb"),
    }[damage]
    if damage == "missing":
        target.unlink()
    else:
        data = target.read_bytes()
        target.write_bytes(data[: len(data) // 2])  # truncated, as by a full disk
    result, log = cache_env.build()
    assert cache_env.stand_in.calls == ["01_alpha"]
    damaged = [ln for ln in log.splitlines() if "damaged" in ln]
    assert len(damaged) == 1 and "01_alpha" in damaged[0] and problem in damaged[0], log
    assert result.reused == ["02_beta", "03_gamma"]
    cache_env.build()  # the re-run replaced the damaged entry
    assert cache_env.stand_in.calls == []


def test_rerun_and_retrain_force_execution(cache_env):
    cache_env.build()
    _, log = cache_env.build(rerun=True)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("forced by --rerun" in line for line in decision_lines(log).values())
    _, log = cache_env.build(retrain=True)
    assert cache_env.stand_in.calls == list(CACHE_SECTIONS)
    assert all("forced by --retrain" in line for line in decision_lines(log).values())
    cache_env.build()
    assert cache_env.stand_in.calls == []


class FakeWorker:
    """Stands in for execute.Worker: runs the stand-in executor at once, ends after 2 polls."""

    live: list = []  # workers not yet ended
    most = 0  # most workers alive at once

    def __init__(self, notebook, output, parameters, cwd, kernel_name="genmod", timeout=None):
        self.polls, self.error = 0, None
        try:
            execute.execute_notebook(notebook, output, parameters, cwd)
        except BaseException as err:  # noqa: BLE001 - re-raised by result()
            self.error = err
        FakeWorker.live.append(self)
        FakeWorker.most = max(FakeWorker.most, len(FakeWorker.live))

    def poll(self):
        self.polls += 1
        if self.polls < 2:
            return None
        if self in FakeWorker.live:
            FakeWorker.live.remove(self)
        return 0

    def result(self):
        if self.error is not None:
            raise self.error


@pytest.mark.parametrize(
    "jobs, threads, most",
    [(2, {}, 2), (3, {}, 3), (None, {"01_alpha": 1, "02_beta": 1}, 2), (None, {}, 1)],
)
def test_concurrent_sections_are_each_cached(cache_env, monkeypatch, jobs, threads, most):
    """--jobs N runs N at a time; auto lets sections run together as their threads fit in
    the cores (here 2; a section of unknown threads runs alone)."""
    monkeypatch.setattr(execute, "Worker", FakeWorker)
    monkeypatch.setattr(rb, "cpu_cores", lambda: 2)
    monkeypatch.setattr(rb, "section_threads", lambda stem, profile, kind: threads.get(stem))
    FakeWorker.live, FakeWorker.most = [], 0
    result, log = cache_env.build(jobs=jobs)
    assert sorted(cache_env.stand_in.calls) == sorted(CACHE_SECTIONS)
    assert FakeWorker.most == (most if most > 1 else 0)  # 1: in order, without workers
    assert result.ran == list(CACHE_SECTIONS)
    assert len(re.findall(r": done in ", log)) == 3
    cache_env.build(jobs=jobs)
    assert cache_env.stand_in.calls == []


def test_concurrent_failure_stops_new_sections_and_keeps_finished_ones(cache_env, monkeypatch):
    monkeypatch.setattr(execute, "Worker", FakeWorker)
    FakeWorker.live, FakeWorker.most = [], 0
    cache_env.stand_in.interrupt = "02_beta"  # raises KeyboardInterrupt in its worker
    with pytest.raises(KeyboardInterrupt):
        cache_env.build(jobs=2)
    assert cache_env.stand_in.calls == ["01_alpha", "02_beta"]  # 03 never started
    cache_env.stand_in.interrupt = None
    result, _ = cache_env.build(jobs=2)
    assert result.reused == ["01_alpha"] and sorted(result.ran) == ["02_beta", "03_gamma"]


def test_old_entries_are_pruned(cache_env):
    for epochs in range(execution_cache.KEEP + 2):
        cache_env.build(extra_params={"epochs": epochs}, sections=["01_alpha"])
    manifests = [
        p for p in cache_env.store.glob("01_alpha-*.json") if not p.name.endswith(".results.json")
    ]
    assert len(manifests) == execution_cache.KEEP
    assert len(list(cache_env.store.glob("01_alpha-*.ipynb"))) == execution_cache.KEEP


def test_key_components():
    nb = small_notebook("01_alpha", CACHE_SECTIONS["01_alpha"])
    nb2 = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb2.cells[2].outputs = [stream("stdout", "x\n")]
    nb2.cells[2].execution_count = 3
    assert execution_cache.notebook_digest_of(nb) == execution_cache.notebook_digest_of(nb2)
    nb2.cells[2].source = "print('other')"
    assert execution_cache.notebook_digest_of(nb) != execution_cache.notebook_digest_of(nb2)
    files = {
        p.relative_to(rb.default_package_dir()).as_posix()
        for p in execution_cache.package_files(rb.default_package_dir())
    }
    assert "io.py" in files and "sections/common.py" in files
    assert not any(f.startswith("report/") or "__pycache__" in f for f in files)
