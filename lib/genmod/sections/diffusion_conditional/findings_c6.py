"""Section 02's C6 as a finding: probability estimates log p(x | c) at the probe points (the
exercise's Eq. 9 −L_T, the full variational bound, the PF-ODE density, the truth), then the
interior densities (:mod:`.findings_c6_interior`); the prose is in ``templates/c6.*.md.j2``.

Each comparison of an Eq. 9 estimate is a difference against two of its Monte-Carlo standard
errors (:func:`~genmod.sections.findings.differs`). Far from its region a perfect denoiser's
−L_T is about −W_T·d² (d the distance to the region, W_T the Eq. 9 weight at the run's T:
:func:`genmod.diffusion.likelihood.eq9_weight`, recorded under ``eq9``). Convention: ``±`` is
one standard error.
"""

from __future__ import annotations

import math

from genmod.sections.diffusion_conditional.answers_common import _num
from genmod.sections.diffusion_conditional.findings_c6_interior import interior
from genmod.sections.findings import Finding, above, at_least, claim, differs, equal

MIN_PROBES = 5  # the exercise asks for five or more probe points
#: The class part of the verdict by the outcome every shared location's comparison gives.
_PAIR_VERDICT = {"more": "class lower", "less": "class higher", "same": "class same",
                 "untestable": "class untested"}  # fmt: skip
_INOUT_VERDICT = {"more": "outside lower", "less": "overlap", "same": "outside same",
                  "untestable": "location untested"}  # fmt: skip


def _out(claims) -> dict:
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def _full(p: dict) -> float:
    """The full variational bound at a probe: −L_T + reconstruction − prior KL."""
    return p["log_prob_bound"] + p["reconstruction"] - p["prior_kl"]


def _se(x: float) -> float | None:
    """A standard error to print (None when it is not finite: the answer says so)."""
    return x if math.isfinite(x) else None


def _rows(pb: list) -> list[dict]:
    return [{"i": i, "x": p["x"], "y": p["y"], "cls": p["class"], "inside": p["in_distribution"],
             "bound": p["log_prob_bound"], "se": _se(p["stderr"]), "full": _full(p),
             "exact": p["exact_log_prob"], "exact_std": p["exact_log_prob_standard_prior"],
             "truth": p["truth"]} for i, p in enumerate(pb)]  # fmt: skip


def _pairs(pb: list) -> tuple[list, list[dict]]:
    """Each location probed under its matching class (i) and one that does not match (j):
    claim ``c6.pair_<i>_<j>`` (−L_T(i) − −L_T(j) against two standard errors) and
    ``c6.pair_<i>_<j>_off`` (the point lies off class j's region)."""
    claims, pairs = [], []
    for i, pi in enumerate(pb):
        for j, pj in enumerate(pb):
            same_place = i != j and (pi["x"], pi["y"]) == (pj["x"], pj["y"])
            if not (same_place and pi["in_distribution"] and not pj["in_distribution"]):
                continue
            d = pi["log_prob_bound"] - pj["log_prob_bound"]
            se = math.hypot(pi["stderr"], pj["stderr"])
            claims += [claim(f"c6.pair_{i}_{j}", differs, diff=d, se=se),
                       claim(f"c6.pair_{i}_{j}_off", above, value=pj["distance_to_region"],
                             threshold=0.0)]  # fmt: skip
            pairs.append({"claim": f"pair_{i}_{j}", "off": f"pair_{i}_{j}_off", "i": i, "j": j,
                          "x": pi["x"], "y": pi["y"], "ci": pi["class"], "cj": pj["class"],
                          "bi": pi["log_prob_bound"], "sei": _se(pi["stderr"]),
                          "bj": pj["log_prob_bound"], "sej": _se(pj["stderr"]), "diff": d,
                          "ei": pi["exact_log_prob"], "ej": pj["exact_log_prob"],
                          "dj": pj["distance_to_region"], "pred": pj["far_bound_perfect"]})  # fmt: skip
    return claims, pairs


def _inside_outside(pb: list) -> tuple[list, dict]:
    """The probes inside their region against those outside the square: the lowest inside
    one against the highest outside one (claim ``c6.in_vs_out``), with the ranges."""
    inside = [p for p in pb if p["in_distribution"]]
    outside = [p for p in pb if not p["in_square"]]
    claims = [claim("c6.both_kinds", equal, value=bool(inside and outside), other=True)]
    if not claims[0].outcome:
        return claims, {}
    lo = min(inside, key=lambda p: p["log_prob_bound"])
    hi = max(outside, key=lambda p: p["log_prob_bound"])
    fig = {"in_lo": lo["log_prob_bound"], "in_hi": max(p["log_prob_bound"] for p in inside),
           "out_lo": min(p["log_prob_bound"] for p in outside), "out_hi": hi["log_prob_bound"],
           "hi_index": pb.index(hi)}  # fmt: skip
    claims += [
        claim("c6.in_vs_out", differs, diff=fig["in_lo"] - fig["out_hi"],
              se=math.hypot(lo["stderr"], hi["stderr"])),
        claim("c6.in_span_one", equal, value=format(fig["in_lo"], ".3g"),
              other=format(fig["in_hi"], ".3g")),
        claim("c6.out_span_one", equal, value=format(fig["out_lo"], ".4g"),
              other=format(fig["out_hi"], ".4g")),
    ]  # fmt: skip
    return claims, fig


