"""The validation loss by window (genmod.gpt.windows): the standard error over windows, the
paired bootstrap on synthetic windows (an interval that covers a known zero difference, one
that excludes a known shift)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from genmod.gpt.windows import paired_bootstrap, ratio_se, window_sums


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
