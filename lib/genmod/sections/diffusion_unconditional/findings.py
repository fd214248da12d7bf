"""Section 01's findings: per question, a pure function of the record returning what its
answer decides (:class:`~genmod.sections.findings.Finding`); the prose is in ``templates/``.

Convention, for the whole section: ``±`` is one standard error (a difference is called beyond
the noise at two standard errors, an energy distance beyond the noise floor's spread). The
questions' findings live one module each: U2 and the floor in ``findings_u2``, U3 in
``findings_u3``, U4 in ``findings_u4``, U5 in ``findings_u5``, the likelihood check in
``findings_likelihood``; U1 and U6 here.
"""

from __future__ import annotations

import math
from pathlib import Path

from genmod.sections.diffusion_unconditional.findings_likelihood import likelihood
from genmod.sections.diffusion_unconditional.findings_u2 import floor, u2
from genmod.sections.diffusion_unconditional.findings_u3 import u3
from genmod.sections.diffusion_unconditional.findings_u4 import u4
from genmod.sections.diffusion_unconditional.findings_u5 import u5
from genmod.sections.findings import (
    Finding,
    above,
    at_least,
    at_most,
    below,
    claim,
    differs,
    equal,
    finite,
)

TEMPLATES = Path(__file__).parent / "templates"

#: Outputs beyond this |coordinate| mean the sampler blew up: the data lie in [−1, 1]² and a
#: start z ~ N(0, I) lies beyond 10 with probability ≈ 1e-23.
BLOWUP = 10.0
#: Paths whose length is at most this multiple of the straight line are "nearly straight".
STRAIGHT = 1.1
#: Fewer sampling steps than this leave too few points on a path to judge its shape.
RESOLVED_STEPS = 10


def u1(rec: dict) -> Finding:
    """U1: does the discretised forward SDE have the exact marginal x₀ + σ(t)ε (variance at
    t_half and t = 1, mean at t = 1, over many paths)?"""
    f, c = rec["forward"], rec["forward"]["check"]
    claims = [
        claim("u1.var_half", differs, diff=c["var_half"] - c["sigma2_half"],
              se=c["var_half_stderr"]),
        claim("u1.var_end", differs, diff=c["var_end"] - c["sigma2_end"], se=c["var_end_stderr"]),
        claim("u1.mean_off", above, value=c["mean_err"], threshold=c["mean_err_bound"]),
        claim("u1.noised", above, value=c["var_end"], threshold=0.0),
        claim("u1.late_noising", below, value=c["var_half"] / c["var_end"] if c["var_end"] > 0
              else math.nan, threshold=0.5),
    ]  # fmt: skip
    out = {k.name.split(".")[1]: k.outcome for k in claims}
    if "untestable" in (out["var_half"], out["var_end"]):
        verdict = "untested"
    elif out["var_half"] == out["var_end"] == "same" and not out["mean_off"]:
        verdict = "matches"
    else:
        verdict = "off"
    figures = {
        **{k: c[k] for k in ("n_paths", "t_half", "var_half", "sigma2_half", "var_end",
                             "sigma2_end", "mean_err", "mean_err_bound", "mean_err_bound_z",
                             "random_walk_var_end")},
        "two_se_half": 2 * c["var_half_stderr"],
        "two_se_end": 2 * c["var_end_stderr"],
        "share_half": c["var_half"] / c["var_end"] if c["var_end"] > 0 else math.nan,
        "start_x": f["start"][0],
        "start_y": f["start"][1],
        "steps": f["steps"],
        "distance_half": f["distance_half"],
        "distance_end": f["distance_end"],
    }  # fmt: skip
    return Finding(
        "U1", verdict, figures, claims,
        figure="variance per coordinate at t = 1 over the forward paths (exact: σ(1)²)",
        path="forward.check.var_end", fmt=".3f",
    )  # fmt: skip


def u6(rec: dict) -> Finding:
    """U6: are ten DDIM runs from the same noise identical; do the stochastic sampler's runs
    differ (or blow up); how straight are the trajectories."""
    det, sto, tr = rec["determinism"], rec["stochastic"], rec["trajectories"]
    d, s, dl = tr["ddim"], tr["stochastic"], tr["path_ratio_difference"]
    rate, lam, T = rec["steps"]["schedule_rate"], sto["lam"], det["T"]
    # one Euler step maps x − x̂₀ to (1 − (1 + λ²)·rate/T)·(x − x̂₀) (σ̇ = rate·σ, dt = −1/T)
    step_gain = abs(1 - (1 + lam**2) * rate / T)
    claims = [
        claim("u6.ddim_identical", equal, value=det["max_abs_diff"], other=0.0),
        claim("u6.lam_zero", equal, value=sto["lam"], other=0.0),
        claim("u6.stochastic_identical", equal, value=sto["max_abs_diff"], other=0.0),
        claim("u6.stochastic_blew_up", above, value=sto["max_abs_value"], threshold=BLOWUP),
        claim("u6.stochastic_finite", finite, value=sto["max_abs_value"]),
        claim("u6.step_expands", above, value=step_gain, threshold=1.0),
        claim("u6.wide_start", above, value=tr["start_scale"], threshold=1.0),
        claim("u6.stochastic_paths_finite", finite, value=s["path_ratio"]),
        claim("u6.paths_resolved", at_least, value=det["T"], threshold=RESOLVED_STEPS),
        claim("u6.ddim_straight", at_most, value=d["path_ratio"], threshold=STRAIGHT),
        claim("u6.stochastic_paths_are_ddim", equal, value=s["identical_to_ddim"], other=True),
        claim("u6.stochastic_longer", differs, diff=dl["mean"], se=dl["stderr"]),
    ]
    out = {c.name.split(".")[1]: c.outcome for c in claims}
    if not out["ddim_identical"]:
        verdict = "differ"
    elif out["stochastic_blew_up"]:
        verdict = "blew up"
    else:
        verdict = "all identical" if out["stochastic_identical"] else "identical"
    figures = {
        **{k: det[k] for k in ("runs", "n_points", "T")},
        "path_points": T + 1,
        "rate": rate,
        "step_gain": step_gain,
        "ddim_max_abs_diff": det["max_abs_diff"],
        "lam": sto["lam"],
        "drift_factor": 1 + sto["lam"] ** 2,
        "sto_max_abs_diff": sto["max_abs_diff"],
        "sto_max_abs_value": sto["max_abs_value"],
        "sto_mean_spread": sto["mean_spread"],
        "sto_inside_min": min(sto["inside_fraction"]),
        "sto_inside_max": max(sto["inside_fraction"]),
        "blowup": BLOWUP,
        "straight": STRAIGHT,
        "resolved_steps": RESOLVED_STEPS,
        "paths": tr["n_points"],
        "start_scale": tr["start_scale"],
        "ddim_path_ratio": d["path_ratio"],
        "sto_path_ratio": s["path_ratio"],
        "ddim_end_inside": d["end_inside"],
        "sto_end_inside": s["end_inside"],
        "path_difference": dl["mean"],
        "path_difference_se": dl["stderr"],
    }
    return Finding(
        "U6", verdict, figures, claims,
        figure="largest |difference| between the DDIM runs from the same noise",
        path="determinism.max_abs_diff", fmt=".3g",
    )  # fmt: skip


FINDINGS = {"floor": floor, "U1": u1, "U2": u2, "U3": u3, "U4": u4, "U5": u5,
            "likelihood": likelihood, "U6": u6}  # fmt: skip
