"""Plot helpers shared by the diffusion notebooks (figures ≤ 7 in wide, labelled axes,
colour bars, the true square drawn)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.collections import LineCollection

from genmod.style import TRAJECTORY_END, TRAJECTORY_START, draw_square


def _np(a):
    return a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)


def scatter_points(ax, pts, title=None, lim=1.6, s=2.0, color="C0", square=True, **kw):
    """Scatter 2D points with the true square, equal aspect, labelled axes."""
    p = _np(pts)
    ax.scatter(p[:, 0], p[:, 1], s=s, color=color, linewidths=0, **kw)
    if square:
        draw_square(ax)
    _square_axes(ax, lim, title)
    return ax


def colored_path(ax, path, c, cmap="viridis", lw=1.0, norm=None):
    """A 2D path (K, 2) drawn as segments coloured by c (K,); returns the LineCollection."""
    p = _np(path)
    c = _np(c)
    seg = np.stack([p[:-1], p[1:]], axis=1)
    lc = LineCollection(seg, cmap=cmap, norm=norm or plt.Normalize(c.min(), c.max()), lw=lw)
    lc.set_array(0.5 * (c[:-1] + c[1:]))
    ax.add_collection(lc)
    return lc


def plot_forward_trajectory(ax, ts, path, start, every: int = 1):
    """U1: one forward path coloured by t, with a colour bar, the start marked."""
    p = _np(path)[::every]
    t = _np(ts)[::every]
    lc = colored_path(ax, p, t, lw=0.8)
    sc = ax.scatter(p[:, 0], p[:, 1], c=t, s=4, cmap="viridis", zorder=3)
    ax.plot(*start, marker="*", color="red", ms=12, zorder=4, label="x₀ (start)", ls="none")
    ax.plot(*p[-1], marker="X", color="black", ms=8, zorder=4, label="x at t = 1", ls="none")
    draw_square(ax)
    ax.set_aspect("equal")
    lo = np.minimum(p.min(0), -1.1) - 0.2
    hi = np.maximum(p.max(0), 1.1) + 0.2
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best")
    plt.colorbar(sc, ax=ax, label="t")
    return lc


def plot_loss(ax, history, window: int = 50):
    """U2: per-epoch (full-batch) loss and its running mean."""
    h = np.asarray(history, dtype=float)
    ax.plot(np.arange(1, len(h) + 1), h, lw=0.5, alpha=0.5, label="loss per epoch (full batch)")
    if len(h) >= window:
        rm = np.convolve(h, np.ones(window) / window, mode="valid")
        ax.plot(np.arange(window, len(h) + 1), rm, lw=1.5, label=f"running mean ({window})")
    ax.axhline(2.0, color="grey", ls=":", lw=1, label="ε̂ = 0 (E‖ε‖² = 2)")
    ax.set_xscale("log")
    ax.set_xlabel("epoch (= one full-batch Adam step)")
    ax.set_ylabel("‖D(x_t, t) − ε‖²  (mean over points)")
    ax.legend()


def seeds_grid(samples, seeds, titles=None, noises=None, lim=1.6):
    """U3: 3×3 panels, one per seed (the initial noise in grey behind when given)."""
    fig, axes = plt.subplots(3, 3, figsize=(7, 7), sharex=True, sharey=True)
    for k, ax in enumerate(axes.flat):
        if k >= len(samples):
            ax.axis("off")
            continue
        if noises is not None:
            scatter_points(ax, noises[k], lim=lim, s=1, color="0.8", square=False)
        scatter_points(ax, samples[k], lim=lim, title=titles[k] if titles else f"seed {seeds[k]}")
        if k % 3:
            ax.set_ylabel("")
        if k < 6:
            ax.set_xlabel("")
    return fig


def steps_grid(samples_by_T, titles, lim=1.6, ncols=4):
    """U4: one panel per number of steps T."""
    n = len(samples_by_T)
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(7, 1.9 * nrows + 0.3), squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k >= n:
            ax.axis("off")
            continue
        scatter_points(ax, samples_by_T[k], lim=lim, title=titles[k], s=1.5)
        ax.title.set_fontsize(8)
    return fig


def plot_sigma_grids(ax, grids: dict, log: bool = True):
    """U5: σ at the sampler's steps, one curve per discretisation: x = step index / T."""
    for k, (name, g) in enumerate(grids.items()):
        s = np.asarray(g["sigma"])
        i = np.arange(len(s)) / (len(s) - 1)
        ax.plot(i, s, marker="o", ms=3, lw=1, label=name, color=f"C{k}")
    ax.set_xlabel("sampler progress i/T (t = 1 − i/T for the original)")
    ax.set_ylabel("σ at step i")
    if log:
        ax.set_yscale("log")
    ax.legend()


