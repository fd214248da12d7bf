"""Section 01's U4 (the number of sampling steps) as a finding. ``±`` is one standard error; a
share differs beyond the noise at two standard errors, an energy distance beyond the noise
floor's spread (its 95th percentile − median; the rule ``differs`` with ``se`` = that spread
and k = 1)."""

from __future__ import annotations

import math

from genmod.diffusion.metrics import binomial_stderr
from genmod.sections.findings import Finding, above, at_least, below, claim, differs, equal
from genmod.sections.markdown import pooled_se

#: The Euler factor 1 − rate/T this far from e^(−rate/T) makes the step's error visible.
EULER_OFF = 0.1
#: A sample with at least this share inside and less than this share of the largest T's edge
#: band is "squeezed towards the centre".
COLLAPSE_INSIDE, COLLAPSE_EDGE = 0.99, 0.5

KEYS = ("inside_fraction", "edge_band", "energy_distance")


def spread(floor: dict) -> float:
    """The noise floor's spread: its 95th percentile − median."""
    return floor["p95"] - floor["median"]


def first_T(T_values, values, pred) -> int | None:
    """The smallest T from which on ``pred(value)`` holds for every larger T in the sweep
    (``T_values`` ascending)."""
    ok = [bool(pred(v)) for v in values]
    for k in range(len(T_values)):
        if all(ok[k:]):
            return T_values[k]
    return None


def euler(T: int, rate: float) -> dict:
    """One Euler step's factor on the noise part, 1 − rate/T, and the exact e^(−rate/T)."""
    return {"T": T, "factor": 1 - rate / T, "exact": math.exp(-rate / T)}


def reach_rows(summary: dict) -> tuple[list[dict], list]:
    """The sampler study's reach: per sampler, its label and the NFE at which it first comes
    within the noise floor's spread of Euler in t's largest-NFE distance (claim
    ``u4.reach.<name>``)."""
    rows, claims = [], []
    for name, r in summary.items():
        if not isinstance(r, dict):
            continue
        nfe = r["min_nfe_within_floor"]
        c = claim(f"u4.reach.{name}", equal, value=nfe is not None, other=True)
        claims.append(c)
        rows.append({"label": r["label"], "nfe": nfe, "reached": c.outcome})
    return rows, claims


def _sweep(st: dict) -> dict:
    """The sweep in ascending T: T values and per key the learned and oracle lists."""
    order = sorted(range(len(st["T_values"])), key=lambda i: st["T_values"][i])
    out = {"T": [st["T_values"][i] for i in order]}
    for k in KEYS:
        out[k] = [st[k][i] for i in order]
        out["oracle_" + k] = [st["oracle_" + k][i] for i in order]
    out["index"] = order
    return out


def _settling(s: dict, n: int, spr: float) -> tuple[list, dict]:
    """From which T on the edge band and the energy distance stay within the noise of their
    value at the largest T (as an index into the sweep; NaN: never)."""
    eb, ed, T = s["edge_band"], s["energy_distance"], s["T"]
    T_edge = first_T(T, eb, lambda v: abs(v - eb[-1]) <= 2 * pooled_se(v, eb[-1], n))
    T_ed = first_T(T, ed, lambda v: abs(v - ed[-1]) <= spr)
    i_edge = T.index(T_edge) if T_edge is not None else math.nan
    i_ed = T.index(T_ed) if T_ed is not None else math.nan
    claims = [
        # (from the second-largest T on, the comparison of the two largest says it)
        claim("u4.edge_settles_early", below, value=i_edge, threshold=len(T) - 2),
        claim("u4.ed_settles", below, value=i_ed, threshold=len(T) - 1),
    ]
    return claims, {"T_edge": T_edge, "T_ed": T_ed}


def _collapse(s: dict) -> tuple[list, dict]:
    """The T below the largest whose sample is most squeezed: nearly all inside, but with
    less than half the largest T's edge band."""
    eb_max = s["edge_band"][-1]
    cand = [
        (s["edge_band"][k], k)
        for k in range(len(s["T"]) - 1)
        if s["inside_fraction"][k] >= COLLAPSE_INSIDE and s["edge_band"][k] < COLLAPSE_EDGE * eb_max
    ]
    claims = [claim("u4.collapse", above, value=len(cand), threshold=0)]
    if not cand:
        return claims, {}
    k = min(cand)[1]
    claims += [
        claim("u4.collapse_inside", at_least, value=s["inside_fraction"][k],
              threshold=COLLAPSE_INSIDE),
        claim("u4.collapse_thin", below, value=s["edge_band"][k], threshold=COLLAPSE_EDGE * eb_max),
    ]  # fmt: skip
    return claims, {"collapse_T": s["T"][k], **{"collapse_" + key: s[key][k] for key in KEYS}}


