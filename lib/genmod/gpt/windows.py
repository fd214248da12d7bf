"""The validation loss by window: its standard error, and two models compared on the same split.

The validation loss is the mean of ``−log p`` over every target of the held-out split, scored
in consecutive non-overlapping windows of ``block_size`` targets
(:func:`genmod.gpt.data.eval_windows`; the last window may be shorter). Neighbouring tokens are
correlated (the same sentence, the same context), so the windows, not the tokens, are taken as
the independent units: each window ``w`` is summarised by its sum ``s_w`` of ``−log p`` and its
number of targets ``n_w``, and the loss is the ratio ``L = Σ s_w / Σ n_w``.

* :func:`ratio_se`: one standard error of ``L`` over windows (the ratio estimator's
  linearisation, ``√(W/(W−1) · Σ (s_w − L n_w)²) / Σ n_w``; with equal windows this is the
  standard deviation of the window means over √W).
* :func:`paired_bootstrap`: for two models scored on the same windows, the difference
  ``L_B − L_A`` with a percentile interval from resampling the windows with replacement
  (the same resampled windows for both models: a paired comparison).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def window_sums(per_token: Sequence[float], block_size: int) -> tuple[list[float], list[int]]:
    """Per window of :func:`~genmod.gpt.data.eval_windows` (``block_size`` targets each, the
    last one shorter): the sum of ``per_token`` over its targets and their number."""
    x = np.asarray(per_token, dtype=np.float64)
    starts = range(0, len(x), block_size)
    return ([float(x[s : s + block_size].sum()) for s in starts],
            [len(x[s : s + block_size]) for s in starts])  # fmt: skip


def ratio_se(sums: Sequence[float], counts: Sequence[int]) -> float:
    """One standard error of ``Σ sums / Σ counts`` over the windows (NaN for fewer than two)."""
    s, n = np.asarray(sums, dtype=np.float64), np.asarray(counts, dtype=np.float64)
    w = len(s)
    if w < 2:
        return math.nan
    mean = s.sum() / n.sum()
    return float(math.sqrt(w / (w - 1) * ((s - mean * n) ** 2).sum()) / n.sum())


def paired_bootstrap(
    sums_a: Sequence[float],
    sums_b: Sequence[float],
    counts: Sequence[int],
    n_boot: int = 10_000,
    seed: int = 0,
    level: float = 0.95,
) -> dict:
    """``L_B − L_A`` on the same windows with its ``level`` percentile interval from
    ``n_boot`` resamples of the windows (with replacement, fixed ``seed``)."""
    a, b = np.asarray(sums_a, dtype=np.float64), np.asarray(sums_b, dtype=np.float64)
    n = np.asarray(counts, dtype=np.float64)
    if not len(a) == len(b) == len(n) or len(n) == 0:
        raise ValueError(f"paired windows: {len(a)}, {len(b)} sums and {len(n)} counts")
    d = b - a
    idx = np.random.default_rng(seed).integers(0, len(n), size=(n_boot, len(n)))
    boot = d[idx].sum(axis=1) / n[idx].sum(axis=1)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail])
    return {"diff": float(d.sum() / n.sum()), "low": float(low), "high": float(high),
            "level": level, "n_boot": n_boot, "seed": seed, "windows": len(n)}  # fmt: skip
