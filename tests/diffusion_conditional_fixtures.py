"""The hand-made results record of section 02 (K = 5 classes, 100 samples per class) that its
answers and headlines tests change one path at a time, and the parts it is built from."""

from __future__ import annotations

import json
import math

from answers_fixtures import set_at

K = 5
NAMES = ["L-shape", "thin strip", "small square", "two pieces", "frame"]
N = 100  # samples per class


def spread(edge=0.3, edge_true=0.3, fill=0.5, fill_true=0.5, outside=0.1, offset=0.05):
    return {
        "n": N,
        "mean_offset": offset,
        "std_ratio": [1.0, 1.0],
        "edge_share": edge,
        "edge_share_true": edge_true,
        "fill": fill,
        "fill_true": fill_true,
        "outside_share": outside,
        "other_class_share": outside / 2,
    }


def geo(c):
    return {
        "area": [2.2, 0.3, 0.09, 0.34, 1.07][c],
        "perimeter": [8.0, 2.9, 1.2, 3.3, 6.1][c],
        "perimeter_per_area": [3.6, 9.6, 13.3, 9.7, 5.7][c],
        "edge_area_share": {"0.05": 0.2, "3σ(0)": [0.07, 0.19, 0.25, 0.18, 0.11][c]},
        "pieces": [1, 1, 1, 2, 1][c],
        "holes": [0, 0, 0, 0, 1][c],
        "convex": [False, True, True, False, False][c],
        "mean": [[-0.33, -0.2], [0.4, -0.375], [0.35, 0.25], [0.42, 0.36], [0.4, 0.39]][c],
        "mean_inside": [True, True, True, False, False][c],
        "correlation": [-0.48, 0.0, 0.0, -0.92, 0.44][c],
    }


MEMO_LEARNED = (0.95, 0.82, 0.64, 0.97, 1.10)  # memorisation ratios: below the oracle for 1, 2
MEMO_ORACLE = (0.98, 1.01, 1.03, 0.99, 0.96)  # (standard errors 0.04), above for 4


def memo(ratio, n_train, se=0.04, n=N):
    """One class's memorisation record (median distances scaled to give ``ratio``)."""
    return {
        "n": n,
        "n_train": n_train,
        "median_samples": 0.02 * ratio,
        "median_fresh": 0.02,
        "ratio": ratio,
        "ratio_stderr": se,
    }


def per_class(values):
    return {str(c): v for c, v in enumerate(values)}


def probe(x, y, c, bound, se, exact, truth, kl=0.1, d=0.0, inside=True, in_square=True):
    return {
        "x": x,
        "y": y,
        "class": c,
        "in_distribution": inside,
        "in_square": in_square,
        "log_prob_bound": bound,
        "stderr": se,
        "exact_log_prob": exact,
        "exact_log_prob_standard_prior": exact - 0.2,
        "truth": truth,
        "reconstruction": 7.16,
        "prior_kl": kl,
        "distance_to_region": d,
        "solver": {"method": "dopri5", "rtol": 1e-6, "atol": 1e-6, "dtype": "float64"},
    }


def attempt(method, error, final, z, principled, **extra):
    return {
        "method": method,
        "principled": principled,
        "description": method,
        "target": [4.0, 5.5],
        "final": final,
        "error": error,
        "z": z,
        "trajectory": [[1.0, *z], [0.0, *final]],
        "z_norm": math.hypot(*z),
        **extra,
    }


