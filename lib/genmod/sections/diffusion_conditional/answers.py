"""Section 02's answers: one pure function of the results record per question id.

Each function takes the section's whole results record (plain JSON, as written to
results.json) and returns Markdown. Every claim is a measured value or a statement chosen by
comparing measured values with their noise: a class accuracy p over n samples has the
binomial standard error √(p(1 − p)/n), two accuracies are compared with the pooled standard
error of their difference, an Eq. 9 estimate carries its Monte-Carlo standard error, and a
difference within two standard errors is "within the noise".
"""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.diffusion_conditional import answers_probes, findings, findings_probes
from genmod.sections.diffusion_conditional.answers_common import (  # noqa: F401
    RHO_STRONG,
    WITHIN_TRUTH,
    _by_class,
    _classes,
    _cls,
    _g3,
    _ids,
    _mean_diff,
    _named,
    _num,
    _order,
    _ranks,
    _sigma0,
    _snr_span,
    _solver_text,
    spearman,
)
from genmod.sections.diffusion_conditional.config import EXERCISE_POINTS, TARGETS
from genmod.sections.markdown import compare, pct, plural, pooled_se, table
from genmod.sections.summary import Headline, Question, headline


# --------------------------------------------------------------------------- C1
def c1_table(rec) -> str:
    cl = rec["classes"]
    k, names = _classes(rec)
    geo = cl.get("geometry", {})
    rows = []
    for c in range(k):
        g = geo.get(str(c), {})
        rows.append(
            [
                c,
                names[c],
                len(cl["regions"][str(c)]),
                f"{cl['areas'][c]:.2f}",
                cl["train_counts"][c],
                f"{cl['inradius'][c]:.3f}",
                g.get("pieces", "–"),
                g.get("holes", "–"),
                f"{g['perimeter_per_area']:.1f}" if g else "–",
                ("yes" if g["mean_inside"] else "no") if g else "–",
            ]
        )
    head = [
        "class", "shape", "rectangles", "area", "training points", "inradius", "pieces",
        "holes", "boundary length / area", "mean inside",
    ]  # fmt: skip
    return table(head, rows)


def _c1_extremes(rec) -> tuple[list[float], list[int], list[float], int, int, int, int]:
    """Areas, training counts and inradii, and the classes with the largest area, the
    smallest area, the fewest training points and the smallest inradius."""
    cl = rec["classes"]
    areas = [float(a) for a in cl["areas"]]
    counts = [int(n) for n in cl["train_counts"]]
    inr = [float(r) for r in cl["inradius"]]
    big, small = int(np.argmax(areas)), int(np.argmin(areas))
    return areas, counts, inr, big, small, int(np.argmin(counts)), int(np.argmin(inr))


def c1(rec: dict) -> str:
    cl = rec["classes"]
    k, names = _classes(rec)
    areas, counts, inr, big, small, few, thin = _c1_extremes(rec)
    geo = {int(c): g for c, g in cl.get("geometry", {}).items()}
    text = (
        f"The {rec['params']['n_points']:,} training points are drawn uniformly on the square; "
        f"each takes the class of the region it falls in. The {k} regions tile the square "
        "(checked: disjoint rectangles covering an area of 4, so every point of the square "
        f"lies in exactly one class). Their areas span a factor {areas[big] / areas[small]:.0f}, "
        f"from {areas[small]:.2f} (class {small}, {names[small]}) to {areas[big]:.2f} "
        f"(class {big}, {names[big]}); the fewest training points, {counts[few]}, fall in class "
        f"{few} ({names[few]}); the thinnest region is class {thin} ({names[thin]}, inradius "
        f"{inr[thin]:.3f})."
    )
    text += _departure(int(rec["params"]["n_points"]))
    if geo:
        feats = [
            ("non-convex", [c for c in range(k) if not geo[c]["convex"]]),
            ("in more than one piece", [c for c in range(k) if geo[c]["pieces"] > 1]),
            ("with a hole", [c for c in range(k) if geo[c]["holes"] > 0]),
            ("with its mean outside its own region", [c for c in range(k) if not geo[c]["mean_inside"]]),
        ]  # fmt: skip
        parts = [f"{what}: {_named(cs, names) if cs else 'none'}" for what, cs in feats]
        text += " Measured shapes — " + "; ".join(parts) + "."
    text += (
        " C5 measures which of these properties go with a lower per-class accuracy.\n\n"
        + c1_table(rec)
        + "\n\n(inradius: the largest distance from a point of the region to its edge; "
        "pieces and holes counted on a grid of side 0.005; boundary length counts every edge "
        "of the region, including the square's.)"
    )
    return text


def _departure(n: int) -> str:
    """The sentence saying that ``n`` training points leave the exercise's range ("" inside)."""
    lo, hi = EXERCISE_POINTS
    if lo <= n <= hi:
        return ""
    side = f"{n / hi:.1f} times its maximum" if n > hi else f"below its minimum of {lo:,}"
    return (
        f" The exercise asks for {lo:,} to {hi:,} points, so this run departs from the "
        f"exercise's data ({n:,} points, {side})."
    )


