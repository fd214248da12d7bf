"""The validation loss by window (genmod.gpt.windows) and section 03's comparison of two runs
(genmod.sections.autoregressive_gpt.compare): the standard error over windows, the paired
bootstrap on synthetic windows (an interval that covers a known zero difference, one that
excludes a known shift), and the refusals."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
from genmod.gpt.windows import paired_bootstrap, ratio_se, window_sums
from genmod.sections.autoregressive_gpt import compare as C


def _windows(seed: int, w: int = 66, n: int = 64, shift: float = 0.0, noise: float = 0.05):
    """Synthetic paired windows: run A's per-window mean losses vary a lot between windows
    (sd 0.5, as text does); run B's are A's plus ``shift`` plus a small per-window noise."""
    rng = np.random.default_rng(seed)
    means_a = 5.0 + 0.5 * rng.standard_normal(w)
    means_b = means_a + shift + noise * rng.standard_normal(w)
    counts = [n] * (w - 1) + [n // 2]  # the last window is shorter
    return list(means_a * counts), list(means_b * counts), counts


def test_window_sums_partition_the_targets_like_eval_windows():
    sums, counts = window_sums([1.0] * 10 + [2.0] * 3, block_size=4)
    assert counts == [4, 4, 4, 1] and sums == [4.0, 4.0, 6.0, 2.0]


def test_ratio_se_equal_windows_is_the_sd_of_window_means_over_root_w():
    means = np.array([4.0, 5.0, 6.0, 5.5])
    se = ratio_se(list(means * 8), [8] * 4)
    assert se == pytest.approx(means.std(ddof=1) / 2)
    assert math.isnan(ratio_se([40.0], [8]))  # one window: no standard error


def test_bootstrap_covers_a_known_zero_difference():
    covered = 0
    for seed in range(20):
        a, b, n = _windows(seed)
        d = paired_bootstrap(a, b, n, n_boot=2000, seed=0)
        assert d["low"] < d["diff"] < d["high"] and d["windows"] == 66
        covered += d["low"] <= 0.0 <= d["high"]
    assert covered >= 17  # a 95 % interval: about 19 of 20


def test_bootstrap_excludes_a_known_shift_that_the_unpaired_noise_would_hide():
    a, b, n = _windows(0, shift=0.05)
    d = paired_bootstrap(a, b, n, n_boot=2000, seed=0)
    assert 0.0 < d["low"] < 0.05 < d["high"] < 0.1
    # unpaired, the window-to-window spread (sd 0.5 over 66 windows) dwarfs the shift
    assert ratio_se(a, n) > 0.05
    a, b, n = _windows(1, shift=-0.05)
    assert paired_bootstrap(a, b, n, n_boot=2000, seed=0)["high"] < 0.0


def test_bootstrap_is_deterministic_for_its_seed():
    a, b, n = _windows(3)
    assert paired_bootstrap(a, b, n, 500, seed=1) == paired_bootstrap(a, b, n, 500, seed=1)
    with pytest.raises(ValueError, match="paired windows"):
        paired_bootstrap(a, b[:-1], n)


# ----------------------------------------------------------------- the comparison tool
def _run(sums, counts, seed=0, **train) -> dict:
    return {
        "section": "autoregressive_gpt", "params": {"seed": seed},
        "runtime": {"total_seconds": 70.0},
        "data": {"sha256": "ab" * 32, "split_char": 900, "val_tokens": sum(counts) + 1},
        "train": {"val_loss": sum(sums) / sum(counts), "val_window_sums": sums,
                  "val_window_tokens": counts, "tokens_to_best": 30 * 16 * 32, "evaluations": 3,
                  "best_step": 30, "wall_seconds": 12.5, "from_cache": False,
                  "config": {"batch_size": 16, "block_size": 32}, **train},
    }  # fmt: skip


def _write(tmp_path, name, r) -> str:
    p = tmp_path / f"{name}.json"
    p.write_text(json.dumps(r))
    return str(p)


def test_compare_reports_the_paired_difference_tokens_and_times(tmp_path, capsys):
    a, b, n = _windows(0, shift=0.05)
    ra, rb = _run(a, n), _run(b, n, from_cache=True, tokens_to_best=7680, best_step=15)
    assert C.main([_write(tmp_path, "a", ra), _write(tmp_path, "b", rb)]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 4 and "seed 0;" in out
    assert "kept step 30: 15,360 tokens (30 × 16 × 32); 3 evaluations; training 12.5 s" in out
    assert "kept step 15: 7,680 tokens" in out and "(loaded from the cache" in out
    d = C.compare(ra, rb)["diff"]
    assert f"B − A: {d['diff']:+.4f} nats/token, 95% interval [{d['low']:+.4f}," in out
    assert "paired bootstrap over 66 validation windows, 10,000 resamples, seed 0" in out


@pytest.mark.parametrize(
    "change,match",
    [
        ({"params": {"seed": 1}}, "different seeds"),
        ({"data": {"sha256": "cd" * 32}}, "different validation splits"),
        ({"data": {"split_char": 901}}, "different validation splits"),
        ({"train": {"val_window_tokens": [32] * 132}}, "different validation windows"),
    ],
)
def test_compare_refuses_unpaired_runs_in_one_line(tmp_path, capsys, change, match):
    a, b, n = _windows(0)
    rb = copy.deepcopy(_run(b, n))
    for group, over in change.items():
        rb[group].update(over)
    assert C.main([_write(tmp_path, "a", _run(a, n)), _write(tmp_path, "b", rb)]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1 and err.startswith("compare: refused:")


def test_compare_names_a_missing_field(tmp_path, capsys):
    a, _, n = _windows(0)
    old = _run(a, n)
    del old["train"]["val_window_sums"]
    assert C.main([_write(tmp_path, "a", _run(a, n)), _write(tmp_path, "b", old)]) == 2
    assert "no train.val_window_sums (recorded by an older genmod" in capsys.readouterr().err
