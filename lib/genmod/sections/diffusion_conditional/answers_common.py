"""Section 02's answers: helpers shared by the answer functions of C6 and the bonus (number
formatting, class lists, the schedule's figures); C1-C5's findings use
:mod:`.findings_common`."""

from __future__ import annotations

import math

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


def _classes(rec) -> tuple[int, list[str]]:
    cl = rec["classes"]
    return int(cl["n"]), list(cl["names"])


def _cls(cs) -> str:
    """'class 4' or 'classes 0, 1'."""
    cs = list(cs)
    return ("class " if len(cs) == 1 else "classes ") + ", ".join(str(c) for c in cs)


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
