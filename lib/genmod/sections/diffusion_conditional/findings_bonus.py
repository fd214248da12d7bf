"""Section 02's bonus as a finding: four attempts to make the model output a target point, the
same inversion for a second target; the prose is in ``templates/bonus.*.md.j2``.

A target is called *far* from the data only when its distance to the square exceeds
:data:`FAR_SIGMAS` times σ(1), the prior's scale (the spread the noised data reach at t = 1).
Distances are compared exactly (they are computed, not sampled); an attempt reaches the target
within the record's tolerance. Convention: ``±`` is one standard error (no estimate here has
one).
"""

from __future__ import annotations

import math

from genmod.sections.diffusion_conditional.answers_common import _num
from genmod.sections.findings import Finding, above, at_most, below, claim, equal, finite

#: A target is "far" from the data beyond this many σ(1) from the square.
FAR_SIGMAS = 3.0
#: σ̇|Δt|/σ above 1 by more than float rounding: a perfect denoiser's Euler step overshoots.
OVERSHOOT_TOL = 1e-9
#: The attempts in the record's order, as the short answer names them.
LABELS = ("starting at the target", "the best of {n} samples", "inverting DDIM",
          "choosing the noise")  # fmt: skip


def _out(claims) -> dict:
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def _attempt_claims(b: dict, tol: float) -> list:
    """Where each attempt ended: reached, finite, closer to the data than the target."""
    a0, a1, a2, a3 = b["attempts"]
    D = b["target_distance_to_region"]
    inv = a2["inversion_contraction"]
    return [
        claim("bonus.a0_reached", at_most, value=a0["error"], threshold=tol),
        claim("bonus.a0_closer", below, value=a0["distance_to_region"], threshold=D),
        claim("bonus.a1_reached", at_most, value=a1["error"], threshold=tol),
        claim("bonus.a1_beats_region", below, value=a1["error"], threshold=D),
        claim("bonus.a2_converged", equal, value=a2["inversion_converged"], other=True),
        claim("bonus.a2_z_finite", finite, value=_num(a2["z_norm"])),
        claim("bonus.a2_error_finite", finite, value=_num(a2["error"])),
        claim("bonus.a2_reached", at_most, value=_num(a2["error"]), threshold=tol),
        claim("bonus.a2_contracts", below, value=inv, threshold=1.0),
        claim("bonus.overshoot", above, value=inv, threshold=1.0 + OVERSHOOT_TOL),
        claim(
            "bonus.start_off_region",
            above,
            value=_num(a2["start_distance_to_region"]),
            threshold=0.0,
        ),  # fmt: skip
        claim("bonus.a3_finite", finite, value=_num(a3["error"])),
        claim("bonus.a3_reached", at_most, value=_num(a3["error"]), threshold=tol),
    ]


def _where_claims(b: dict, names_far: float) -> list:
    """Where the target lies: in its class's region, in the square, far from it."""
    o = b["other_target"]
    return [
        claim("bonus.in_region", at_most, value=b["target_distance_to_region"], threshold=0.0),
        claim("bonus.in_square", at_most, value=b["target_distance_to_data"], threshold=0.0),
        claim("bonus.far", above, value=b["target_distance_to_data"], threshold=names_far),
        claim("bonus.off_origin", above, value=math.hypot(*b["target"]), threshold=0.0),
        claim("bonus.class_has_points", finite, value=b["nearest_training_distance"]),
        claim("bonus.other_finite", finite, value=_num(o["error"])),
        claim("bonus.other_reached", equal, value=o["reached"], other=True),
        claim("bonus.other_converged", equal, value=o["inversion_converged"], other=True),
    ]


def _finite_or_none(x):
    x = _num(x)
    return x if math.isfinite(x) else None


def _inversion_figures(rec: dict, b: dict) -> dict:
    a2 = b["attempts"][2]
    tgt_norm = math.hypot(*b["target"])
    z_ok = math.isfinite(_num(a2["z_norm"]))
    start = _num(a2["start_distance_to_region"])
    run_scale = _num(a2["distance_to_region"]) / start if z_ok and start > 0 else None
    return {
        "z": a2["z"] if z_ok else None,
        "z_norm": _finite_or_none(a2["z_norm"]),
        "z_log_prior": _finite_or_none(a2["z_log_prior"]),
        "z_over_target": _num(a2["z_norm"]) / tgt_norm if z_ok and tgt_norm > 0 else None,
        "start_distance": _finite_or_none(start),
        "end_distance": _finite_or_none(a2["distance_to_region"]),
        "run_scale": _finite_or_none(run_scale),
        "nfe": a2["inversion_nfe"],
        "iterations": a2["inversion_iterations"],
        "residual": _finite_or_none(a2["inversion_residual"]),
        "unconverged": a2["inversion_unconverged_steps"],
        "inversion_tol": a2["inversion_tol"],
        "contraction": a2["inversion_contraction"],
        "T": rec["params"]["T"],
        "perfect_scale": b["perfect_denoiser_scale"],
        "sigma_ratio": b["sigma_ratio"],
    }


def bonus(rec: dict) -> Finding:
    """The bonus. Verdicts: "reached" (some attempt ends within the tolerance of the target) |
    "not reached"."""
    b = rec["bonus"]
    names = rec["classes"]["names"]
    tol, c = b["tolerance"], b["class"]
    far = FAR_SIGMAS * b["sigma_max"]
    claims = _where_claims(b, far) + _attempt_claims(b, tol)
    out = _out(claims)
    reached = [i for i, k in enumerate(("a0_reached", "a1_reached", "a2_reached", "a3_reached"))
               if out[k]]  # fmt: skip
    claims.append(claim("bonus.reached", above, value=len(reached), threshold=0))
    a0, a1, a2, a3 = b["attempts"]
    errors = [_num(a["error"]) for a in b["attempts"]]
    best = min(range(4), key=lambda i: errors[i] if math.isfinite(errors[i]) else math.inf)
    o = b["other_target"]
    figures = {
        "target": b["target"], "cls": c, "name": names[c], "tol": tol,
        "D": b["target_distance_to_region"], "D_data": b["target_distance_to_data"],
        "far": far, "far_sigmas": FAR_SIGMAS,
        "nearest_training": b["nearest_training_distance"],
        "a0": {"final": a0["final"], "error": a0["error"], "end": a0["distance_to_region"],
               "closer_by": b["target_distance_to_region"] - a0["distance_to_region"]},
        "a1": {"n": a1["n"], "error": a1["error"],
               "beats_by": b["target_distance_to_region"] - a1["error"]},
        "a2": {"error": _finite_or_none(a2["error"]), **_inversion_figures(rec, b)},
        "a3": {k: a3[k] for k in ("steps", "lam", "iters", "xi_rms", "xi_max", "noise_log_prob",
                                  "typical_noise_log_prob")},
        "a3_error": _finite_or_none(a3["error"]),
        "typical_z_log_prior": b["typical_z_log_prior"],
        "other": {"target": o["target"], "cls": o["class"], "error": _finite_or_none(o["error"])},
        "reached_by": reached, "n_best_of": a1["n"],
        "errors": [_finite_or_none(e) for e in errors],
    }  # fmt: skip
    return Finding(
        "Bonus", "reached" if reached else "not reached", figures, claims,
        figure="final distance of the closest attempt to the target",
        path=f"bonus.attempts.{best}.error", fmt=".2e",
    )  # fmt: skip
