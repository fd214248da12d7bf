"""Figures and small summaries for notebook 03 (kept out of the notebook, tested)."""

from __future__ import annotations

import math

import numpy as np


def smooth(values, window: int = 20) -> np.ndarray:
    """Trailing moving average (shorter at the start)."""
    v = np.asarray(values, dtype=float)
    c = np.cumsum(np.insert(v, 0, 0.0))
    idx = np.arange(1, len(v) + 1)
    lo = np.maximum(idx - window, 0)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_losses(ax, history: dict, best_step: int, reference: float | None = None):
    """Train/validation loss against optimisation step, with training seconds on top."""
    steps = np.asarray(history["step"])
    ax.plot(
        steps,
        history["step_loss"],
        color="0.8",
        lw=0.6,
        label="training batch (training objective)",
    )
    ax.plot(steps, smooth(history["step_loss"]), color="C0", lw=1.0, alpha=0.6,
            label="training batch, moving average")  # fmt: skip
    ax.plot(history["eval_step"], history["train"], "o-", color="C0", ms=3,
            label="training sample (eval mode)")  # fmt: skip
    ax.plot(history["eval_step"], history["val"], "s-", color="C3", ms=3,
            label="validation (whole held-out 10 %)")  # fmt: skip
    best = history["val"][history["eval_step"].index(best_step)]
    ax.axvline(best_step, color="C3", ls=":", lw=1)
    ax.annotate(f"kept: step {best_step}\nval {best:.3f}", (best_step, best),
                xytext=(8, 20), textcoords="offset points", fontsize=8, color="C3")  # fmt: skip
    ax.axhline(math.log(50257), color="0.5", ls="--", lw=0.8)
    ax.text(steps[-1], math.log(50257), "ln 50257 (uniform)", ha="right", va="bottom", fontsize=7)
    if reference is not None:
        ax.axhline(reference, color="C2", ls="--", lw=0.8)
        ax.text(steps[0], reference, f"{reference:.2f}", va="top", fontsize=7, color="C2")
    ax.set_xlabel("optimisation step")
    ax.set_ylabel("cross-entropy (nats / token)")
    ax.set_ylim(bottom=max(0.0, min(min(history["step_loss"]), min(history["val"])) - 0.5))
    ax.legend(loc="upper center", fontsize=8)  # the curves are low there after the first steps
    # a secondary axis with the training seconds (evaluations excluded), at the run's mean
    # seconds per step (linear, so ticks past the last step do not pile up)
    t = np.asarray(history["step_time"])
    if len(t) > 1 and t[-1] > 0:
        rate = t[-1] / steps[-1]
        sec = ax.secondary_xaxis("top", functions=(lambda s: s * rate, lambda x: x / rate))
        sec.set_xlabel("training time (s)")
    return ax


def plot_inversion(ax_loss, ax_ok, runs: dict):
    """Loss and number of correct positions per step, one line per run (label → result)."""
    for i, (label, r) in enumerate(runs.items()):
        ax_loss.plot(r.losses, color=f"C{i}", label=label)
        ax_ok.plot(r.n_correct, color=f"C{i}", label=label)
        if r.steps is not None:
            ax_loss.axvline(r.steps, color=f"C{i}", ls=":", lw=1)
            ax_ok.axvline(r.steps, color=f"C{i}", ls=":", lw=1)
    n = len(next(iter(runs.values())).target_ids)
    ax_ok.axhline(n, color="0.4", ls="--", lw=0.8)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("optimisation step")
    ax_loss.set_ylabel("cross-entropy to the target")
    ax_ok.set_xlabel("optimisation step")
    ax_ok.set_ylabel(f"positions decoded right (of {n})")
    ax_loss.legend()
    return ax_loss, ax_ok


def attention_summary(scores, tokens) -> dict:
    """Shape of one attention row: entropy, effective number of tokens (e^H), mass on the
    last / first token, mean look-back distance, top tokens."""
    a = np.asarray(scores, dtype=float)
    n = len(a)
    nz = a[a > 0]
    ent = float(-(nz * np.log(nz)).sum())
    dist = (n - 1) - np.arange(n)  # 0 for the query's own (last) token
    top = np.argsort(-a)[:3]
    return {
        "sum": float(a.sum()),
        "entropy": ent,
        "effective_tokens": float(math.exp(ent)),
        "last_token_mass": float(a[-1]),
        "first_token_mass": float(a[0]),
        "mean_lookback": float((a * dist).sum()),
        "top": [(int(i), tokens[i], float(a[i])) for i in top],
    }


def total_variation(p, q) -> float:
    return float(0.5 * np.abs(np.asarray(p) - np.asarray(q)).sum())
