"""Section 01's likelihood check as a finding: the probability-flow ODE's density at interior
points against the truth, the two priors, and the exercise's Eq. 9 bound. ``±`` is one
standard error; a difference is called beyond the noise at two standard errors."""

from __future__ import annotations

import numpy as np

from genmod.sections.diffusion_unconditional.findings_u2 import mean_se
from genmod.sections.findings import Finding, above, claim, differs, equal

VARIANTS = ("learned_matched", "oracle_matched", "learned_standard", "oracle_standard",
            "learned_matched_denoised", "oracle_matched_denoised")  # fmt: skip


def _solver(solver: dict) -> dict:
    """The solver's record for the sentence (RK4's name in capitals)."""
    out = dict(solver)
    out["name"] = solver["method"].upper() if solver["method"] == "rk4" else solver["method"]
    return out


def likelihood(rec: dict) -> Finding:
    """The density check: each variant's mean against the truth, N(0, I) against the matched
    prior point by point, and the Eq. 9 value with the terms it leaves out."""
    lik = rec["likelihood"]
    lk, t = lik["variants"], lik["variants"]["truth"]
    e = lk["eq9"]
    sd = rec["samples"]["std_per_coordinate"]
    d, se = mean_se(np.subtract(lk["learned_standard"]["values"], lk["learned_matched"]["values"]))
    bo = e["full_bound_minus_ode"]
    claims = [
        claim("likelihood.adaptive", equal, value="rtol" in lik["solver"], other=True),
        claim("likelihood.standard_vs_matched", differs, diff=d, se=se),
        claim("likelihood.samples_spread", differs, diff=sd["learned"] - sd["truth"],
              se=sd["learned_stderr"]),
        claim("likelihood.prior_kl_positive", above, value=e["prior_kl_mean"], threshold=0.0),
        claim("likelihood.bound_vs_ode", differs, diff=bo["mean"], se=bo["stderr"]),
    ]  # fmt: skip
    figures = {
        "solver": _solver(lik["solver"]),
        "truth": t,
        "n_points": lk["n_points"],
        "margin": lk["margin"],
        **{k: {"mean": lk[k]["mean"], "delta": lk[k]["mean"] - t, "lowest": lk[k]["min"],
               "highest": lk[k]["max"]} for k in VARIANTS},
        "prior_diff": d,
        "prior_diff_se": se,
        "sd": sd["learned"],
        "sd_truth": sd["truth"],
        "eq9": {**{k: e[k] for k in ("T", "n_draws", "mc_stderr_max", "mean", "reconstruction",
                                     "prior_kl_mean", "full_bound_mean")},
                "delta": e["mean"] - t, "full_delta": e["full_bound_mean"] - t,
                "minus_ode": bo["mean"], "minus_ode_se": bo["stderr"]},
        "ode_standard": lk["learned_standard"]["mean"],
        "sigma_min": rec["schedules"]["original"]["sigma_min"],
    }  # fmt: skip
    return Finding("likelihood", "measured", figures, claims)
