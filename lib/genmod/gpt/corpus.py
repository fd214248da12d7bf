"""The Alice corpus: get the book, check that it is the book, write it atomically.

``python -m genmod.gpt.corpus --out data/alice_in_wonderland.txt`` (what ``make data`` runs):

1. if ``$ALICE_TXT`` is set, the text is read from that path;
2. otherwise Project Gutenberg eBook #11 (plain text, UTF-8) is downloaded.

Either way a Gutenberg header/footer ("*** START OF ... ***" / "*** END OF ... ***") is
stripped, the text is validated (:func:`validate_text`) and written atomically. When
neither source works, one error says how to provide the file.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import urllib.request
from pathlib import Path

from genmod.io import atomic_write_text, sha256_file
from genmod.paths import DATA_DIR, resolve_path

ENV_VAR = "ALICE_TXT"
GUTENBERG_URLS = (
    "https://www.gutenberg.org/cache/epub/11/pg11.txt",
    "https://www.gutenberg.org/files/11/11-0.txt",
)
DEFAULT_PATH = "data/alice_in_wonderland.txt"

#: Phrases every edition of the book contains (checked case-insensitively).
MARKERS = (
    "alice",
    "rabbit",
    "down the rabbit-hole",
    "mock turtle",
    "cheshire",
    "queen",
    "hatter",
)
MIN_CHARS = 100_000  # the book is ~145-150k characters; a chapter or a stub is rejected
MAX_CHARS = 400_000  # a different, much longer book is rejected

HOW_TO = (
    f"provide the book as plain text: set {ENV_VAR}=/path/to/alice.txt (Project Gutenberg "
    f"eBook #11, with or without its header/footer) and rerun `make data`, or save it as "
    f"{DEFAULT_PATH}"
)


class CorpusError(ValueError):
    """The text is missing or does not look like "Alice's Adventures in Wonderland"."""


_START = re.compile(
    r"^\*\*\*\s*START OF (THE|THIS) PROJECT GUTENBERG EBOOK.*?\*\*\*\s*$", re.I | re.M
)
_END = re.compile(r"^\*\*\*\s*END OF (THE|THIS) PROJECT GUTENBERG EBOOK.*?\*\*\*\s*$", re.I | re.M)
_END_OLD = re.compile(r"^\s*End of (the )?Project Gutenberg'?s? .*$", re.I | re.M)


def strip_gutenberg(text: str) -> str:
    """Remove a Project Gutenberg header and footer if present.

    Text without the markers is returned unchanged (so the course's copy keeps its
    checksum), apart from a leading byte-order mark. With markers, line endings are
    normalised to ``\\n`` and the blank lines around the book are dropped.
    """
    text = text.lstrip("\ufeff")
    unix = text.replace("\r\n", "\n")
    if not (_START.search(unix) or _END.search(unix) or _END_OLD.search(unix)):
        return text
    text = unix
    m = _START.search(text)
    if m:
        text = text[m.end() :]
    m = _END.search(text) or _END_OLD.search(text)
    if m:
        text = text[: m.start()]
    return text.strip("\n").rstrip() + "\n"


def validate_text(text: str) -> str:
    """Return ``text`` if it looks like the book, else raise :class:`CorpusError`."""
    n = len(text)
    if n < MIN_CHARS:
        raise CorpusError(
            f"the text has {n:,} characters, fewer than the book's ~145,000 "
            f"(minimum {MIN_CHARS:,}); {HOW_TO}"
        )
    if n > MAX_CHARS:
        raise CorpusError(
            f"the text has {n:,} characters, more than the book (maximum {MAX_CHARS:,}); {HOW_TO}"
        )
    low = text.lower()
    missing = [m for m in MARKERS if m not in low]
    if missing:
        raise CorpusError(
            f"the text does not look like Alice's Adventures in Wonderland "
            f"(missing: {', '.join(missing)}); {HOW_TO}"
        )
    if low.count("alice") < 300:
        raise CorpusError(
            f"the text names Alice only {low.count('alice')} times (the book: ~400); {HOW_TO}"
        )
    return text


def read_source(path: str | os.PathLike) -> str:
    p = Path(path).expanduser()
    if not p.is_file():
        raise CorpusError(f"{ENV_VAR}={str(path)!r} is not a readable file; {HOW_TO}")
    raw = p.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def download(timeout: float = 30.0) -> str:
    """Project Gutenberg eBook #11 as text; :class:`CorpusError` when no URL answers."""
    errors = []
    for url in GUTENBERG_URLS:
        try:
            req = urllib.request.Request(url, headers={"User-Agent": "genmod/0.1 (make data)"})
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.read().decode("utf-8-sig", errors="replace")
        except Exception as e:  # noqa: BLE001 - any network failure: try the next, then explain
            errors.append(f"{url}: {type(e).__name__}: {e}")
    raise CorpusError(f"could not download the book ({'; '.join(errors)}); {HOW_TO}")


def fetch(out: str | os.PathLike = DEFAULT_PATH, source: str | None = None) -> Path:
    """Get, clean, validate and atomically write the book to ``out``; return its path.

    ``source`` (default: ``$ALICE_TXT``) is a local path; without one, download.
    """
    source = source if source is not None else os.environ.get(ENV_VAR) or None
    text = read_source(source) if source else download()
    text = validate_text(strip_gutenberg(text))
    return atomic_write_text(resolve_path(out), text)


def load_text(path: str | os.PathLike = DEFAULT_PATH) -> str:
    """Read and validate the book at ``path`` (repo-relative allowed)."""
    p = resolve_path(path)
    if not p.is_file():
        raise CorpusError(f"{p} does not exist; run `make data`, or {HOW_TO}")
    return validate_text(p.read_text(encoding="utf-8"))


def course_checksum() -> str | None:
    """The sha256 of the course's copy, from data/SHA256SUMS (None if absent)."""
    sums = DATA_DIR / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("*") == "alice_in_wonderland.txt":
            return parts[0]
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Get 'Alice in Wonderland' (Gutenberg #11).")
    ap.add_argument("--out", default=DEFAULT_PATH, help="output path (repo-relative allowed)")
    ap.add_argument("--source", default=None, help=f"local file (default: ${ENV_VAR})")
    args = ap.parse_args(argv)
    try:
        path = fetch(args.out, args.source)
    except CorpusError as e:
        print(f"genmod.gpt.corpus: error: {e}", file=sys.stderr)
        return 1
    digest = sha256_file(path)
    note = "the course's copy" if digest == course_checksum() else "another edition (accepted)"
    print(f"wrote {path} ({path.stat().st_size:,} bytes, sha256 {digest[:16]}…, {note})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
