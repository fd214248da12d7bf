"""Section 02's finding for C5 (which classes are harder, and why): the accuracies against the
oracle, the oracle's own misses and their order, the prior, the harder classes and the
properties that go with them, the spread against the region, the improved sampler and the
returns of x̂_0 along the way; memorisation and the data-size study are in
:mod:`.findings_c5_data`. The prose is in ``templates/c5.*``.

Accuracies are binomial shares (standard error √(p(1 − p)/n)), compared with the pooled
standard error of their difference; a difference within two standard errors is "within the
noise". Convention: ``±`` is one standard error.
"""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.diffusion_conditional.config import TARGETS
from genmod.sections.diffusion_conditional.findings_c5_data import memorisation, study
from genmod.sections.diffusion_conditional.findings_common import (
    RHO_STRONG,
    binomial_se,
    by_class,
    chain,
    classes,
    mean_diff,
    named,
    num,
    out,
    spearman,
)
from genmod.sections.findings import (
    Finding,
    above,
    at_least,
    below,
    claim,
    differs,
    equal,
    finite,
)
from genmod.sections.markdown import pooled_se

#: The x̂_0 stops the workflow tries besides t = 0 (those on the T grid are taken).
T_STOPS = (0.2, 0.3, 0.4)
#: The measured per-class properties: (key, name, word for more, word for less, short name).
PROPERTIES = (
    ("boundary", "boundary length per area", "more", "less", "boundary per area"),
    ("edge_area", "share of the area within 3σ(0) of the edge", "a larger", "a smaller",
     "area near the edge"),
    ("area", "area", "more", "less", "area"),
    ("train", "training points", "more", "fewer", "training points"),
    ("inradius", "inradius", "a larger", "a smaller", "inradius"),
    ("fill", "fill of the learned samples relative to a true sample's", "a larger", "a smaller",
     "sample fill"),
    ("offset", "offset of the learned samples' mean from the region's", "a larger", "a smaller",
     "sample-mean offset"),
)  # fmt: skip


def _acc(rec: dict, k: int) -> dict[str, list[float]]:
    return {
        "learned": by_class(rec["samples"]["class_accuracy"], k),
        "oracle": by_class(rec["samples"]["oracle_class_accuracy"], k),
        "improved": by_class(rec["improved"]["class_accuracy"], k),
        "improved_oracle": by_class(rec["improved"]["oracle_class_accuracy"], k),
    }


# --------------------------------------------------------------------------- accuracy
def _accuracy(rec: dict, acc: dict, n: int, names) -> tuple[list, dict]:
    """Each class's learned accuracy against the oracle's (same sampler, same z)."""
    k = len(names)
    al, ao = acc["learned"], acc["oracle"]
    claims, groups = [], {"more": [], "less": [], "same": [], "untestable": []}
    for c in range(k):
        cl = claim(f"c5.vs_oracle_{c}", differs, diff=al[c] - ao[c],
                   se=pooled_se(al[c], ao[c], n, n))  # fmt: skip
        claims.append(cl)
        groups[cl.outcome].append(c)
    claims += [
        claim("c5.any_below_oracle", above, value=len(groups["less"]), threshold=0),
        claim("c5.any_above_oracle", above, value=len(groups["more"]), threshold=0),
        claim("c5.oracle_misses", above, value=1 - float(np.mean(ao)), threshold=0.0),
    ]
    order, order_o = sorted(range(k), key=lambda c: al[c]), sorted(range(k), key=lambda c: ao[c])
    worst = min(groups["less"], key=lambda c: al[c] - ao[c]) if groups["less"] else order[0]
    figures = {
        "n": n, "hard": named([order[0]], names)[0], "easy": named([order[-1]], names)[0],
        "hard_acc": al[order[0]], "easy_acc": al[order[-1]],
        "oracle_low": named([order_o[0]], names)[0], "oracle_low_acc": ao[order_o[0]],
        "oracle_high_acc": ao[order_o[-1]], "below": groups["less"], "above": groups["more"],
        "worst": named([worst], names)[0], "worst_gap": al[worst] - ao[worst],
        "oracle_miss": 1 - float(np.mean(ao)),
    }  # fmt: skip
    return claims, figures


