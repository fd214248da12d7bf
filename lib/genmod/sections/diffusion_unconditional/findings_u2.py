"""Section 01's noise floor and U2 (the training loss) as findings. ``±`` is one standard
error; a difference is called beyond the noise at two standard errors."""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.findings import Finding, above, at_least, claim, differs, equal, finite

#: The share of the total decrease whose epoch U2 names, and the least epochs to look for it.
PROGRESS_SHARE = 0.9
PROGRESS_MIN_EPOCHS = 20


def mean_se(values) -> tuple[float, float]:
    """Mean and its standard error (NaN for fewer than two values; NaN, NaN for none)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return math.nan, math.nan
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
    return float(v.mean()), se


def outcomes(claims) -> dict:
    """Each claim's outcome by its short name."""
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def floor(rec: dict) -> Finding:
    """The noise floor of the energy distance: sizes, median and 95th percentile."""
    f = rec["noise_floor"]
    figures = {k: f[k] for k in ("n", "repeats", "median", "p95")}
    return Finding("floor", "measured", figures, [])


def progress_epoch(history, first: float, final: float) -> tuple[float, int]:
    """The first epoch at which a running mean of the loss (window ``w``) has made
    :data:`PROGRESS_SHARE` of the decrease from ``first`` to ``final`` (NaN if it never
    does), and ``w``."""
    h = np.asarray(history, dtype=float)
    w = max(1, min(50, len(h) // 10))
    rm = np.convolve(h, np.ones(w) / w, mode="valid")
    hit = np.nonzero(rm <= first - PROGRESS_SHARE * (first - final))[0]
    return (float(hit[0] + w) if len(hit) else math.nan), w


def u2(rec: dict) -> Finding:
    """U2: the loss's course over training and its end against the oracle's optimum."""
    tr = rec["train"]
    h = np.asarray(tr["loss_history"], dtype=float)
    best = tr["oracle_loss"]
    k0, k = tr["initial_loss_window"], tr["final_loss_window"]
    first, se_first = mean_se(h[:k0])
    final, se_final = mean_se(h[-k:])
    # the final loss against the oracle's: the last epochs' jitter and the oracle's estimate
    se_final_0 = se_final if math.isfinite(se_final) else 0.0  # one epoch: no jitter measured
    se_opt = math.hypot(se_final_0, best["stderr"])
    share = best["mean"] / first if first > 0 else math.nan
    epoch, w = progress_epoch(h, first, final)
    claims = [
        claim("u2.trend", differs, diff=final - first, se=math.hypot(se_first, se_final)),
        claim("u2.from_cache", equal, value=tr["from_cache"], other=True),
        claim("u2.share_measured", finite, value=share),
        claim("u2.mostly_irreducible", above, value=share, threshold=0.5),
        claim("u2.oracle_se_measured", finite, value=best["stderr"]),
        claim("u2.vs_oracle", differs, diff=final - best["mean"], se=se_opt),
        claim("u2.long_enough", at_least, value=len(h), threshold=PROGRESS_MIN_EPOCHS),
        claim("u2.decreased", above, value=first, threshold=final),
        claim("u2.progress_reached", finite, value=epoch),
    ]
    verdict = {"same": "at the optimum", "more": "above the optimum", "less": "below the optimum",
               "untestable": "untested"}[outcomes(claims)["vs_oracle"]]  # fmt: skip
    figures = {
        "n_parameters": tr["n_parameters"],
        "seconds": tr["seconds"],
        "epochs": tr["epochs"],
        "n_epochs": len(h),
        "draws": tr["noise_draws"],
        "first": first,
        "final": final,
        "k0": k0,
        "k": k,
        "oracle": best["mean"],
        "oracle_se": best["stderr"],
        "oracle_draws": best["draws"],
        "share": share,
        "diff": final - best["mean"],
        "below_by": best["mean"] - final,
        "se": se_opt,
        "n_points": rec["params"]["n_points"],
        "progress_epoch": epoch,
        "progress_share": PROGRESS_SHARE,
        "window": w,
    }
    return Finding(
        "U2", verdict, figures, claims,
        figure="final training loss (mean of the last epochs)", path="train.final_loss",
        fmt=".3f",
    )  # fmt: skip
