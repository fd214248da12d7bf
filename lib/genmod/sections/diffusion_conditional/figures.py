"""The figures of section 02 (layouts of this section; the drawing of the science objects is
:mod:`genmod.diffusion.plots_conditional`). Each takes the outcomes of the workflow's steps
(their tensors and records), draws and shows."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from genmod.diffusion import plots_conditional as PC
from genmod.sections.diffusion_conditional.config import bonus_name
from genmod.sections.diffusion_conditional.workflow import shown_points


def data(s) -> None:
    fig, ax = plt.subplots(figsize=(6.2, 4.2))
    x, lab, what = shown_points(s)
    PC.scatter_classes(ax, x, lab, s.partition, names=s.names, s=4)
    ax.set_title(f"{what}, {s.K} classes")
    plt.show()


def loss(trained, s) -> None:
    fig, ax = plt.subplots(figsize=(6, 2.6))
    h = np.asarray(trained.history)
    ax.plot(h, lw=0.6)
    if len(h) and h.min() > 0 and h.max() / h.min() > 10:  # a log axis only when it helps
        ax.set_yscale("log")
    bs = trained.config.batch_size
    full = not bs or bs >= len(s.x0)
    ax.set_xlabel(
        "epoch (one full-batch step)" if full else f"epoch (mean over its minibatches of {bs})"
    )
    ax.set_ylabel("loss ‖D(x_t,t,c) − ε‖²")
    ax.set_title("Conditional denoiser: training loss")
    plt.show()


def trajectories(tr, s) -> None:
    PC.trajectories([tr.paths[:, c] for c in range(s.K)], tr.labels, s.partition, s.names)
    plt.show()


def samples(smp, s) -> None:
    panels = [
        ("learned, exercise sampler", smp.learned, smp.labels),
        ("oracle, exercise sampler", smp.oracle, smp.labels),
        ("learned, improved sampler", smp.improved, smp.labels),
    ]
    PC.samples_panels(panels, s.partition)
    plt.show()


def probes(pr, s) -> None:
    rec = pr.records["probes"]

    def fmt(i):
        return (
            f"−L_T {rec[i]['log_prob_bound']:.4g} ± {rec[i]['stderr']:.2g}\n"
            f"ODE {rec[i]['exact_log_prob']:.4g}"
        )

    pts = [[r["x"], r["y"], r["class"]] for r in rec]
    x, lab, _ = shown_points(s)
    PC.probes_on_data(x, lab, pts, None, s.partition, value_fmt=fmt)
    plt.show()


def heatmaps(lik, s) -> None:
    grids = lik.grids
    titles = [f"c={c} {s.names[c]}" for c in range(s.K)]
    vmax = max(3.0, float(np.max(grids)))
    PC.heatmaps(
        grids, (-2, 2, -2, 2), titles, s.partition, vmin=-12, vmax=vmax,
        label="log p(x | c), PF-ODE output (nats)",
    )  # fmt: skip
    plt.show()


def compare(cmp, s) -> None:
    n, c = cmp.n, cmp.c
    grids = [np.where(np.isfinite(v), v, np.nan).reshape(n, n) for v in cmp.grids.values()]
    PC.heatmaps(
        grids, (-2, 2, -2, 2), [f"{k}, c={c}" for k in cmp.grids], s.partition, vmin=-12,
        vmax=3.0, label="log p(x | c) or its bound (nats)",
    )  # fmt: skip
    plt.show()


def bonus(b, s) -> None:
    names = {a["method"]: bonus_name(a) for a in b.attempts}
    PC.bonus_trajectories(b.attempts, s.partition, names)
    plt.show()


def data_size(study) -> None:
    """The stored data-size study (the workflow's ``data_size_study`` record): per seed and
    training-set size, the largest oracle − learned gap, the largest interior log-density
    error and the smallest memorisation ratio, with their means and the targets (nothing
    without a stored study)."""
    rec = study.records["data_size_study"]
    if not rec["stored"]:  # no study stored: C5 says so, and there is nothing to draw
        return
    runs, t = rec["runs"], rec["targets"]
    panels = [
        ("max_gap", "largest oracle − learned gap", t["max_gap"]),
        ("max_lik_err", "largest |log p − truth| (nats)", t["max_lik_err"]),
        ("min_memorisation", "smallest memorisation ratio", t["min_memorisation"]),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(10.5, 3.0))
    sizes = [r["n_points"] for r in rec["rows"]]
    for ax, (key, label, target) in zip(axes, panels, strict=True):
        ax.scatter([r["n_points"] for r in runs], [r[key] for r in runs], s=14, alpha=0.7,
                   label="one seed")  # fmt: skip
        ax.plot(sizes, [r[key]["mean"] for r in rec["rows"]], "-", lw=1.2, label="mean")
        ax.axhline(target, color="0.4", ls="--", lw=0.8, label="target")
        ax.set_xscale("log")
        ax.set_xlabel("training points")
        ax.set_title(label, fontsize=10)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"Data-size study ({rec['adam_steps']:,} Adam steps, seeds {', '.join(map(str, rec['seeds']))}; "
        f"{rec['source'].rsplit('/', 1)[-1]})",
        fontsize=10,
    )
    plt.show()