def _variants(rec: dict, who: str, n: int, k: int) -> tuple[list, dict]:
    """Mean accuracy over the classes with the moment-matched prior and/or x̂_0 returned,
    against N(0, I) and the end point (``who``: learned | oracle)."""
    v = {key: by_class(a, k) for key, a in rec["analysis"]["prior_and_denoise"][who].items()}
    base = v["standard_end"]
    claims, figures = [], {"base": float(np.mean(base))}
    for key in ("matched_end", "standard_denoised", "matched_denoised"):
        d, se = mean_diff(v[key], base, n)
        claims.append(claim(f"c5.{who}_{key}", differs, diff=d, se=se))
        figures[key] = {"mean": float(np.mean(v[key])), "diff": d, "se": se}
    return claims, figures


def _oracle_order(rec: dict, acc: dict, n: int, names) -> tuple[list, dict]:
    """The classes by the oracle's loss (1 − accuracy) and by the truth's share within 0.05
    of the edge, neighbours joined within two standard errors, and the rank correlation."""
    k = len(names)
    so = rec["analysis"]["spread_oracle"]
    loss = [1 - a for a in acc["oracle"]]
    edge = [num(so[str(c)]["edge_share_true"]) for c in range(k)]
    n_edge = [int(so[str(c)]["n"]) for c in range(k)]
    c_loss, loss_items = chain("c5.loss", loss, [binomial_se(x, n) for x in loss])
    c_edge, edge_items = chain(
        "c5.edge", edge, [binomial_se(e, m) for e, m in zip(edge, n_edge, strict=True)]
    )
    rho = spearman(loss, edge)
    steps = sum(c.outcome == "more" for c in c_loss)
    claims = [
        claim("c5.loss_equal", equal, value=max(loss), other=min(loss)),
        claim("c5.loss_ordered", above, value=steps, threshold=0),
        *c_loss,
        *c_edge,
        claim("c5.edge_rho_finite", finite, value=rho),
        claim("c5.edge_rho_strong", at_least, value=abs(round(rho, 9)), threshold=RHO_STRONG),
        claim("c5.edge_rho_positive", above, value=rho, threshold=0.0),
    ]
    figures = {"loss": loss_items, "edge": edge_items, "rho": rho, "loss_value": loss[0],
               "rho_strong": RHO_STRONG}  # fmt: skip
    return claims, figures


# --------------------------------------------------------------------------- the prior
def _prior(rec: dict, names) -> tuple[list, dict]:
    """How far p₁(·|c) is from the moment-matched prior: its correlation and its shape."""
    k = len(names)
    pm, geo = rec["analysis"]["prior_mismatch"], rec["classes"]["geometry"]
    dist = [float(np.hypot(*geo[str(c)]["mean"])) for c in range(k)]
    claims, rows = [], []
    for c in range(k):
        m = pm[str(c)]
        claims += [
            claim(f"c5.correlated_{c}", above, value=abs(m["correlation_t1"]), threshold=1e-6),
            claim(f"c5.shape_{c}", differs, diff=m["kl_shape"], se=m["kl_stderr"]),
        ]
        rows.append({"id": c, "name": names[c], **m})
    o = out(claims)
    corr = [c for c in range(k) if o[f"correlated_{c}"]]
    shape = [c for c in range(k) if o[f"shape_{c}"] == "more"]
    claims += [
        claim("c5.any_correlated", above, value=len(corr), threshold=0),
        claim("c5.any_shape", above, value=len(shape), threshold=0),
    ]
    figures = {"dist_min": min(dist), "dist_max": max(dist), "correlated": corr,
               "shape": shape, "rows": rows, "draws": pm["0"]["n"]}  # fmt: skip
    return claims, figures


# --------------------------------------------------------------------------- harder classes
def _property_values(rec: dict, k: int) -> dict[str, list[float]]:
    cl, sl = rec["classes"], rec["analysis"]["spread_learned"]
    g = [cl["geometry"][str(c)] for c in range(k)]
    s = [sl[str(c)] for c in range(k)]
    return {
        "boundary": [x["perimeter_per_area"] for x in g],
        "edge_area": [x["edge_area_share"]["3σ(0)"] for x in g],
        "area": [float(a) for a in cl["areas"]],
        "train": [float(x) for x in cl["train_counts"]],
        "inradius": [float(r) for r in cl["inradius"]],
        "fill": [x["fill"] / max(x["fill_true"], 1e-12) for x in s],
        "offset": [x["mean_offset"] for x in s],
    }


