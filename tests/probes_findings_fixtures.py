"""Section 02's C6 and bonus findings as their tests use them: the hand-made record of
tests/diffusion_conditional_fixtures.py completed with what the C6 and bonus findings read
(Eq. 9's weight, each probe's perfect-denoiser bound, the heat maps' solver, the inversion's
convergence record), and the answers rendered from the templates with every claim re-derived."""

from __future__ import annotations

import copy
import json
import math

from diffusion_conditional_fixtures import make_record
from genmod.sections.diffusion_conditional import answers as A
from genmod.sections.diffusion_conditional import findings_probes as FP
from genmod.sections.findings import Finding, check_claims, render
from genmod.sections.summary import Headline, headline, value_at

W = 11_582.19  # Eq. 9's weight at T = 100 (σ = e^{5(t−1)})
W_LIMIT = (math.exp(10) - 1) / 2
_C6_CLASS = {"class lower", "class higher", "class same", "class mixed", "class untested",
             "no pair"}  # fmt: skip
_C6_LOCATION = {"outside lower", "overlap", "outside same", "location untested"}
VERDICTS = {
    "C6": {f"{c}; {loc}" for c in _C6_CLASS for loc in _C6_LOCATION},
    "Bonus": {"reached", "not reached"},
}


def record(**over) -> dict:
    """make_record's record with the fields C6 and the bonus read besides (T = 100, the
    inversion converged at every step); ``over`` as in make_record."""
    rec = make_record(**over)
    rec["eq9"] = {"T": 100, "weight": W, "weight_limit": W_LIMIT}
    for p in rec["probes"]:
        p["far_bound_perfect"] = -W * p["distance_to_region"] ** 2
    lik = rec["likelihood"]
    lik.setdefault("grid_solver", copy.deepcopy(lik["solver"]))
    b = rec["bonus"]
    b.update(sigma_max=1.0, perfect_denoiser_scale=0.00592,
             target_distance_to_data=b["target_distance_to_region"])  # fmt: skip
    b["attempts"][2].update(
        inversion_iterations=12, inversion_residual=4e-7, inversion_unconverged_steps=0,
        inversion_tol=1e-6, inversion_converged=True, inversion_contraction=0.05,
    )  # fmt: skip
    b["other_target"].update(inversion_converged=True, inversion_residual=1e-7,
                             inversion_unconverged_steps=0)  # fmt: skip
    return json.loads(json.dumps(rec))


def finding(qid: str, rec: dict) -> Finding:
    """``qid``'s finding; its verdict one of :data:`VERDICTS`, its claims re-derived."""
    f = FP.FINDINGS[qid](rec)
    assert f.verdict in VERDICTS[qid], f.verdict
    recorded = json.loads(json.dumps({qid: [c.to_json() for c in f.claims]}, default=str))
    assert check_claims({"claims": recorded}) == []
    assert len({c.name for c in f.claims}) == len(f.claims)  # names are unique
    return f


def full(qid: str, rec: dict) -> str:
    return render(A.TEMPLATES, finding(qid, rec), "full")


def outcomes(qid: str, rec: dict) -> dict:
    return finding(qid, rec).outcomes()


def short(qid: str, rec: dict, verdict: str) -> Headline:
    """``qid``'s headline as the run records it, checked: verdict, figure at its path, one
    line of answer."""
    f = finding(qid, rec)
    answer = render(A.TEMPLATES, f, "short")
    h = headline(rec, f.path, f.figure, answer, f.verdict, f.fmt, f.reduce)
    assert h.verdict == verdict, h.verdict
    assert h.value == value_at(rec, h.path, h.reduce)
    assert "\n" not in h.answer and 0 < len(h.answer) <= 260, h.answer
    assert " ;" not in h.answer and " ." not in h.answer and " ," not in h.answer, h.answer
    assert h.figure and json.dumps(h.to_json())
    return h