def _groups(claims: list, keys: list) -> dict:
    """Probe ids by their claim's outcome ("less", "same", "more", "untestable")."""
    out: dict = {"less": [], "same": [], "more": [], "untestable": []}
    for key, c in zip(keys, claims):
        out[c.outcome].append(key)
    return out


def _bound(rec: dict) -> tuple[list, dict]:
    """What −L_T bounds: the terms it leaves out, −L_T against the PF-ODE density (each
    probe) and −L_T and the full bound against the truth (each probe inside its region)."""
    pb = rec["probes"]
    ids = list(range(len(pb)))
    inside = [i for i in ids if pb[i]["in_distribution"]]
    vs_ode = [claim(f"c6.p{i}_vs_ode", differs, diff=pb[i]["log_prob_bound"] -
                    pb[i]["exact_log_prob"], se=pb[i]["stderr"]) for i in ids]  # fmt: skip
    vs_truth = [claim(f"c6.p{i}_vs_truth", differs, diff=pb[i]["log_prob_bound"] -
                      _num(pb[i]["truth"]), se=pb[i]["stderr"]) for i in inside]  # fmt: skip
    full = [claim(f"c6.p{i}_full_vs_truth", differs, diff=_full(pb[i]) - _num(pb[i]["truth"]),
                  se=pb[i]["stderr"]) for i in inside]  # fmt: skip
    g_ode = _groups(vs_ode, ids)
    fig = {"recon": pb[0]["reconstruction"], "sigma0": rec["schedule"]["sigma_min"],
           "vs_ode": g_ode, "above_ode_inside": [pb[i]["in_distribution"] for i in g_ode["more"]],
           "vs_truth": _groups(vs_truth, inside), "full_vs_truth": _groups(full, inside),
           "truth_minus_full": [{"i": i, "diff": _num(pb[i]["truth"]) - _full(pb[i])}
                                for i in inside]}  # fmt: skip
    claims = [*vs_ode, *vs_truth, *full,
              claim("c6.above_ode", above, value=len(g_ode["more"]), threshold=0)]  # fmt: skip
    if inside:
        kl = [pb[i]["prior_kl"] for i in inside]
        gap = sum(pb[i]["exact_log_prob"] - pb[i]["log_prob_bound"] for i in inside) / len(inside)
        miss = sum(pb[i]["reconstruction"] - pb[i]["prior_kl"] for i in inside) / len(inside)
        claims.append(claim("c6.gap_positive", above, value=gap, threshold=0.0))
        fig.update(kl_min=min(kl), kl_max=max(kl), gap=gap, gap_above=-gap, miss=miss,
                   share=miss / gap if gap > 0 else None)  # fmt: skip
    return claims, fig


def c6(rec: dict) -> Finding:
    """C6. Verdict "<class part>; <location part>": class part "class lower" | "class higher"
    | "class same" | "class mixed" (several shared locations, different outcomes) | "class
    untested" | "no pair" (−L_T under the non-matching against the matching class at a shared
    location); location part "outside lower" | "overlap" | "outside same" | "location
    untested" (the points outside the square against those inside their region)."""
    pb, st, eq9 = rec["probes"], rec["settings"], rec["eq9"]
    inside = [p for p in pb if p["in_distribution"]]
    pair_claims, pairs = _pairs(pb)
    io_claims, io = _inside_outside(pb)
    bound_claims, bound = _bound(rec)
    int_claims, inter = interior(rec)
    off = [{"i": i, "d": p["distance_to_region"], "bound": p["log_prob_bound"],
            "pred": p["far_bound_perfect"]}
           for i, p in enumerate(pb) if not p["in_distribution"] and p["distance_to_region"] > 0]  # fmt: skip
    claims = [
        claim("c6.any_inside", above, value=len(inside), threshold=0),
        claim("c6.any_off", above, value=len(off), threshold=0),
        claim("c6.enough_probes", at_least, value=len(pb), threshold=MIN_PROBES),
        *pair_claims, *io_claims, *bound_claims, *int_claims,
    ]  # fmt: skip
    out = _out(claims)
    outcomes = {out[p["claim"]] for p in pairs}
    cls_v = ("no pair" if not pairs else _PAIR_VERDICT[outcomes.pop()] if len(outcomes) == 1
             else "class mixed")  # fmt: skip
    loc_v = _INOUT_VERDICT[out["in_vs_out"]] if out["both_kinds"] else "location untested"
    if pairs:
        path, figure = (
            f"probes.{pairs[0]['j']}.log_prob_bound",
            ("−L_T of the non-matching class at the shared location"),
        )
    elif out["both_kinds"]:
        path, figure = f"probes.{io['hi_index']}.log_prob_bound", "highest −L_T outside the square"
    else:
        path, figure = "probes.0.log_prob_bound", "−L_T at the first probe"
    figures = {
        "rows": _rows(pb), "draws": st["eq9_draws"], "n_probes": len(pb), "min_probes": MIN_PROBES,
        "se_max": _se(max(p["stderr"] for p in (inside or pb))),
        "T": eq9["T"], "W": eq9["weight"], "W_limit": eq9["weight_limit"],
        "W_factor": eq9["weight"] / eq9["weight_limit"],
        "pairs": pairs, "more_pairs": len(pairs) - 1, "io": io, "off": off,
        "bound": bound, "verdict_class": cls_v, "verdict_location": loc_v, **inter,
    }  # fmt: skip
    return Finding("C6", f"{cls_v}; {loc_v}", figures, claims, figure=figure, path=path,
                   fmt=".4g")  # fmt: skip
