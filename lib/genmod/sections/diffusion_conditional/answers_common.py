"""Section 02's answers: helpers shared by the per-question modules (number formatting,
class lists, the rank correlation, the schedule's figures)."""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.markdown import pooled_se

RHO_STRONG = 0.9  # |Spearman ρ| over the classes that counts as "orders them the same way"
WITHIN_TRUTH = 0.15  # nats: the interior-likelihood target (count of classes within it)


# --------------------------------------------------------------------------- helpers
def _g3(x: float) -> str:
    """A value to 3 significant figures; −∞ (the truth outside a region) as the symbol."""
    return "−∞" if x == -math.inf else f"{x:.3g}"


def _num(v) -> float:
    """A number from the record ("inf", "-inf", "nan" strings and None included)."""
    if v is None:
        return math.nan
    return float(v)


def _order(values) -> str:
    """Class ids by decreasing value, '>' between different values, '=' between ties."""
    idx = sorted(range(len(values)), key=lambda c: -values[c])
    out = str(idx[0])
    for a, b in zip(idx, idx[1:]):
        out += (" = " if values[a] == values[b] else " > ") + str(b)
    return out


def _classes(rec) -> tuple[int, list[str]]:
    cl = rec["classes"]
    return int(cl["n"]), list(cl["names"])


def _by_class(d: dict, k: int) -> list[float]:
    return [_num(d[str(c)]) for c in range(k)]


def _ids(cs) -> str:
    return ", ".join(str(c) for c in cs)


def _cls(cs) -> str:
    """'class 4' or 'classes 0, 1'."""
    cs = list(cs)
    return ("class " if len(cs) == 1 else "classes ") + _ids(cs)


def _named(cs, names) -> str:
    return ", ".join(f"{c} ({names[c]})" for c in cs)


def _mean_diff(a: list[float], b: list[float], n: int) -> tuple[float, float]:
    """Mean over classes of a − b (shares over n samples each) and its standard error."""
    k = len(a)
    diff = float(np.mean(a) - np.mean(b))
    var = sum(pooled_se(x, y, n, n) ** 2 for x, y in zip(a, b))
    return diff, math.sqrt(var) / k


def _ranks(v) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v), dtype=float)
    for x in np.unique(v):  # ties share their mean rank
        m = v == x
        r[m] = r[m].mean()
    return r


def spearman(a, b) -> float:
    """Spearman's rank correlation (ties: mean ranks); nan when either side is constant."""
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def _snr_span(rec) -> float:
    """SNR(0) − SNR(1) of the schedule, 1/σ(0)² − 1/σ(1)²."""
    s = rec.get("schedule", {})
    s0, s1 = _num(s.get("sigma_min", math.exp(-5))), _num(s.get("sigma_max", 1.0))
    return 1 / s0**2 - 1 / s1**2


def _sigma0(rec) -> float:
    return _num(rec.get("schedule", {}).get("sigma_min", math.exp(-5)))


def _solver_text(solver: dict, ode_steps) -> str:
    if not solver:
        return f"RK4 with {ode_steps} steps"
    method = solver.get("method", "?")
    if "rtol" in solver:
        lib = solver.get("library", "")
        return (
            f"the adaptive {method} solver{' of ' + lib if lib else ''} "
            f"(rtol {solver['rtol']:g}, atol {solver.get('atol', 0):g}, "
            f"{solver.get('dtype', '')})"
        )
    return (
        f"{method} with {solver.get('n_steps', ode_steps)} fixed steps ({solver.get('dtype', '')})"
    )