# --------------------------------------------------------------------------- C2
def c2(rec: dict) -> str:
    cond, tr, p, st = rec["conditioning"], rec["train"], rec["params"], rec["settings"]
    k, _ = _classes(rec)
    eff = {float(t): _num(v) for t, v in cond["class_effect"].items()}
    n_hist = len(tr.get("loss_history", [])) or p["epochs"]
    cache = ", loaded from the cache" if tr.get("from_cache") else ""
    n_freqs, gate = st.get("x_freqs", 0), st.get("x_gate", 0.0)
    features = "scaled point, noise-level features, class vector"
    if n_freqs:
        fade = (
            f", multiplied by exp(−(σ/{gate:g})²) so that they act only at small σ" if gate else ""
        )
        freqs = ", ".join(f"{2**j}π" if j else "π" for j in range(n_freqs))
        features = (
            f"scaled point, sin and cos of ({freqs})·x for each coordinate{fade}, noise-level "
            "features, class vector"
        )
    bs, n = st.get("batch_size", 0), p["n_points"]
    if bs and bs < n:
        steps = f"{plural(p['epochs'], 'epoch')} in minibatches of {bs} points"
        notes = [f"{tr['adam_steps']:,} Adam steps"]
    else:
        steps, notes = plural(p["epochs"], "full-batch step"), []
    notes.append(f"{plural(st['noise_draws'], 'noise draw')} per point per epoch")
    power = st.get("t_power", 1.0)
    if power != 1.0:
        notes.append(
            f"noise levels drawn as t = u^{power:g}, u ~ U[0, 1], so that small σ is drawn "
            f"more often than under the exercise's t ~ U[0, 1] (P(t < 0.2) = "
            f"{0.2 ** (1 / power):.2f} instead of 0.20), and the loss is the mean under that draw"
        )
    notes.append(
        f"final loss {tr['final_loss']:.3f}, the mean over the last "
        f"{plural(min(50, n_hist), 'epoch')}{cache}"
    )
    text = (
        f"The denoiser has {cond['n_params']:,} parameters: `Embedding({k}, "
        f"{cond.get('class_dim', 16)})` for the class, then "
        f"{plural(cond.get('n_layers', st['n_layers']), 'fully connected hidden layer')} of "
        f"width {cond.get('hidden', st['hidden'])}, the first taking [{features}], and a "
        f"linear output layer. It was trained for {steps} ({'; '.join(notes)}). "
    )
    vals = ", ".join(f"{v:.3f} at t = {t:g}" for t, v in eff.items())
    if max(eff.values()) <= 0:
        return text + (
            "At 2000 points x ~ N(0, I) the output does not depend on the class: the mean "
            f"distance between a class's ε̂ and the average over classes is {vals}."
        )
    top = max(eff, key=eff.get)
    return text + (
        "Changing the class changes the output at the same (x, t): over 2000 points "
        "x ~ N(0, I), the mean distance between a class's ε̂ and the average over classes is "
        f"{vals} (largest at t = {top:g})."
    )


# --------------------------------------------------------------------------- C3
def _steer_rows(rec):
    k, names = _classes(rec)
    pc = rec["trajectories"]["steering"]["per_class"]
    rows, groups = [], {"more": [], "same": [], "less": []}
    for c in range(k):
        s = pc[str(c)]
        a, b = s["hits_own"] / s["n"], s["hits_other"] / s["n_other"]
        word = compare(a - b, pooled_se(a, b, s["n"], s["n_other"]), "more", "less", "same")
        groups[word].append(c)
        verdict = {
            "more": "more often under c",
            "less": "less often under c",
            "same": "within the noise",
        }
        rows.append(
            [
                f"{c} {names[c]}",
                f"{s['hits_own']}/{s['n']} ({pct(a, 0)})",
                f"{s['hits_other']}/{s['n_other']} ({pct(b, 0)})",
                f"{s['distance_own']:.3f} / {s['distance_other']:.3f}",
                verdict[word],
            ]
        )
    return rows, groups


def c3(rec: dict) -> str:
    tr = rec["trajectories"]
    k, names = _classes(rec)
    T = rec["params"]["T"]
    pts, inside = tr["final_points"], tr["in_region"]
    check = ", ".join(
        f"class {c} ({names[c]}): ({pts[c][0]:.3f}, {pts[c][1]:.3f}) "
        + ("inside its region" if inside[c] else "**outside** its region")
        for c in range(k)
    )
    text = (
        f"One DDIM run (T = {T}, z ~ N(0, I)) per class, each in its class colour (o: start, "
        f"★: output). End points: {check}; {sum(bool(v) for v in inside)} of {k} end in their "
        "class's region."
    )
    if "steering" not in tr:
        return text
    n = len(tr["steering"]["z"])
    rows, g = _steer_rows(rec)
    text += (
        f"\n\nWhether the class, and not the sampler alone, decides where a path ends: the same "
        f"{n} starts z ~ N(0, I) were run under every class, and for each class c we count the "
        "runs that end in region c when conditioned on c, against the runs of the same starts "
        "under the other classes that end there (pooled two-proportion standard error):\n\n"
        + table(
            [
                "class c",
                "runs under c ending in region c",
                "runs under other classes ending in region c",
                "mean distance to region c: under c / under others",
                "difference",
            ],
            rows,
        )
        + "\n\n"
    )
    parts = []
    if g["more"]:
        parts.append(
            "conditioning on the class puts the end point in its region more often than the "
            f"other classes' conditioning does, beyond the noise, for {_cls(g['more'])}"
        )
    if g["same"]:
        parts.append(f"the difference is within the noise for {_cls(g['same'])}")
    if g["less"]:
        parts.append(
            f"for {_cls(g['less'])} the runs under their own class end in their region "
            "**less** often than the runs under other classes"
        )
    return text + "Measured: " + "; ".join(parts) + "."


# --------------------------------------------------------------------------- C4
def c4(rec: dict) -> str:
    k, _ = _classes(rec)
    n_pc = rec["settings"]["samples_per_class"]
    T = rec["params"]["T"]
    acc_l = _by_class(rec["samples"]["class_accuracy"], k)
    acc_o = _by_class(rec["samples"]["oracle_class_accuracy"], k)
    acc_i = _by_class(rec["improved"]["class_accuracy"], k)
    return (
        f"{n_pc} samples per class ({n_pc * k} in all) with the exercise's sampler "
        f"(DDIM, T = {T}, z ~ N(0, I)) from the learned model (left), the same z through "
        f"the closed-form oracle (middle), and the improved sampler (right): "
        f"{rec['improved']['description']}. Overall accuracy (share of samples inside their "
        f"own class region): learned {np.mean(acc_l):.3f}, oracle {np.mean(acc_o):.3f}, "
        f"learned + improved sampler {np.mean(acc_i):.3f} (the standard error of one class's "
        f"accuracy is at most {0.5 / math.sqrt(n_pc):.3f}, of the overall one at most "
        f"{0.5 / math.sqrt(n_pc * k):.3f})."
    )


