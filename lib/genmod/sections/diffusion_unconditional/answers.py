"""The answers and tables of section 01: pure functions of the whole results record.

Every clause is a measured value or a statement chosen by comparing measured values with the
uncertainty the comparison needs: shares (inside, edge band, corners) with their binomial
standard errors, energy distances with the noise floor's spread (95th percentile − median),
standard deviations with their standard errors. A difference within two standard errors (or
within the floor's spread) is called "within the noise".
"""

from __future__ import annotations

import math

import numpy as np

from genmod.diffusion.metrics import binomial_stderr
from genmod.sections.diffusion_unconditional.findings import FINDINGS, TEMPLATES  # noqa: F401
from genmod.sections.markdown import compare, pct, plural, pooled_se, table
from genmod.sections.summary import Headline, Question, headline

TARGET_INSIDE = 0.98  # the improved sampler's target share inside the square


# ---------------------------------------------------------------- helpers
def _mean_se(values) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return math.nan, math.nan
    se = float(v.std(ddof=1) / math.sqrt(len(v))) if len(v) > 1 else math.nan
    return float(v.mean()), se


def _spread(floor: dict) -> float:
    return floor["p95"] - floor["median"]


def _ed_word(a: float, b: float, floor: dict, more="higher", less="lower") -> str:
    """Energy distance a vs b: different only beyond the noise floor's spread."""
    d = a - b
    if abs(d) <= _spread(floor):
        return "within the noise"
    return more if d > 0 else less


def _ks_pass(m: dict, alpha: float = 0.05) -> bool:
    return m["ks"]["x"]["pvalue"] > alpha and m["ks"]["y"]["pvalue"] > alpha


def _support(oracle_better: bool, learned_better: bool, learned_worse: bool) -> str:
    """Whether a rule of thumb is supported, from the change it made with the perfect denoiser
    and with the network (each beyond the noise or not)."""
    if oracle_better and learned_better:
        return "Supported."
    if oracle_better and learned_worse:
        return "Supported with the perfect denoiser only: with the network it goes the other way."
    if oracle_better:
        return (
            "Supported with the perfect denoiser; with the network the change is within the noise."
        )
    if learned_better:
        return "Supported with the network only; with the perfect denoiser it is not."
    return "Not supported by these numbers."


def _ks_words(m: dict, alpha: float = 0.05) -> str:
    """How many of the two marginals pass the KS test at ``alpha``, as the sentence's subject
    and verb."""
    passed = [m["ks"][a]["pvalue"] > alpha for a in ("x", "y")]
    if all(passed):
        return "both marginals pass"
    if any(passed):
        return f"only the {'x' if passed[0] else 'y'} marginal passes"
    return "neither marginal passes"


def _row(m: dict) -> list[str]:
    """Table cells of a metrics dict: inside, edge band, energy distance, KS p-values."""
    return [
        pct(m["inside_fraction"]),
        f"{m['edge_band']:.3f}",
        f"{m['energy_distance']:.5f}",
        f"{m['ks']['x']['pvalue']:.3f}, {m['ks']['y']['pvalue']:.3f}",
    ]


def _toward(before: float, after: float, truth: float, n: int) -> str:
    """Whether a share moved from ``before`` to ``after`` towards ``truth`` beyond the noise."""
    d = after - before
    w = compare(d, pooled_se(before, after, n), "up", "down")
    if w in ("up", "down"):
        closer = abs(after - truth) < abs(before - truth)
        return "closer to the truth" if closer else "further from the truth"
    return w


def first_T(T_values, values, pred) -> int | None:
    """The smallest T from which on ``pred(value)`` holds for every larger T in the sweep
    (``T_values`` ascending)."""
    ok = [bool(pred(v)) for v in values]
    for k in range(len(T_values)):
        if all(ok[k:]):
            return T_values[k]
    return None


# ---------------------------------------------------------------- floor
def floor(rec: dict) -> str:
    f = rec["noise_floor"]
    return (
        f"Noise floor of the energy distance for {f['n']} vs {f['n']} true points "
        f"({f['repeats']} repeats): median {f['median']:.5f}, 95th percentile {f['p95']:.5f}."
    )


# ---------------------------------------------------------------- U2
def _loss_vs_oracle_word(history, best: dict) -> tuple[str, float, float]:
    """The final training loss (mean of the last 100 epochs) against the oracle's loss: the
    word of ``compare`` ("above", "below", "within the noise"), the difference and its
    standard error."""
    k = min(100, len(history))
    h = np.asarray(history[-k:], dtype=float)
    final = h.mean()
    se = math.sqrt((h.std(ddof=1) ** 2 / k if k > 1 else 0.0) + best["stderr"] ** 2)
    diff = final - best["mean"]
    return compare(diff, se, "above", "below"), diff, se


def _loss_vs_oracle(history, best: dict, n_points: int) -> str:
    """The final training loss (mean of the last 100 epochs) against the oracle's loss, with
    two standard errors."""
    w, diff, se = _loss_vs_oracle_word(history, best)
    if w == "within the noise":
        return (
            f"the trained network's final loss is within the noise of this optimum (difference "
            f"{diff:+.3f} ± {2 * se:.3f}, two standard errors)."
        )
    if w == "below":
        return (
            f"the trained network's final loss is {-diff:.3f} below it (± {2 * se:.3f}, two "
            f"standard errors): the oracle is optimal for the whole square, so a lower loss on "
            f"the {n_points} training points means the network fits those points themselves."
        )
    return (
        f"the trained network's final loss is {diff:.3f} above this optimum (± {2 * se:.3f}, two "
        f"standard errors)."
    )


