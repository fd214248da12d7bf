"""Section 02's findings for C6 (probability estimates at probe points) and the bonus (a far
target): per question, a pure function of the record returning what its answer decides
(:class:`~genmod.sections.findings.Finding`); the prose is in ``templates/``.

Convention: ``±`` is one standard error.
"""

from __future__ import annotations

FINDINGS: dict = {}
