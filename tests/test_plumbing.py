"""Shared plumbing: atomic writes, model cache, device resolution, parameter checks."""

import json
import math
import os

import numpy as np
import pytest
import torch
from genmod import cache, io, params, runtime


def test_atomic_write_json_roundtrip_and_no_temp_left(tmp_path):
    path = tmp_path / "sub" / "r.json"
    io.atomic_write_json(path, {"a": np.float32(1.5), "b": torch.arange(3), "c": (1, 2)})
    assert json.loads(path.read_text()) == {"a": 1.5, "b": [0, 1, 2], "c": [1, 2]}
    assert os.listdir(path.parent) == ["r.json"]


def test_atomic_write_keeps_old_file_when_interrupted(tmp_path):
    path = tmp_path / "r.json"
    io.atomic_write_json(path, {"v": 1})

    def boom(f):
        f.write(b'{"v": 2')  # half a file, then the writer dies
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        io.atomic_write(path, boom)
    assert json.loads(path.read_text()) == {"v": 1}
    assert os.listdir(tmp_path) == ["r.json"]


def test_to_jsonable_non_finite():
    assert io.to_jsonable([math.inf, -math.inf, math.nan, 1.0]) == ["inf", "-inf", "nan", 1.0]


def _trainer(counter):
    def train():
        counter.append(1)
        return {"w": torch.full((3,), float(len(counter))), "history": [3.0, 2.0]}

    return train


def test_cache_reuses_same_config_and_separates_others(tmp_path):
    calls = []
    cfg = {"lr": 1e-3, "epochs": 10}
    p1, hit1 = cache.load_or_train(tmp_path, "m", cfg, _trainer(calls))
    p2, hit2 = cache.load_or_train(tmp_path, "m", dict(cfg), _trainer(calls))
    assert (hit1, hit2) == (False, True) and len(calls) == 1
    assert torch.equal(p1["w"], p2["w"]) and p2["history"] == [3.0, 2.0]
    _, hit3 = cache.load_or_train(tmp_path, "m", {**cfg, "epochs": 11}, _trainer(calls))
    assert not hit3 and len(calls) == 2
    _, hit4 = cache.load_or_train(tmp_path, "m", cfg, _trainer(calls), retrain=True)
    assert not hit4 and len(calls) == 3


