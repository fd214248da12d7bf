"""Section 02's findings for C6 (probability estimates at probe points, :mod:`.findings_c6`)
and the bonus (a target point, :mod:`.findings_bonus`): per question, a pure function of the
record returning what its answer decides (:class:`~genmod.sections.findings.Finding`); the
prose is in ``templates/``.

Convention: ``±`` is one standard error.
"""

from __future__ import annotations

from genmod.sections.diffusion_conditional.findings_bonus import bonus
from genmod.sections.diffusion_conditional.findings_c6 import c6

FINDINGS: dict = {"C6": c6, "Bonus": bonus}
