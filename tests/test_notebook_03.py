"""Notebook 03 (GPT): parameter validation, and an end-to-end smoke run on the book."""

from __future__ import annotations

import json
import math

import pytest
from genmod.paths import DATA_DIR, NOTEBOOKS_DIR
from genmod.sections.autoregressive_gpt import config as P
from notebook_fixtures import missing_keys, run_smoke

NB = NOTEBOOKS_DIR / "03_autoregressive_gpt.ipynb"
ALICE = DATA_DIR / "alice_in_wonderland.txt"

KEYS = {
    "train": [
        "loss_history",
        "val_loss",
        "tokens_per_second",
        "val_window_sums",
        "val_window_tokens",
        "val_loss_se",
        "tokens_to_best",
        "evaluations",
    ],
    "inversion": ["target", "decoded", "success", "steps"],
    "attention": ["text", "n_words", "last_block", "first_block"],
    "logprob": ["sentence", "tokens", "token_logprobs", "total"],
}

BASE = dict(
    device="cpu",
    seed=0,
    profile="default",
    results_path="results.json",
    cache_dir="cache",
    retrain=False,
    alice_path="data/alice_in_wonderland.txt",
    block_size=None,
    n_layer=None,
    n_head=None,
    n_embd=None,
    max_iters=None,
    inversion_sentence=P.DEFAULT_SENTENCE,
    prompt=P.DEFAULT_PROMPT,
    min_words=12,
)


def test_parameters_cell_matches_design():
    nb = json.loads(NB.read_text())
    cell = next(c for c in nb["cells"] if "parameters" in c["metadata"].get("tags", []))
    names = [
        line.split("=")[0].strip() for line in "".join(cell["source"]).splitlines() if "=" in line
    ]
    assert names == list(BASE)


def test_profiles_fill_budgets():
    p = P.resolve_params(dict(BASE))
    assert p["n_embd"] == P.PROFILES["default"]["n_embd"] and p["max_iters"] >= 1
    p = P.resolve_params({**BASE, "profile": "smoke", "n_layer": 3})
    assert p["n_layer"] == 3 and p["n_embd"] == P.PROFILES["smoke"]["n_embd"]
    cfg = P.train_config(p)
    assert cfg.n_layer == 3 and cfg.vocab_size == 50257


@pytest.mark.parametrize(
    "bad,match",
    [
        ({"profile": "huge"}, "profile="),
        ({"device": "tpu"}, "device="),
        ({"n_layer": 0}, "n_layer="),
        ({"n_embd": 100, "n_head": 3}, "n_embd="),
        ({"max_iters": 2.5}, "max_iters="),
        ({"min_words": 5}, "min_words="),
        ({"prompt": "one two three four five six seven eight nine ten eleven"}, "prompt="),
        ({"prompt": "  "}, "prompt="),
        ({"inversion_sentence": "word " * 80}, "inversion_sentence="),
        ({"profile": "smoke", "inversion_sentence": "word " * 40}, "block_size=32"),
        (
            {"block_size": 8, "inversion_sentence": "one two three four five six seven eight nine"},
            "inversion_sentence=",
        ),
        ({"retrain": "yes"}, "retrain="),
    ],
)
def test_bad_parameters_fail_with_one_line(bad, match):
    with pytest.raises(ValueError, match=match) as e:
        P.resolve_params({**BASE, **bad})
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_notebook_03_smoke(tmp_path):
    if not ALICE.is_file():
        pytest.skip("data/alice_in_wonderland.txt missing: run `make data`")
    sentence = "Alice met a purple squirrel"
    r, out = run_smoke(NB, tmp_path, inversion_sentence=sentence)
    assert r["section"] == "autoregressive_gpt"
    assert r["params"]["profile"] == "smoke" and r["params"]["inversion_sentence"] == sentence
    assert missing_keys(r, KEYS) == []
    assert set(r["answers"]) >= {"A1", "A2", "A3", "A4", "A5"}
    # every answer re-renders from the record alone, and every claim follows from its operands
    from genmod.sections.autoregressive_gpt import answers
    from genmod.sections.findings import check_claims, render

    assert set(r["answers"]) == set(answers.ANSWERS) | set(answers.FINDINGS)
    for qid, finding in answers.FINDINGS.items():
        assert render(answers.TEMPLATES, finding(r), "full") == r["answers"][qid], qid
    for qid, answer in answers.ANSWERS.items():
        assert answer(r) == r["answers"][qid], qid
    assert check_claims(r) == []
    t = r["train"]
    assert t["val_loss"] == min(t["loss_history"]["val"]) < math.log(50257)
    # the kept model's −log p per validation window: every target once, the same mean
    assert sum(t["val_window_tokens"]) == r["data"]["val_tokens"] - 1
    assert sum(t["val_window_sums"]) / sum(t["val_window_tokens"]) == pytest.approx(
        t["val_loss"], abs=1e-4
    )
    c = t["config"]
    assert t["tokens_to_best"] == t["best_step"] * c["batch_size"] * c["block_size"]
    assert t["evaluations"] == len(t["loss_history"]["eval_step"])
    assert r["inversion"]["target"] == sentence
    assert r["inversion"]["success"] == (r["inversion"]["decoded"] == sentence)
    a = r["attention"]
    assert a["n_words"] >= 12
    for block in ("last_block", "first_block"):
        assert abs(a[block]["sum"] - 1) < 1e-5
        assert len(a[block]["tokens"]) == len(a[block]["scores"])
    lp = r["logprob"]
    assert lp["total"] == pytest.approx(sum(lp["token_logprobs"]), abs=1e-9)
    assert len(lp["tokens"]) == len(lp["token_logprobs"])
    html = out.read_text()
    assert "print-color-adjust:exact" in html  # painted tokens keep colours in print