def _remaining(s: dict, n: int, spr: float, tb: float) -> list:
    """What remains at the largest T: the oracle's edge band against the truth's, the learned
    model's edge band and energy distance against the oracle's."""
    eb, ed = s["edge_band"][-1], s["energy_distance"][-1]
    o_eb, o_ed = s["oracle_edge_band"][-1], s["oracle_energy_distance"][-1]
    return [
        claim("u4.oracle_edge_vs_truth", differs, diff=o_eb - tb, se=binomial_stderr(tb, n)),
        claim("u4.learned_edge_vs_oracle", differs, diff=eb - o_eb,
              se=pooled_se(eb, o_eb, n)),
        claim("u4.learned_ed_vs_oracle", differs, diff=ed - o_ed, se=spr, k=1.0),
        claim("u4.learned_edge_further", above, value=abs(eb - tb), threshold=abs(o_eb - tb)),
    ]  # fmt: skip


def _at(s: dict, i: int, tag: str) -> dict:
    """The learned and oracle figures of the sweep's ``i``-th T, named ``<key>_<tag>``."""
    out = {f"T_{tag}": s["T"][i]}
    for k in KEYS:
        out[f"{k}_{tag}"] = s[k][i]
        out[f"oracle_{k}_{tag}"] = s["oracle_" + k][i]
    return out


def u4(rec: dict) -> Finding:
    """U4: the quality per T, the Euler step's error at few steps (with the oracle, and with
    the learned model), where more steps stop helping, and what remains at the largest T."""
    st, fl = rec["steps"], rec["noise_floor"]
    n, rate, spr = st["n_points"], st["schedule_rate"], spread(fl)
    tb = rec["samples"]["truth_edge_band"]
    s = _sweep(st)
    T, eb, ed = s["T"], s["edge_band"], s["energy_distance"]
    smallest = sorted(set(T))[:2]
    factors = [euler(t, rate) for t in smallest]
    o_eb, o_ed = s["oracle_edge_band"][-1], s["oracle_energy_distance"][-1]
    i2 = max(len(T) - 2, 0)  # the second-largest T (the largest itself when only one is run)
    claims = [
        claim("u4.single_T", equal, value=T[0], other=T[-1]),
        claim("u4.oracle_few_steps", above, value=s["oracle_energy_distance"][0] - o_ed,
              threshold=spr),
        claim("u4.oracle_few_steps_better", below, value=s["oracle_energy_distance"][0] - o_ed,
              threshold=-spr),
        claim("u4.oracle_edge_flat", differs, diff=s["oracle_edge_band"][i2] - o_eb,
              se=pooled_se(s["oracle_edge_band"][i2], o_eb, n)),
        claim("u4.learned_few_steps", above, value=ed[0] - ed[-1], threshold=spr),
        claim("u4.euler_off", above, value=abs(factors[0]["factor"] - factors[0]["exact"]),
              threshold=EULER_OFF),
        *(claim(f"u4.overshoot.{i}", below, value=e["factor"], threshold=0.0)
          for i, e in enumerate(factors)),
        claim("u4.edge_flat", differs, diff=eb[i2] - eb[-1],
              se=pooled_se(eb[i2], eb[-1], n)),
        claim("u4.ed_flat", differs, diff=ed[i2] - ed[-1], se=spr, k=1.0),
    ]  # fmt: skip
    claims += _remaining(s, n, spr, tb)
    settle, settled = _settling(s, n, spr)
    collapse, collapsed = _collapse(s)
    reach, reached = reach_rows(rec["samplers_summary"])
    claims += settle + collapse + reached
    out = {c.name.split(".", 1)[1]: c.outcome for c in claims}
    for i, e in enumerate(factors):
        e["overshoot"] = out[f"overshoot.{i}"]  # the row carries its claim's outcome
    if out["single_T"]:
        verdict = "single T"
    elif out["edge_flat"] == out["ed_flat"] == "same":
        verdict = "converged"
    else:
        verdict = "still changing"
    figures = {
        **_at(s, 0, "min"), **_at(s, len(T) - 1, "max"), **_at(s, i2, "2"),
        **settled, **collapsed,
        "rate": rate,
        "factors": factors,
        "spread": spr,
        "truth_edge": tb,
        "truth_edge_se": binomial_stderr(tb, n),
        "reach": reach,
        "reference": rec["samplers_summary"]["reference"],
        "reference_nfe": rec["samplers_summary"]["reference_nfe"],
    }  # fmt: skip
    return Finding(
        "U4", verdict, figures, claims,
        figure="energy distance to the truth at the largest T",
        path=f"steps.energy_distance.{s['index'][-1]}", fmt=".5f",
    )  # fmt: skip
