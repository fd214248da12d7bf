"""The figures of section 01 (layouts of this section; the drawing of the science objects is
:mod:`genmod.diffusion.plots`). Each takes the run and the workflow's state, draws and shows."""

from __future__ import annotations

import matplotlib.pyplot as plt

from genmod.diffusion import plots
from genmod.style import draw_square


def forward(run, s) -> None:
    start = run.params["forward_start"]
    fig, ax = plt.subplots(figsize=(6, 4.6))
    plots.plot_forward_trajectory(ax, s.t["fwd_ts"], s.t["fwd_path"], start)
    ax.set_title(
        f"Forward SDE from x₀ = ({start[0]:g}, {start[1]:g}), {run.settings.forward_T} steps"
    )
    plt.show()


def loss(run, s) -> None:
    rec = run.results["train"]
    fig, ax = plt.subplots(figsize=(6.5, 3.3))
    plots.plot_loss(ax, rec["loss_history"])
    ax.axhline(
        rec["oracle_loss"]["mean"], color="C3", ls="--", lw=1, label="oracle ε* (irreducible loss)"
    )
    ax.legend()
    plt.show()


def seeds(run, s) -> None:
    T = run.params["T"]
    titles = [
        f"seed {sd}: {100 * m['inside_fraction']:.1f} % in, edge {m['edge_band']:.3f}"
        for sd, m in zip(s.t["seeds"], s.t["per_seed"])
    ]
    fig = plots.seeds_grid(s.t["x9"], s.t["seeds"], titles=titles, noises=s.t["z9"], lim=2.5)
    fig.suptitle(f"DDIM, T = {T}, z ~ N(0, I): nine seeds (grey: initial noise)")
    plt.show()
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
    plots.scatter_points(
        axes[0], s.t["z9"][0], lim=3, title="initial noise z ~ N(0, I)", color="0.4"
    )
    plots.scatter_points(axes[1], s.t["x9"][0], lim=1.5, title="learned denoiser")
    plots.scatter_points(axes[2], s.t["x_or"], lim=1.5, title="oracle ε* (same z)", color="C2")
    plt.show()


def steps(run, s) -> None:
    rec = run.results["steps"]
    titles = [
        f"T = {T_}: {100 * i:.1f} % in\nedge {e:.3f}, ED {d:.4f}"
        for T_, i, e, d in zip(
            rec["T_values"], rec["inside_fraction"], rec["edge_band"], rec["energy_distance"]
        )
    ]
    fig = plots.steps_grid(s.t["steps_points"], titles, lim=2.5)
    fig.suptitle("DDIM (Euler in t), z ~ N(0, I), same noise, increasing T")
    plt.show()


def study(run, s) -> None:
    plots.plot_sampler_study(s.t["study"], s.floor, reference="ddim")
    plt.show()


def improved(run, s) -> None:
    g = s.t["grids"]
    fig, axes = plt.subplots(1, 3, figsize=(7, 2.6))
    plots.plot_sigma_curves(
        axes[0],
        axes[1],
        s.schedule,
        {"original: uniform dt": g["uniform"], "modified: ρ-spaced σ (ρ = 7)": g["karras"]},
    )
    nfe = run.results["improved"]["nfe"]
    plots.scatter_points(axes[2], s.t["x_imp"], lim=1.3, title=f"improved sampler, {nfe} NFE")
    plt.show()


def likelihood(run, s) -> None:
    axis, logp = s.t["lik_axis"], s.t["lik_map"]
    fig, ax = plt.subplots(figsize=(4.8, 3.9))
    im = ax.pcolormesh(axis, axis, logp.clamp_min(-8), shading="nearest", cmap="viridis")
    plt.colorbar(im, ax=ax, label="log p(x) of the PF-ODE output at t = 0 (clipped at −8)")
    ax.scatter(*s.t["lik_points"].T, s=4, color="white", label="interior points")
    draw_square(ax, edgecolor="red")
    ax.set_aspect("equal")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper right", fontsize=7)
    plt.show()


def determinism(run, s) -> None:
    det, sto = run.results["determinism"], run.results["stochastic"]
    lam, n_runs = run.params["lam"], run.settings.n_runs
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.4))
    plots.overlay_runs(
        axes[0],
        s.t["runs_ddim"],
        title=f"DDIM, {n_runs} runs: max |diff| = {det['max_abs_diff']:.3g}",
        lim=1.3,
    )
    plots.overlay_runs(
        axes[1],
        s.t["runs_sto"],
        title=f"stochastic, λ = {lam:g}: max |diff| = {sto['max_abs_diff']:.3g}",
        lim=1.3,
    )
    plt.show()


def trajectories(run, s) -> None:
    tt_d, xs_d, tt_s, xs_s = s.t["traj"]
    fig, axes = plt.subplots(1, 2, figsize=(7, 3.3))
    plots.plot_trajectories(axes[0], tt_d, xs_d, cbar=False)
    axes[0].set_title(f"DDIM: denoising trajectories of {xs_d.shape[1]} points")
    plots.plot_trajectories(axes[1], tt_s, xs_s)
    axes[1].set_title(f"stochastic sampler, λ = {run.params['lam']:g}")
    plt.show()
