"""GPT-2 on "Alice in Wonderland" (Part 2 of the exercise, questions A1–A5).

Modules:
- :mod:`~genmod.gpt.corpus` — get and validate the book (``python -m genmod.gpt.corpus``).
- :mod:`~genmod.gpt.tokenizer` — GPT-2 byte-pair encoding via tiktoken (local files).
- :mod:`~genmod.gpt.data` — train/validation split by characters, batches, eval windows.
- :mod:`~genmod.gpt.model` — the GPT-2 model (nanoGPT style) with attention extraction.
- :mod:`~genmod.gpt.train` — AdamW training with warm-up + cosine decay, best checkpoint.
- :mod:`~genmod.gpt.generate` — sampling, word location, attention rows (A3/A4).
- :mod:`~genmod.gpt.paint` — tokens painted by attention score (HTML).
- :mod:`~genmod.gpt.inversion` — optimise input embeddings to emit a sentence (A2).
- :mod:`~genmod.gpt.logprob` — per-token log-probabilities of a sentence (A5).
- :mod:`~genmod.gpt.bench` — training-step throughput (for ``make bench``).
"""
