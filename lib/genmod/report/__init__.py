"""The report: execute the section notebooks, clean them, render one HTML and one PDF.

- :mod:`genmod.report.cli` — ``python -m genmod.report`` (what ``make report`` runs);
- :mod:`genmod.report.build` — the build: sections reused or executed, then HTML and PDF;
- :mod:`genmod.report.execution_cache` — a section whose inputs are unchanged is reused;
- :mod:`genmod.report.execute` — papermill execution (one section, or several at once);
- :mod:`genmod.report.clean` — what of a notebook the write-up shows (nbconvert preprocessors);
- :mod:`genmod.report.page` — the HTML page (nbconvert exporter, templates);
- :mod:`genmod.report.pdf` — the PDF (headless Chromium).
"""
