"""Section 01's parameters, profiles and per-profile settings.

Notebook parameters (in the order of the notebook's parameters cell): :data:`PARAMETERS`;
budgets default to None and come from :data:`PROFILES`. Per-profile knobs that are not
notebook parameters (network size, noise floor repeats, the NFE grid of the sampler study)
live in :class:`Settings` (:func:`settings`) and are recorded in results.json.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from genmod import params as P
from genmod.diffusion.models import DenoiserConfig
from genmod.sections.markdown import table

SECTION = "diffusion_unconditional"

PARAMETERS = P.COMMON_PARAMETERS + (
    "n_points",
    "epochs",
    "T",
    "T_values",
    "lam",
    "forward_start",
)

PROFILES = {
    "smoke": {
        "n_points": 500,
        "epochs": 200,
        "T": 100,
        "T_values": [1, 5, 20, 100],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
    "default": {
        "n_points": 2000,
        "epochs": 3000,
        "T": 1000,
        "T_values": [1, 2, 5, 10, 20, 50, 100, 1000],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
    "full": {
        "n_points": 2000,
        "epochs": 6000,
        "T": 1000,
        "T_values": [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        "lam": 1.0,
        "forward_start": [1.6, -1.3],
    },
}


@dataclass
class Settings:
    """Per-profile knobs that are not notebook parameters."""

    model: DenoiserConfig = field(default_factory=DenoiserConfig)
    noise_draws: int = 1
    lr: float = 1e-3
    n_samples: int = 1000  # points per sample (U3–U6 and the metrics)
    floor_repeats: int = 100  # repeats of the noise floor
    forward_T: int = 1000  # steps of the U1 forward trajectory
    det_points: int = 200  # points of each of the 10 U6 runs
    n_runs: int = 10  # U6 runs
    study_nfe: list[int] = field(default_factory=lambda: [3, 5, 9, 17, 33, 65, 129, 1001])
    improved_steps: int = 50  # Heun steps of the U5 sampler (NFE = 2·steps + 1)
    schedule_plot_steps: int = 20  # steps of the grids drawn in the U5 σ(t) figure
    cpu_threads: int | None = 1  # small MLPs: one thread avoids synchronisation overhead
    lik_grid: int = 7  # interior grid (lik_grid²) of the exact likelihood check
    lik_map: int = 31  # heat-map resolution
    eq9_draws: int = 4096  # (t, ε) draws per point of the Eq. 9 estimate
    # rtol = atol of the adaptive ODE solver of the density: 1e-6 keeps every point within
    # 1e-3 nats of a 16000-step float64 RK4 (measured on the default network); the heat map
    # is a picture and takes a looser tolerance
    lik_tol: float = 1e-6
    lik_map_tol: float = 1e-4
    forward_paths: int = 4000  # independent forward paths of the U1 variance check
    oracle_loss_draws: int = 20  # full-batch (t, ε) draws of the oracle's loss
    traj_points: int = 4  # U6 trajectories
    traj_scale: float = 1.4  # their start: traj_scale · N(0, I)

    def to_json(self) -> dict:
        return asdict(self)


_NET = dict(hidden=64, n_layers=3, x_freqs=3, activation="leaky_relu")

SETTINGS = {
    "smoke": Settings(
        model=DenoiserConfig(**_NET),
        lr=3e-3,
        n_samples=500,
        floor_repeats=20,
        forward_T=200,
        det_points=50,
        study_nfe=[3, 9, 33],
        improved_steps=10,
        lik_grid=4,
        lik_map=11,
        lik_tol=1e-4,
    ),
    "default": Settings(model=DenoiserConfig(**_NET)),
    "full": Settings(
        model=DenoiserConfig(**{**_NET, "hidden": 128}),
        floor_repeats=200,
        study_nfe=[3, 5, 9, 17, 33, 65, 129, 257, 1001],
    ),
}


def settings(profile: str) -> Settings:
    """The settings of ``profile``."""
    return SETTINGS[P.check_profile(profile)]


def _check_start(name, value):
    xy = P.check_list(name, value, P.check_float, min_len=2, max_len=2)
    if max(abs(xy[0]), abs(xy[1])) <= 1.0:
        raise ValueError(f"{name}={value!r}: the start point must lie outside the square [-1, 1]²")
    return xy


CHECKS: dict[str, Callable] = {
    "n_points": lambda n, v: P.check_int(n, v, 10, 1_000_000),
    "epochs": lambda n, v: P.check_int(n, v, 1, 10_000_000),
    "T": lambda n, v: P.check_int(n, v, 1, 100_000),
    "T_values": lambda n, v: P.check_list(n, v, lambda m, x: P.check_int(m, x, 1, 100_000), 1, 20),
    "lam": lambda n, v: P.check_float(n, v, 0.0, 100.0),
    "forward_start": _check_start,
}


def resolve_params(given: dict) -> dict:
    """Fill budgets from the profile and validate every parameter (one-line ValueError)."""
    return P.resolve(given, PROFILES, CHECKS)


def profiles_table(current: str) -> str:
    """The profiles (budgets and network) as a Markdown table, the current one in bold."""
    rows = []
    for name, prof in PROFILES.items():
        st = SETTINGS[name]
        rows.append(
            [
                f"**{name}**" if name == current else name,
                prof["n_points"],
                prof["epochs"],
                prof["T"],
                ", ".join(map(str, prof["T_values"])),
                f"{st.model.n_layers}×{st.model.hidden}",
                st.n_samples,
                st.floor_repeats,
                ", ".join(map(str, st.study_nfe)),
            ]
        )
    headers = ["profile", "n_points", "epochs", "T", "T_values", "MLP", "samples"]
    return table(headers + ["floor repeats", "study NFE"], rows)
