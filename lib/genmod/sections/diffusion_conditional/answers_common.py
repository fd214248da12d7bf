"""Section 02: what the C6 and bonus findings still import from here (reading a number from
the record, the interior-likelihood target); C1-C5's findings use :mod:`.findings_common`."""

from __future__ import annotations

import math

WITHIN_TRUTH = 0.15  # nats: the interior-likelihood target (count of classes within it)


def _num(v) -> float:
    """A number from the record ("inf", "-inf", "nan" strings and None included)."""
    if v is None:
        return math.nan
    return float(v)