def _loss_progress(history) -> str:
    """The epoch by which 90 % of the total decrease (first 10 epochs → last 100) is done,
    on a running mean."""
    h = np.asarray(history, dtype=float)
    if len(h) < 20:
        return ""
    first = h[:10].mean()
    final = h[-min(100, len(h)) :].mean()
    w = min(50, len(h) // 10)
    rm = np.convolve(h, np.ones(w) / w, mode="valid")
    target = first - 0.9 * (first - final)
    hit = np.nonzero(rm <= target)[0]
    if first <= final or len(hit) == 0:
        return ""
    ep = int(hit[0]) + w
    return (
        f"90 % of the total decrease is reached by epoch {ep} of {len(h)} (running mean over {w} "
        f"epochs), hence the logarithmic epoch axis."
    )


def _u2_trend(tr: dict) -> tuple[str, float, float, int, int]:
    """The loss's trend from the first epochs to the last ("rises", "falls", "stays within the
    noise" or not testable), the two means and their windows."""
    h = np.asarray(tr["loss_history"], dtype=float)
    k0 = tr.get("initial_loss_window", min(10, len(h)))
    k = tr.get("final_loss_window", min(100, len(h)))
    first, se_first = _mean_se(h[:k0])
    final, se_final = _mean_se(h[-k:])
    trend = compare(
        final - first, math.hypot(se_first, se_final), "rises", "falls", "stays within the noise"
    )
    return trend, first, final, k0, k


def u2(rec: dict) -> str:
    tr = rec["train"]
    h = np.asarray(tr["loss_history"], dtype=float)
    best = tr["oracle_loss"]
    trend, first, final, k0, k = _u2_trend(tr)
    how = (
        f"loaded from the cache; training had taken {tr['seconds']:.1f} s"
        if tr["from_cache"]
        else f"trained in {tr['seconds']:.1f} s"
    )
    draws = tr.get("noise_draws", rec.get("settings", {}).get("noise_draws", 1))
    if trend.startswith("not testable"):
        change = (
            f"With {plural(len(h), 'epoch')} the loss's trend cannot be tested: it is {first:.3f} "
            f"over the first {plural(k0, 'epoch')} and {final:.3f} over the last {k}"
        )
    else:
        change = (
            f"The loss {trend} from {first:.3f} (mean of the first {k0} epochs) to "
            f"{final:.3f} (mean of the last {k})"
        )
    text = (
        f"The network ({tr['n_parameters']} parameters, {how}) takes {tr['epochs']} full-batch "
        f"steps. {change}; each epoch's value is a Monte-Carlo estimate with "
        f"{plural(draws, 'draw')} of (t, ε) per training point, so it jitters. The closed-form "
        f"oracle ε*, the best possible predictor for data uniform in the square, scores "
        f"{best['mean']:.3f} ± {best['stderr']:.3f} on the same objective and points ("
        f"{best['draws']} draws)"
    )
    share = best["mean"] / first if first > 0 else math.nan
    if share > 0.5:
        text += (
            f", {pct(share)} of the initial loss: most of the loss is the part that no denoiser "
            f"of the square can remove; "
        )
    elif math.isfinite(share):
        text += f", {pct(share)} of the initial loss; "
    else:
        text += "; "
    text += _loss_vs_oracle(h.tolist(), best, rec["params"]["n_points"])
    text += (
        " (ε̂ = 0 scores E‖ε‖² = 2, the dotted line: at small σ a point inside the square "
        "carries almost no information about ε.) "
    )
    return (text + _loss_progress(h)).strip()


# ---------------------------------------------------------------- U3
def u3_table(rec: dict) -> str:
    sm = rec["samples"]
    ins = np.array(sm["seeds_inside_fraction"])
    edge = np.array(sm["seeds_edge_band"])
    eds = np.array(sm["seeds_energy_distance"])
    oracle = {
        "inside_fraction": sm["oracle_inside_fraction"],
        "edge_band": sm["oracle_edge_band"],
        "energy_distance": sm["oracle_energy_distance"],
        "ks": sm["oracle_ks"],
    }
    rows = [
        ["learned, seed " + str(sm["seed"])] + _row(sm),
        ["learned, 9 seeds (mean)", pct(ins.mean()), f"{edge.mean():.3f}", f"{eds.mean():.5f}", ""],
        ["oracle (same z as seed " + str(sm["seed"]) + ")"] + _row(oracle),
        ["truth (fresh sample)"] + _row(sm["truth_sample"]),
    ]
    return table(["", "inside", "edge band", "energy distance", "KS p (x, y)"], rows)


def _u3_vs_oracle(sm: dict, n: int) -> dict:
    """Seed 0 against the oracle from the same noise: inside and edge band differences, their
    words, and the class "as good" | "worse" | "differs"."""
    d_in = sm["inside_fraction"] - sm["oracle_inside_fraction"]
    se_in = pooled_se(sm["inside_fraction"], sm["oracle_inside_fraction"], n)
    d_e = sm["edge_band"] - sm["oracle_edge_band"]
    se_e = pooled_se(sm["edge_band"], sm["oracle_edge_band"], n)
    w_in = compare(d_in, se_in, "higher", "lower")
    w_e = compare(d_e, se_e, "higher", "lower")
    if w_in == w_e == "within the noise":
        cls = "as good"
    elif "lower" in (w_in, w_e) and "higher" not in (w_in, w_e):
        cls = "worse"
    else:
        cls = "differs"
    return {
        "d_in": d_in,
        "se_in": se_in,
        "w_in": w_in,
        "d_e": d_e,
        "se_e": se_e,
        "w_e": w_e,
        "class": cls,
    }


def _u3_spread(sd: dict) -> tuple[str, str]:
    """The standard deviation per coordinate of the learned and the oracle's samples against
    the truth's: words of ``compare`` ("wider than", "narrower than", "within the noise")."""
    w_sd = compare(
        sd["learned"] - sd["truth"],
        sd.get("learned_stderr", math.nan),
        "wider than",
        "narrower than",
    )
    w_so = compare(
        sd["oracle"] - sd["truth"], sd.get("oracle_stderr", math.nan), "wider than", "narrower than"
    )
    return w_sd, w_so


def u3(rec: dict) -> str:
    sm = rec["samples"]
    fl = rec["noise_floor"]
    n = sm.get("n_points", len(sm["points"]))
    ins = np.array(sm["seeds_inside_fraction"])
    edge = np.array(sm["seeds_edge_band"])
    k = len(ins)
    tb = sm["truth_edge_band"]
    text = (
        f"Across the {k} seeds {pct(ins.min())}–{pct(ins.max())} of the samples land inside the "
        f"square and {edge.min():.3f}–{edge.max():.3f} of them in the edge band "
        f"max(|x|, |y|) > 0.9 (truth: {tb:.2f}). Driven by the oracle instead of the network, the "
        f"same sampler and the same noise give {pct(sm['oracle_inside_fraction'])} inside and an "
        f"edge band of {sm['oracle_edge_band']:.3f}. "
    )
    # the learned model (seed 0) against the oracle from the same noise
    vo = _u3_vs_oracle(sm, n)
    d_in, se_in, w_in = vo["d_in"], vo["se_in"], vo["w_in"]
    d_e, se_e, w_e = vo["d_e"], vo["se_e"], vo["w_e"]
    text += (
        f"Seed {sm['seed']} against the oracle: inside {pct(sm['inside_fraction'])} vs "
        f"{pct(sm['oracle_inside_fraction'])} ({w_in}; difference {100 * d_in:+.1f} ± "
        f"{200 * se_in:.1f} points, two standard errors), edge band {sm['edge_band']:.3f} vs "
        f"{sm['oracle_edge_band']:.3f} ({w_e}; {d_e:+.3f} ± {2 * se_e:.3f}). "
    )
    if vo["class"] == "as good":
        text += (
            "At this sample size the learned model is as good as the perfect denoiser with "
            "this sampler, so the gap to the truth measured below is the sampler's. "
        )
    elif vo["class"] == "worse":
        text += (
            "The learned model is measurably worse than the perfect denoiser: part of the gap "
            "to the truth is the network's. "
        )
    else:
        text += "The learned model differs measurably from the perfect denoiser. "
    # the spread against the truth's
    sd = sm["std_per_coordinate"]
    w_sd, w_so = _u3_spread(sd)
    e_mean = float(edge.mean())
    se_eb = binomial_stderr(tb, k * n)
    w_eb = compare(e_mean - tb, se_eb, "thicker than", "thinner than")
    text += (
        f"The standard deviation per coordinate of the {k} seeds' samples is "
        f"{sd['learned']:.3f} ± {2 * sd.get('learned_stderr', math.nan):.3f} (two standard "
        f"errors), "
        f"{_same(w_sd)} the truth's {sd['truth']:.3f}; with the oracle {sd['oracle']:.3f} ± "
        f"{2 * sd.get('oracle_stderr', math.nan):.3f}, {_same(w_so)} the truth's. The mean edge "
        f"band "
        f"over the seeds, {e_mean:.3f}, is {_same(w_eb)} the truth's {tb:.2f} (±{2 * se_eb:.3f})"
    )
    if "seeds_corner_share" in sm:
        cs = float(np.mean(sm["seeds_corner_share"]))
        tc = sm.get("truth_corner_share", 0.04)
        se_c = binomial_stderr(tc, k * n)
        w_c = compare(cs - tc, se_c, "more than", "less than")
        text += (
            f", and the four 0.2 × 0.2 corner squares hold {cs:.3f} of the samples, "
            f"{_same(w_c)} the truth's {tc:.2f} (±{2 * se_c:.3f})"
        )
    text += ". "
    if "t1_marginal_var" in sm:
        text += (
            f"The probability-flow ODE maps the true marginal at t = 1 onto the data; that "
            f"marginal has variance σ(1)² + 1/3 = {sm['t1_marginal_var']:.3f} per coordinate, "
            f"while the sampler starts from z ~ N(0, I), variance {sm['prior_var']:g}"
        )
        if w_so == "narrower than":
            too = ", too," if w_sd == "narrower than" else ""
            text += (
                f": with the perfect denoiser{too} the samples come out narrower than the truth. "
                "The narrower start is one candidate cause, the Euler steps another; U5's "
                "ablation measures each. "
            )
        else:
            text += (
                f"; with the perfect denoiser the spread is {_same(w_so)} the truth's, so this "
                f"narrower start does not show at this sample size. "
            )
    text += (
        f"The energy distance of seed {sm['seed']}, {sm['energy_distance']:.5f}, is "
        + ("below" if sm["energy_distance"] <= fl["p95"] else "above")
        + f" the noise floor's 95th percentile ({fl['p95']:.5f}). U5 starts the sampler from a "
        f"Gaussian with the marginal's mean and variance instead."
    )
    return text


def _same(w: str) -> str:
    """'within the noise' → 'within the noise of'; comparisons pass through."""
    return "within the noise of" if w == "within the noise" else w


# ---------------------------------------------------------------- U4
def u4_table(rec: dict) -> str:
    st = rec["steps"]
    rows = [
        [T_, pct(a), f"{b:.3f}", f"{c:.5f}", pct(d), f"{e:.3f}", f"{f:.5f}"]
        for T_, a, b, c, d, e, f in zip(
            st["T_values"],
            st["inside_fraction"],
            st["edge_band"],
            st["energy_distance"],
            st["oracle_inside_fraction"],
            st["oracle_edge_band"],
            st["oracle_energy_distance"],
        )
    ]
    head = ["T", "inside (learned)", "edge band", "energy distance"]
    return table(head + ["inside (oracle)", "edge (oracle)", "ED (oracle)"], rows)


def study_table(rec: dict) -> str:
    rows = [
        [r["label"], nf, f"{d:.5f}", pct(i), f"{e:.3f}"]
        for r in rec["samplers"].values()
        for nf, d, i, e in zip(r["nfe"], r["energy_distance"], r["inside_fraction"], r["edge_band"])
    ]
    return table(["sampler", "NFE", "energy distance", "inside", "edge band"], rows)


def _study_sentence(reach: dict) -> str:
    parts = []
    for r in reach.values():
        if not isinstance(r, dict):
            continue
        k = r["min_nfe_within_floor"]
        parts.append(
            f"{r['label']}: {k} NFE"
            if k is not None
            else f"{r['label']}: not within the measured NFE"
        )
    ref_nfe = reach.get("reference_nfe")
    at = f" at {ref_nfe} NFE" if ref_nfe is not None else " at its largest NFE"
    return (
        f"The sampler study (every integrator with the same matched prior and final x̂₀) "
        f"measures the NFE at which each integrator first comes within the noise floor's spread "
        f"of the energy distance of Euler in t{at} ({reach['reference']:.5f}): "
        + "; ".join(parts)
        + "."
    )


def _u4_n(st: dict) -> int:
    return st.get("n_points", len(st["points"][0]) if st["points"] else 1)


def _u4_order(st: dict) -> list[int]:
    """The sweep's indices in ascending T."""
    Tv = list(st["T_values"])
    return sorted(range(len(Tv)), key=lambda i: Tv[i])


def _u4_metrics(st: dict, i: int, who: str = "") -> dict:
    return {k: st[who + k][i] for k in ("inside_fraction", "edge_band", "energy_distance")}


def _u4_few_steps(st: dict, fl: dict) -> str:
    """What the oracle says of the smallest T against the largest: "sampler" (further from the
    truth beyond the floor's spread, and the Euler factor far off: the sampler's error), "none"
    (within the floor's spread) or "exceeds" (beyond the spread, the Euler factor close)."""
    rate = st.get("schedule_rate", 5.0)
    Tv = list(st["T_values"])
    order = _u4_order(st)
    i_min, i_max = order[0], order[-1]
    ed_o = (
        _u4_metrics(st, i_min, "oracle_")["energy_distance"]
        - _u4_metrics(st, i_max, "oracle_")["energy_distance"]
    )
    off = abs((1 - rate / Tv[i_min]) - math.exp(-rate / Tv[i_min]))
    if ed_o > _spread(fl) and off > 0.1:
        return "sampler"
    if ed_o <= _spread(fl):
        return "none"
    return "exceeds"


def _u4_learned_fails(st: dict, fl: dict) -> bool:
    """The learned model's sample at the smallest T is further from the truth than at the
    largest, beyond the floor's spread."""
    order = _u4_order(st)
    ed = st["energy_distance"]
    return ed[order[0]] - ed[order[-1]] > _spread(fl)


def _u4_flat(st: dict, fl: dict) -> tuple[bool, bool]:
    """Whether the edge band and the energy distance change within the noise between the two
    largest T (at least two T values)."""
    order = _u4_order(st)
    n = _u4_n(st)
    a2, L_max = _u4_metrics(st, order[-2]), _u4_metrics(st, order[-1])
    flat_ed = abs(a2["energy_distance"] - L_max["energy_distance"]) <= _spread(fl)
    flat_eb = abs(a2["edge_band"] - L_max["edge_band"]) <= 2 * pooled_se(
        a2["edge_band"], L_max["edge_band"], n
    )
    return flat_eb, flat_ed


def u4(rec: dict) -> str:
    st = rec["steps"]
    fl = rec["noise_floor"]
    n = _u4_n(st)
    rate = st.get("schedule_rate", 5.0)
    Tv = list(st["T_values"])
    order = _u4_order(st)
    i_min, i_max = order[0], order[-1]

    def m(i, who=""):
        return _u4_metrics(st, i, who)

    def desc(i):
        a, b = m(i), m(i, "oracle_")
        return (
            f"{pct(a['inside_fraction'])} of the samples inside (oracle "
            f"{pct(b['inside_fraction'])}), "
            f"edge band {a['edge_band']:.3f} (oracle {b['edge_band']:.3f}), energy distance "
            f"{a['energy_distance']:.5f} (oracle {b['energy_distance']:.5f})"
        )

    def factor(T):
        f = 1 - rate / T
        return f"{f:+.2f} for T = {T} instead of {math.exp(-rate / T):.4f}" + (
            " (negative: the step overshoots and flips the noise part's sign)" if f < 0 else ""
        )

    euler = (
        f"Along the ODE the noise part of x shrinks like σ(t), by the factor e^(−{rate:g}/T) per "
        f"step, while one Euler step in t (dt = −1/T, σ̇/σ = {rate:g}) multiplies it by "
        f"1 + σ̇·dt/σ = 1 − {rate:g}/T: "
    )
    spread = _spread(fl)
    if Tv[i_min] == Tv[i_max]:
        return (
            f"Only one number of steps was run, T = {Tv[i_max]}: {desc(i_max)}. The sweep "
            f"therefore "
            f"measures no dependence on T. {euler}{factor(Tv[i_max])}. "
            + _study_sentence(rec["samplers_summary"])
        )
    text = f"With T = {Tv[i_min]}: {desc(i_min)}; with T = {Tv[i_max]}: {desc(i_max)}. "
    smallest = sorted(set(Tv))[:2]
    few = _u4_few_steps(st, fl)
    text += euler + ", and ".join(factor(T) for T in smallest) + ". "
    if few == "sampler":
        too = ", too," if _u4_learned_fails(st, fl) else ""
        text += (
            f"With the oracle{too} the sample at T = {Tv[i_min]} is further from the truth than "
            f"at T = {Tv[i_max]} (energy distance beyond the noise floor's spread, {spread:.5f}): "
            f"that error at few steps is the sampler's, this Euler step's"
            + (
                ". "
                if too
                else "; the learned model's sample is not, so its own error hides the step's. "
            )
        )
    elif few == "none":
        text += (
            f"With the oracle the energy distance at T = {Tv[i_min]} is within the noise floor's "
            f"spread ({spread:.5f}) of T = {Tv[i_max]}'s: the sweep does not show an error of "
            f"few steps. "
        )
    else:
        text += (
            f"With the oracle the energy distance at T = {Tv[i_min]} exceeds T = {Tv[i_max]}'s by "
            f"more than the noise floor's spread ({spread:.5f}). "
        )
    # the inside fraction alone can mislead: a collapsed sample is "inside" too
    L_max = m(i_max)
    cand = [
        (m(k)["edge_band"], k)
        for k in order[:-1]
        if m(k)["inside_fraction"] >= 0.99 and m(k)["edge_band"] < 0.5 * L_max["edge_band"]
    ]
    if cand:
        _, k = min(cand)
        a = m(k)
        text += (
            f"The inside fraction alone is misleading: at T = {Tv[k]}, {pct(a['inside_fraction'])} "
            f"are inside but only {a['edge_band']:.3f} lie in the edge band (energy distance "
            f"{a['energy_distance']:.4f}): the sample is squeezed towards the centre. "
        )
    sT = [Tv[i] for i in order]
    eb = [m(i)["edge_band"] for i in order]
    ed = [m(i)["energy_distance"] for i in order]
    T_edge = first_T(
        sT, eb, lambda v: abs(v - L_max["edge_band"]) <= 2 * pooled_se(v, L_max["edge_band"], n)
    )
    T_ed = first_T(sT, ed, lambda v: abs(v - L_max["energy_distance"]) <= spread)
    # (from the second-largest T on, the comparison of the two largest below says it)
    if T_edge is not None and sT.index(T_edge) < len(sT) - 2:
        text += (
            f"The edge band is within the noise of its T = {Tv[i_max]} value from T = {T_edge} on"
        )
        text += (
            f", and the energy distance within the noise floor's spread ({spread:.5f}) of it from "
            f"T = {T_ed} on. "
            if T_ed is not None and T_ed != Tv[i_max]
            else ". "
        )
    # does the error still change between the two largest T?
    i2 = order[-2]
    a2 = m(i2)
    flat_eb, flat_ed = _u4_flat(st, fl)
    flat = flat_ed and flat_eb
    if flat:
        text += (
            f"From T = {Tv[i2]} to T = {Tv[i_max]} the edge band and the energy distance change "
            f"within the noise: more Euler steps no longer reduce the error. "
        )
    else:
        moved = []
        if not flat_eb:
            moved.append(f"the edge band ({a2['edge_band']:.3f} → {L_max['edge_band']:.3f})")
        if not flat_ed:
            e2, e1 = a2["energy_distance"], L_max["energy_distance"]
            moved.append(f"the energy distance ({e2:.5f} → {e1:.5f})")
        text += (
            f"Between T = {Tv[i2]} and T = {Tv[i_max]} {' and '.join(moved)} still "
            f"{'changes' if len(moved) == 1 else 'change'} beyond the noise: the sweep does not "
            f"reach the number of steps beyond which more do not help. "
        )
    # what remains at the largest T: the sampler's (the oracle's too) and the network's part
    O_max = m(i_max, "oracle_")
    tb = rec.get("samples", {}).get("truth_edge_band", 0.19)
    w_ot = compare(O_max["edge_band"] - tb, binomial_stderr(tb, n), "thicker than", "thinner than")
    w_lo = compare(
        L_max["edge_band"] - O_max["edge_band"],
        pooled_se(L_max["edge_band"], O_max["edge_band"], n),
        "above",
        "below",
    )
    w_led = _ed_word(L_max["energy_distance"], O_max["energy_distance"], fl, "above", "below")
    text += (
        f"At T = {Tv[i_max]} the oracle's edge band, {O_max['edge_band']:.3f}, is {_same(w_ot)} "
        f"the "
        f"truth's {tb:.2f} (±{2 * binomial_stderr(tb, n):.3f})"
    )
    if w_ot == "thinner than":
        text += (
            ": that part of the error is the sampler's whatever the denoiser"
            + (", and not the number of steps'" if flat else "")
            + " (U5 separates the prior's part)"
        )
    text += (
        f"; the learned model's edge band is {_same(w_lo)} the oracle's ({L_max['edge_band']:.3f}) "
        f"and its energy distance {_same(w_led)} the oracle's"
    )
    # the network adds error only where it is further from the truth than the oracle
    edge_worse = w_lo != "within the noise" and abs(L_max["edge_band"] - tb) > abs(
        O_max["edge_band"] - tb
    )
    if w_led == "above" or edge_worse:
        text += ": part of the remaining error is the network's"
    elif w_led == "below":
        text += ": the network is closer to the truth than the oracle here"
    text += ". " + _study_sentence(rec["samplers_summary"])
    return text


# ---------------------------------------------------------------- U5
def u5_table(rec: dict) -> str:
    rows = [
        [r["label"], r["nfe"]]
        + _row(r["learned"])
        + [pct(r["oracle"]["inside_fraction"]), f"{r['oracle']['edge_band']:.3f}"]
        for r in rec["ablation"].values()
    ]
    head = ["sampler", "NFE", "inside", "edge band", "energy distance", "KS p (x, y)"]
    return table(head + ["oracle: inside", "oracle: edge"], rows)


def _seeds_sentence(seeds: dict, floor: dict) -> str:
    """Robustness of the improved sampler over several seeds: ranges and counts."""
    ins = np.array(seeds["inside_fraction"])
    edge = np.array(seeds["edge_band"])
    below = sum(d <= floor["p95"] for d in seeds["energy_distance"])
    ks = sum(px > 0.05 and py > 0.05 for px, py in seeds["ks_pvalues"])
    k = len(ins)
    text = (
        f"Over the {k} seeds of U3 the improved sampler puts {pct(ins.min())}–{pct(ins.max())} "
        f"inside, {edge.min():.3f}–{edge.max():.3f} in the edge band"
    )
    if "corner_share" in seeds:
        cs = np.array(seeds["corner_share"])
        text += f", {cs.min():.3f}–{cs.max():.3f} in the corner squares"
    return text + (
        f"; its energy distance is below the noise floor's 95th percentile for {below} of {k} "
        f"seeds (a sample of the truth itself: 95 % of the time), and both marginals pass the KS "
        f"test at 5 % for {ks} of {k}."
    )


def _grids_sentence(grids: dict, small: float = 0.05) -> str:
    """First/last step of each σ grid and how many steps each spends below σ = ``small``."""
    parts, ks = [], []
    for name, g in grids.items():
        s = np.asarray(g["sigma"])
        k = int((s[1:] < small).sum())
        ks.append(k)
        parts.append(
            f"{name}, {len(s) - 1} steps: first step σ {s[0]:.3f} → {s[1]:.3f}, last step "
            f"{s[-2]:.4f} → {s[-1]:.4f}, {k} steps end below σ = {small:g}"
        )
    text = "; ".join(parts) + "."
    first = np.asarray(next(iter(grids.values()))["sigma"])
    ratios = first[1:] / first[:-1]
    if len(ratios) and np.allclose(ratios, ratios[0], rtol=1e-9):
        text += (
            f" For this schedule the uniform dt is already geometric in σ (every step divides σ "
            f"by {1 / ratios[0]:.3f})"
        )
        if len(ks) == 2 and ks[0] != ks[1]:
            where = "from" if ks[1] < ks[0] else "to"
            text += (
                f"; the ρ-spaced grid moves {abs(ks[0] - ks[1])} of the steps {where} the noise "
                f"levels below σ = {small:g}"
            )
        text += "."
    return text


def _study_compare(study: dict | None, target: int = 9) -> tuple[str, dict]:
    """Energy distance of every sampler of the study at its measured NFE closest to
    ``target`` (same prior, final step, noise and truth sample); also {name: (nfe, ed)}."""
    if not study:
        return "", {}
    parts, at = [], {}
    for name, r in study.items():
        if not r["nfe"]:
            continue
        j = int(np.argmin([abs(v - target) for v in r["nfe"]]))
        method, grid = r["label"].split(",")[:2]
        at[name] = (r["nfe"][j], r["energy_distance"][j])
        parts.append(
            f"{method} on {grid.strip()}: {r['energy_distance'][j]:.5f} at {r['nfe'][j]} NFE"
        )
    return f"Energy distance at about {target} evaluations — " + "; ".join(parts) + ".", at


def _u5_targets(rec: dict) -> list[tuple[str, str, bool]]:
    """The improved sampler's targets, each as (the full answer's words, a short name with the
    measured value, met)."""
    L = rec["ablation"]["improved"]["learned"]
    fl = rec["noise_floor"]
    impr = rec["improved"]
    n = impr.get("n_points", len(impr["points"]))
    tb = rec.get("samples", {}).get("truth_edge_band", 0.19)
    tc = rec.get("samples", {}).get("truth_corner_share", 0.04)
    se_tb, se_tc = binomial_stderr(tb, n), binomial_stderr(tc, n)
    ks = L["ks"]
    targets = [
        (
            f"at least {pct(TARGET_INSIDE, 0)} inside",
            f"≥ {pct(TARGET_INSIDE, 0)} inside: {pct(L['inside_fraction'])}",
            L["inside_fraction"] >= TARGET_INSIDE,
        ),
        (
            "energy distance below the noise floor's 95th percentile",
            f"energy distance {L['energy_distance']:.5f} > floor's p95 {fl['p95']:.5f}",
            L["energy_distance"] <= fl["p95"],
        ),
        (
            "edge band within the noise of the truth's",
            f"edge band {L['edge_band']:.3f} vs {tb:.2f}",
            abs(L["edge_band"] - tb) <= 2 * se_tb,
        ),
        (
            "both marginals passing the KS test at 5 %",
            f"KS p {ks['x']['pvalue']:.2f}, {ks['y']['pvalue']:.2f}",
            _ks_pass(L),
        ),
    ]
    if "corner_share" in L:
        targets.append(
            (
                "corner share within the noise of the truth's",
                f"corner share {L['corner_share']:.3f} vs {tc:.2f}",
                abs(L["corner_share"] - tc) <= 2 * se_tc,
            )
        )
    return targets


def u5(rec: dict) -> str:
    abl = rec["ablation"]
    fl = rec["noise_floor"]
    reach = rec["samplers_summary"]
    impr = rec["improved"]
    ex, mp, fd, both, imp = (
        abl[k]
        for k in (
            "exercise",
            "matched_prior",
            "final_denoise",
            "matched_prior_final_denoise",
            "improved",
        )
    )
    n = impr.get("n_points", len(impr["points"]))
    L, Orc = imp["learned"], imp["oracle"]
    tb = rec.get("samples", {}).get("truth_edge_band", 0.19)
    tc = rec.get("samples", {}).get("truth_corner_share", 0.04)
    se_tb, se_tc = binomial_stderr(tb, n), binomial_stderr(tc, n)
    # the targets
    missed = [k for k, _, ok in _u5_targets(rec) if not ok]
    verdict = (
        "It meets every target and fills the square to its edges and corners"
        if not missed
        else "It misses " + plural(len(missed), "target") + " (" + "; ".join(missed) + "); measured"
    )
    ks = f"KS p-values {L['ks']['x']['pvalue']:.2f} (x) and {L['ks']['y']['pvalue']:.2f} (y)"
    corner = (
        f", the four 0.2 × 0.2 corner squares hold {L['corner_share']:.3f} (truth {tc:.2f}, "
        f"±{2 * se_tc:.3f})"
        if "corner_share" in L
        else ""
    )
    text = (
        f"**Choice.** {imp['label']}, {imp['steps']} steps = {imp['nfe']} network evaluations "
        f"(the exercise's sampler uses {ex['nfe']}). {verdict}: with the trained network "
        f"{pct(L['inside_fraction'])} of the samples are inside, the edge band holds "
        f"{L['edge_band']:.3f} (truth {tb:.2f}, ±{2 * se_tb:.3f}; the exercise's sampler "
        f"{ex['learned']['edge_band']:.3f}){corner}, the energy distance to fresh true samples is "
        f"{L['energy_distance']:.5f} (noise floor: median {fl['median']:.5f}, 95th percentile "
        f"{fl['p95']:.5f}; exercise's sampler {ex['learned']['energy_distance']:.5f}) and the "
        f"{_ks_words(L)} the KS test against U(−1, 1) at 5 % ({ks}); with the oracle: "
        f"{pct(Orc['inside_fraction'])} inside, edge band {Orc['edge_band']:.3f}. "
    )
    if "seeds" in impr:
        text += _seeds_sentence(impr["seeds"], fl)
    if "schedules" in rec:
        grids = {
            "original (uniform dt)": rec["schedules"]["original"],
            "modified (ρ-spaced σ)": rec["schedules"]["modified"],
        }
        text += (
            "\n\nThe figure shows the schedule σ(t) = e^(5(t−1)) sampled by the original uniform "
            "grid and by the modified ρ-spaced grid (left: on the σ(t) curve; middle: σ per "
            "step). " + _grids_sentence(grids)
        )
    text += "\n\n**Rules of thumb, each tested here.**\n\n"
    # 1. the prior
    t_l = _toward(ex["learned"]["edge_band"], mp["learned"]["edge_band"], tb, n)
    t_o = _toward(ex["oracle"]["edge_band"], mp["oracle"]["edge_band"], tb, n)
    w_ed = _ed_word(mp["learned"]["energy_distance"], ex["learned"]["energy_distance"], fl)
    text += (
        f"1. *Start from a Gaussian with the mean and variance of the true marginal at t = 1* "
        f"(a moment-matched Gaussian: the marginal itself, the square blurred by N(0, σ(1)²), is "
        f"not Gaussian). Only the prior changed (matched instead of N(0, I), same Euler steps): "
        f"edge band {ex['learned']['edge_band']:.3f} → {mp['learned']['edge_band']:.3f} with the "
        f"network ({t_l}) and {ex['oracle']['edge_band']:.3f} → {mp['oracle']['edge_band']:.3f} "
        f"with the oracle ({t_o}; truth {tb:.2f}); energy distance "
        f"{ex['learned']['energy_distance']:.5f} → {mp['learned']['energy_distance']:.5f} "
        f"({w_ed}). "
        + _support(
            t_o == "closer to the truth",
            t_l == "closer to the truth",
            t_l == "further from the truth",
        )
        + "\n"
    )
    # 2. the final denoising step
    s0 = rec.get("schedules", {}).get("original", {}).get("sigma_min", math.exp(-5))
    w_o = compare(
        both["oracle"]["inside_fraction"] - mp["oracle"]["inside_fraction"],
        pooled_se(both["oracle"]["inside_fraction"], mp["oracle"]["inside_fraction"], n),
        "more inside",
        "fewer inside",
    )
    w_l = compare(
        both["learned"]["inside_fraction"] - mp["learned"]["inside_fraction"],
        pooled_se(both["learned"]["inside_fraction"], mp["learned"]["inside_fraction"], n),
        "more inside",
        "fewer inside",
    )
    text += (
        f"2. *Finish with the denoised estimate x̂₀.* The ODE stops at σ(0) = {s0:.4f}; returning "
        f"x̂₀ instead, with the matched prior: inside {pct(mp['oracle']['inside_fraction'])} → "
        f"{pct(both['oracle']['inside_fraction'])} with the oracle ({w_o}), "
        f"{pct(mp['learned']['inside_fraction'])} → {pct(both['learned']['inside_fraction'])} "
        f"with the network ({w_l})"
    )
    od = both["learned"].get("outside_median_distance") or 0.0
    if od > 3 * s0:
        text += (
            f"; the points the network leaves outside lie a median {od:.3f} outside, far more "
            f"than σ(0), so a step of size about σ(0)·|ε̂| cannot pull them in"
        )
        gap = both["oracle"]["inside_fraction"] - both["learned"]["inside_fraction"]
        se_gap = pooled_se(both["oracle"]["inside_fraction"], both["learned"]["inside_fraction"], n)
        if compare(gap, se_gap, "more", "less") == "more":
            text += " (the oracle puts more inside: that is the network's own error)"
    w_fd = compare(
        fd["learned"]["edge_band"] - ex["learned"]["edge_band"],
        pooled_se(fd["learned"]["edge_band"], ex["learned"]["edge_band"], n),
        "above",
        "below",
    )
    w_fdt = compare(fd["learned"]["edge_band"] - tb, se_tb, "above", "below")
    text += (
        f". On its own, with N(0, I), it gives edge band {fd['learned']['edge_band']:.3f} "
        f"({_same(w_fd)} the exercise's {ex['learned']['edge_band']:.3f}; {_same(w_fdt)} the "
        f"truth's)"
        + (": it does not undo the narrow prior's shrink" if w_fdt == "below" else "")
        + ". "
        + _support(w_o == "more inside", w_l == "more inside", w_l == "fewer inside")
        + "\n"
    )
    # 3. the oracle as a check of the sampler
    w_x = compare(ex["oracle"]["edge_band"] - tb, se_tb, "thicker than", "thinner than")
    w_le = compare(
        ex["learned"]["edge_band"] - ex["oracle"]["edge_band"],
        pooled_se(ex["learned"]["edge_band"], ex["oracle"]["edge_band"], n),
        "above",
        "below",
    )
    w_li = compare(
        ex["learned"]["inside_fraction"] - ex["oracle"]["inside_fraction"],
        pooled_se(ex["learned"]["inside_fraction"], ex["oracle"]["inside_fraction"], n),
        "above",
        "below",
    )
    text += (
        f"3. *Check the sampler with the oracle before blaming the network.* The exercise's "
        f"sampler with the oracle reaches an edge band of {ex['oracle']['edge_band']:.3f}, "
        f"{_same(w_x)} the truth's"
        + (" (an error of the sampler, whatever the network)" if w_x != "within the noise" else "")
        + f"; the network reaches {ex['learned']['edge_band']:.3f} ({_same(w_le)} the oracle's) "
        f"with {pct(ex['learned']['inside_fraction'])} inside ({_same(w_li)} the oracle's "
        f"{pct(ex['oracle']['inside_fraction'])})"
    )
    if w_le == w_li == "within the noise":
        text += ": as good as the sampler allows.\n"
    elif "below" in (w_le, w_li):
        text += ": the network adds its own error on top of the sampler's.\n"
    else:
        text += ".\n"
    # 4. the integrator
    sentence, at = _study_compare(rec.get("samplers"))
    hk = reach.get("heun_karras", {}).get("min_nfe_within_floor")
    ref_nfe = reach.get(
        "reference_nfe", (rec.get("samplers", {}).get("ddim", {}).get("nfe") or [None])[-1]
    )
    text += "4. *Take higher-order steps in σ, not Euler steps in t.* " + sentence
    if "heun_karras" in at and "ddim" in at:
        w_h = _ed_word(at["heun_karras"][1], at["ddim"][1], fl)
        text += (
            f" Heun on ρ-spaced σ against Euler in t at about the same cost: {w_h} "
            f"(the noise floor's spread {_spread(fl):.5f})."
        )
    text += " Heun on ρ-spaced σ " + (
        f"comes within the noise floor's spread of Euler-in-t's {ref_nfe}-evaluation distance "
        f"at {hk} NFE"
        if hk is not None
        else "does not reach Euler-in-t's distance within the measured NFE"
    )
    w_imp = _ed_word(L["energy_distance"], both["learned"]["energy_distance"], fl)
    text += (
        f"; here {imp['nfe']} NFE give an energy distance of {L['energy_distance']:.5f} vs "
        f"{both['learned']['energy_distance']:.5f} for Euler steps in t at {both['nfe']} NFE with the "
        f"same prior and final step ({w_imp}; see the study in U4)."
    )
    if "heun_karras" in at and "ddim" in at:
        text += (
            " Supported." if w_h == "lower" else " Not supported by these numbers at this budget."
        )
    return text


# ---------------------------------------------------------------- likelihood
def _solver_words(solver: dict | None) -> str:
    if not solver:
        return "a numerical ODE solver"
    method = solver.get("method", "?")
    if "rtol" in solver or "atol" in solver:
        tols = ", ".join(f"{k} {solver[k]:g}" for k in ("rtol", "atol") if k in solver)
        words = f"the adaptive {method} solver ({tols}"
        if solver.get("dtype"):
            words += f", {solver['dtype']}"
        return words + ")"
    words = (
        f"{solver.get('n_steps', '?')} fixed {method.upper() if method == 'rk4' else method} steps"
    )
    if solver.get("dtype"):
        words += f" in {solver['dtype']}"
    return words


def likelihood(rec: dict) -> str:
    lik = rec["likelihood"]
    lk = lik["variants"]
    t = lk["truth"]
    solver = lik["solver"]

    def f(k):
        v = lk[k]
        return (
            f"{v['mean']:.3f} (Δ = {v['mean'] - t:+.3f}; range over the points {v['min']:.2f} … "
            f"{v['max']:.2f})"
        )

    text = (
        f"Log density of the continuous-time probability-flow ODE's output at t = 0 — not the "
        f"T-step Euler sampler's, and not the improved sampler's, which returns x̂₀ — obtained by "
        f"integrating the ODE with {_solver_words(solver)} and the exact 2D divergence, averaged "
        f"over {lk['n_points']} interior points at least {lk.get('margin', 0.2):g} from the edges, "
        f"against the truth log(1/4) = {t:.3f}: learned network with the moment-matched Gaussian "
        f"prior {f('learned_matched')}; oracle with that prior {f('oracle_matched')}; learned "
        f"network with the exercise's N(0, I) prior {f('learned_standard')}; oracle with N(0, I) "
        f"{f('oracle_standard')}. "
    )
    if "learned_matched_denoised" in lk:
        text += (
            f"The density of x̂₀ of that output (the ODE's output passed through the final "
            f"denoising step, as the improved sampler ends; matched prior): learned network "
            f"{f('learned_matched_denoised')}"
            + (
                f"; oracle {f('oracle_matched_denoised')}"
                if "oracle_matched_denoised" in lk
                else ""
            )
            + ". "
        )
    ls, lm = lk["learned_standard"], lk["learned_matched"]
    if "values" in ls and "values" in lm:
        d, se = _mean_se(np.subtract(ls["values"], lm["values"]))
        w = compare(d, se, "higher than", "lower than")
        text += (
            f"With the network, the exercise's N(0, I) prior gives a density at these points "
            f"{_same(w)} the matched prior's (mean difference {d:+.3f} nats, two standard errors "
            f"over the points ±{2 * se:.3f})"
        )
        sd = rec.get("samples", {}).get("std_per_coordinate", {})
        narrow = (
            sd
            and compare(sd["learned"] - sd["truth"], sd.get("learned_stderr", math.nan), "w", "n")
            == "n"
        )
        if w == "higher than" and narrow:
            text += (
                f", as the narrower samples of that prior (U3: standard deviation "
                f"{sd['learned']:.3f} vs the truth's {sd['truth']:.3f}) are denser inside"
            )
        text += "."
    else:
        text += (
            f"The exercise's prior gives {ls['mean'] - lm['mean']:+.3f} nats relative to the "
            f"matched prior."
        )
    if "eq9" in lk:
        text += _eq9_sentence(lk["eq9"], t, ls["mean"])
    return text


def _eq9_sentence(e: dict, truth: float, exact_standard: float) -> str:
    text = (
        f" For comparison, the exercise's Eq. 9 value −L_T (T = {e['T']}, {e['n_draws']} draws "
        f"per point, Monte-Carlo standard error ≤ {e['mc_stderr_max']:.3f}) averages "
        f"{e['mean']:.3f} at the same points, {e['mean'] - truth:+.3f} from the truth: it is only "
        f"the diffusion term of a variational bound. Adding the reconstruction term "
        f"({e['reconstruction']:+.2f}, the Gaussian decoder with σ(0) = e^(−5)) and subtracting "
        f"the "
        f"prior KL to N(0, I) (mean {e['prior_kl_mean']:.2f}) gives the full bound "
        f"{e['full_bound_mean']:.3f} ({e['full_bound_mean'] - truth:+.3f} from the truth)"
    )
    diff = e.get("full_bound_minus_ode")
    if diff is not None:
        w = compare(diff["mean"], diff["stderr"], "above", "below")
        text += (
            f", {_same(w)} the ODE density with the same network and prior ({exact_standard:.3f}; "
            f"difference {diff['mean']:+.3f} ± {2 * diff['stderr']:.3f}, two standard errors)"
        )
    else:
        rel = "below" if e["full_bound_mean"] <= exact_standard else "above"
        text += f", {rel} the ODE density with the same network and prior ({exact_standard:.3f})"
    return text + (
        ". (The variational bound bounds the likelihood of the stochastic discrete-time model; "
        "it equals the ODE's density only when the denoiser is perfect and the prior matches "
        "the marginal at t = 1.)"
    )


ANSWERS = {
    "floor": floor,
    "U2": u2,
    "U3": u3,
    "U4": u4,
    "U5": u5,
    "likelihood": likelihood,
}


# ---------------------------------------------------------------- short answers
QUESTIONS = {
    "U1": Question(
        "Forward process of one point",
        "Show the forward process of one point that starts outside the square, as a 2D path "
        "coloured by t. The path must be the discretised forward SDE, whose marginal at every t "
        "is x_0 + σ(t)ε (increments of variance σ²(t + dt) − σ²(t)).",
    ),
    "U2": Question("Denoiser training loss", "Plot the denoiser's training loss over training."),
    "U3": Question(
        "Nine samplings with nine seeds",
        "Show nine samplings of 1000 points with nine seeds on a 3×3 grid, the true square on "
        "each panel, and the initial noise beside a result.",
    ),
    "U4": Question(
        "Number of sampling steps",
        "Sample with several numbers of steps T; how does T change the result? Answer with a "
        "measured quality per T.",
    ),
    "U5": Question(
        "An improved sampler",
        "Modify the sampler or its schedule; plot the original and the modified σ(t) as sampled "
        "by their time grids; describe the choice and give rules of thumb for an effective "
        "sampler, each backed by a measurement.",
    ),
    "U6": Question(
        "The same noise, ten times",
        "Feed the same noise ten times to the reverse process: are the outputs the same? If so, "
        "use the stochastic sampler (λ > 0) and show that they now differ; plot the denoising "
        "paths of four points.",
    ),
}


def _untestable(w: str) -> bool:
    return w.startswith("not testable")


def h_u2(rec: dict) -> Headline:
    """U2 in one line. Verdicts (the final loss against the oracle's optimum): "at the
    optimum" (within two standard errors) | "above the optimum" | "below the optimum" (the
    network fits its training points themselves)."""
    tr = rec["train"]
    best = tr["oracle_loss"]
    trend, first, final, _, _ = _u2_trend(tr)
    w, diff, se = _loss_vs_oracle_word(list(tr["loss_history"]), best)
    if trend in ("falls", "rises"):
        course = f"{trend} from {first:.3f} to {final:.3f}"
    elif trend == "stays within the noise":
        course = f"stays within the noise ({first:.3f} → {final:.3f})"
    else:
        course = f"goes from {first:.3f} to {final:.3f} (too few epochs to call a trend)"
    opt = f"the oracle's optimum {best['mean']:.3f}"
    if w == "within the noise":
        verdict = "at the optimum"
        end = f"ends within the noise of {opt} (difference {diff:+.3f} ± {2 * se:.3f})"
    elif w == "below":
        verdict = "below the optimum"
        end = (
            f"ends {-diff:.3f} below {opt} (± {2 * se:.3f}): the network fits its "
            f"{rec['params']['n_points']} training points themselves"
        )
    else:
        verdict = "above the optimum"
        end = f"ends {diff:.3f} above {opt} (± {2 * se:.3f})"
    return headline(
        rec,
        "train.final_loss",
        "final training loss (mean of the last epochs)",
        f"The loss {course} and {end}.",
        verdict,
        fmt=".3f",
    )


def h_u3(rec: dict) -> Headline:
    """U3 in one line. Verdicts (the spread of the nine seeds' samples against the truth's):
    "narrower" | "as wide" (within two standard errors) | "wider" | "untested" (no standard
    error)."""
    sm = rec["samples"]
    n = sm.get("n_points", len(sm["points"]))
    ins = np.array(sm["seeds_inside_fraction"])
    sd = sm["std_per_coordinate"]
    w_sd, _ = _u3_spread(sd)
    vo = _u3_vs_oracle(sm, n)
    std = f"SD per coordinate {sd['learned']:.3f}"
    se2 = 2 * sd.get("learned_stderr", math.nan)
    if _untestable(w_sd):
        verdict = "untested"
        spread = f"with {std} vs the truth's {sd['truth']:.3f} (no standard error)"
    elif w_sd == "within the noise":
        verdict = "as wide"
        spread = f"as wide as the square ({std} ± {se2:.3f} vs the truth's {sd['truth']:.3f})"
    else:
        verdict = w_sd.split()[0]
        spread = f"{w_sd} the square ({std} ± {se2:.3f} vs the truth's {sd['truth']:.3f})"
    vs = {
        "as good": "as good as",
        "worse": "measurably worse than",
        "differs": "measurably different from",
    }[vo["class"]]
    answer = (
        f"The {len(ins)} samplings put {pct(ins.min())}–{pct(ins.max())} inside and come out "
        f"{spread}; seed {sm['seed']} is {vs} the oracle from the same noise."
    )
    return headline(
        rec,
        "samples.std_per_coordinate.learned",
        "standard deviation per coordinate of the nine seeds' samples (truth 1/√3 ≈ 0.577)",
        answer,
        verdict,
        fmt=".3f",
    )


def h_u4(rec: dict) -> Headline:
    """U4 in one line. Verdicts: "converged" (edge band and energy distance within the noise
    between the two largest T) | "still changing" | "single T" (one T only: no dependence
    measured)."""
    st = rec["steps"]
    fl = rec["noise_floor"]
    Tv = list(st["T_values"])
    order = _u4_order(st)
    i_min, i_max = order[0], order[-1]
    path = f"steps.energy_distance.{i_max}"
    ed_max = st["energy_distance"][i_max]
    figure = "energy distance to the truth at the largest T"
    if Tv[i_min] == Tv[i_max]:
        answer = (
            f"Only T = {Tv[i_max]} was run (energy distance {ed_max:.5f}): no dependence on T "
            f"is measured."
        )
        return headline(rec, path, figure, answer, "single T", fmt=".5f")
    ed_min = st["energy_distance"][i_min]
    few = _u4_few_steps(st, fl)
    if few == "sampler" and _u4_learned_fails(st, fl):
        head = (
            f"Few steps fail: at T = {Tv[i_min]} the energy distance is {ed_min:.4f}, with the "
            f"oracle too (the Euler step's error)"
        )
    elif few == "sampler":
        head = (
            f"At T = {Tv[i_min]} the oracle's sample is further from the truth (the Euler step's "
            f"error) but the learned model's is not (energy distance {ed_min:.4f})"
        )
    elif few == "none":
        head = (
            f"At T = {Tv[i_min]} the energy distance is {ed_min:.4f}, but the oracle's is within "
            f"the floor's spread of T = {Tv[i_max]}'s: no error of few steps shows"
        )
    else:
        head = (
            f"At T = {Tv[i_min]} the energy distance is {ed_min:.4f}, the oracle's too beyond the "
            f"floor's spread of T = {Tv[i_max]}'s"
        )
    flat_eb, flat_ed = _u4_flat(st, fl)
    T2 = Tv[order[-2]]
    if flat_eb and flat_ed:
        verdict = "converged"
        tail = (
            f"from T = {T2} to {Tv[i_max]} more steps no longer reduce the error (energy "
            f"distance {ed_max:.5f})"
        )
    else:
        verdict = "still changing"
        moved = [
            w for w, flat in (("edge band", flat_eb), ("energy distance", flat_ed)) if not flat
        ]
        tail = (
            f"between T = {T2} and {Tv[i_max]} the {' and the '.join(moved)} still "
            f"{'changes' if len(moved) == 1 else 'change'} beyond the noise ({ed_max:.5f} at "
            f"T = {Tv[i_max]})"
        )
    return headline(rec, path, figure, f"{head}; {tail}.", verdict, fmt=".5f")


def h_u5(rec: dict) -> Headline:
    """U5 in one line. Verdicts: "met" (the improved sampler meets every target) | "missed"
    (it misses at least one)."""
    imp = rec["ablation"]["improved"]
    ex = rec["ablation"]["exercise"]
    targets = _u5_targets(rec)
    missed = [short for _, short, ok in targets if not ok]
    if missed:
        verdict = "missed"
        res = f"misses {len(missed)} of {len(targets)} targets ({'; '.join(missed)})"
    else:
        verdict, res = "met", f"meets all {len(targets)} targets"
    answer = (
        f"{imp['label']} with {imp['nfe']} NFE (exercise: {ex['nfe']}) {res}; energy distance "
        f"{imp['learned']['energy_distance']:.5f} vs the exercise's "
        f"{ex['learned']['energy_distance']:.5f}."
    )
    return headline(
        rec,
        "ablation.improved.learned.energy_distance",
        "energy distance of the improved sampler's samples to the truth",
        answer,
        verdict,
        fmt=".5f",
    )


HEADLINES = {"U2": h_u2, "U3": h_u3, "U4": h_u4, "U5": h_u5}
