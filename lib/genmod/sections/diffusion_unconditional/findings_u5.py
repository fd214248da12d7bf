"""Section 01's U5 (an improved sampler and rules of thumb) as a finding. ``±`` is one
standard error; a share differs beyond the noise at two standard errors, an energy distance
beyond the noise floor's spread (the rule ``differs`` with ``se`` = that spread and k = 1)."""

from __future__ import annotations

import numpy as np

from genmod.diffusion.metrics import binomial_stderr
from genmod.sections.diffusion_unconditional.findings_u4 import spread
from genmod.sections.findings import (
    Finding,
    above,
    at_least,
    at_most,
    below,
    claim,
    differs,
    equal,
)
from genmod.sections.markdown import pooled_se

TARGET_INSIDE = 0.98  # the improved sampler's target share inside the square
KS_ALPHA = 0.05  # a marginal passes the KS test above this p-value
SMALL_SIGMA = 0.05  # the σ below which U5 counts a grid's steps
STUDY_NFE = 9  # the study's samplers are compared at their NFE closest to this
FAR_OUTSIDE = 3.0  # points this many σ(0) outside cannot be pulled in by the final step
GEOMETRIC_TOL = 1e-9  # a grid whose step ratios agree to this is geometric in σ


def _moved(name: str, before: float, after: float, truth: float, n: int) -> list:
    """Claims ``<name>_moved`` (the share moved beyond the noise) and ``<name>_closer`` (it
    ended closer to ``truth``)."""
    return [
        claim(f"u5.{name}_moved", differs, diff=after - before, se=pooled_se(before, after, n)),
        claim(f"u5.{name}_closer", below, value=abs(after - truth), threshold=abs(before - truth)),
    ]


def targets(L: dict, fl: dict, tb: float, tc: float, n: int) -> list:
    """The improved sampler's targets, each a claim that holds when the target is met."""
    return [
        claim("u5.target_inside", at_least, value=L["inside_fraction"], threshold=TARGET_INSIDE),
        claim("u5.target_floor", at_most, value=L["energy_distance"], threshold=fl["p95"]),
        claim("u5.target_edge", differs, diff=L["edge_band"] - tb, se=binomial_stderr(tb, n)),
        claim("u5.target_ks_x", above, value=L["ks"]["x"]["pvalue"], threshold=KS_ALPHA),
        claim("u5.target_ks_y", above, value=L["ks"]["y"]["pvalue"], threshold=KS_ALPHA),
        claim("u5.target_corner", differs, diff=L["corner_share"] - tc, se=binomial_stderr(tc, n)),
    ]


def missed_targets(out: dict) -> list[str]:
    """The names of the targets the claims say were missed (KS: both marginals together)."""
    met = {
        "inside": out["target_inside"],
        "floor": out["target_floor"],
        "edge": out["target_edge"] == "same",
        "ks": out["target_ks_x"] and out["target_ks_y"],
        "corner": out["target_corner"] == "same",
    }
    return [k for k, ok in met.items() if not ok]


def seeds_figures(seeds: dict, fl: dict) -> dict:
    """The improved sampler over U3's seeds: ranges and counts."""
    ks = [px > KS_ALPHA and py > KS_ALPHA for px, py in seeds["ks_pvalues"]]
    out = {
        "k": len(seeds["inside_fraction"]),
        "below": sum(d <= fl["p95"] for d in seeds["energy_distance"]),
        "ks": sum(ks),
    }
    for key in ("inside_fraction", "edge_band", "corner_share"):
        out[key + "_min"], out[key + "_max"] = min(seeds[key]), max(seeds[key])
    return out  # fmt: skip


def grids(schedules: dict) -> tuple[list[dict], list, dict]:
    """The original and modified σ grids: first and last step, steps ending below
    :data:`SMALL_SIGMA`; claims whether the original is geometric in σ and whether the
    modified grid moves steps from or to the small noise levels."""
    rows = []
    for name, key in (("original (uniform dt)", "original"), ("modified (ρ-spaced σ)", "modified")):
        s = np.asarray(schedules[key]["sigma"])
        rows.append(
            {
                "name": name,
                "steps": len(s) - 1,
                "first": s[0],
                "second": s[1],
                "penultimate": s[-2],
                "last": s[-1],
                "small": int((s[1:] < SMALL_SIGMA).sum()),
            }
        )
    s = np.asarray(schedules["original"]["sigma"])
    ratios = s[1:] / s[:-1]
    dev = float(np.max(np.abs(ratios / ratios[0] - 1))) if len(ratios) else np.inf
    k0, k1 = rows[0]["small"], rows[1]["small"]
    claims = [
        claim("u5.grid_geometric", at_most, value=dev, threshold=GEOMETRIC_TOL),
        claim("u5.grid_moves", equal, value=k0 == k1, other=False),
        claim("u5.grid_moves_from", below, value=k1, threshold=k0),
    ]
    extra = {"ratio": float(1 / ratios[0]) if len(ratios) else np.nan, "moved": abs(k0 - k1)}
    return rows, claims, extra  # fmt: skip


def study_at(study: dict) -> list[dict]:
    """Every sampler of the study at its measured NFE closest to :data:`STUDY_NFE`."""
    rows = {}
    for name, r in study.items():
        if not r["nfe"]:
            continue
        j = int(np.argmin([abs(v - STUDY_NFE) for v in r["nfe"]]))
        method, grid = r["label"].split(",")[:2]
        rows[name] = {"method": method, "grid": grid.strip(), "nfe": r["nfe"][j],
                      "ed": r["energy_distance"][j]}  # fmt: skip
    return rows


