"""Report plumbing: figure style, results recording, and the HTML/PDF build."""

from genmod.report.record import Results, answer  # noqa: F401
