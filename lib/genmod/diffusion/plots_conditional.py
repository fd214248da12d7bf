"""Figures of section 02 (conditional diffusion): one function per figure, no computation
beyond arranging what the notebook measured."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from genmod.diffusion.data import Partition
from genmod.style import PAGE_WIDTH_IN, draw_rect, draw_square


def class_colors(n: int) -> list:
    cmap = plt.get_cmap("tab10")
    return [cmap(i) for i in range(n)]


def _np(a) -> np.ndarray:
    return a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)


def draw_partition(ax, partition: Partition, fill: bool = False, alpha: float = 0.12):
    """Outline every rectangle in its class colour (optionally filled), and the square."""
    from matplotlib.patches import Rectangle

    colors = class_colors(partition.n_classes)
    for c, r in partition.rects():
        if fill:
            ax.add_patch(
                Rectangle(
                    (r[0], r[2]), r[1] - r[0], r[3] - r[2], color=colors[c], alpha=alpha, lw=0
                )
            )
        draw_rect(ax, r, edgecolor=colors[c], linestyle="-", linewidth=0.8)
    draw_square(ax, linewidth=1.0)


def scatter_classes(ax, points, labels, partition: Partition, names=None, s=3, legend=True):
    p, lab = _np(points), _np(labels)
    colors = class_colors(partition.n_classes)
    for c in range(partition.n_classes):
        m = lab == c
        label = f"{c}: {names[c]}" if names else f"class {c}"
        ax.scatter(p[m, 0], p[m, 1], s=s, color=colors[c], label=label, linewidths=0)
    draw_partition(ax, partition)
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    if legend:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), markerscale=3, frameon=False)


def samples_panels(panels: list[tuple[str, object, object]], partition: Partition, lim=1.6):
    """One panel per (title, points, labels), side by side."""
    fig, axes = plt.subplots(1, len(panels), figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / len(panels)))
    for ax, (title, pts, lab) in zip(np.atleast_1d(axes), panels):
        scatter_classes(ax, pts, lab, partition, s=1.5, legend=False)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_title(title)
    return fig


def trajectories(paths: list[np.ndarray], labels, partition: Partition, names=None):
    """Denoising trajectories (each (T+1, 2), from t=1 to t=0) in their class colours."""
    colors = class_colors(partition.n_classes)
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN * 0.75, PAGE_WIDTH_IN * 0.6))
    draw_partition(ax, partition, fill=True)
    for path, c in zip(paths, _np(labels)):
        path = _np(path)
        name = f"{c}: {names[c]}" if names else f"class {c}"
        ax.plot(path[:, 0], path[:, 1], color=colors[c], lw=0.9, label=name)
        ax.scatter(*path[0], color=colors[c], marker="o", s=18, edgecolor="k", lw=0.5)
        ax.scatter(*path[-1], color=colors[c], marker="*", s=90, edgecolor="k", lw=0.5)
    ax.set_aspect("equal")
    ax.xaxis.set_major_locator(plt.MultipleLocator(0.5))
    ax.yaxis.set_major_locator(plt.MultipleLocator(0.5))
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="o: z, ★: output")
    return fig


def probes_on_data(
    data, data_labels, probes, values, partition: Partition, value_fmt=None, lim=2.3
):
    """The training data with each probe (x, y, class) marked in its class colour; its label
    (``value_fmt(i)``, e.g. "−L_T ± se / PF-ODE density") sits in a column left or right of the data,
    joined to the probe by a line."""
    colors = class_colors(partition.n_classes)
    lim = max(lim, *(max(abs(p[0]), abs(p[1])) + 0.3 for p in probes))
    fig, ax = plt.subplots(figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.62))
    scatter_classes(ax, data, data_labels, partition, s=1.5, legend=False)
    sides: dict[str, list[int]] = {"left": [], "right": []}
    for i, p in enumerate(probes):
        sides["left" if p[0] < 0.2 else "right"].append(i)
    for side, idx in sides.items():
        idx.sort(key=lambda i: -probes[i][1])
        step = min(0.75, 2 * lim / max(1, len(idx)))
        top = min(lim - 0.2, step * (len(idx) - 1) / 2 + 0.3)
        for k, i in enumerate(idx):
            x, y, c = probes[i]
            ax.scatter(x, y, s=70, marker="X", color=colors[c], edgecolor="k", lw=0.8, zorder=5)
            text = value_fmt(i) if value_fmt else f"{values[i]:.2f}"
            tx = -lim - 1.25 if side == "left" else lim + 0.1  # outside the axes
            ax.annotate(
                f"#{i} c={c}\n{text}",
                (x, y),
                (tx, top - k * step),
                fontsize=7,
                va="center",
                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec=colors[c], alpha=0.9),
                arrowprops=dict(arrowstyle="-", color=colors[c], lw=0.7),
                annotation_clip=False,
                zorder=6,
            )
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    return fig


def heatmaps(
    grids: list[np.ndarray],
    extent,
    titles: list[str],
    partition: Partition,
    vmin,
    vmax,
    label: str = "log p(x | c), PF-ODE output (nats)",
):
    """Log-likelihood heat maps side by side (NaN: blank), with the partition drawn."""
    n = len(grids)
    fig, axes = plt.subplots(1, n, figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN / n + 0.6))
    im = None
    for ax, g, title in zip(np.atleast_1d(axes), grids, titles):
        im = ax.imshow(
            g.T, origin="lower", extent=extent, vmin=vmin, vmax=vmax, cmap="viridis", aspect="equal"
        )
        draw_partition(ax, partition)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([-2, 0, 2])
        ax.set_yticks([-2, 0, 2])
        ax.grid(False)
    fig.colorbar(im, ax=axes, shrink=0.8, label=label)
    return fig


def bonus_trajectories(attempts: list[dict], partition: Partition, names: dict | None = None):
    """Left: x(t) and y(t) of each attempt over time (symlog: z may be huge); right: the
    path near the data and the target. Attempts are drawn in colours no class uses (tab10
    after the classes'), named by ``names`` (method → name; the method id otherwise)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(PAGE_WIDTH_IN, PAGE_WIDTH_IN * 0.42))
    for k, a in enumerate(attempts):
        tr = np.asarray(a["trajectory"])
        col = plt.get_cmap("tab10")((partition.n_classes + k) % 10)
        name = (names or {}).get(a["method"], a["method"])
        a1.plot(tr[:, 0], tr[:, 1], color=col, lw=1.0, label=f"{name}: x")
        a1.plot(tr[:, 0], tr[:, 2], color=col, lw=1.0, ls="--", label=f"{name}: y")
        a2.plot(tr[:, 1], tr[:, 2], color=col, lw=0.9, label=name)
        a2.scatter(*tr[-1, 1:], color=col, marker="*", s=60, edgecolor="k", lw=0.4, zorder=5)
    tgt = attempts[0]["target"]
    a1.set_yscale("symlog", linthresh=1.0)
    a1.invert_xaxis()
    a1.set_xlabel("t (sampling runs from 1 to 0)")
    a1.set_ylabel("coordinate (symlog)")
    a1.legend(fontsize=6, ncol=2, frameon=False)
    draw_partition(a2, partition)
    a2.scatter(*tgt, marker="x", color="k", s=60, zorder=6, label="target")
    span = max(abs(tgt[0]), abs(tgt[1])) + 1.0
    a2.set_xlim(-span, span)
    a2.set_ylim(-span, span)
    a2.set_aspect("equal")
    a2.set_xlabel("x")
    a2.set_ylabel("y")
    a2.legend(fontsize=6, frameon=False, loc="lower left")
    return fig
