"""Section 02's findings for C1-C5: per question, a pure function of the record returning what
its answer decides (:class:`~genmod.sections.findings.Finding`); the prose is in
``templates/``. C5's is in :mod:`.findings_c5`, C6's and the bonus's in :mod:`.findings_probes`.

A class accuracy p over n samples has the binomial standard error √(p(1 − p)/n); two shares
are compared with the pooled standard error of their difference, and a difference within two
standard errors is "within the noise". Convention: ``±`` is one standard error.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genmod.sections.diffusion_conditional.config import EXERCISE_POINTS
from genmod.sections.diffusion_conditional.findings_c5 import c5
from genmod.sections.diffusion_conditional.findings_common import (
    by_class,
    classes,
    named,
    num,
    out,
)
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
from genmod.sections.markdown import pooled_se

TEMPLATES = Path(__file__).parent / "templates"

#: C4: the exercise asks for at least this many conditional samples.
MIN_SAMPLES = 1000
#: C2: the points x ~ N(0, I) at which the class effect is measured (workflow.conditioning).
EFFECT_POINTS = 2000


# --------------------------------------------------------------------------- C1
def c1(rec: dict) -> Finding:
    """C1: the training data and the classes. Verdicts: "all populated" (every class has a
    training point) | "class empty"."""
    cl, n = rec["classes"], int(rec["params"]["n_points"])
    k, names = classes(rec)
    areas = [float(a) for a in cl["areas"]]
    counts = [int(x) for x in cl["train_counts"]]
    inr = [float(r) for r in cl["inradius"]]
    geo = [cl["geometry"][str(c)] for c in range(k)]
    big, small = int(np.argmax(areas)), int(np.argmin(areas))
    few, thin = int(np.argmin(counts)), int(np.argmin(inr))
    lo, hi = EXERCISE_POINTS
    shapes = {
        "nonconvex": [c for c in range(k) if not geo[c]["convex"]],
        "pieces": [c for c in range(k) if geo[c]["pieces"] > 1],
        "holes": [c for c in range(k) if geo[c]["holes"] > 0],
        "mean_outside": [c for c in range(k) if not geo[c]["mean_inside"]],
    }
    empty = [c for c in range(k) if counts[c] == 0]
    claims = [
        claim("c1.at_least_exercise", at_least, value=n, threshold=lo),
        claim("c1.at_most_exercise", at_most, value=n, threshold=hi),
        claim("c1.some_empty", above, value=len(empty), threshold=0),
        *(claim(f"c1.some_{key}", above, value=len(cs), threshold=0) for key, cs in shapes.items()),
    ]
    rows = [
        {"id": c, "name": names[c], "rectangles": len(cl["regions"][str(c)]), "area": areas[c],
         "count": counts[c], "inradius": inr[c], "pieces": geo[c]["pieces"],
         "holes": geo[c]["holes"], "boundary": geo[c]["perimeter_per_area"],
         "mean_inside": geo[c]["mean_inside"]}
        for c in range(k)
    ]  # fmt: skip
    figures = {
        "n_points": n, "k": k, "lo": lo, "hi": hi, "times_max": n / hi,
        "area_ratio": areas[big] / areas[small],
        "small": named([small], names)[0], "small_area": areas[small],
        "big": named([big], names)[0], "big_area": areas[big],
        "few": named([few], names)[0], "few_count": counts[few],
        "thin": named([thin], names)[0], "thin_inradius": inr[thin],
        "empty": named(empty, names), "rows": rows,
        **{key: named(cs, names) for key, cs in shapes.items()},
    }  # fmt: skip
    verdict = "class empty" if out(claims)["some_empty"] else "all populated"
    return Finding(
        "C1", verdict, figures, claims, figure="fewest training points in a class",
        path="classes.train_counts", fmt=".0f", reduce="min",
    )  # fmt: skip


# --------------------------------------------------------------------------- C2
def c2(rec: dict) -> Finding:
    """C2: how the class enters the model and whether it changes the output. Verdicts:
    "class-dependent" (changing the class changes ε̂ at the same (x, t)) | "class-blind" |
    "not finite" (the measured effect is not a number: the model's output is not finite)."""
    cond, tr, p, st = rec["conditioning"], rec["train"], rec["params"], rec["settings"]
    k, _ = classes(rec)
    effects = [{"t": float(t), "value": num(v)} for t, v in cond["class_effect"].items()]
    top = max(effects, key=lambda e: e["value"])
    n, bs, power = int(p["n_points"]), int(st["batch_size"]), float(st["t_power"])
    batch = bs if bs > 0 else n  # 0: the full batch
    claims = [
        claim("c2.effects_finite", finite, value=sum(e["value"] for e in effects)),
        claim("c2.class_dependent", above, value=top["value"], threshold=0.0),
        claim("c2.fourier", above, value=st["x_freqs"], threshold=0),
        claim("c2.gated", above, value=st["x_gate"], threshold=0.0),
        claim("c2.minibatches", below, value=batch, threshold=n),
        claim("c2.uniform_t", equal, value=power, other=1.0),
        claim("c2.from_cache", equal, value=tr["from_cache"], other=True),
    ]
    figures = {
        "n_params": cond["n_params"], "k": k, "class_dim": cond["class_dim"],
        "n_layers": cond["n_layers"], "hidden": cond["hidden"],
        "freqs": [2**j for j in range(int(st["x_freqs"]))], "gate": st["x_gate"],
        "epochs": p["epochs"], "batch_size": bs, "adam_steps": tr["adam_steps"],
        "noise_draws": st["noise_draws"], "t_power": power,
        "p_small": 0.2 ** (1 / power) if power > 0 else math.nan,
        "final_loss": tr["final_loss"], "loss_epochs": min(50, len(tr["loss_history"])),
        "effects": effects, "top": top, "points": EFFECT_POINTS,
    }  # fmt: skip
    o = out(claims)
    verdict = ("not finite" if not o["effects_finite"] else "class-dependent"
               if o["class_dependent"] else "class-blind")  # fmt: skip
    return Finding(
        "C2", verdict, figures, claims,
        figure="largest mean distance of a class's ε̂ from the class average (over t)",
        path="conditioning.class_effect", fmt=".3f", reduce="max",
    )  # fmt: skip


# --------------------------------------------------------------------------- C3
def c3(rec: dict) -> Finding:
    """C3: one DDIM run per class and whether the class steers the same starts. Verdicts:
    "all inside" | "some outside" | "none inside" (the one end point per class against its
    class's region)."""
    tr = rec["trajectories"]
    k, names = classes(rec)
    inside = [bool(v) for v in tr["in_region"]]
    n_in = sum(inside)
    claims = [claim(f"c3.inside_{c}", equal, value=inside[c], other=True) for c in range(k)]
    claims += [
        claim("c3.all_inside", equal, value=n_in, other=k),
        claim("c3.none_inside", equal, value=n_in, other=0),
    ]
    pc, rows = tr["steering"]["per_class"], []
    groups: dict[str, list[int]] = {"more": [], "same": [], "less": []}
    for c in range(k):
        s = pc[str(c)]
        a, b = s["hits_own"] / s["n"], s["hits_other"] / s["n_other"]  # n ≥ 1: se finite
        cl = claim(f"c3.steer_{c}", differs, diff=a - b, se=pooled_se(a, b, s["n"], s["n_other"]))
        claims.append(cl)
        groups[cl.outcome].append(c)
        rows.append({"id": c, "name": names[c], "own": a, "other": b, **s})
    claims += [claim(f"c3.any_{w}", above, value=len(g), threshold=0) for w, g in groups.items()]
    figures = {
        "k": k, "T": rec["params"]["T"], "n_inside": n_in, "rows": rows,
        "points": [{"id": c, "name": names[c], "x": x, "y": y}
                   for c, (x, y) in enumerate(tr["final_points"])],
        "outside": [c for c in range(k) if not inside[c]], "starts": len(tr["steering"]["z"]),
        **groups,
    }  # fmt: skip
    o = out(claims)
    verdict = "all inside" if o["all_inside"] else "none inside" if o["none_inside"] else (
        "some outside")  # fmt: skip
    return Finding(
        "C3", verdict, figures, claims,
        figure="share of the one-per-class end points in their region",
        path="trajectories.in_region", fmt=".2f", reduce="mean",
    )  # fmt: skip


# --------------------------------------------------------------------------- C4
def c4(rec: dict) -> Finding:
    """C4: the conditional samples. Verdicts: "at least 1000" | "fewer than 1000" (conditional
    samples shown, against the 1000 the exercise asks for)."""
    k, _ = classes(rec)
    n_pc = int(rec["settings"]["samples_per_class"])
    total = n_pc * k
    mean = {
        who: float(np.mean(by_class(rec[key][acc], k)))
        for who, key, acc in (("learned", "samples", "class_accuracy"),
                              ("oracle", "samples", "oracle_class_accuracy"),
                              ("improved", "improved", "class_accuracy"))
    }  # fmt: skip
    claims = [claim("c4.enough", at_least, value=total, threshold=MIN_SAMPLES)]
    figures = {
        "n_pc": n_pc, "total": total, "k": k, "T": rec["params"]["T"], "asked": MIN_SAMPLES,
        "description": rec["improved"]["description"], **mean,
        "se_class": 0.5 / math.sqrt(n_pc), "se_all": 0.5 / math.sqrt(total),
    }  # fmt: skip
    verdict = f"at least {MIN_SAMPLES}" if out(claims)["enough"] else f"fewer than {MIN_SAMPLES}"
    return Finding(
        "C4", verdict, figures, claims,
        figure="learned model's accuracy, mean over the classes", path="samples.class_accuracy",
        fmt=".3f", reduce="mean",
    )  # fmt: skip


FINDINGS = {"C1": c1, "C2": c2, "C3": c3, "C4": c4, "C5": c5}
