"""Section 01's U3 (nine samplings with nine seeds) as a finding. ``±`` is one standard
error; a difference is called beyond the noise at two standard errors."""

from __future__ import annotations

import numpy as np

from genmod.diffusion.metrics import binomial_stderr
from genmod.sections.diffusion_unconditional.findings_u2 import outcomes
from genmod.sections.findings import Finding, at_most, below, claim, differs
from genmod.sections.markdown import pooled_se

#: U3's verdict from the spread of the learned samples against the truth's.
SPREAD_VERDICT = {"less": "narrower", "same": "as wide", "more": "wider", "untestable": "untested"}


def u3(rec: dict) -> Finding:
    """U3: the nine seeds' samples, seed 0 against the oracle from the same noise, the spread,
    edge band and corners against the truth's, and the start's variance against the
    marginal's."""
    sm, fl = rec["samples"], rec["noise_floor"]
    n = sm["n_points"]
    ins, edge = np.array(sm["seeds_inside_fraction"]), np.array(sm["seeds_edge_band"])
    corner = np.array(sm["seeds_corner_share"])
    k = len(ins)
    tb, tc = sm["truth_edge_band"], sm["truth_corner_share"]
    sd = sm["std_per_coordinate"]
    se_in = pooled_se(sm["inside_fraction"], sm["oracle_inside_fraction"], n)
    se_e = pooled_se(sm["edge_band"], sm["oracle_edge_band"], n)
    se_eb, se_c = binomial_stderr(tb, k * n), binomial_stderr(tc, k * n)
    e_mean, c_mean = float(edge.mean()), float(corner.mean())
    d_in = sm["inside_fraction"] - sm["oracle_inside_fraction"]
    d_e = sm["edge_band"] - sm["oracle_edge_band"]
    claims = [
        claim("u3.inside_vs_oracle", differs, diff=d_in, se=se_in),
        claim("u3.edge_vs_oracle", differs, diff=d_e, se=se_e),
        claim("u3.spread", differs, diff=sd["learned"] - sd["truth"], se=sd["learned_stderr"]),
        claim("u3.oracle_spread", differs, diff=sd["oracle"] - sd["truth"],
              se=sd["oracle_stderr"]),
        claim("u3.edge_vs_truth", differs, diff=e_mean - tb, se=se_eb),
        claim("u3.corner_vs_truth", differs, diff=c_mean - tc, se=se_c),
        claim("u3.narrow_start", below, value=sm["prior_var"], threshold=sm["t1_marginal_var"]),
        claim("u3.below_floor", at_most, value=sm["energy_distance"], threshold=fl["p95"]),
    ]  # fmt: skip
    figures = {
        "k": k, "seed": sm["seed"], "truth_edge": tb, "truth_corner": tc,
        "inside_min": float(ins.min()), "inside_max": float(ins.max()),
        "edge_min": float(edge.min()), "edge_max": float(edge.max()),
        "inside": sm["inside_fraction"], "edge": sm["edge_band"],
        "oracle_inside": sm["oracle_inside_fraction"], "oracle_edge": sm["oracle_edge_band"],
        "d_in_points": 100 * d_in, "se_in_points": 100 * se_in, "d_e": d_e, "se_e": se_e,
        "sd": sd["learned"], "sd_se": sd["learned_stderr"], "sd_truth": sd["truth"],
        "sd_oracle": sd["oracle"], "sd_oracle_se": sd["oracle_stderr"],
        "edge_mean": e_mean, "edge_mean_se": se_eb, "corner_mean": c_mean, "corner_mean_se": se_c,
        "t1_var": sm["t1_marginal_var"], "prior_var": sm["prior_var"],
        "ed": sm["energy_distance"], "p95": fl["p95"],
    }  # fmt: skip
    return Finding(
        "U3", SPREAD_VERDICT[outcomes(claims)["spread"]], figures, claims,
        figure="standard deviation per coordinate of the nine seeds' samples (truth 1/√3 ≈ 0.577)",
        path="samples.std_per_coordinate.learned", fmt=".3f",
    )  # fmt: skip


def u3_rows(rec: dict) -> list[list]:
    """U3's table: seed 0, the mean of the seeds, the oracle from the same noise, a fresh
    truth sample (the cells' numbers; the answers module prints them)."""
    sm = rec["samples"]
    oracle = {k: sm["oracle_" + k] for k in ("inside_fraction", "edge_band", "energy_distance",
                                              "ks")}  # fmt: skip
    means = {k: float(np.mean(sm["seeds_" + k]))
             for k in ("inside_fraction", "edge_band", "energy_distance")}  # fmt: skip
    means["ks"] = None  # a mean of the seeds has no KS test
    return [
        [f"learned, seed {sm['seed']}", sm],
        [f"learned, {len(sm['seeds_inside_fraction'])} seeds (mean)", means],
        [f"oracle (same z as seed {sm['seed']})", oracle],
        ["truth (fresh sample)", sm["truth_sample"]],
    ]
