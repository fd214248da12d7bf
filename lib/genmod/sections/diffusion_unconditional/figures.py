"""The figures of section 01 (layouts of this section; the drawing of the science objects is
:mod:`genmod.diffusion.plots`). Each takes the outcomes of the workflow's steps (their tensors and records), draws and shows."""

from __future__ import annotations

import matplotlib.pyplot as plt

from genmod.diffusion import plots
from genmod.style import draw_square


def forward(fwd) -> None:
    rec = fwd.records["forward"]
    start = rec["start"]
    fig, ax = plt.subplots(figsize=(6, 4.6))
    plots.plot_forward_trajectory(ax, fwd.ts, fwd.path, start)
    ax.set_title(f"Forward SDE from x₀ = ({start[0]:g}, {start[1]:g}), {rec['steps']} steps")
    plt.show()


def loss(trained) -> None:
    rec = trained.records["train"]
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    plots.plot_loss(ax, rec["loss_history"])
    ax.axhline(
        rec["oracle_loss"]["mean"], color="C3", ls="--", lw=1, label="oracle ε* (irreducible loss)"
    )
    ax.legend()
    plt.show()


def seeds(nine) -> None:
    T = nine.records["samples"]["T"]
    titles = [
        f"seed {sd}: {100 * m['inside_fraction']:.1f} % in, edge {m['edge_band']:.3f}"
        for sd, m in zip(nine.seeds, nine.per_seed)
    ]
    fig = plots.seeds_grid(nine.x9, nine.seeds, titles=titles, noises=nine.z9, lim=2.5)
    fig.suptitle(f"DDIM, T = {T}, z ~ N(0, I): nine seeds (grey: initial noise)")
    plt.show()
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
    plots.scatter_points(axes[0], nine.z9[0], lim=3, title="initial noise z ~ N(0, I)", color="0.4")
    plots.scatter_points(axes[1], nine.x9[0], lim=1.5, title="learned denoiser")
    plots.scatter_points(axes[2], nine.x_oracle, lim=1.5, title="oracle ε* (same z)", color="C2")
    plt.show()


def steps(sweep) -> None:
    rec = sweep.records["steps"]
    titles = [
        f"T = {T_}: {100 * i:.1f} % in\nedge {e:.3f}, ED {d:.4f}"
        for T_, i, e, d in zip(
            rec["T_values"], rec["inside_fraction"], rec["edge_band"], rec["energy_distance"]
        )
    ]
    fig = plots.steps_grid(sweep.points, titles, lim=2.5)
    fig.suptitle("DDIM (Euler in t), z ~ N(0, I), same noise, increasing T")
    plt.show()


def study(study, setup) -> None:
    plots.plot_sampler_study(study.study, setup.floor, reference="ddim")
    plt.show()


def improved(imp, setup) -> None:
    g = imp.grids
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
    plots.plot_sigma_curves(
        axes[0],
        axes[1],
        setup.schedule,
        {"original: uniform dt": g["uniform"], "modified: ρ-spaced σ (ρ = 7)": g["karras"]},
    )
    nfe = imp.records["improved"]["nfe"]
    plots.scatter_points(axes[2], imp.points, lim=1.3, title=f"improved sampler, {nfe} NFE")
    plt.show()


def likelihood(lik) -> None:
    axis, logp = lik.axis, lik.log_prob
    fig, ax = plt.subplots(figsize=(4.8, 3.9))
    im = ax.pcolormesh(axis, axis, logp.clamp_min(-8), shading="nearest", cmap="viridis")
    plt.colorbar(im, ax=ax, label="log p(x) of the PF-ODE output at t = 0 (clipped at −8)")
    ax.scatter(*lik.points.T, s=4, color="white", label="interior points")
    draw_square(ax, edgecolor="red")
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper right", fontsize=7)
    plt.show()


def determinism(d) -> None:
    det, sto = d.records["determinism"], d.records["stochastic"]
    lam, n_runs = sto["lam"], det["runs"]
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    plots.overlay_runs(
        axes[0],
        d.runs_ddim,
        title=f"DDIM, {n_runs} runs: max |diff| = {det['max_abs_diff']:.3g}",
        lim=1.3,
    )
    plots.overlay_runs(
        axes[1],
        d.runs_stochastic,
        title=f"stochastic, λ = {lam:g}: max |diff| = {sto['max_abs_diff']:.3g}",
        lim=1.3,
    )
    plt.show()


def trajectories(tr) -> None:
    (tt_d, xs_d), (tt_s, xs_s) = tr.ddim, tr.stochastic
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.3))
    plots.plot_trajectories(axes[0], tt_d, xs_d, cbar=False)
    axes[0].set_title(f"DDIM: denoising trajectories of {xs_d.shape[1]} points")
    plots.plot_trajectories(axes[1], tt_s, xs_s)
    axes[1].set_title(f"stochastic sampler, λ = {tr.records['trajectories']['lam']:g}")
    plt.show()