def overlay_runs(ax, runs, title=None, lim=1.6, s=4):
    """U6: several runs from the same noise, one colour each."""
    r = _np(runs)
    for k in range(len(r)):
        ax.scatter(r[k, :, 0], r[k, :, 1], s=s, alpha=0.6, linewidths=0, label=f"run {k + 1}")
    draw_square(ax)
    _square_axes(ax, lim, title)


def plot_trajectories(ax, ts, xs, lim=None, cbar=True):
    """U6: trajectories (K, n, 2) of n points coloured by t, start and end marked."""
    x = _np(xs)
    t = _np(ts)
    norm = plt.Normalize(0.0, 1.0)
    lc = None
    for j in range(x.shape[1]):
        lc = colored_path(ax, x[:, j], t, norm=norm, lw=1.2)
    ax.scatter(x[0, :, 0], x[0, :, 1], **TRAJECTORY_START)
    ax.scatter(x[-1, :, 0], x[-1, :, 1], **TRAJECTORY_END)
    draw_square(ax)
    ax.set_aspect("equal")
    if lim is None:
        lo = np.minimum(x.reshape(-1, 2).min(0), -1.1) - 0.2
        hi = np.maximum(x.reshape(-1, 2).max(0), 1.1) + 0.2
    else:
        lo, hi = np.array([-lim, -lim]), np.array([lim, lim])
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="best")
    if cbar and lc is not None:
        plt.colorbar(lc, ax=ax, label="t")


def plot_sampler_study(study: dict, floor: dict, reference: str | None = None):
    """Quality per cost: energy distance and inside fraction vs NFE, noise floor drawn."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(7, 4.0), layout="constrained")
    for k, (_, rec) in enumerate(study.items()):
        a1.plot(
            rec["nfe"], rec["energy_distance"], marker="o", ms=3, label=rec["label"], color=f"C{k}"
        )
        a2.plot(rec["nfe"], rec["inside_fraction"], marker="o", ms=3, color=f"C{k}")
    a1.axhspan(
        min(floor["values"]), floor["p95"], color="grey", alpha=0.25, label="noise floor (min–p95)"
    )
    a1.axhline(floor["median"], color="grey", lw=1, ls="--", label="noise floor median")
    if reference is not None:  # the last (most accurate) point of that curve, as a line
        ref = study[reference]
        a1.axhline(
            ref["energy_distance"][-1], color="k", lw=0.8, ls=":",
            label=f"reference: {ref['label']} at {ref['nfe'][-1]} NFE",
        )  # fmt: skip
    for a in (a1, a2):
        a.set_xscale("log")
        a.set_xlabel("network evaluations (NFE)")
    a1.set_yscale("log")
    a1.set_ylabel("energy distance to fresh true samples")
    a2.set_ylabel("fraction inside the square")
    a2.set_ylim(max(0.0, min(min(r["inside_fraction"]) for r in study.values()) - 0.02), 1.002)
    fig.legend(loc="outside lower center", ncol=2, fontsize=7)
    return fig


def plot_sigma_curves(ax_t, ax_i, schedule, grids: dict):
    """U5: the schedule σ(t) with each grid's sample points on it (ax_t), and σ per step
    index (ax_i); log σ axes."""
    import torch

    tt = torch.linspace(0, 1, 400, dtype=torch.float64)
    ax_t.plot(tt.numpy(), schedule.sigma(tt).numpy(), color="0.6", lw=1, label="σ(t) = e^(5(t−1))")
    for k, (name, g) in enumerate(grids.items()):
        ax_t.plot(
            g["t"], g["sigma"], ls="none", marker="o|"[k % 2], ms=4, color=f"C{k}", label=name
        )
    ax_t.set_yscale("log")
    ax_t.set_xlabel("t")
    ax_t.set_ylabel("σ(t)")
    ax_t.legend(fontsize=6, loc="upper left")
    plot_sigma_grids(ax_i, grids)
    ax_i.set_xlabel("step i / T")
    ax_i.get_legend().remove()


def _square_axes(ax, lim, title=None):
    """Equal-aspect axes over [−lim, lim]², labelled x and y, with an optional title."""
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if title:
        ax.set_title(title)
