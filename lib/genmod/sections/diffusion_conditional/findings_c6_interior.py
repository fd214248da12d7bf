"""C6's second half: the PF-ODE density over interior points of each class against the truth
(learned model, the x̂_0-returning sampler, the oracle), the heat maps and the side-by-side
grid. Part of the C6 finding (:mod:`.findings_c6`); the prose is in ``templates/c6.full.md.j2``.

The oracle's residual per class is compared with two standard errors of its mean and with the
ODE solver's tolerance (atol + rtol·|log p| for an adaptive solver): a residual at or below the
tolerance is within it, whatever its standard error. Convention: ``±`` is one standard error.
"""

from __future__ import annotations

import math

from genmod.sections.diffusion_conditional.answers_common import WITHIN_TRUTH, _num
from genmod.sections.findings import above, at_most, claim, differs, equal


def solver_figures(solver: dict, ode_steps: int) -> dict:
    """A solver record as the template names it: ``kind`` "adaptive" | "fixed" | "none"."""
    if not solver:
        return {"kind": "none", "n_steps": ode_steps}
    if "rtol" in solver:
        return {"kind": "adaptive", **{k: solver[k] for k in ("method", "rtol", "atol", "dtype")},
                "library": solver["library"]}  # fmt: skip
    return {"kind": "fixed", **{k: solver[k] for k in ("method", "n_steps", "dtype")}}


def _solver_tolerance(solver: dict, truth: float) -> float:
    """The solver's tolerance on a log density near ``truth`` (0 without an adaptive one)."""
    if "rtol" not in solver:
        return 0.0
    return solver["atol"] + solver["rtol"] * abs(truth)


def _rtol(solver: dict) -> float:
    """An adaptive solver's relative tolerance (nan for a fixed-step one)."""
    return solver["rtol"] if "rtol" in solver else math.nan


def _per_class(d: dict, k: int) -> list[float]:
    return [_num(d[str(c)]) for c in range(k)]


def _oracle(lik: dict, k: int, solver: dict) -> tuple[list, dict]:
    """Claims and groups of the oracle's residual per class: within two standard errors
    (``same``), beyond them but within the solver's tolerance (``tolerance``), beyond both
    (``beyond``), no usable standard error (``untestable``)."""
    io = lik["interior_oracle"]
    claims, rows = [], []
    groups = {"same": [], "tolerance": [], "beyond": [], "untestable": []}
    for c in range(k):
        r = io[str(c)]
        e, tol = r["mean"] - r["truth"], _solver_tolerance(solver, r["truth"])
        noise = claim(f"c6.oracle_{c}", differs, diff=e, se=r["stderr"])
        in_tol = claim(f"c6.oracle_{c}_solver", at_most, value=abs(e), threshold=tol)
        claims += [noise, in_tol]
        if noise.outcome == "same":
            groups["same"].append(c)
        elif in_tol.outcome:
            groups["tolerance"].append(c)
        elif noise.outcome == "untestable":
            groups["untestable"].append(c)
        else:
            groups["beyond"].append(c)
        rows.append({"cls": c, "error": e, "se": r["stderr"], "tol": tol})
    return claims, {"rows": rows, **groups, "beyond_rows": [rows[c] for c in groups["beyond"]]}


def _within(name: str, errors: list[float]) -> tuple[list, list[int]]:
    claims = [claim(f"c6.{name}_{c}", at_most, value=abs(e), threshold=WITHIN_TRUTH)
              for c, e in enumerate(errors)]  # fmt: skip
    return claims, [c for c, x in enumerate(claims) if x.outcome]


def _grid(rec: dict, k: int) -> dict:
    lik, cmp = rec["likelihood"], rec["likelihood_compare"]

    def num_or_inf(v):
        v = _num(v)
        return None if v == -math.inf else v

    return {
        "median_inside": _per_class(lik["grid_median_inside"], k),
        "median_far": _per_class(lik["grid_median_far_outside"], k),
        "compare_class": cmp["class"],
        "compare_n": len(cmp["x"]),
        "compare": [
            {
                "key": key,
                "inside": num_or_inf(v["median_inside"]),
                "outside": num_or_inf(v["median_outside_square"]),
            }
            for key, v in cmp["summary"].items()
        ],  # fmt: skip
    }


def interior(rec: dict) -> tuple[list, dict]:
    """The interior paragraph's claims and figures."""
    k, names = int(rec["classes"]["n"]), list(rec["classes"]["names"])
    lik, st = rec["likelihood"], rec["settings"]
    solver, grid_solver = lik["solver"], lik["grid_solver"]
    truth = _per_class(lik["truth"], k)
    learned = _per_class(lik["interior_mean_exact"], k)
    std = _per_class(lik["interior_mean_exact_standard_prior"], k)
    oracle = _per_class(lik["interior_mean_exact_oracle"], k)
    has_den = "interior_mean_exact_denoised" in lik
    den = _per_class(lik["interior_mean_exact_denoised"], k) if has_den else [math.nan] * k
    err = [a - t for a, t in zip(learned, truth)]
    err_den = [a - t for a, t in zip(den, truth)]
    within_claims, within = _within("within", err)
    den_claims, within_den = _within("den_within", err_den) if has_den else ([], [])
    oracle_claims, groups = _oracle(lik, k, solver)
    claims = [
        claim("c6.denoised", equal, value=has_den, other=True),
        claim("c6.grid_solver_same", equal, value=grid_solver, other=solver),
        claim("c6.grid_solver_looser", above, value=_rtol(grid_solver), threshold=_rtol(solver)),
        *within_claims, *den_claims, *oracle_claims,
    ]  # fmt: skip
    rows = []
    for c in range(k):
        row = {"cls": c, "name": names[c], "truth": truth[c], "learned": learned[c],
               "se": lik["interior"][str(c)]["stderr"], "standard": std[c], "oracle": oracle[c],
               "margin": lik["interior"][str(c)]["margin"], "denoised": None, "den_se": None}  # fmt: skip
        if has_den:
            row.update(denoised=den[c], den_se=lik["interior_denoised"][str(c)]["stderr"])
        rows.append(row)
    figures = {
        "solver": solver_figures(solver, st["ode_steps"]),
        "grid_solver": solver_figures(grid_solver, st["ode_steps"]),
        "interior_rows": rows, "k": k, "within_truth": WITHIN_TRUTH,
        "errors": err, "n_within": len(within),
        "errors_den": err_den if has_den else None, "n_within_den": len(within_den),
        "oracle": groups,
        "standard_shift": [s - m for s, m in zip(std, learned)],
        **_grid(rec, k),
    }  # fmt: skip
    return claims, figures
