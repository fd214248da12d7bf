"""The report: execute the section notebooks, clean them, render one HTML and one PDF."""