def rules(ab: dict, tb: float, n: int, spr: float, s0: float) -> list:
    """Rules 1-3: the matched prior, the final denoising step, the oracle as a check."""
    ex, mp, fd, both = (ab[k] for k in ("exercise", "matched_prior", "final_denoise",
                                        "matched_prior_final_denoise"))  # fmt: skip

    def diff(name, a, b, se=None, k=2.0):
        return claim(f"u5.{name}", differs, diff=a - b, se=pooled_se(a, b, n) if se is None else se,
                     k=k)  # fmt: skip

    outside = both["learned"]["outside_median_distance"]
    ins = "inside_fraction"
    return [
        *_moved("prior_network", ex["learned"]["edge_band"], mp["learned"]["edge_band"], tb, n),
        *_moved("prior_oracle", ex["oracle"]["edge_band"], mp["oracle"]["edge_band"], tb, n),
        diff("prior_ed", mp["learned"]["energy_distance"], ex["learned"]["energy_distance"],
             se=spr, k=1.0),
        diff("final_oracle_inside", both["oracle"][ins], mp["oracle"][ins]),
        diff("final_network_inside", both["learned"][ins], mp["learned"][ins]),
        # no point left outside: no distance to measure, nothing far outside
        claim("u5.left_far", above, value=0.0 if outside is None else outside,
              threshold=FAR_OUTSIDE * s0),
        diff("oracle_more_inside", both["oracle"][ins], both["learned"][ins]),
        diff("final_alone_vs_exercise", fd["learned"]["edge_band"], ex["learned"]["edge_band"]),
        diff("final_alone_vs_truth", fd["learned"]["edge_band"], tb,
             se=binomial_stderr(tb, n)),
        diff("sampler_edge_vs_truth", ex["oracle"]["edge_band"], tb, se=binomial_stderr(tb, n)),
        diff("network_edge_vs_oracle", ex["learned"]["edge_band"], ex["oracle"]["edge_band"]),
        diff("network_inside_vs_oracle", ex["learned"][ins], ex["oracle"][ins]),
    ]  # fmt: skip


def rule4(rec: dict, spr: float) -> tuple[list, dict]:
    """Rule 4: Heun on ρ-spaced σ against Euler in t, in the study and in the ablation."""
    at = study_at(rec["samplers"])
    reach = rec["samplers_summary"]
    hk = reach["heun_karras"]["min_nfe_within_floor"]
    ab = rec["ablation"]
    compared = "heun_karras" in at and "ddim" in at
    h_vs_d = at["heun_karras"]["ed"] - at["ddim"]["ed"] if compared else float("nan")
    claims = [
        claim("u5.study_measured", equal, value=len(at) > 0, other=True),
        claim("u5.study_compared", equal, value=compared, other=True),
        claim("u5.heun_vs_euler", differs, diff=h_vs_d, se=spr, k=1.0),
        claim("u5.heun_reaches", equal, value=hk is not None, other=True),
        claim("u5.improved_vs_euler", differs,
              diff=ab["improved"]["learned"]["energy_distance"]
              - ab["matched_prior_final_denoise"]["learned"]["energy_distance"], se=spr, k=1.0),
    ]  # fmt: skip
    return claims, {"study": list(at.values()), "heun_nfe": hk,
                    "reference_nfe": reach["reference_nfe"]}  # fmt: skip


def u5(rec: dict) -> Finding:
    """U5: the improved sampler against its targets, over the seeds, its σ grid, and four
    rules of thumb, each tested with the network and the oracle."""
    ab, fl, impr = rec["ablation"], rec["noise_floor"], rec["improved"]
    n, spr = impr["n_points"], spread(fl)
    tb, tc = rec["samples"]["truth_edge_band"], rec["samples"]["truth_corner_share"]
    s0 = rec["schedules"]["original"]["sigma_min"]
    L = ab["improved"]["learned"]
    tcl = targets(L, fl, tb, tc, n)
    grid_rows, grid_claims, grid_extra = grids(rec["schedules"])
    r4, study = rule4(rec, spr)
    claims = tcl + rules(ab, tb, n, spr, s0) + grid_claims + r4
    missed = missed_targets({c.name.split(".", 1)[1]: c.outcome for c in tcl})
    figures = {
        **{k: ab[k] for k in ("exercise", "matched_prior", "final_denoise", "improved")},
        "both": ab["matched_prior_final_denoise"],
        **study, **grid_extra,
        "missed": missed,
        "n_missed": len(missed),
        "n_targets": 5,
        "target_inside": TARGET_INSIDE,
        "truth_edge": tb,
        "truth_edge_se": binomial_stderr(tb, n),
        "truth_corner": tc,
        "truth_corner_se": binomial_stderr(tc, n),
        "floor": fl,
        "spread": spr,
        "sigma_min": s0,
        "outside": ab["matched_prior_final_denoise"]["learned"]["outside_median_distance"],
        "seeds": seeds_figures(impr["seeds"], fl),
        "grids": grid_rows,
        "small_sigma": SMALL_SIGMA,
        "rate": rec["steps"]["schedule_rate"],
        "study_nfe": STUDY_NFE,
    }  # fmt: skip
    return Finding(
        "U5", "missed" if missed else "met", figures, claims,
        figure="energy distance of the improved sampler's samples to the truth",
        path="ablation.improved.learned.energy_distance", fmt=".5f",
    )  # fmt: skip