# --------------------------------------------------------------------------- C5
def c5_table(rec) -> str:
    k, names = _classes(rec)
    areas = rec["classes"]["areas"]
    an = rec["analysis"]
    acc_l = _by_class(rec["samples"]["class_accuracy"], k)
    acc_o = _by_class(rec["samples"]["oracle_class_accuracy"], k)
    acc_i = _by_class(rec["improved"]["class_accuracy"], k)
    acc_io = _by_class(rec["improved"]["oracle_class_accuracy"], k)
    sl, so = an["spread_learned"], an["spread_oracle"]
    rows = [
        f"| {c} {names[c]} | {areas[c]:.2f} | {acc_l[c]:.3f} | {acc_o[c]:.3f} | "
        f"{acc_l[c] - acc_o[c]:+.3f} | {acc_i[c]:.3f} | {acc_io[c]:.3f} | "
        f"{sl[str(c)]['edge_share']:.2f} / {so[str(c)]['edge_share']:.2f} / "
        f"{sl[str(c)]['edge_share_true']:.2f} | {sl[str(c)]['fill']:.2f} / "
        f"{sl[str(c)]['fill_true']:.2f} | "
        f"{sl[str(c)]['std_ratio'][0]:.2f}, {sl[str(c)]['std_ratio'][1]:.2f} | "
        f"{sl[str(c)]['mean_offset']:.3f} / {so[str(c)]['mean_offset']:.3f} |"
        for c in range(k)
    ]
    return (
        "| class | area | learned | oracle | learned − oracle | improved (learned) | "
        "improved (oracle, t=0) | edge share learned / oracle / truth | fill learned / truth | "
        "std ratio (x, y) | mean offset learned / oracle |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def c5_prior_table(rec) -> str:
    k, names = _classes(rec)
    pm = rec["analysis"]["prior_mismatch"]
    rows = []
    for c in range(k):
        m = pm[str(c)]
        rows.append(
            [
                f"{c} {names[c]}",
                f"{m['correlation_data']:+.2f}",
                f"{m['correlation_t1']:+.3f}",
                f"{m['kl']:.3g} ± {m['kl_stderr']:.2g}",
                f"{m['kl_correlation']:.3g}",
                f"{m['kl_shape']:+.3g}",
            ]
        )
    return table(
        [
            "class",
            "correlation of the region",
            "correlation of p₁(·|c)",
            "KL(p₁ ‖ prior) ± s.e. (nats)",
            "of which: correlation −½log(1−ρ₁²)",
            "non-Gaussian shape",
        ],
        rows,
    )


def _variant_means(rec, who: str) -> dict[str, list[float]] | None:
    v = rec["analysis"].get("prior_and_denoise", {}).get(who)
    if not v:
        return None
    k, _ = _classes(rec)
    return {key: _by_class(acc, k) for key, acc in v.items()}


def _variants_sentence(rec, who: str, n: int) -> str:
    v = _variant_means(rec, who)
    if v is None:
        return ""
    base = v["standard_end"]
    parts = []
    for key, what in (
        ("matched_end", "the moment-matched prior instead of N(0, I)"),
        ("standard_denoised", "returning x̂_0 instead of the end point"),
        ("matched_denoised", "both"),
    ):
        d, se = _mean_diff(v[key], base, n)
        word = compare(d, se, "higher", "lower", "within the noise")
        parts.append(f"{what}: {np.mean(v[key]):.3f} ({word}, {d:+.3f} ± {se:.3f})")
    return f"mean accuracy with N(0, I) and the end point {np.mean(base):.3f}; with " + "; ".join(
        parts
    )


def _properties(rec) -> list[tuple[str, str, str, list[float]]]:
    """(name, word for more, word for less, per-class values) of each measured property."""
    k, _ = _classes(rec)
    cl, an = rec["classes"], rec["analysis"]
    geo = cl.get("geometry", {})
    sl = an["spread_learned"]
    out = []
    if geo:
        g = [geo[str(c)] for c in range(k)]
        out += [
            ("boundary length per area", "more", "less", [x["perimeter_per_area"] for x in g]),
            (
                "share of the area within 3σ(0) of the edge",
                "a larger",
                "a smaller",
                [x["edge_area_share"]["3σ(0)"] for x in g],
            ),
        ]
    out += [
        ("area", "more", "less", [float(a) for a in cl["areas"]]),
        ("training points", "more", "fewer", [float(n) for n in cl["train_counts"]]),
        ("inradius", "a larger", "a smaller", [float(r) for r in cl["inradius"]]),
        (
            "fill of the learned samples relative to a true sample's",
            "a larger",
            "a smaller",
            [sl[str(c)]["fill"] / max(sl[str(c)]["fill_true"], 1e-12) for c in range(k)],
        ),
        (
            "offset of the learned samples' mean from the region's",
            "a larger",
            "a smaller",
            [sl[str(c)]["mean_offset"] for c in range(k)],
        ),
    ]
    return out


def _harder_measure(rec, n: int) -> dict:
    """The learned model's classes by accuracy (``order``, hardest first), the hardest–easiest
    gap ``d`` and whether it is ``beyond`` the noise (``word``), each property's Spearman ρ
    with the miss rate (``props``: name, word for more, word for less, ρ) and those with
    |ρ| ≥ :data:`RHO_STRONG` (``strong``)."""
    k, _ = _classes(rec)
    acc = _by_class(rec["samples"]["class_accuracy"], k)
    order = sorted(range(k), key=lambda c: acc[c])
    hard, easy = order[0], order[-1]
    d = acc[easy] - acc[hard]
    word = compare(d, pooled_se(acc[easy], acc[hard], n, n), "beyond", "beyond", "within")
    miss = [1 - a for a in acc]
    props = [(name, up, down, spearman(vals, miss)) for name, up, down, vals in _properties(rec)]
    strong = [
        (m, up, down, r)
        for m, up, down, r in props
        if not math.isnan(r) and abs(round(r, 9)) >= RHO_STRONG
    ]
    return {"acc": acc, "order": order, "d": d, "word": word, "props": props, "strong": strong}


def _harder(rec, n: int) -> str:
    k, names = _classes(rec)
    h = _harder_measure(rec, n)
    acc, order, d, word, props = h["acc"], h["order"], h["d"], h["word"], h["props"]
    text = (
        "**Harder classes.** Ranked by the learned model's accuracy with the exercise's "
        "sampler, hardest first: " + ", ".join(f"{c} ({names[c]}, {acc[c]:.3f})" for c in order)
    )
    text += f"; the hardest and the easiest differ by {d:.3f}, " + (
        "beyond the noise. " if word == "beyond" else "within the noise. "
    )
    if all(math.isnan(r) for *_, r in props):
        return text + "The accuracy is the same for every class, so no property can order them."
    listing = ", ".join(f"{name} {r:+.2f}" for name, _, _, r in props if not math.isnan(r))
    text += (
        "Spearman rank correlation over the classes of each measured per-class property with "
        f"the miss rate (1 − accuracy): {listing}. "
    )
    strong = h["strong"]
    if strong:
        text += (
            f"The properties that order the classes as the miss rate does (|ρ| ≥ {RHO_STRONG:g}): "
            + "; ".join(
                f"{up if r > 0 else down} {name} goes with a lower accuracy"
                for name, up, down, r in strong
            )
            + "."
        )
    else:
        name, _, _, r = max((p for p in props if not math.isnan(p[3])), key=lambda p: abs(p[3]))
        text += (
            f"No measured property orders the classes as the miss rate does (every |ρ| < "
            f"{RHO_STRONG:g}; the largest is {name}, {r:+.2f})."
        )
    text += (
        f" Over {k} classes a rank correlation is a coarse measure of association, not of cause."
    )
    fm = rec["analysis"].get("failure_distance_median", {})
    if fm:
        text += (
            " The learned model's misses lie outside their region at a median distance of "
            + ", ".join(f"{c}: {_num(fm[str(c)]):.3f}" for c in range(k))
            + f" (σ(0) = {_sigma0(rec):.4f}; 0: no miss)."
        )
    return text


def _prior_paragraph(rec) -> str:
    k, names = _classes(rec)
    pm = rec["analysis"].get("prior_mismatch")
    if not pm:
        return ""
    geo = rec["classes"].get("geometry", {})
    dist = [float(np.hypot(*geo[str(c)]["mean"])) for c in range(k)] if geo else []
    corr = [c for c in range(k) if abs(pm[str(c)]["correlation_t1"]) > 1e-6]
    shape = [c for c in range(k) if pm[str(c)]["kl_shape"] > 2 * pm[str(c)]["kl_stderr"]]
    text = (
        "**The prior.** The t = 1 marginal of class c is p₁(·|c) = p_data(·|c) ⊛ N(0, σ(1)² I). "
        "The exercise starts from N(0, I), which has neither its mean"
        + (
            f" (the class means lie {min(dist):.2f}–{max(dist):.2f} from the origin)"
            if dist
            else ""
        )
        + " nor its variance; the improved sampler starts from the diagonal moment-matched "
        "Gaussian N(mean_c, diag(σ(1)² + var_c)), which has p₁'s mean and per-coordinate "
        "variances but no correlation and a Gaussian shape. Measured: p₁ is correlated for "
        + (f"{_cls(corr)}" if corr else "no class")
        + ", and its shape differs from a Gaussian beyond the Monte-Carlo noise (two standard "
        "errors of the KL) for "
        + (f"{_cls(shape)}" if shape else "no class")
        + f" ({pm['0']['n']} draws per class; log p₁ exact, from the oracle):\n\n"
        + c5_prior_table(rec)
    )
    return text


def _edge_measure(rec) -> tuple[list[float], list[float], list[float], float, float, str]:
    """Per-class edge shares (learned, truth, oracle), the mean difference learned − truth,
    its standard error and the word for it: ``"more"``, ``"less"`` or ``"same"``."""
    k, _ = _classes(rec)
    sl, so = rec["analysis"]["spread_learned"], rec["analysis"]["spread_oracle"]
    e_l = [sl[str(c)]["edge_share"] for c in range(k)]
    e_t = [sl[str(c)]["edge_share_true"] for c in range(k)]
    e_o = [so[str(c)]["edge_share"] for c in range(k)]
    var = 0.0
    for c in range(k):
        n_in = max(1, round(sl[str(c)]["n"] * (1 - sl[str(c)]["outside_share"])))
        var += e_l[c] * (1 - e_l[c]) / n_in + e_t[c] * (1 - e_t[c]) / sl[str(c)]["n"]
    d, se = float(np.mean(e_l) - np.mean(e_t)), math.sqrt(var) / k
    return e_l, e_t, e_o, d, se, compare(d, se, "more", "less", "same")


def c5(rec: dict) -> str:
    k, names = _classes(rec)
    an = rec["analysis"]
    n = int(an.get("n_per_class", rec["settings"]["samples_per_class"]))
    acc_l = _by_class(rec["samples"]["class_accuracy"], k)
    acc_o = _by_class(rec["samples"]["oracle_class_accuracy"], k)
    acc_i = _by_class(rec["improved"]["class_accuracy"], k)
    acc_io = _by_class(rec["improved"]["oracle_class_accuracy"], k)
    sl, so = an["spread_learned"], an["spread_oracle"]
    order = sorted(range(k), key=lambda c: acc_l[c])
    order_o = sorted(range(k), key=lambda c: acc_o[c])
    hard, easy = order[0], order[-1]

    # accuracy against the oracle, class by class
    below, above = [], []
    for c in range(k):
        w = compare(acc_l[c] - acc_o[c], pooled_se(acc_l[c], acc_o[c], n, n), "a", "b", "s")
        (above if w == "a" else below if w == "b" else []).append(c)
    text = (
        c5_table(rec)
        + f"\n\n**Accuracy** ({n} samples per class and sampler; differences are compared with "
        "two pooled standard errors). With the exercise's sampler the learned model's per-class "
        f"accuracy ranges from {acc_l[hard]:.3f} (class {hard}, {names[hard]}) to "
        f"{acc_l[easy]:.3f} (class {easy}, {names[easy]}); the oracle under the same sampler "
        f"and the same z ranges from {acc_o[order_o[0]]:.3f} (class {order_o[0]}, "
        f"{names[order_o[0]]}) to {acc_o[order_o[-1]]:.3f}. "
    )
    if not below and not above:
        text += (
            "Every class is within the noise of the oracle: with this sampler the learned model "
            "loses no more than the exact denoiser does. "
        )
    else:
        if below:
            worst = min(below, key=lambda c: acc_l[c] - acc_o[c])
            text += (
                f"The learned model is below the oracle beyond the noise for {_cls(below)} "
                f"(largest gap {acc_l[worst] - acc_o[worst]:+.3f}, class {worst}, {names[worst]}): "
                "with the same sampler and z, that is the model's own error. "
            )
        if above:
            text += f"It is above the oracle beyond the noise for {_cls(above)}. "
    vs = _variants_sentence(rec, "oracle", n)
    miss_o = 1 - float(np.mean(acc_o))
    text += (
        "The oracle misses no sample with this sampler. "
        if miss_o == 0
        else f"The oracle misses {miss_o:.3f} of its samples; with the exact denoiser, these "
        "misses are the sampler's. "
    )
    if vs:
        text += f"Changing one thing at a time with the same z, the oracle's {vs}. "
    loss = [1 - a for a in acc_o]
    edge = [so[str(c)]["edge_share_true"] for c in range(k)]
    if len(set(loss)) == 1:
        text += (
            f"The oracle's loss is the same for every class ({loss[0]:.3f}), so it does not "
            "order them."
        )
    else:
        rho = spearman(loss, edge)
        text += (
            "Ordered by the oracle's loss the classes are "
            + _order(loss)
            + "; ordered by the truth's share within 0.05 of the edge they are "
            + _order(edge)
            + (
                " (the same order)."
                if round(rho, 9) == 1
                else f" (not the same order: Spearman ρ = {rho:+.2f})."
            )
        )
    prior = _prior_paragraph(rec)
    if prior:
        text += "\n\n" + prior
    text += "\n\n" + _harder(rec, n)
    for paragraph in (_memorisation_paragraph(rec), _study_paragraph(rec)):
        if paragraph:
            text += "\n\n" + paragraph

    # spread against the region
    e_l, e_t, e_o, d, se, word = _edge_measure(rec)
    ratios = [r for c in range(k) for r in sl[str(c)]["std_ratio"]]
    verdict = {
        "less": "Fewer in-region samples lie near the edge than in a true sample, beyond the "
        "noise: the learned samples are pulled in from the edges.",
        "more": "More in-region samples lie near the edge than in a true sample, beyond the "
        "noise: the learned samples pile up at the edges.",
        "same": "The edge share is within the noise of a true sample's.",
    }[word]
    text += (
        f"\n\n**Spread vs region.** The learned samples put {np.mean(e_l):.3f} of their "
        f"in-region points within 0.05 of the edge on average (truth {np.mean(e_t):.3f}, "
        f"oracle {np.mean(e_o):.3f}; difference to the truth {d:+.3f} ± {se:.3f}). {verdict} "
        f"Their std ratio to the region is {min(ratios):.2f}–{max(ratios):.2f}; the fill (share "
        "of the region's 0.05-cells holding a sample, against a true sample of the same size) "
        "is in the table."
    )

    # the improved sampler
    desc = rec["improved"]["description"]
    text += f"\n\n**Improved sampler.** {desc}: per-class accuracy " + ", ".join(
        f"{c}: {acc_i[c]:.3f}" for c in range(k)
    )
    text += (
        " — every class at or above 95 %. "
        if min(acc_i) >= 0.95
        else f" — not every class reaches 95 % (minimum {min(acc_i):.3f}). "
    )
    vs = _variants_sentence(rec, "learned", n)
    if vs:
        text += f"For the learned model with the same z: {vs}. "
    text += (
        f"The oracle with the moment-matched prior and x̂_0 at t = 0: minimum {min(acc_io):.3f}. "
    )
    text += _sweep(rec, n)
    return text


def _memorisation_measure(rec) -> dict:
    """Per class: the learned and the oracle's memorisation ratios and their standard errors,
    the word comparing them (``higher`` | ``lower`` | ``within the noise``), the classes
    without training points (``empty``) and those below the target (``below``)."""
    k, _ = _classes(rec)
    mem = rec["memorisation"]
    get = lambda who, key: [_num(mem[who][str(c)][key]) for c in range(k)]  # noqa: E731
    r_l, se_l = get("learned", "ratio"), get("learned", "ratio_stderr")
    r_o, se_o = get("oracle", "ratio"), get("oracle", "ratio_stderr")
    words = [
        compare(r_l[c] - r_o[c], math.hypot(se_l[c], se_o[c]), "higher", "lower",
                "within the noise") for c in range(k)
    ]  # fmt: skip
    empty = [c for c in range(k) if mem["learned"][str(c)]["n_train"] == 0]
    lim = TARGETS["min_memorisation"]
    below = [c for c in range(k) if c not in empty and r_l[c] < lim]
    return {"learned": r_l, "learned_se": se_l, "oracle": r_o, "oracle_se": se_o,
            "words": words, "empty": empty, "below": below, "target": lim}  # fmt: skip


def _memorisation_paragraph(rec) -> str:
    if "memorisation" not in rec:
        return ""
    k, names = _classes(rec)
    m = _memorisation_measure(rec)
    n_train = [rec["memorisation"]["learned"][str(c)]["n_train"] for c in range(k)]
    n_s = rec["memorisation"]["learned"]["0"]["n"]

    def listing(who):
        return ", ".join(
            f"{c}: {m[who][c]:.2f} ± {m[who + '_se'][c]:.2f}"
            for c in range(k)
            if c not in m["empty"]
        )

    text = (
        "**Memorisation.** For each class, the median distance from the exercise sampler's "
        f"samples ({n_s} per class) to the nearest training point of the class, divided by the "
        "same median for as many fresh points drawn uniformly on the region (1: the samples lie "
        "no closer to the training points than new data do; well below 1: they reproduce the "
        "training points; ± one bootstrap standard error): learned "
        + listing("learned")
        + "; the oracle under the same noise "
        + listing("oracle")
        + "."
    )
    if m["empty"]:
        text += f" No ratio for {_cls(m['empty'])}: no training point fell there."
    lower = [c for c in range(k) if m["words"][c] == "lower" and c not in m["empty"]]
    higher = [c for c in range(k) if m["words"][c] == "higher" and c not in m["empty"]]
    if lower:
        text += (
            f" The learned model's ratio is smaller than the oracle's beyond the noise (two "
            f"standard errors) for {_cls(lower)}: its samples lie closer to the training points than "
            "samples of the exact denoiser do."
        )
    else:
        text += (
            " The learned model's ratio is nowhere smaller than the oracle's beyond the noise (two "
            "standard errors)."
        )
    if higher:
        text += f" It is larger than the oracle's beyond the noise for {_cls(higher)}."
    lim = m["target"]
    rated = [c for c in range(k) if c not in m["empty"]]
    if not m["below"]:
        text += f" Every class's ratio is at least {lim:g}."
    else:
        c = min(m["below"], key=lambda c: m["learned"][c])
        text += (
            f" The ratio is below {lim:g} for {_cls(m['below'])} of the {len(rated)} rated "
            f"(smallest {m['learned'][c]:.2f}, class {c}, {names[c]}, {n_train[c]:,} training "
            "points)."
        )
    return text


def data_size_table(rec) -> str:
    """The stored data-size study, one row per training-set size: mean (min–max) over its
    seeds."""
    st = rec["data_size_study"]

    def cell(v, fmt):
        return f"{v['mean']:{fmt}} ({v['min']:{fmt}}–{v['max']:{fmt}})"

    rows = [
        [
            f"{r['n_points']:,}",
            len(r["seeds"]),
            cell(r["max_gap"], ".3f"),
            cell(r["min_improved"], ".3f"),
            cell(r["max_lik_err"], ".2f"),
            cell(r["min_memorisation"], ".2f"),
            cell(r["min_memorisation_oracle"], ".2f"),
            f"{r['seeds_meeting_targets']} of {len(r['seeds'])}",
        ]
        for r in st["rows"]
    ]
    t = st["targets"]
    return table(
        [
            "training points",
            "seeds",
            f"largest oracle − learned gap (≤ {t['max_gap']:g})",
            f"lowest improved accuracy (≥ {t['min_improved']:g})",
            f"largest log-density error, nats (≤ {t['max_lik_err']:g})",
            f"smallest memorisation ratio (≥ {t['min_memorisation']:g})",
            "smallest memorisation ratio, oracle",
            "seeds meeting all four",
        ],
        rows,
    )


def _study_paragraph(rec) -> str:
    st = rec.get("data_size_study")
    if not st:
        return ""
    rows = st["rows"]
    a, b = rows[0], rows[-1]
    sizes = ", ".join(f"{n:,}" for n in st["sizes"])
    commit = st["commit"][:10] + (" plus uncommitted changes" if st["uncommitted_changes"] else "")
    source = (
        f"a study stored in the repository (`{st['source']}`, made by `{st['command']}` at "
        f"commit {commit} on {st['date']}, device {st['device']}, seeds "
        f"{_ids(st['seeds'])} at each size)"
    )
    if st["matches"]:
        lead = (
            f"At this run's setting (its settings, T = {st['T']} and {st['adam_steps']:,} Adam "
            f"steps), {source} measured what the data size costs"
        )
    else:
        lead = (
            f"With another setting than this run's (it differs in {', '.join(st['differences'])}), "
            f"{source} measured what the data size costs that setting"
        )
    met = [r["n_points"] for r in rows if r["seeds_meeting_targets"] == len(r["seeds"])]
    text = (
        f"**Data size.** {lead}: trained for {st['adam_steps']:,} Adam steps on each of {sizes} "
        "points, the model's largest oracle − learned gap is, averaged over the seeds, "
        f"{a['max_gap']['mean']:.3f} at {a['n_points']:,} points and "
        f"{b['max_gap']['mean']:.3f} at {b['n_points']:,}, the largest interior log-density "
        f"error {a['max_lik_err']['mean']:.2f} and {b['max_lik_err']['mean']:.2f} nats, and the "
        f"smallest memorisation ratio {a['min_memorisation']['mean']:.2f} and "
        f"{b['min_memorisation']['mean']:.2f}; "
        + (
            f"every seed meets all four targets at {', '.join(f'{n:,}' for n in met)} points"
            if met
            else "at no size does every seed meet all four targets"
        )
        + " (the table below; the figure after it shows each seed).\n\n"
        + data_size_table(rec)
    )
    return text


def _sweep(rec, n: int) -> str:
    k, names = _classes(rec)
    an = rec["analysis"]
    sw = {float(s): v for s, v in an["t_stop_sweep"].items()}
    sl = an["spread_learned"]
    true_edge = float(np.mean([sl[str(c)]["edge_share_true"] for c in range(k)]))
    stops = sorted(sw)
    desc = "; ".join(
        f"t = {s:g}: mean accuracy {np.mean(_by_class(sw[s]['class_accuracy'], k)):.3f} (min "
        f"{min(_by_class(sw[s]['class_accuracy'], k)):.3f}), mean edge share "
        f"{np.mean(_by_class(sw[s]['edge_share'], k)):.3f}"
        for s in stops
    )
    if len(stops) < 2:
        text = (
            f"Only t = 0 of the stops 0.2, 0.3, 0.4 lies on the T = {rec['params']['T']} grid, so "
            f"x̂_0 was taken at t = 0 only ({desc})."
        )
    else:
        a0, a1 = (_by_class(sw[s]["class_accuracy"], k) for s in (stops[0], stops[-1]))
        e0, e1 = (_by_class(sw[s]["edge_share"], k) for s in (stops[0], stops[-1]))
        da, sa = _mean_diff(a1, a0, n)
        de, se = _mean_diff(e1, e0, n)
        wa = compare(da, sa, "higher", "lower", "within the noise")
        we = compare(de, se, "higher", "lower", "within the noise")
        text = (
            f"Returning x̂_0 at a later time of the same run: {desc} (truth's edge share "
            f"{true_edge:.3f}). From t = {stops[0]:g} to t = {stops[-1]:g} the mean accuracy is "
            f"{wa} ({da:+.3f} ± {sa:.3f}) and the mean edge share {we} ({de:+.3f} ± {se:.3f})."
        )
    pmi = an.get("posterior_mean_inside")
    if pmi:
        vals = [(float(t), c, _num(v[str(c)])) for t, v in pmi.items() for c in range(k)]
        lo = min(vals, key=lambda x: x[2])
        geo = rec["classes"].get("geometry", {})
        nonconvex = [c for c in range(k) if geo and not geo[str(c)]["convex"]]
        ts = ", ".join(f"{t:g}" for t in sorted({v[0] for v in vals}))
        text += (
            f" For noisy true points x_t of each class at t = {ts}, the exact posterior mean "
            "E[x_0 | x_t, c] (the oracle's x̂_0) lies inside the class's region for a share of "
            + (
                f"{lo[2]:.3f} at every t and class"
                if lo[2] == max(v[2] for v in vals)
                else f"{lo[2]:.3f}–{max(v[2] for v in vals):.3f}"
            )
            + (f" (lowest: class {lo[1]}, {names[lo[1]]}, at t = {lo[0]:g})" if lo[2] < 1 else "")
            + "; a convex region holds every posterior mean"
            + (f", a non-convex one ({_cls(nonconvex)}) need not." if nonconvex else ".")
        )
    return text


ANSWERS = {"C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5, **answers_probes.ANSWERS}
#: Questions answered by a finding and its templates (C1-C5 here, C6 and the bonus there)
FINDINGS = {**findings.FINDINGS, **findings_probes.FINDINGS}
TEMPLATES = findings.TEMPLATES


# --------------------------------------------------------------------------- short answers
QUESTIONS = {
    "C1": Question(
        "The training data coloured by class", "Show the training data coloured by class."
    ),
    "C2": Question(
        "How the class enters the model, and which equations change",
        "How was the class inserted, and which equations change?",
    ),
    "C3": Question(
        "One sample per class: trajectories and an in-region check",
        "Sample one point per class, draw each path in its class colour, and check by "
        "computation that each end point lies in its class region.",
    ),
    "C4": Question(
        "Conditional samples, coloured by class",
        "Show at least 1000 conditional samples coloured by class.",
    ),
    "C5": Question(
        "Analysis: which classes are harder, and why",
        "Per-class accuracy (the share of a class's samples inside its region): which classes "
        "are harder, and why; does the spatial distribution match the data?",
    ),
    "C6": Question(
        "Probability estimates log p(x | c) at probe points",
        "Estimate log p(x | c) with −L_T at five or more points inside and outside the data, "
        "including one location under two classes (one matching, one not); what happens when "
        "the location or the class does not match?",
    ),
    "Bonus": Question(
        "Making the model output a point far outside the square",
        "Make a trained model output the far-away point (4, 5.5) as a sample; describe every "
        "attempt with its measured final distance and plot the path.",
    ),
}

MIN_SAMPLES = 1000  # C4: the exercise asks for at least this many conditional samples

# C5: short names of the measured properties (see _properties) for the one-line answer
_SHORT_PROPERTY = {
    "boundary length per area": "boundary per area",
    "share of the area within 3σ(0) of the edge": "area near the edge",
    "fill of the learned samples relative to a true sample's": "sample fill",
    "offset of the learned samples' mean from the region's": "sample-mean offset",
}


def h_c1(rec: dict) -> Headline:
    """C1 in one line. Verdicts: "all populated" (every class has a training point) |
    "class empty"."""
    k, names = _classes(rec)
    areas, counts, _, big, small, few, _ = _c1_extremes(rec)
    text = (
        f"{rec['params']['n_points']:,} points uniform on the square, labelled by {k} class "
        f"regions whose areas span a factor {areas[big] / areas[small]:.0f} "
        f"({areas[small]:.2f}–{areas[big]:.2f})"
    )
    empty = [c for c in range(k) if counts[c] == 0]
    if empty:
        verdict = "class empty"
        text += f"; {_cls(empty)} ({', '.join(names[c] for c in empty)}) got no training point."
    else:
        verdict = "all populated"
        text += f"; the fewest points, {counts[few]}, fall in class {few} ({names[few]})."
    return headline(
        rec, "classes.train_counts", "fewest training points in a class", text, verdict,
        fmt=".0f", reduce="min",
    )  # fmt: skip


def h_c2(rec: dict) -> Headline:
    """C2 in one line. Verdicts: "class-dependent" (changing the class changes ε̂ at the same
    (x, t)) | "class-blind"."""
    cond, st = rec["conditioning"], rec["settings"]
    k, _ = _classes(rec)
    eff = {float(t): _num(v) for t, v in cond["class_effect"].items()}
    text = (
        f"`Embedding({k}, {cond.get('class_dim', 16)})` joins the point and noise features at "
        f"the first of {plural(cond.get('n_layers', st['n_layers']), 'hidden layer')}; "
        "D(x_t, t) becomes D(x_t, t, c) in the loss, x̂_0, score, DDIM and Eq. 9"
    )
    if max(eff.values()) <= 0:
        verdict = "class-blind"
        text += (
            f"; measured, ε̂ does not change with c (largest class effect {max(eff.values()):.3f})."
        )
    else:
        verdict = "class-dependent"
        top = max(eff, key=eff.get)
        text += f"; changing c moves ε̂ by up to {eff[top]:.3f} (t = {top:g})."
    return headline(
        rec, "conditioning.class_effect",
        "largest mean distance of a class's ε̂ from the class average (over t)", text, verdict,
        fmt=".3f", reduce="max",
    )  # fmt: skip


def h_c3(rec: dict) -> Headline:
    """C3 in one line. Verdicts: "all inside" | "some outside" | "none inside" (the one DDIM
    end point per class against its class's region)."""
    tr = rec["trajectories"]
    k, _ = _classes(rec)
    inside = [c for c in range(k) if tr["in_region"][c]]
    out = [c for c in range(k) if not tr["in_region"][c]]
    verdict = "all inside" if not out else "none inside" if not inside else "some outside"
    text = f"{len(inside)} of {k} DDIM runs (one per class) end in their class's region"
    if inside and out:
        text += f" ({_cls(out)} outside)"
    if "steering" in tr:
        _, g = _steer_rows(rec)
        text += (
            f"; over {len(tr['steering']['z'])} shared starts, conditioning on c puts more runs "
            "in region c than other classes do "
            + (f"for {_cls(g['more'])}" if g["more"] else "for no class, beyond the noise")
        )
        rest = [f"within the noise: {_ids(g['same'])}"] if g["same"] else []
        rest += [f"**fewer**: {_ids(g['less'])}"] if g["less"] else []
        if rest:
            text += f" ({'; '.join(rest)})"
    return headline(
        rec, "trajectories.in_region", "share of the one-per-class end points in their region",
        text + ".", verdict, fmt=".2f", reduce="mean",
    )  # fmt: skip


def h_c4(rec: dict) -> Headline:
    """C4 in one line. Verdicts: "at least 1000" | "fewer than 1000" (conditional samples
    shown, against the 1000 the exercise asks for)."""
    k, _ = _classes(rec)
    n_pc = rec["settings"]["samples_per_class"]
    total = n_pc * k
    means = [
        float(np.mean(_by_class(rec[key]["class_accuracy"], k))) for key in ("samples", "improved")
    ]
    acc_o = float(np.mean(_by_class(rec["samples"]["oracle_class_accuracy"], k)))
    ok = total >= MIN_SAMPLES
    text = (
        f"{total} samples ({n_pc} per class)"
        + ("" if ok else f", fewer than the {MIN_SAMPLES} asked")
        + f"; with DDIM (T = {rec['params']['T']}) {means[0]:.3f} land in their class's region "
        f"(oracle {acc_o:.3f}, improved sampler {means[1]:.3f})."
    )
    return headline(
        rec, "samples.class_accuracy", "learned model's accuracy, mean over the classes", text,
        f"at least {MIN_SAMPLES}" if ok else f"fewer than {MIN_SAMPLES}", fmt=".3f",
        reduce="mean",
    )  # fmt: skip


def h_c5(rec: dict) -> Headline:
    """C5 in one line. Verdicts: "differ" (the hardest and the easiest class's accuracies
    differ beyond the noise) | "within noise"."""
    k, names = _classes(rec)
    n = int(rec["analysis"].get("n_per_class", rec["settings"]["samples_per_class"]))
    h = _harder_measure(rec, n)
    acc, hard, easy = h["acc"], h["order"][0], h["order"][-1]
    verdict = "differ" if h["word"] == "beyond" else "within noise"

    def short(name):
        return _SHORT_PROPERTY.get(name, name)

    if all(math.isnan(r) for *_, r in h["props"]):
        text = f"Every class has the same accuracy ({acc[hard]:.3f}): none is harder"
    else:
        text = (
            f"Class {hard} ({names[hard]}) is hardest ({acc[hard]:.3f} vs {acc[easy]:.3f} for "
            f"class {easy}), {'beyond' if verdict == 'differ' else 'within'} the noise; "
        )
        if h["strong"]:
            text += (
                "misses go with "
                + " and ".join(
                    f"{up if r > 0 else down} {short(name)}" for name, up, down, r in h["strong"]
                )
                + f" (|ρ| ≥ {RHO_STRONG:g})"
            )
        else:
            name, _, _, r = max(
                (p for p in h["props"] if not math.isnan(p[3])), key=lambda p: abs(p[3])
            )
            text += f"no property has |ρ| ≥ {RHO_STRONG:g} (largest: {short(name)}, {r:+.2f})"
    e_l, e_t, _, _, _, word = _edge_measure(rec)
    a, b = float(np.mean(e_l)), float(np.mean(e_t))
    text += {
        "less": f"; samples pulled in from the edges (edge share {a:.3f} vs {b:.3f})",
        "more": f"; samples pile up at the edges (edge share {a:.3f} vs {b:.3f})",
        "same": f"; edge share within the noise of the data's ({a:.3f} vs {b:.3f})",
    }.get(word, "")
    return headline(
        rec, "samples.class_accuracy", "lowest per-class accuracy (learned model)", text + ".",
        verdict, fmt=".3f", reduce="min",
    )  # fmt: skip


HEADLINES = {
    "C1": h_c1, "C2": h_c2, "C3": h_c3, "C4": h_c4, "C5": h_c5, **answers_probes.HEADLINES,
}  # fmt: skip
