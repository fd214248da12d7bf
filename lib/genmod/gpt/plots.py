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


def plot_inversion(ax_loss, ax_ok, runs: dict, n_target: int):
    """The inversion's loss and its number of correct positions per step, one colour per run.

    ``runs`` maps a label to a dict with ``loss`` (the minimised loss per step), ``ce`` (its
    cross-entropy term), ``hinge`` (its hinge term; all zero when no hinge is used),
    ``n_correct`` and ``steps`` (the step of first success, or None). The loss is drawn
    solid; when a hinge is used, the cross-entropy term alone is drawn dashed in the same
    colour. The loss panel's legend names the line styles, the other panel's the runs.
    """
    from matplotlib.lines import Line2D

    hinge = any(h > 0 for r in runs.values() for h in r["hinge"])
    for i, (label, r) in enumerate(runs.items()):
        ax_loss.plot(r["loss"], color=f"C{i}")
        if hinge:
            ax_loss.plot(r["ce"], color=f"C{i}", ls="--", lw=0.9)
        ax_ok.plot(r["n_correct"], color=f"C{i}", label=label)
        if r["steps"] is not None:
            ax_loss.axvline(r["steps"], color=f"C{i}", ls=":", lw=1)
            ax_ok.axvline(r["steps"], color=f"C{i}", ls=":", lw=1)
    styles = [
        Line2D([], [], color="0.3", label="cross-entropy + hinge" if hinge else "cross-entropy")
    ]
    if hinge:
        styles.append(Line2D([], [], color="0.3", ls="--", lw=0.9, label="its cross-entropy term"))
    ax_ok.axhline(n_target, color="0.4", ls="--", lw=0.8)
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("optimisation step")
    ax_loss.set_ylabel("minimised loss (mean over positions)")
    ax_ok.set_xlabel("optimisation step")
    ax_ok.set_ylabel(f"positions decoded right (of {n_target})")
    ax_loss.legend(handles=styles, fontsize=7, loc="upper right")
    ax_ok.yaxis.get_major_locator().set_params(integer=True)
    ax_ok.legend(fontsize=7, loc="best")
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
