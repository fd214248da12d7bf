"""The hand-made results record of section 01 (shaped like a smoke run's) that its answers and
headlines tests change one path at a time, and the parts it is built from."""

from __future__ import annotations

import copy
import math

from answers_fixtures import set_at

N = 500  # points per sample


def metrics(inside=0.99, edge=0.19, ed=0.003, kx=0.5, ky=0.5, corner=0.04, outside=None):
    return {
        "inside_fraction": inside,
        "edge_band": edge,
        "energy_distance": ed,
        "ks": {"x": {"statistic": 0.03, "pvalue": kx}, "y": {"statistic": 0.03, "pvalue": ky}},
        "below_floor_p95": ed <= 0.012,
        "outside_median_distance": outside,
        "corner_share": corner,
    }


def sigma_grid(kind: str, steps: int = 20) -> dict:
    if kind == "uniform":
        t = [1 - i / steps for i in range(steps + 1)]
        return {"t": t, "sigma": [math.exp(5 * (x - 1)) for x in t]}
    smax, smin, rho = 1.0, math.exp(-5), 7.0
    s = [
        (smax ** (1 / rho) + i / steps * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
        for i in range(steps + 1)
    ]
    return {"t": [1 + math.log(v) / 5 for v in s], "sigma": s}


def ablation_row(label, nfe, steps, learned, oracle):
    return {"label": label, "nfe": nfe, "steps": steps, "learned": learned, "oracle": oracle}


def record() -> dict:
    """A record shaped like a smoke run's (numbers close to a real one)."""
    hist = [2.0 - 0.3 * min(1.0, e / 60) + 0.05 * ((-1) ** e) for e in range(200)]
    study = {
        name: {
            "label": label,
            "nfe": nfe,
            "energy_distance": ed,
            "inside_fraction": [0.9] * 3,
            "edge_band": [0.15] * 3,
        }  # fmt: skip
        for name, label, nfe, ed in [
            (
                "ddim",
                "Euler in t (DDIM), uniform t, matched prior, final x̂₀",
                [3, 9, 33],
                [0.2, 0.027, 0.0048],
            ),
            (
                "euler_sigma",
                "Euler in σ, uniform t, matched prior, final x̂₀",
                [3, 9, 33],
                [0.03, 0.0051, 0.003],
            ),
            (
                "euler_sigma_karras",
                "Euler in σ, ρ-spaced σ, matched prior, final x̂₀",
                [3, 9, 33],
                [0.02, 0.0046, 0.003],
            ),
            (
                "heun_karras",
                "Heun in σ, ρ-spaced σ, matched prior, final x̂₀",
                [3, 9, 33],
                [0.01, 0.0039, 0.0025],
            ),
        ]  # fmt: skip
    }
    ex_l, ex_o = metrics(0.958, 0.088, 0.00996), metrics(0.996, 0.114, 0.0058)
    mp_l, mp_o = metrics(0.918, 0.148, 0.00316), metrics(0.988, 0.160, 0.003)
    fd_l, fd_o = metrics(0.958, 0.084, 0.0098), metrics(1.0, 0.113, 0.0058)
    both_l = metrics(0.918, 0.15, 0.0032, outside=0.244)
    both_o = metrics(1.0, 0.16, 0.003)
    imp_l, imp_o = metrics(0.99, 0.185, 0.0024, corner=0.038), metrics(1.0, 0.2, 0.0028)
    lik_values = [-1.4, -1.3, -1.35, -1.45]
    return {
        "section": "diffusion_unconditional",
        "params": {"n_points": 500, "T": 100, "lam": 1.0, "T_values": [1, 5, 20, 100]},
        "settings": {"noise_draws": 1},
        "answers": {},
        "noise_floor": {"median": 0.00285, "p95": 0.01191, "n": N, "repeats": 20},
        "forward": {
            "start": [1.6, -1.3],
            "trajectory": [[0.0, 1.6, -1.3]] * 201,
            "steps": 200,
            "distance_half": 0.179,
            "distance_end": 0.31,
            "check": {
                "n_paths": 4000,
                "t_half": 0.5,
                "var_half": 0.00664,
                "sigma2_half": 0.006738,
                "var_end": 1.011,
                "sigma2_end": 1.0,
                "var_half_stderr": 0.00010655,
                "var_end_stderr": 0.0158134,
                "mean_err": 0.02,
                "mean_err_bound": 0.0353618,
                "mean_err_bound_z": 2.2364766445577895,
                "random_walk_var_end": 20.503,
            },
        },
        "train": {
            "loss_history": hist,
            "final_loss": sum(hist[-100:]) / 100,
            "final_loss_window": 100,
            "initial_loss": sum(hist[:10]) / 10,
            "initial_loss_window": 10,
            "oracle_loss": {"mean": 1.70, "stderr": 0.02, "draws": 20},
            "epochs": 200,
            "noise_draws": 1,
            "from_cache": False,
            "seconds": 3.4,
            "n_parameters": 10498,
        },
        "samples": {
            "points": [[0.0, 0.0]] * N,
            "T": 100,
            "seed": 0,
            "n_points": N,
            "inside_fraction": 0.994,
            "edge_band": 0.11,
            "energy_distance": 0.0122,
            "ks": metrics()["ks"],
            "corner_share": 0.015,
            "oracle_inside_fraction": 0.996,
            "oracle_edge_band": 0.114,
            "oracle_energy_distance": 0.0094,
            "oracle_ks": metrics()["ks"],
            "oracle_corner_share": 0.016,
            "truth_sample": metrics(1.0, 0.19, 0.002),
            "truth_edge_band": 0.19,
            "truth_corner_share": 0.04,
            "seeds_inside_fraction": [0.958, 0.97, 0.98] * 3,
            "seeds_edge_band": [0.06, 0.075, 0.09] * 3,
            "seeds_energy_distance": [0.012, 0.01, 0.011] * 3,
            "seeds_corner_share": [0.012, 0.013, 0.014] * 3,
            "std_per_coordinate": {
                "learned": 0.523,
                "oracle": 0.522,
                "truth": (1 / 3) ** 0.5,
                "learned_stderr": 0.003,
                "oracle_stderr": 0.008,
                "learned_points": 9 * N,
            },
            "prior_var": 1.0,
            "t1_marginal_var": 4 / 3,
        },
        "steps": {
            "T_values": [1, 5, 20, 100],
            "points": [[[0.0, 0.0]] * N] * 4,
            "n_points": N,
            "schedule_rate": 5.0,
            "inside_fraction": [0.312, 0.998, 0.972, 0.958],
            "edge_band": [0.722, 0.004, 0.08, 0.088],
            "energy_distance": [0.7177, 0.1095, 0.0062, 0.0052],
            "oracle_inside_fraction": [0.104, 1.0, 0.99, 0.996],
            "oracle_edge_band": [0.916, 0.0, 0.1, 0.114],
            "oracle_energy_distance": [1.0328, 0.1771, 0.0070, 0.0058],
        },
        "samplers": study,
        "samplers_summary": {
            "reference": 0.0048,
            "tolerance": 0.0138,
            "reference_nfe": 33,
            **{
                k: {
                    "label": v["label"],
                    "min_nfe_within_floor": m,
                    "best_energy_distance_at_most_20_nfe": 0.004,
                }
                for (k, v), m in zip(study.items(), [33, 9, 9, 3])
            },  # fmt: skip
        },
        "improved": {
            "points": [[0.0, 0.0]] * N,
            "description": "Heun in σ, ρ-spaced σ, matched prior, final x̂₀; 10 Heun steps",
            "nfe": 21,
            "n_points": N,
            **{k: imp_l[k] for k in ("inside_fraction", "edge_band", "energy_distance", "ks")},
            "corner_share": 0.038,
            "oracle": imp_o,
            "seeds": {
                "inside_fraction": [0.99] * 9,
                "edge_band": [0.18] * 9,
                "energy_distance": [0.003] * 9,
                "ks_pvalues": [[0.5, 0.5]] * 9,
                "corner_share": [0.04] * 9,
            },
        },
        "ablation": {
            "exercise": ablation_row("Euler in t (DDIM), uniform t, N(0, I)", 100, 100, ex_l, ex_o),
            "matched_prior": ablation_row(
                "Euler in t (DDIM), uniform t, matched prior", 100, 100, mp_l, mp_o
            ),  # fmt: skip
            "final_denoise": ablation_row(
                "Euler in t (DDIM), uniform t, N(0, I), final x̂₀", 101, 100, fd_l, fd_o
            ),  # fmt: skip
            "matched_prior_final_denoise": ablation_row(
                "Euler in t (DDIM), uniform t, matched prior, final x̂₀", 101, 100, both_l, both_o
            ),
            "improved": ablation_row(
                "Heun in σ, ρ-spaced σ, matched prior, final x̂₀", 21, 10, imp_l, imp_o
            ),  # fmt: skip
        },
        "schedules": {
            "original": {"sigma_min": math.exp(-5), "sigma_max": 1.0, **sigma_grid("uniform")},
            "modified": {"sigma_min": math.exp(-5), "sigma_max": 1.0, **sigma_grid("karras")},
        },
        "likelihood": {
            "interior_mean_exact": -1.37,
            "truth": -math.log(4),
            "distribution": "probability-flow ODE output at t = 0",
            "solver": {"method": "dopri5", "rtol": 1e-6, "atol": 1e-6, "dtype": "float64"},
            "variants": {
                "truth": -math.log(4),
                "n_points": 4,
                "margin": 0.2,
                **{
                    k: {
                        "mean": sum(lik_values) / 4,
                        "min": -1.45,
                        "max": -1.3,
                        "stderr": 0.03,
                        "nfe": 500,
                        "values": list(lik_values),
                    }  # fmt: skip
                    for k in (
                        "learned_matched",
                        "oracle_matched",
                        "learned_standard",
                        "oracle_standard",
                        "learned_matched_denoised",
                        "oracle_matched_denoised",
                    )
                },
                "eq9": {
                    "T": 100,
                    "n_draws": 4096,
                    "mean": -8.87,
                    "mc_stderr_max": 0.086,
                    "reconstruction": 7.16,
                    "prior_kl_mean": 0.36,
                    "full_bound_mean": -2.06,
                    "full_bound_minus_ode": {"mean": -0.66, "stderr": 0.08},
                },
            },
        },
        "determinism": {"max_abs_diff": 0.0, "runs": 10, "n_points": 50, "T": 100},
        "stochastic": {
            "lam": 1.0,
            "max_abs_diff": 1.913,
            "runs": 10,
            "inside_fraction": [0.88, 0.92, 1.0],
            "mean_spread": 0.7,
            "max_abs_value": 1.9,
            "n_points": 50,
        },
        "trajectories": {
            "ddim": {
                "t": [],
                "points": [],
                "path_ratio": 1.03,
                "path_ratios": [1.01, 1.02, 1.04, 1.05],
                "end_inside": 3,
                "identical_to_ddim": True,
            },  # fmt: skip
            "stochastic": {
                "t": [],
                "points": [],
                "path_ratio": 6.0,
                "path_ratios": [5.0, 6.5, 6.0, 6.5],
                "end_inside": 4,
                "identical_to_ddim": False,
            },  # fmt: skip
            "path_ratio_difference": {"mean": 4.97, "stderr": 0.3, "n": 4},
            "n_points": 4,
            "start_scale": 1.4,
            "lam": 1.0,
        },
    }


def with_(rec: dict, **changes) -> dict:
    """A copy of ``rec`` with dotted paths set: with_(rec, **{"samples.edge_band": 0.1})."""
    out = copy.deepcopy(rec)
    for path, value in changes.items():
        set_at(out, path.split("."), value)
    return out


#: U4's sweep without a small T: only T = 50 and 100, both near the end result.
NO_SMALL_T = {
    "steps.T_values": [50, 100],
    "steps.inside_fraction": [0.96, 0.958],
    "steps.edge_band": [0.09, 0.088],
    "steps.energy_distance": [0.0055, 0.0052],
    "steps.oracle_inside_fraction": [0.996, 0.996],
    "steps.oracle_edge_band": [0.113, 0.114],
    "steps.oracle_energy_distance": [0.006, 0.0058],
}
