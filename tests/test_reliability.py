"""Interrupted runs lose nothing that was finished; the same seed gives the same numbers."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import papermill as pm
import pytest
from genmod import cache
from genmod.paths import NOTEBOOKS_DIR


def test_training_interrupted_leaves_no_cache_entry(tmp_path):
    def train():
        raise KeyboardInterrupt  # Ctrl-C in the middle of training

    with pytest.raises(KeyboardInterrupt):
        cache.load_or_train(tmp_path, "m", {"k": 1}, train)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_is_not_loaded(tmp_path, monkeypatch):
    """Killed between writing the payload and its manifest: the next run retrains."""
    calls = []

    def train():
        calls.append(1)
        return {"w": [1.0]}

    real = cache.atomic_write_json

    def dies_writing_manifest(path, data):
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "atomic_write_json", dies_writing_manifest)
    with pytest.raises(KeyboardInterrupt):
        cache.load_or_train(tmp_path, "m", {"k": 1}, train)
    monkeypatch.setattr(cache, "atomic_write_json", real)
    _, hit = cache.load_or_train(tmp_path, "m", {"k": 1}, train)
    assert not hit and len(calls) == 2
    _, hit = cache.load_or_train(tmp_path, "m", {"k": 1}, train)
    assert hit and len(calls) == 2


TRAIN_SCRIPT = """
import sys, torch
from genmod.diffusion.data import make_square_data
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.train import TrainConfig, train_denoiser
x0 = make_square_data(200, seed=0)
print("start", flush=True)
train_denoiser(DenoiserConfig(hidden=16, n_layers=2), TrainConfig(epochs=int(sys.argv[2])), x0,
               cache_dir=sys.argv[1], name="killed")
print("done", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_killed_training_process_then_rerun_reuses_finished_model(tmp_path, sig):
    """A real process killed mid-training leaves no cache entry; a finished one is reused."""
    cache_dir = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-c", TRAIN_SCRIPT, str(cache_dir), "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout.readline().strip() == "start"
    time.sleep(1.0)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert proc.returncode != 0
    leftovers = list(cache_dir.glob("*")) if cache_dir.exists() else []
    assert [p for p in leftovers if not p.name.endswith(".tmp")] == []

    # A completed run is cached; the next one loads it instead of training.
    done = subprocess.run(
        [sys.executable, "-c", TRAIN_SCRIPT, str(cache_dir), "3"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    manifests = list(cache_dir.glob("killed-*.json"))
    assert len(manifests) == 1
    assert json.loads(manifests[0].read_text())["config"]["train"]["epochs"] == 3
    mtime = manifests[0].stat().st_mtime
    again = subprocess.run(
        [sys.executable, "-c", TRAIN_SCRIPT, str(cache_dir), "3"], capture_output=True, text=True
    )
    assert again.returncode == 0 and manifests[0].stat().st_mtime == mtime


SECONDS = re.compile(r"\d+(\.\d+)? ?(s|seconds|min)\b")


def _numbers(results: dict) -> dict:
    """results.json without what legitimately varies between runs (timings, paths, dates)."""

    def strip(obj):
        if isinstance(obj, dict):
            return {k: strip(v) for k, v in obj.items() if k not in ("seconds", "runtime")}
        if isinstance(obj, list):
            return [strip(v) for v in obj]
        if isinstance(obj, str):
            return SECONDS.sub("<time>", obj)
        return obj

    out = strip({k: v for k, v in results.items() if k != "params"})
    params = {k: v for k, v in results["params"].items() if k not in ("results_path", "cache_dir")}
    return {**out, "params": params}


def _run_01(tmp_path, name, seed):
    res = tmp_path / name / "results.json"
    pm.execute_notebook(
        str(NOTEBOOKS_DIR / "01_diffusion_unconditional.ipynb"),
        str(tmp_path / f"{name}.ipynb"),
        parameters=dict(
            profile="smoke",
            device="cpu",
            seed=seed,
            results_path=str(res),
            cache_dir=str(tmp_path / name / "cache"),  # cold: trains every time
        ),
        kernel_name="genmod",
        cwd=str(NOTEBOOKS_DIR),
        progress_bar=False,
    )
    return json.loads(res.read_text())


@pytest.mark.slow
def test_same_seed_same_numbers_different_seed_different_samples(tmp_path):
    a = _run_01(tmp_path, "a", 0)
    b = _run_01(tmp_path, "b", 0)
    assert _numbers(a) == _numbers(b)
    c = _run_01(tmp_path, "c", 1)
    assert c["samples"]["points"] != a["samples"]["points"]
    assert c["train"]["loss_history"] != a["train"]["loss_history"]
    # The run record says how to reproduce it.
    for key in ("device", "torch", "git_commit"):
        assert key in a["runtime"], key
    # ... and no run leaves a partially written file behind.
    assert set(os.listdir(tmp_path / "a")) == {"cache", "results.json"}
    assert not [p for p in (tmp_path / "a" / "cache").iterdir() if p.name.endswith(".tmp")]
