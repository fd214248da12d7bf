"""Section 02's findings: what the per-question modules share (the classes as named items,
per-class values read from the record, the binomial standard errors, the rank correlation,
an ordering that joins neighbours within the noise).

Convention: ``±`` is one standard error; a difference is "beyond the noise" past two.
"""

from __future__ import annotations

import math

import numpy as np

from genmod.sections.findings import Claim, claim, differs
from genmod.sections.markdown import pooled_se

#: |Spearman ρ| over the classes that counts as "orders them the same way".
RHO_STRONG = 0.9


def out(claims: list[Claim]) -> dict:
    """Each claim's outcome by its short name (``c5.harder`` → ``harder``)."""
    return {c.name.split(".", 1)[1]: c.outcome for c in claims}


def classes(rec: dict) -> tuple[int, list[str]]:
    """The number of classes and their names."""
    cl = rec["classes"]
    return int(cl["n"]), list(cl["names"])


def num(v) -> float:
    """A number from the record (results.json writes non-finite floats as strings)."""
    return float(v)


def by_class(d: dict, k: int) -> list[float]:
    """A per-class record ``{"0": v0, ...}`` as a list (every class must be there)."""
    return [num(d[str(c)]) for c in range(k)]


def named(cs, names) -> list[dict]:
    """Classes as ``{"id", "name"}`` items, for the templates' lists."""
    return [{"id": int(c), "name": names[c]} for c in cs]


def binomial_se(p: float, n: int) -> float:
    """The standard error of a share ``p`` over ``n`` points (NaN without points)."""
    return math.sqrt(max(p * (1 - p), 0.0) / n) if n > 0 else math.nan


def mean_diff(a: list[float], b: list[float], n: int) -> tuple[float, float]:
    """Mean over classes of a − b (shares over n samples each) and its standard error."""
    k = len(a)
    diff = float(np.mean(a) - np.mean(b))
    var = sum(pooled_se(x, y, n, n) ** 2 for x, y in zip(a, b, strict=True))
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
    """Spearman's rank correlation (ties: mean ranks); NaN when either side is constant or
    not finite."""
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.nan
    ra, rb = _ranks(a), _ranks(b)
    if ra.std() == 0 or rb.std() == 0:
        return math.nan
    return float(np.corrcoef(ra, rb)[0, 1])


def chain(name: str, values: list[float], ses: list[float]) -> tuple[list[Claim], list[dict]]:
    """The classes sorted by decreasing value, each neighbour pair decided by ``differs`` at
    two standard errors (``se`` of the difference: the two shares' errors in quadrature):
    claims ``<name>_step_<i>`` ("more": the next class is lower beyond the noise, "same":
    within it), and the items ``{"id", "value", "step"}`` where ``step`` names the claim
    between an item and the one after it ("" for the last)."""
    idx = sorted(range(len(values)), key=lambda c: -values[c])
    claims, items = [], []
    for i, a in enumerate(idx):
        step = ""
        if i + 1 < len(idx):
            b = idx[i + 1]
            step = f"{name.split('.', 1)[1]}_step_{i}"
            se = math.hypot(ses[a], ses[b])
            claims.append(claim(f"{name}_step_{i}", differs, diff=values[a] - values[b], se=se))
        items.append({"id": a, "value": values[a], "step": step})
    return claims, items
