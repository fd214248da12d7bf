"""Section 02's answer functions for C6 and the bonus: none left. Both are findings with
templates (:mod:`.findings_probes`); :mod:`.answers` still merges these empty tables."""

from __future__ import annotations

ANSWERS: dict = {}
HEADLINES: dict = {}