def _harder(rec: dict, acc: dict, n: int, names) -> tuple[list, dict]:
    """The classes by the learned model's accuracy, the hardest–easiest gap against the
    noise, each property's Spearman ρ with the miss rate, and where the misses lie."""
    k = len(names)
    al = acc["learned"]
    order = sorted(range(k), key=lambda c: al[c])
    hard, easy = order[0], order[-1]
    tied = [c for c in order if al[c] == al[hard]]  # every class at the lowest accuracy
    miss = [1 - a for a in al]
    values = _property_values(rec, k)
    claims = [
        claim("c5.harder_beyond_noise", differs, diff=al[easy] - al[hard],
              se=pooled_se(al[easy], al[hard], n, n)),
        claim("c5.accuracy_equal", equal, value=al[easy], other=al[hard]),
        claim("c5.hardest_tied", above, value=len(tied), threshold=1),
    ]  # fmt: skip
    props = []
    for key, name, up, down, short in PROPERTIES:
        rho = spearman(values[key], miss)
        claims += [
            claim(f"c5.rho_finite_{key}", finite, value=rho),
            claim(f"c5.strong_{key}", at_least, value=abs(round(rho, 9)), threshold=RHO_STRONG),
            claim(f"c5.rho_positive_{key}", above, value=rho, threshold=0.0),
        ]
        props.append({"key": key, "name": name, "up": up, "down": down, "short": short,
                      "rho": rho})  # fmt: skip
    measured = [p for p in props if math.isfinite(p["rho"])]
    strong = [p for p in measured if abs(round(p["rho"], 9)) >= RHO_STRONG]
    claims += [
        claim("c5.any_rho", above, value=len(measured), threshold=0),
        claim("c5.any_strong", above, value=len(strong), threshold=0),
    ]
    largest = max(measured, key=lambda p: abs(p["rho"])) if measured else None
    fm = rec["analysis"]["failure_distance_median"]
    figures = {
        "order": [{"id": c, "name": names[c], "acc": al[c]} for c in order],
        "gap": al[easy] - al[hard], "props": measured, "strong": strong, "largest": largest,
        "k": k, "fail": [{"id": c, "value": num(fm[str(c)])} for c in range(k)],
        "sigma0": num(rec["schedule"]["sigma_min"]), "rho_strong": RHO_STRONG,
        "hard": named([hard], names)[0], "easy": named([easy], names)[0],
        "hard_acc": al[hard], "easy_acc": al[easy], "hard_ids": ", ".join(map(str, tied)),
    }  # fmt: skip
    return claims, figures


# --------------------------------------------------------------------------- spread, improved
def _spread(rec: dict, k: int) -> tuple[list, dict]:
    """The share of in-region samples within 0.05 of the edge, learned against a true
    sample (mean over the classes, binomial standard errors), and the std ratios."""
    sl, so = rec["analysis"]["spread_learned"], rec["analysis"]["spread_oracle"]
    e_l = [sl[str(c)]["edge_share"] for c in range(k)]
    e_t = [sl[str(c)]["edge_share_true"] for c in range(k)]
    e_o = [so[str(c)]["edge_share"] for c in range(k)]
    var = 0.0
    for c in range(k):
        n_in = max(1, round(sl[str(c)]["n"] * (1 - sl[str(c)]["outside_share"])))
        var += e_l[c] * (1 - e_l[c]) / n_in + e_t[c] * (1 - e_t[c]) / sl[str(c)]["n"]
    d, se = float(np.mean(e_l) - np.mean(e_t)), math.sqrt(var) / k
    ratios = [r for c in range(k) for r in sl[str(c)]["std_ratio"]]
    claims = [claim("c5.edge_vs_truth", differs, diff=d, se=se)]
    figures = {"learned": float(np.mean(e_l)), "truth": float(np.mean(e_t)),
               "oracle": float(np.mean(e_o)), "diff": d, "se": se,
               "ratio_min": min(ratios), "ratio_max": max(ratios)}  # fmt: skip
    return claims, figures


def _improved(rec: dict, acc: dict, k: int) -> tuple[list, dict]:
    target = TARGETS["min_improved"]
    ai = acc["improved"]
    claims = [claim("c5.improved_all", at_least, value=min(ai), threshold=target)]
    figures = {"description": rec["improved"]["description"], "target": target,
               "acc": [{"id": c, "value": ai[c]} for c in range(k)], "lowest": min(ai),
               "oracle_min": min(acc["improved_oracle"])}  # fmt: skip
    return claims, figures