@pytest.mark.parametrize("damage", ["truncate", "corrupt", "delete_payload", "bad_manifest"])
def test_cache_detects_damaged_files_and_retrains(tmp_path, damage):
    calls, logs = [], []
    cfg = {"k": 1}
    cache.load_or_train(tmp_path, "m", cfg, _trainer(calls))
    payload, manifest = cache.ModelCache(tmp_path).paths("m", cfg)
    data = payload.read_bytes()
    if damage == "truncate":
        payload.write_bytes(data[: len(data) // 2])
    elif damage == "corrupt":
        payload.write_bytes(data[:-10] + bytes(10))
    elif damage == "delete_payload":
        payload.unlink()
    else:
        manifest.write_text("{not json")
    out, hit = cache.load_or_train(tmp_path, "m", cfg, _trainer(calls), log=logs.append)
    assert not hit and len(calls) == 2 and len(logs) == 1 and "\n" not in logs[0]
    assert torch.equal(out["w"], torch.full((3,), 2.0))
    # ... and the retrained model is cached again, intact.
    _, hit = cache.load_or_train(tmp_path, "m", cfg, _trainer(calls))
    assert hit and len(calls) == 2


def test_cache_manifest_for_other_config_is_not_loaded(tmp_path):
    calls, logs = [], []
    cfg = {"k": 1}
    cache.load_or_train(tmp_path, "m", cfg, _trainer(calls))
    _, manifest = cache.ModelCache(tmp_path).paths("m", cfg)
    m = json.loads(manifest.read_text())
    m["config"] = {"k": 2}
    manifest.write_text(json.dumps(m))
    _, hit = cache.load_or_train(tmp_path, "m", cfg, _trainer(calls), log=logs.append)
    assert not hit and "another configuration" in logs[0]


def test_resolve_device():
    assert runtime.resolve_device("cpu") == torch.device("cpu")
    assert runtime.resolve_device("auto").type in ("cpu", "cuda", "mps")
    for bad in ("tpu", "cuda:x", "", 3):
        with pytest.raises(ValueError, match="device="):
            runtime.resolve_device(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            runtime.resolve_device("cuda")


def test_seed_everything_reproducible():
    runtime.seed_everything(3)
    a = (torch.randn(3), np.random.rand(3))  # noqa: NPY002
    runtime.seed_everything(3)
    b = (torch.randn(3), np.random.rand(3))  # noqa: NPY002
    assert torch.equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    runtime.seed_everything(4)
    assert not torch.equal(a[0], torch.randn(3))


def test_run_metadata_and_timer():
    meta = runtime.run_metadata("cpu")
    assert meta["device"] == "cpu" and meta["torch"] == torch.__version__
    t = runtime.StageTimer()
    with t("a"):
        pass
    assert set(t.seconds) == {"a"} and t.total >= 0


def test_params_resolve_fills_profile_and_validates():
    profiles = {"smoke": {"epochs": 5}, "default": {"epochs": 50}, "full": {"epochs": 3000}}
    checks = {"epochs": lambda n, v: params.check_int(n, v, 1)}
    given = {"device": "cpu", "seed": 0, "profile": "smoke", "epochs": None}
    assert params.resolve(given, profiles, checks)["epochs"] == 5
    assert params.resolve({**given, "epochs": 7}, profiles, checks)["epochs"] == 7
    bad = [
        ({"profile": "huge"}, "profile="),
        ({"device": "tpu"}, "device="),
        ({"seed": -1}, "seed="),
        ({"epochs": 0}, "epochs="),
        ({"epochs": "10"}, "epochs="),
    ]
    for change, msg in bad:
        with pytest.raises(ValueError, match=msg):
            params.resolve({**given, **change}, profiles, checks)


def test_check_helpers():
    assert params.check_float("lam", 1) == 1.0
    with pytest.raises(ValueError, match="lam="):
        params.check_float("lam", float("nan"))
    with pytest.raises(ValueError, match="retrain="):
        params.check_bool("retrain", 1)
    with pytest.raises(ValueError, match="prompt="):
        params.check_str("prompt", "  ")
    pts = params.check_list("T_values", [1, 2], lambda n, v: params.check_int(n, v, 1))
    assert pts == [1, 2]
    with pytest.raises(ValueError, match=r"T_values\[1\]="):
        params.check_list("T_values", [1, 0], lambda n, v: params.check_int(n, v, 1))
    with pytest.raises(ValueError, match="T_values="):
        params.check_list("T_values", "12", lambda n, v: v)


def test_atomic_write_respects_umask(tmp_path):
    old = os.umask(0o022)
    try:
        path = io.atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_resolve_checks_the_common_parameters_of_every_section():
    given = dict(
        device="cpu", seed=0, profile="smoke", results_path="r.json", cache_dir=None, retrain=False
    )
    assert set(given) == set(params.COMMON_PARAMETERS)
    out = params.resolve(given, {"smoke": {}}, {})
    assert out["cache_dir"] is None and out["retrain"] is False  # no model cache is allowed
    with pytest.raises(ValueError, match=r"^retrain='yes': expected True or False$"):
        params.resolve({**given, "retrain": "yes"}, {"smoke": {}}, {})
    with pytest.raises(ValueError, match=r"^results_path=3: "):
        params.resolve({**given, "results_path": 3}, {"smoke": {}}, {})
    with pytest.raises(ValueError, match=r"^cache_dir='  ': "):
        params.resolve({**given, "cache_dir": "  "}, {"smoke": {}}, {})


def test_model_cache_takes_a_relative_folder_from_the_repository_root():
    from genmod.paths import REPO_ROOT

    assert cache.ModelCache("cache").dir == REPO_ROOT / "cache"
