"""Section 02's findings for C1-C5: per question, a pure function of the record returning what
its answer decides (:class:`~genmod.sections.findings.Finding`); the prose is in
``templates/``. C6's and the bonus's are in :mod:`.findings_probes`.

Convention: ``±`` is one standard error.
"""

from __future__ import annotations

from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"

FINDINGS: dict = {}
