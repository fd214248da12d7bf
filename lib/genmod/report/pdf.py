"""The PDF: the report's HTML printed by headless Chromium (clickable contents, outline)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from genmod.report.base import ReportError

PDF_HINT = (
    "no Chromium found, so no PDF: install it (`apt-get install chromium`, or "
    "`pip install playwright && playwright install chromium`), then rerun with --skip-execute"
)

_CHROMIUM_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
    "headless_shell",
)


def find_chromium() -> str | None:
    """$GENMOD_CHROMIUM, a Chromium/Chrome on PATH, or Playwright's downloaded Chromium."""
    env = os.environ.get("GENMOD_CHROMIUM")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in _CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    for app in (
        "/Applications/Chromium.app/Contents/MacOS/Chromium",
        "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
    ):
        if Path(app).is_file():
            return app
    caches = [Path.home() / ".cache/ms-playwright", Path.home() / "Library/Caches/ms-playwright"]
    if os.environ.get("PLAYWRIGHT_BROWSERS_PATH"):
        caches.insert(0, Path(os.environ["PLAYWRIGHT_BROWSERS_PATH"]))
    for cache in caches:
        for pattern in (
            "chromium-*/chrome-linux*/chrome",
            "chromium_headless_shell-*/chrome-linux*/headless_shell",
            "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium",
        ):
            hits = sorted(cache.glob(pattern))
            if hits:
                return str(hits[-1])
    return None


def chromium_args(chromium: str, user_data_dir: str | os.PathLike) -> list[str]:
    """Headless, offline, quiet, with a throwaway profile."""
    return [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--mute-audio",
        f"--user-data-dir={user_data_dir}",
    ]


def run_chromium(args: list[str], timeout: float = 180) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="genmod-chromium-") as profile:
        cmd = chromium_args(args[0], profile) + args[1:]
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish within {timeout:.0f} s: {cmd}") from None


def print_pdf(
    html_path: Path, pdf_path: Path, chromium: str, virtual_time_budget_ms: int = 60_000
) -> Path:
    """Print ``html_path`` to ``pdf_path`` (atomically) with headless Chromium.

    ``--virtual-time-budget`` lets MathJax finish typesetting before the page is printed
    (virtual time runs fast while the page is idle, so a generous budget costs little).
    """
    pdf_path = Path(pdf_path)
    tmp = pdf_path.with_name(f".{pdf_path.stem}.printing.pdf")
    tmp.unlink(missing_ok=True)
    try:
        proc = run_chromium(
            [
                chromium,
                f"--virtual-time-budget={virtual_time_budget_ms}",
                "--run-all-compositor-stages-before-draw",
                "--no-pdf-header-footer",
                "--generate-pdf-document-outline",
                f"--print-to-pdf={tmp}",
                Path(html_path).resolve().as_uri(),
            ]
        )
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size < 1000:
            err = [ln for ln in proc.stderr.splitlines() if ln.strip()][-3:]
            raise ReportError(
                f"Chromium could not print the PDF (exit {proc.returncode}): {' | '.join(err)}"
            )
        os.replace(tmp, pdf_path)
    finally:
        tmp.unlink(missing_ok=True)
    return pdf_path


def page_texts(pdf_path: str | os.PathLike) -> list[str] | None:
    """The text of every page (``pdftotext -layout``), or None without poppler-utils."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    proc = subprocess.run(
        [exe, "-layout", str(pdf_path), "-"], capture_output=True, text=True, timeout=120
    )
    if proc.returncode != 0:
        raise ReportError(f"pdftotext {pdf_path}: {proc.stderr.strip()[:200]}")
    pages = proc.stdout.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def opens_with(page: str, titles: list[str]) -> bool:
    """Whether the page's first line is one of ``titles`` (or, wrapped, the start of one)."""
    lines = [" ".join(line.split()) for line in page.splitlines() if line.strip()]
    if not lines or len(lines[0]) < 10:  # a stray short line is no title
        return False
    return any(" ".join(t.split()).startswith(lines[0]) for t in titles if t)


def first_page_of(pages: list[str], titles: list[str]) -> int:
    """The number of the first page that opens with one of ``titles`` (1 if none does)."""
    return next((n for n, page in enumerate(pages, start=1) if opens_with(page, titles)), 1)


def stranded_headings(
    pages: list[str], headings: list[str], tail: int = 2, first: int = 1
) -> list[tuple]:
    """(page number, heading) for every heading that is among the last ``tail`` text lines of
    a page from page ``first`` on (the pages before it, the title page and the contents, list
    headings as entries): a heading printed at the foot of a page, its content on the next
    one. A page number (a line of digits only) does not count as text."""
    found = []
    wanted = [" ".join(h.split()) for h in headings if h.strip()]
    for number, page in enumerate(pages, start=1):
        if number < first:
            continue
        lines = [" ".join(line.split()) for line in page.splitlines()]
        lines = [line for line in lines if line and not line.isdigit()]
        for line in lines[-tail:]:
            for h in wanted:
                if line.startswith(h[:60]) and len(line) <= len(h) + 30:
                    found.append((number, h))
    return found


def page_fill(pdf_path: str | os.PathLike, dpi: int = 20) -> list[float] | None:
    """How far down each page its content reaches (0–1 of the text area's height, from the
    page rendered in grey by ``pdftoppm``; the footer's page number left out), or None without
    poppler-utils."""
    exe = shutil.which("pdftoppm")
    if exe is None:
        return None
    import numpy as np
    from PIL import Image

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [exe, "-gray", "-r", str(dpi), str(pdf_path), f"{tmp}/p"],
            check=True,
            capture_output=True,
            timeout=300,
        )
        fills = []
        for png in sorted(Path(tmp).glob("p-*.pgm"), key=lambda p: int(p.stem.split("-")[-1])):
            a = np.asarray(Image.open(png), dtype=float)
            h = a.shape[0]
            top, bottom = int(0.057 * h), int(0.925 * h)  # the page's margins (16 / 18 mm)
            rows = np.nonzero((a[top:bottom] < 200).any(axis=1))[0]
            fills.append(float(rows[-1] + 1) / (bottom - top) if rows.size else 0.0)
    return fills


def sparse_pages(fills: list[float], opens_part: list[bool], first: int = 1) -> list[int]:
    """Page numbers (from ``first`` on) filled less than half that are not followed by a page
    opening a part or the appendix (where a new page is wanted) nor last."""
    return [
        n
        for n, f in enumerate(fills, start=1)
        if n >= first and f < 0.5 and n < len(fills) and not opens_part[n]
    ]