def make_record(**over) -> dict:
    """A small, complete record of section 02 (K = 5 classes, 100 samples per class)."""
    acc_l = [0.64, 0.25, 0.13, 0.10, 0.62]
    rec = {
        "section": "diffusion_conditional",
        "params": {"n_points": 1000, "epochs": 150, "T": 100, "bonus_target": [4.0, 5.5]},
        "settings": {
            "samples_per_class": N,
            "eq9_draws": 1024,
            "ode_steps": 10,
            "noise_draws": 1,
            "n_layers": 2,
            "hidden": 64,
            "x_freqs": 0,
            "x_gate": 0.0,
            "batch_size": 0,
            "t_power": 1.0,
        },  # fmt: skip
        "schedule": {"sigma_min": math.exp(-5), "sigma_max": 1.0},
        "answers": {},
        "classes": {
            "n": K,
            "regions": {str(c): [[0, 1, 0, 1]] * [2, 1, 1, 2, 6][c] for c in range(K)},
            "names": NAMES,
            "areas": [2.2, 0.3, 0.09, 0.34, 1.07],
            "train_counts": [555, 65, 35, 84, 261],
            "inradius": [0.405, 0.125, 0.15, 0.2, 0.325],
            "geometry": per_class([geo(c) for c in range(K)]),
        },
        "train": {
            "loss_history": [2.0] * 150,
            "final_loss": 1.624,
            "from_cache": False,
            "adam_steps": 150,
        },  # fmt: skip
        "conditioning": {
            "class_effect": {"0.1": 0.309, "0.5": 0.414, "0.9": 0.422},
            "n_params": 6674,
            "class_dim": 16,
            "hidden": 64,
            "n_layers": 2,
        },  # fmt: skip
        "trajectories": {
            "final_points": [
                [-0.5, 0.0],
                [0.1, -0.577],
                [0.58, -0.01],
                [0.45, 0.35],
                [0.09, -0.09],
            ],
            "in_region": [True, False, False, False, True],
            "steering": {
                "z": [[0.0, 0.0]] * 20,
                "per_class": per_class(
                    [
                        {
                            "hits_own": h,
                            "n": 20,
                            "hits_other": o,
                            "n_other": 80,
                            "distance_own": 0.05,
                            "distance_other": 0.3,
                        }
                        for h, o in [(14, 6), (5, 6), (0, 4), (2, 4), (16, 38)]
                    ]
                ),  # fmt: skip
            },
        },
        "samples": {
            "class_accuracy": per_class(acc_l),
            "oracle_class_accuracy": per_class([0.97, 0.98, 0.99, 0.98, 1.0]),
        },
        "improved": {
            "class_accuracy": per_class([0.67, 0.30, 0.17, 0.12, 0.69]),
            "oracle_class_accuracy": per_class([1.0] * K),
            "description": "DDIM (T = 100) from the moment-matched prior, returning x̂_0 at t = 0",
            "t_stop": 0.0,
        },
        "memorisation": {
            "learned": per_class(
                [memo(r, n) for r, n in zip(MEMO_LEARNED, (555, 65, 35, 84, 261))]
            ),
            "oracle": per_class([memo(r, n) for r, n in zip(MEMO_ORACLE, (555, 65, 35, 84, 261))]),
            "n_points": 1000,
        },
        "analysis": {
            "spread_learned": per_class([spread(fill=f) for f in (0.4, 0.2, 0.1, 0.05, 0.3)]),
            "spread_oracle": per_class(
                [spread(edge_true=e) for e in (0.15, 0.53, 0.54, 0.46, 0.32)]
            ),
            "spread_improved": per_class([spread() for _ in range(K)]),
            "t_stop_sweep": {
                "0.0": {
                    "class_accuracy": per_class([0.5] * K),
                    "edge_share": per_class([0.3] * K),
                },
                "0.4": {
                    "class_accuracy": per_class([0.5] * K),
                    "edge_share": per_class([0.3] * K),
                },
            },
            "failure_distance_median": per_class([0.16, 0.26, 0.23, 0.23, 0.07]),
            "n_per_class": N,
            "prior_and_denoise": {
                who: {
                    "standard_end": per_class([0.9] * K),
                    "standard_denoised": per_class([0.9] * K),
                    "matched_end": per_class([0.9] * K),
                    "matched_denoised": per_class([0.9] * K),
                }
                for who in ("learned", "oracle")
            },
            "prior_mismatch": per_class(
                [
                    {
                        "correlation_data": rd,
                        "correlation_t1": r1,
                        "kl": kl,
                        "kl_stderr": 0.002,
                        "kl_correlation": kc,
                        "kl_shape": kl - kc,
                        "n": 4000,
                    }
                    for rd, r1, kl, kc in [
                        (-0.48, -0.11, 0.0126, 0.0064),
                        (0.0, 0.0, 0.0, 0.0),
                        (0.0, 0.0, 0.0, 0.0),
                        (-0.92, -0.14, 0.0143, 0.0098),
                        (0.44, 0.05, 0.0013, 0.0011),
                    ]
                ]
            ),  # fmt: skip
            "posterior_mean_inside": {"0.4": per_class([1.0] * K)},
        },
        "probes": [
            probe(-0.6, 0.3, 0, -8.0, 0.14, -0.79, -0.788, kl=0.16),
            probe(-0.6, 0.3, 2, -13.0, 0.29, -5.6, None, kl=0.45, d=0.8, inside=False),
            probe(0.35, 0.25, 2, -7.0, 0.16, 0.47, 2.408, kl=0.0),
            probe(
                2.0,
                2.0,
                4,
                -22.6,
                0.41,
                -17.0,
                None,
                kl=2.3,
                d=1.414,
                inside=False,
                in_square=False,
            ),
        ],
        "likelihood": {
            "interior_mean_exact": per_class([-0.98, -0.34, 0.46, -0.67, -0.32]),
            "interior_mean_exact_standard_prior": per_class([-1.18, -0.55, 0.42, -0.83, -0.68]),
            "interior_mean_exact_oracle": per_class([-0.79, 1.20, 2.41, 1.03, -0.076]),
            "truth": per_class([-0.788, 1.204, 2.408, 1.079, -0.068]),
            "interior": per_class(
                [
                    {"mean": m, "stderr": 0.1, "margin": 0.1, "truth": t, "n": 10}
                    for m, t in zip(
                        [-0.98, -0.34, 0.46, -0.67, -0.32], [-0.788, 1.204, 2.408, 1.079, -0.068]
                    )
                ]
            ),  # fmt: skip
            "interior_oracle": per_class(
                [
                    {"mean": m, "stderr": 0.01, "margin": 0.1, "truth": t, "n": 10}
                    for m, t in zip(
                        [-0.79, 1.204, 2.408, 1.03, -0.076], [-0.788, 1.204, 2.408, 1.079, -0.068]
                    )
                ]
            ),  # fmt: skip
            "grid_median_inside": per_class([-1.18, -0.36, 0.39, -0.63, -0.45]),
            "grid_median_far_outside": per_class([-9.6, -16.5, -23.7, -19.5, -21.4]),
            "solver": {
                "method": "dopri5",
                "rtol": 1e-6,
                "atol": 1e-6,
                "dtype": "float64",
                "library": "torchdiffeq",
            },
        },  # fmt: skip
        "likelihood_compare": {
            "class": 0,
            "x": [0.0] * 11,
            "summary": {
                "−L_T (Eq. 9)": {"median_inside": -8.55, "median_outside_square": -15.9},
                "truth": {"median_inside": -0.788, "median_outside_square": "-inf"},
            },
        },
        "bonus": {
            "target": [4.0, 5.5],
            "class": 4,
            "reached": True,
            "error": 1.7e-6,
            "method": "invert_ddim",
            "tolerance": 0.01,
            "attempts": [
                attempt(
                    "start_at_target",
                    4.014,
                    [1.62, 2.27],
                    [4.0, 5.5],
                    False,
                    distance_to_region=1.411,
                    start_distance_to_region=5.408,
                ),
                attempt(
                    "best_of_n",
                    5.5,
                    [0.9, 1.1],
                    [0.1, 0.2],
                    False,
                    n=50,
                    distance_to_region=0.05,
                    start_distance_to_region=0.3,
                ),
                attempt(
                    "invert_ddim",
                    1.7e-6,
                    [4.0, 5.5],
                    [12.0, 14.7],
                    True,
                    inversion_nfe=312,
                    z_log_prior=-182.0,
                    distance_to_region=5.408,
                    start_distance_to_region=17.58,
                ),
                attempt(
                    "optimise_noise",
                    0.434,
                    [3.7, 5.2],
                    [3.0, 2.0],
                    True,
                    lam=1.0,
                    steps=30,
                    iters=40,
                    xi_rms=14.5,
                    xi_max=51.8,
                    noise_log_prob=-6406.0,
                    typical_noise_log_prob=-87.97,
                    distance_to_region=5.0,
                    start_distance_to_region=2.0,
                ),
            ],  # fmt: skip
            "other_target": {"target": [-3.0, 2.5], "class": 0, "error": 7e-7, "reached": True},
            "target_distance_to_region": 5.408,
            "target_in_square": False,
            "nearest_training_distance": 5.426,
            "nearest_training_distance_any": 5.42,
            "typical_z_log_prior": -math.log(2 * math.pi) - 1,
            "sigma_ratio": math.exp(-5),
        },
    }

    rec["data_size_study"] = {
        "stored": False,
        "source": "lib/genmod/sections/diffusion_conditional/studies/data_size.json",
        "command": "python -m genmod.sections.diffusion_conditional.study",
    }
    for path, value in over.items():
        set_at(rec, path.split("__"), value)
    return json.loads(json.dumps(rec))  # plain JSON, as read back from results.json


