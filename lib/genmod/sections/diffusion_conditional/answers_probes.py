"""Section 02's answers to C6 (probability estimates at probe points) and the bonus (a far
target), with their one-line headlines; :mod:`.answers` gathers them with C1-C5."""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.diffusion_conditional.answers_common import (
    WITHIN_TRUTH,
    _classes,
    _cls,
    _g3,
    _num,
    _sigma0,
    _snr_span,
    _solver_text,
)
from genmod.sections.diffusion_conditional.config import bonus_name
from genmod.sections.markdown import compare, pct, plural, table
from genmod.sections.summary import Headline, headline

MIN_PROBES = 5  # C6: the exercise asks for five or more probe points


# --------------------------------------------------------------------------- C6
def c6_table(rec) -> str:
    rows = []
    for i, p in enumerate(rec["probes"]):
        truth = "−∞" if p["truth"] is None else f"{_num(p['truth']):.3f}"
        rows.append(
            f"| {i} | ({p['x']:g}, {p['y']:g}) | {p['class']} | "
            f"{'yes' if p['in_distribution'] else 'no'} | "
            f"{p['log_prob_bound']:.4g} ± {p['stderr']:.3f} | "
            f"{p['log_prob_bound'] + p['reconstruction'] - p['prior_kl']:.4g} | "
            f"{p['exact_log_prob']:.4g} | {p['exact_log_prob_standard_prior']:.4g} | {truth} |"
        )
    return (
        "| # | point | class | in its region | −L_T ± s.e. (Eq. 9) | −L_T + recon − KL | "
        "PF-ODE density, moment-matched prior | PF-ODE density, N(0, I) prior | true log p |\n"
        "|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    )


def c6_interior_table(rec) -> str:
    k, names = _classes(rec)
    lik = rec["likelihood"]
    den = lik.get("interior_mean_exact_denoised")
    head = ["class", "truth", "PF-ODE, moment-matched prior"]
    if den:
        head.append("ODE + x̂₀ (improved sampler), moment-matched prior")
    head += ["PF-ODE, N(0, I) prior", "oracle PF-ODE, moment-matched prior", "margin"]
    rows = []
    for c in range(k):
        s = str(c)
        inter = lik["interior"][s]
        row = [f"{c} {names[c]}", f"{_num(lik['truth'][s]):.3f}"]
        row.append(f"{_num(lik['interior_mean_exact'][s]):.3f} ± {inter['stderr']:.3f}")
        if den:
            row.append(f"{_num(den[s]):.3f} ± {lik['interior_denoised'][s]['stderr']:.3f}")
        row += [
            f"{_num(lik['interior_mean_exact_standard_prior'][s]):.3f}",
            f"{_num(lik['interior_mean_exact_oracle'][s]):.3f}",
            f"{inter['margin']:.3g}",
        ]
        rows.append(row)
    return table(head, rows)


def _cmp3(diff: float, se: float) -> str:
    """'below' / 'within' / 'above' for diff = estimate − reference with error se."""
    return compare(diff, se, "above", "below", "within")


def _groups(items) -> dict[str, list]:
    out = {"below": [], "within": [], "above": []}
    for key, word in items:
        out[word].append(key)
    return out


_PAIR_WORDS = {
    "higher": "the matching class scores higher",
    "lower": "the non-matching class scores **higher**",
    "same": "the two are within the noise",
}


def _pairs(rec) -> list[tuple[int, int, float, float, str]]:
    """Each location probed under its matching class (i) and under one that does not match
    (j): (i, j, −L_T(i) − −L_T(j), its standard error, the word for it: ``"higher"``,
    ``"lower"``, ``"same"``, or compare's "not testable" text)."""
    pb = rec["probes"]
    out = []
    for i, pi in enumerate(pb):
        for j, pj in enumerate(pb):
            if i == j or (pi["x"], pi["y"]) != (pj["x"], pj["y"]):
                continue
            if not (pi["in_distribution"] and not pj["in_distribution"]):
                continue
            d = pi["log_prob_bound"] - pj["log_prob_bound"]
            se = math.hypot(pi["stderr"], pj["stderr"])
            out.append((i, j, d, se, compare(d, se, "higher", "lower", "same")))
    return out


def _probe_pairs(rec) -> list[str]:
    pb = rec["probes"]
    span = _snr_span(rec)
    lines = []
    for i, j, d, _se, key in _pairs(rec):
        pi, pj = pb[i], pb[j]
        word = _PAIR_WORDS.get(key, key)
        line = (
            f"At ({pi['x']:g}, {pi['y']:g}) the matching class {pi['class']} scores "
            f"−L_T = {pi['log_prob_bound']:.3g} ± {pi['stderr']:.2g} and the non-matching "
            f"class {pj['class']} {pj['log_prob_bound']:.4g} ± {pj['stderr']:.2g} ({word}, "
            f"difference {d:.4g} nats; PF-ODE density: {pi['exact_log_prob']:.3g} vs "
            f"{pj['exact_log_prob']:.4g})."
        )
        dj = pj.get("distance_to_region")
        if dj:
            line += (
                f" Under class {pj['class']} the point lies {dj:.3f} from that class's "
                "region; for a perfect denoiser, whose x̂_0 there is the region's nearest "
                "point at small σ, the leading term of −L_T would be "
                f"≈ −(SNR(0) − SNR(1))·d²/2 = {-span * dj**2 / 2:.4g} nats."
            )
        lines.append(line)
    return lines


_INOUT_WORDS = {
    "above": "every inside point above every outside one, beyond the noise",
    "overlap": "they overlap: the lowest inside point scores below the highest outside one",
    "same": "the lowest inside and the highest outside point are within the noise of each other",
}


def _inside_outside_measure(rec) -> tuple[list, list, dict, dict, str] | None:
    """The probes inside their region and those outside the square, the lowest inside and the
    highest outside one, and the word for their difference: ``"above"``, ``"overlap"``,
    ``"same"`` (or compare's "not testable" text); None without both kinds."""
    pb = rec["probes"]
    inside = [p for p in pb if p["in_distribution"]]
    outside = [p for p in pb if not p["in_square"]]
    if not (inside and outside):
        return None
    lo = min(inside, key=lambda p: p["log_prob_bound"])
    hi = max(outside, key=lambda p: p["log_prob_bound"])
    d = lo["log_prob_bound"] - hi["log_prob_bound"]
    key = compare(d, math.hypot(lo["stderr"], hi["stderr"]), "above", "overlap", "same")
    return inside, outside, lo, hi, key


def _inside_outside(rec) -> str:
    pb = rec["probes"]
    m = _inside_outside_measure(rec)
    if m is None:
        return ""
    inside, outside, lo, hi, key = m
    word = _INOUT_WORDS.get(key, key)
    span = _snr_span(rec)
    far = [
        (i, p)
        for i, p in enumerate(pb)
        if not p["in_distribution"] and (p.get("distance_to_region") or 0) > 0
    ]
    text = (
        f"Inside points score −L_T between {lo['log_prob_bound']:.3g} and "
        f"{max(p['log_prob_bound'] for p in inside):.3g}; points outside the square between "
        f"{min(p['log_prob_bound'] for p in outside):.4g} and {hi['log_prob_bound']:.4g} "
        f"({word})."
    )
    if far:
        text += (
            " Off the data, for a perfect denoiser the integrand (T/2)(SNR(t−dt) − SNR(t))"
            "‖x − x̂_0‖² is dominated by small σ, where ‖x − x̂_0‖ ≈ d (the distance to the "
            "region), so −L_T ≈ −(SNR(0) − SNR(1))·d²/2; measured against that: "
            + "; ".join(
                f"#{i} (d = {p['distance_to_region']:.3f}): {p['log_prob_bound']:.4g} vs "
                f"≈ {-span * p['distance_to_region'] ** 2 / 2:.4g}"
                for i, p in far
            )
            + "."
        )
    return text


def _bound_paragraph(rec) -> str:
    pb = rec["probes"]
    inside = [(i, p) for i, p in enumerate(pb) if p["in_distribution"]]
    recon = pb[0]["reconstruction"]
    text = (
        "**What −L_T bounds.** Eq. 9 is the diffusion term of the variational bound on the "
        "log-likelihood of the stochastic (ancestral) model; the full bound is "
        "log p(x|c) ≥ −L_T + E log p(x | z_0) − KL(q(z_1|x) ‖ prior). Here the reconstruction "
        f"term (Gaussian decoder with σ(0) = {_sigma0(rec):.4f}) is +{recon:.2f} nats for every x"
    )
    if inside:
        kl = [p["prior_kl"] for _, p in inside]
        gap = [p["exact_log_prob"] - p["log_prob_bound"] for _, p in inside]
        miss = [p["reconstruction"] - p["prior_kl"] for _, p in inside]
        text += (
            f" and the prior term (moment-matched prior) {min(kl):.2f}–{max(kl):.2f} nats at "
            f"the inside probes. There −L_T lies on average {np.mean(gap):.2f} nats below the "
            f"PF-ODE density; the two terms it leaves out (recon − KL) average "
            f"{np.mean(miss):.2f} nats"
        )
        if np.mean(gap) > 0:
            text += f", {pct(np.mean(miss) / np.mean(gap), 0)} of that gap. "
        else:
            text += ". "
    else:
        text += ". "
    vs_ode = _groups(
        (i, _cmp3(p["log_prob_bound"] - p["exact_log_prob"], p["stderr"])) for i, p in enumerate(pb)
    )
    words = {
        "below": "below the PF-ODE density beyond the noise",
        "within": "within the noise of it",
        "above": "**above** it",
    }
    parts = [
        f"{words[w]} at {'probe' if len(ids) == 1 else 'probes'} "
        + ", ".join(
            f"#{i}"
            + (
                ""
                if w != "above"
                else f" ({'in' if pb[i]['in_distribution'] else 'outside'} its region)"
            )
            for i in ids
        )
        for w, ids in vs_ode.items()
        if ids
    ]
    text += "Probe by probe −L_T is " + "; ".join(parts) + ". "
    if vs_ode["above"]:
        text += (
            "That is no contradiction: the variational bound bounds the stochastic model's "
            "likelihood, and it equals the ODE's density only for a perfect denoiser whose "
            "prior is the t = 1 marginal (the moment-matched prior is not, C5). "
        )
    if inside:
        vs_truth = _groups(
            (i, _cmp3(p["log_prob_bound"] - _num(p["truth"]), p["stderr"])) for i, p in inside
        )
        full = _groups(
            (
                i,
                _cmp3(
                    p["log_prob_bound"] + p["reconstruction"] - p["prior_kl"] - _num(p["truth"]),
                    p["stderr"],
                ),
            )
            for i, p in inside
        )
        names = {"below": "below", "within": "within the noise of", "above": "**above**"}

        def listing(g):
            return "; ".join(
                f"{names[w]} it at " + ", ".join(f"#{i}" for i in ids)
                for w, ids in g.items()
                if ids
            )

        diffs = ", ".join(
            f"#{i}: {_num(p['truth']) - (p['log_prob_bound'] + p['reconstruction'] - p['prior_kl']):+.2f}"
            for i, p in inside
        )
        text += (
            f"Against the true log density of the inside probes, −L_T is {listing(vs_truth)}; "
            f"with both terms added (−L_T + recon − KL) the value is {listing(full)} (truth − "
            f"full bound: {diffs} nats). "
        )
    text += (
        "Outside the data the true log density is −∞, so no finite estimate is close there; "
        "the estimates can only rank such points."
    )
    return text


def _interior_paragraph(rec) -> str:
    k, names = _classes(rec)
    lik, st = rec["likelihood"], rec["settings"]
    solver = lik.get("solver") or rec["probes"][0].get("solver") or {}
    err = {
        c: _num(lik["interior_mean_exact"][str(c)]) - _num(lik["truth"][str(c)]) for c in range(k)
    }
    within = [c for c in range(k) if abs(err[c]) <= WITHIN_TRUTH]
    den = lik.get("interior_mean_exact_denoised")
    text = (
        "**The PF-ODE density.** What is computed is the density of the continuous-time "
        "probability-flow ODE's output at t = 0 (not of the T-step Euler sampler's output): "
        "log p(x|c) = log π(x(1)) + ∫₀¹ ∇·v dt along the ODE from the point, integrated by "
        f"{_solver_text(solver, st['ode_steps'])}, with the exact 2D divergence by autograd; π "
        "is the class's moment-matched prior or N(0, I)."
    )
    gs = lik.get("grid_solver")
    if gs and gs != solver:
        text += (
            " The heat maps, their medians and the side-by-side grid use a looser tolerance: "
            f"{_solver_text(gs, st['ode_steps'])}."
        )
    if den:
        text += (
            " The improved sampler returns the denoised estimate x̂_0 of its end point; the "
            "density of that output (the ODE's density plus the Jacobian term "
            "−log|det(I − σ(0)∂ε̂/∂x)|, the improved sampler's continuous-time limit) has its "
            "own column."
        )
    text += (
        " Means over interior points of each class (at least the margin below from the "
        "region's edge), against the truth −log(area):\n\n"
        + c6_interior_table(rec)
        + f"\n\nWith the moment-matched prior the learned model's PF-ODE density is within "
        f"{WITHIN_TRUTH:g} nats of the truth for {len(within)} of {k} classes (errors "
        + ", ".join(f"{c}: {err[c]:+.3f}" for c in range(k))
        + ")"
    )
    if den:
        e2 = {c: _num(den[str(c)]) - _num(lik["truth"][str(c)]) for c in range(k)}
        w2 = [c for c in range(k) if abs(e2[c]) <= WITHIN_TRUTH]
        text += (
            f"; the x̂_0-returning sampler's density for {len(w2)} of {k} (errors "
            + ", ".join(f"{c}: {e2[c]:+.3f}" for c in range(k))
            + ")"
        )
    text += ". "
    io = lik.get("interior_oracle")
    if io:
        eo = {c: io[str(c)]["mean"] - io[str(c)]["truth"] for c in range(k)}
        g = _groups((c, _cmp3(eo[c], io[str(c)]["stderr"])) for c in range(k))
        text += (
            "The oracle (a perfect denoiser) with the same prior and solver leaves errors "
            + ", ".join(f"{c}: {eo[c]:+.3g} ± {io[str(c)]['stderr']:.2g}" for c in range(k))
            + "; within two standard errors of the truth for "
            + (f"{_cls(g['within'])}" if g["within"] else "no class")
            + (
                f", beyond them for {_cls(sorted(g['below'] + g['above']))}"
                if g["below"] or g["above"]
                else ""
            )
            + " (its prior is the moment-matched Gaussian, not the t = 1 marginal: KL in C5). "
        )
    text += (
        "The N(0, I) prior (same flow, a different log π(x(1))) changes the learned model's "
        "density by "
        + ", ".join(
            f"{c}: {_num(lik['interior_mean_exact_standard_prior'][str(c)]) - _num(lik['interior_mean_exact'][str(c)]):+.3f}"
            for c in range(k)
        )
        + " nats relative to the moment-matched prior."
    )
    gi, go = lik.get("grid_median_inside"), lik.get("grid_median_far_outside")
    if gi and go:
        text += (
            " The heat maps show the learned model's PF-ODE density per class over [-2, 2]² "
            "(moment-matched prior): its median over the grid points inside the class's region "
            "is "
            + ", ".join(f"{c}: {_num(gi[str(c)]):.2f}" for c in range(k))
            + ", and over the grid points more than 0.5 outside the square "
            + ", ".join(f"{c}: {_num(go[str(c)]):.1f}" for c in range(k))
            + " nats."
        )
    cmp = rec.get("likelihood_compare")
    if cmp:
        n_cmp = len(cmp["x"])
        text += (
            f" Side by side for class {cmp['class']} on a {n_cmp}×{n_cmp} grid, medians over the "
            "grid points inside the region / more than 0.5 outside the square: "
            + "; ".join(
                f"{key}: {_num(v['median_inside']):.3g} / {_g3(_num(v['median_outside_square']))}"
                for key, v in cmp["summary"].items()
            )
            + "."
        )
    return text


def c6(rec: dict) -> str:
    pb = rec["probes"]
    st = rec["settings"]
    inside = [p for p in pb if p["in_distribution"]]
    se_txt = (
        f"the largest standard error among the points inside their region is "
        f"{max(p['stderr'] for p in inside):.3f} nats"
        if inside
        else f"no probe lies inside its region; the largest standard error is "
        f"{max(p['stderr'] for p in pb):.3f} nats"
    )
    parts = [
        c6_table(rec),
        f"Eq. 9 used {st['eq9_draws']} (ε, t) draws per point (stratified t, a control variate "
        f"with known mean); {se_txt}. " + " ".join(_probe_pairs(rec) + [_inside_outside(rec)]),
        _bound_paragraph(rec),
        _interior_paragraph(rec),
    ]
    return "\n\n".join(p.strip() for p in parts if p.strip())


# --------------------------------------------------------------------------- Bonus
def bonus(rec: dict) -> str:
    b = rec["bonus"]
    _, names = _classes(rec)
    a0, a1, a2, a3 = b["attempts"]
    tgt, c = b["target"], b["class"]
    tol = b.get("tolerance", 0.01)
    D = b.get("target_distance_to_region")
    if D is None:
        where = ""
    elif D == 0:
        where = ", whose region holds it"
    else:
        where = f", the region nearest to it (at distance {D:.3f})"
    text = (
        f"Target ({tgt[0]:g}, {tgt[1]:g}), conditioned on class {c} ({names[c]}){where}. "
        "Attempts and their measured final distance to the target:\n\n"
    )
    # 1. start at the target
    text += (
        f"1. *{bonus_name(a0)}* (simple): z = target, then DDIM → output "
        f"({a0['final'][0]:.3f}, {a0['final'][1]:.3f}), distance **{a0['error']:.3f}**"
        + (" — reached" if a0["error"] <= tol else "")
        + "."
    )
    if D is not None and "distance_to_region" in a0:
        d_end = a0["distance_to_region"]
        if D > 0 and d_end < D:
            text += (
                f" The output lies {d_end:.3f} from class {c}'s region, the start {D:.3f}: the "
                f"reverse process carried this start {D - d_end:.3f} closer to the data."
            )
        elif D > 0:
            text += (
                f" The output lies {d_end:.3f} from class {c}'s region, the start {D:.3f}: it "
                "did not end closer to the data."
            )
        else:
            text += f" The start lies in the region; the output lies {d_end:.3f} from it."
    text += "\n"
    # 2. best of n
    text += (
        f"2. *{bonus_name(a1)}* (simple): the closest of {a1['n']} ordinary samples → distance "
        f"**{a1['error']:.3f}**"
    )
    if D is not None:
        dt = b.get("nearest_training_distance")
        near = "" if dt is None else f", the nearest training point of class {c} {dt:.3f}"
        if D == 0:
            text += (
                f"; the target lies in class {c}'s region"
                + (
                    ""
                    if dt is None
                    else f" and the nearest training point of class {c} is {dt:.3f} from it"
                )
                + "."
            )
        elif a1["error"] >= D:
            text += (
                f"; the nearest point of class {c}'s region is {D:.3f} from the target{near}: "
                "no closer than the region's nearest point."
            )
        else:
            text += (
                f"; the nearest point of class {c}'s region is {D:.3f} from the target{near}: "
                f"{D - a1['error']:.3f} closer than the region's nearest point (that sample lies "
                "outside the region)."
            )
    else:
        text += "."
    text += "\n"
    # 3. invert DDIM
    typ = b.get("typical_z_log_prior", -math.log(2 * math.pi) - 1)
    norm_t = math.hypot(*tgt)
    text += (
        f"3. *{bonus_name(a2)}* (principled): each Euler step of the sampler is inverted exactly "
        f"(fixed point, {a2['inversion_nfe']} model evaluations in all), giving "
        f"z = ({a2['z'][0]:.4g}, {a2['z'][1]:.4g}) (‖z‖ = {a2['z_norm']:.4g}); DDIM from that "
        f"z outputs the target to a distance of **{a2['error']:.2e}**"
        + (" — reached." if a2["error"] <= tol else f" — not within {tol:g}.")
        + f" The log density of that z under N(0, I) is {a2['z_log_prior']:.4g} nats "
        f"(the mean over z ~ N(0, I): {typ:.2f})."
    )
    if norm_t > 0:
        text += f" The start lies {a2['z_norm'] / norm_t:.3g} times farther from the origin than the target."
    dz = a2.get("start_distance_to_region")
    if D and dz:
        text += (
            f" Its distance to class {c}'s region is {dz:.4g} against the target's {D:.3f}: the "
            f"run shrinks the distance to the region by a factor {D / dz:.3g}"
            + (
                f" (a perfect denoiser, whose x̂_0 far from the data is the region's nearest "
                f"point, would shrink it by about σ(0)/σ(1) = {b['sigma_ratio']:.4f})"
                if "sigma_ratio" in b
                else ""
            )
            + "."
        )
    text += "\n"
    # 4. choose the noise
    text += (
        f"4. *{bonus_name(a3)}* (principled): Adam on z and the {a3['steps']} per-step noises "
        f"of the λ = {a3['lam']:g} stochastic sampler through the sampler "
        f"({a3['iters']} iterations) → distance **{a3['error']:.2e}**"
        + (" — reached" if a3["error"] <= tol else f" — not within {tol:g}")
        + f", with ξ of rms {a3['xi_rms']:.3g} (max |ξ| {a3['xi_max']:.3g}; a draw from "
        f"N(0, I) has rms ≈ 1): log density of the noise {a3['noise_log_prob']:.4g} nats against "
        f"{a3['typical_noise_log_prob']:.4g} for a typical draw.\n\n"
    )
    o = b["other_target"]
    text += (
        f"The same inversion for another target, ({o['target'][0]:g}, {o['target'][1]:g}) with "
        f"class {o['class']}: distance {o['error']:.2e}"
        + (" (reached)." if o["reached"] else f" (not within {tol:g}).")
        + " The figure shows each attempt's path over time (left, symlog) and in the plane "
        "(right)."
    )
    return text


_PAIR_VERDICT = {"higher": "class lower", "lower": "class higher", "same": "class same"}
_PAIR_LEAD = {
    "class lower": "A non-matching class lowers −L_T",
    "class higher": "A non-matching class **raises** −L_T",
    "class same": "A non-matching class leaves −L_T within the noise",
    "class mixed": "A non-matching class moves −L_T either way",
    "class untested": "A non-matching class's effect cannot be tested",
}
_INOUT_VERDICT = {"above": "outside lower", "overlap": "overlap", "same": "outside same"}


def _span(a: float, b: float, fmt: str) -> str:
    """'a to b', or 'a' alone when both print the same."""
    x, y = format(a, fmt), format(b, fmt)
    return x if x == y else f"{x} to {y}"


def h_c6(rec: dict) -> Headline:
    """C6 in one line. Verdict "<class part>; <location part>": class part "class lower" |
    "class higher" | "class same" | "class mixed" (several shared locations, different words) |
    "class untested" | "no pair" (−L_T under the non-matching against the matching class at a
    shared location); location part "outside lower" | "overlap" | "outside same" |
    "location untested" (the points outside the square against those inside their region)."""
    pb = rec["probes"]
    pairs = _pairs(rec)
    keys = {key for *_, key in pairs}
    if not pairs:
        cls_v = "no pair"
        text = "No location is probed under a matching and a non-matching class"
    else:
        cls_v = (
            _PAIR_VERDICT.get(next(iter(keys)), "class untested")
            if len(keys) == 1
            else "class mixed"
        )
        i, j = pairs[0][:2]
        pi, pj = pb[i], pb[j]
        text = (
            f"{_PAIR_LEAD[cls_v]}: at ({pi['x']:g}, {pi['y']:g}) class {pj['class']} scores "
            f"{pj['log_prob_bound']:.4g} ± {pj['stderr']:.2g} against "
            f"{pi['log_prob_bound']:.3g} ± {pi['stderr']:.2g} for the matching class {pi['class']}"
        )
        if len(pairs) > 1:
            text += f" (and {plural(len(pairs) - 1, 'more location')})"
    m = _inside_outside_measure(rec)
    if m is None:
        loc_v = "location untested"
        text += "; there are not both inside and outside-the-square probes to compare"
    else:
        inside, outside, lo, hi, key = m
        loc_v = _INOUT_VERDICT.get(key, "location untested")
        rin = _span(lo["log_prob_bound"], max(p["log_prob_bound"] for p in inside), ".3g")
        rout = _span(min(p["log_prob_bound"] for p in outside), hi["log_prob_bound"], ".4g")
        text += {
            "outside lower": f"; outside the square {rout}, below every inside point ({rin})",
            "overlap": f"; outside the square ({rout}) and inside ({rin}) overlap",
            "outside same": f"; the highest outside point ({hi['log_prob_bound']:.4g}) is within "
            f"the noise of the lowest inside one ({lo['log_prob_bound']:.3g})",
        }.get(loc_v, "; inside and outside cannot be told apart (no usable error)")
    if len(pb) < MIN_PROBES:
        text += f" ({plural(len(pb), 'probe')}, fewer than the {MIN_PROBES} asked)"
    if pairs:
        path, figure = (
            f"probes.{pairs[0][1]}.log_prob_bound",
            ("−L_T of the non-matching class at the shared location"),
        )
    elif m is not None:
        idx = next(i for i, p in enumerate(pb) if p is m[3])
        path, figure = f"probes.{idx}.log_prob_bound", "highest −L_T outside the square"
    else:
        path, figure = "probes.0.log_prob_bound", "−L_T at the first probe"
    return headline(rec, path, figure, text + ".", f"{cls_v}; {loc_v}", fmt=".4g")


def h_bonus(rec: dict) -> Headline:
    """Bonus in one line. Verdicts: "reached" (some attempt ends within the tolerance of the
    target) | "not reached"."""
    b = rec["bonus"]
    tgt, tol = b["target"], b.get("tolerance", 0.01)
    a0, a1, a2, a3 = b["attempts"]
    errs = [a["error"] for a in (a0, a1, a2, a3)]
    labels = ["starting at the target", f"the best of {a1['n']} samples", "inverting DDIM",
              "choosing the noise"]  # fmt: skip
    ok = [i for i, e in enumerate(errs) if e <= tol]
    best = min(range(len(errs)), key=errs.__getitem__)
    where = f"({tgt[0]:g}, {tgt[1]:g})"
    dists = (
        f"at target {errs[0]:.3f}, best of {a1['n']} {errs[1]:.3f}, inversion {errs[2]:.2e}, "
        f"chosen noise {errs[3]:.2e}"
    )
    if ok:
        text = f"{where} reached (within {tol:g}) by " + " and ".join(labels[i] for i in ok)
        if 2 in ok:
            text += (
                f" (its z: log-density {a2['z_log_prior']:.4g} under N(0, I), typical "
                f"{b.get('typical_z_log_prior', -math.log(2 * math.pi) - 1):.2f})"
            )
        text += f"; final distances: {dists}."
    else:
        text = (
            f"{where} not reached: no attempt ends within {tol:g} of it; final distances: {dists}."
        )
    return headline(
        rec, f"bonus.attempts.{best}.error", "final distance of the closest attempt to the target",
        text, "reached" if ok else "not reached", fmt=".2e",
    )  # fmt: skip


ANSWERS = {"C6": c6, "Bonus": bonus}
HEADLINES = {"C6": h_c6, "Bonus": h_bonus}