def _sweep(rec: dict, n: int, k: int) -> tuple[list, dict]:
    """x̂_0 returned at later times of the same run: accuracy and edge share per stop, and
    the first stop against the last."""
    an = rec["analysis"]
    sw = {float(s): v for s, v in an["t_stop_sweep"].items()}
    stops = sorted(sw)
    acc = {s: by_class(sw[s]["class_accuracy"], k) for s in stops}
    edge = {s: by_class(sw[s]["edge_share"], k) for s in stops}
    sl = an["spread_learned"]
    claims = [claim("c5.sweep_several", above, value=len(stops), threshold=1)]
    figures = {
        "stops": [{"t": s, "acc": float(np.mean(acc[s])), "acc_min": min(acc[s]),
                   "edge": float(np.mean(edge[s]))} for s in stops],
        "first": stops[0], "last": stops[-1], "T": rec["params"]["T"], "tried": T_STOPS,
        "truth_edge": float(np.mean([sl[str(c)]["edge_share_true"] for c in range(k)])),
    }  # fmt: skip
    if len(stops) > 1:
        da, sa = mean_diff(acc[stops[-1]], acc[stops[0]], n)
        de, se = mean_diff(edge[stops[-1]], edge[stops[0]], n)
        claims += [
            claim("c5.sweep_accuracy", differs, diff=da, se=sa),
            claim("c5.sweep_edge", differs, diff=de, se=se),
        ]
        figures.update(acc_diff=da, acc_se=sa, edge_diff=de, edge_se=se)
    return claims, figures


def _posterior_mean(rec: dict, names) -> tuple[list, dict]:
    """Where the exact posterior mean E[x_0 | x_t, c] of noisy true points lies."""
    k = len(names)
    pmi = rec["analysis"]["posterior_mean_inside"]
    vals = [(float(t), c, num(v[str(c)])) for t, v in pmi.items() for c in range(k)]
    lo = min(vals, key=lambda x: x[2])
    hi = max(v[2] for v in vals)
    nonconvex = [c for c in range(k) if not rec["classes"]["geometry"][str(c)]["convex"]]
    claims = [
        claim("c5.pm_constant", equal, value=lo[2], other=hi),
        claim("c5.pm_some_outside", below, value=lo[2], threshold=1.0),
        claim("c5.any_nonconvex", above, value=len(nonconvex), threshold=0),
    ]
    figures = {"ts": sorted({v[0] for v in vals}), "lo": lo[2], "hi": hi, "lo_t": lo[0],
               "lo_class": named([lo[1]], names)[0], "nonconvex": nonconvex}  # fmt: skip
    return claims, figures


def _table(rec: dict, acc: dict, names) -> list[dict]:
    """C5's table: one row per class."""
    an, areas = rec["analysis"], rec["classes"]["areas"]
    sl, so = an["spread_learned"], an["spread_oracle"]
    return [
        {"id": c, "name": names[c], "area": areas[c], "learned": acc["learned"][c],
         "oracle": acc["oracle"][c], "gap": acc["learned"][c] - acc["oracle"][c],
         "improved": acc["improved"][c], "improved_oracle": acc["improved_oracle"][c],
         "l": sl[str(c)], "o": so[str(c)]}
        for c in range(len(names))
    ]  # fmt: skip


# --------------------------------------------------------------------------- C5
def c5(rec: dict) -> Finding:
    """C5: which classes are harder, and why. Verdicts: "differ" (the hardest and the easiest
    class's accuracies differ beyond the noise) | "within noise"."""
    k, names = classes(rec)
    n = int(rec["analysis"]["n_per_class"])
    acc = _acc(rec, k)
    parts = {
        "acc": _accuracy(rec, acc, n, names),
        "oracle_variants": _variants(rec, "oracle", n, k),
        "learned_variants": _variants(rec, "learned", n, k),
        "order": _oracle_order(rec, acc, n, names),
        "prior": _prior(rec, names),
        "harder": _harder(rec, acc, n, names),
        "mem": memorisation(rec, names),
        "study": study(rec),
        "spread": _spread(rec, k),
        "improved": _improved(rec, acc, k),
        "sweep": _sweep(rec, n, k),
        "pm": _posterior_mean(rec, names),
    }
    claims = [c for part, _ in parts.values() for c in part]
    figures = {key: f for key, (_, f) in parts.items()}
    figures["rows"] = _table(rec, acc, names)
    verdict = "differ" if out(claims)["harder_beyond_noise"] in ("more", "less") else (
        "within noise")  # fmt: skip
    return Finding(
        "C5", verdict, figures, claims, figure="lowest per-class accuracy (learned model)",
        path="samples.class_accuracy", fmt=".3f", reduce="min",
    )  # fmt: skip