def no_property_record() -> dict:
    """The record changed so that no measured property orders the classes as the miss rate
    does (C5)."""
    rec = make_record()
    rec["analysis"]["spread_learned"] = per_class(
        [
            spread(fill=f, offset=o)
            for f, o in zip((0.3, 0.1, 0.4, 0.2, 0.5), (0.1, 0.3, 0.2, 0.1, 0.3))
        ]
    )
    for c, g in rec["classes"]["geometry"].items():
        g["perimeter_per_area"] = [5, 3, 9, 4, 1][int(c)]
        g["edge_area_share"]["3σ(0)"] = [0.1, 0.3, 0.2, 0.5, 0.4][int(c)]
    rec["classes"]["train_counts"] = [100, 300, 200, 400, 50]
    rec["classes"]["areas"] = [1.0, 0.5, 2.0, 0.3, 0.6]
    rec["classes"]["inradius"] = [0.3, 0.1, 0.5, 0.2, 0.4]
    return rec


def steering_less() -> dict:
    """C3's steering record where, for every class, the runs under their own class end in its
    region less often than those under the other classes (0 of 20 against 40 of 80)."""
    return {
        str(c): {"hits_own": 0, "n": 20, "hits_other": 40, "n_other": 80,
                 "distance_own": 0.3, "distance_other": 0.1}
        for c in range(K)
    }  # fmt: skip
