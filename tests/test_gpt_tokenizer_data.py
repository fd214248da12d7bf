import math

import pytest
import torch
from genmod.gpt import corpus
from genmod.gpt.data import eval_windows, get_batch, make_splits, split_text
from genmod.gpt.tokenizer import EOT_ID, VOCAB_SIZE, decode, encode, get_encoding, token_strings
from gpt_fixtures import TEST_TEXT


def test_known_ids_and_vocab():
    assert encode("Alice") == [44484]
    assert encode(" Alice") == [14862]
    assert encode("Hello world") == [15496, 995]
    assert get_encoding().n_vocab == VOCAB_SIZE == 50257
    assert decode([EOT_ID]) == "<|endoftext|>"


@pytest.mark.parametrize(
    "text", [TEST_TEXT, "squirrel walnut, naïve café — ‘quotes’ 123\n\n  spaces", ""]
)
def test_round_trip(text):
    ids = encode(text)
    assert decode(ids) == text
    assert "".join(token_strings(ids)) == text or not text.isascii()


def test_split_by_characters():
    tr, va, cut = split_text(TEST_TEXT, 0.1)
    assert tr + va == TEST_TEXT
    assert cut == round(len(TEST_TEXT) * 0.9)
    s = make_splits(TEST_TEXT, 0.1)
    assert decode(s.train.tolist()) == tr and decode(s.val.tolist()) == va
    with pytest.raises(ValueError, match="val_fraction"):
        split_text(TEST_TEXT, 1.5)


def test_batches_are_shifted_windows():
    toks = torch.arange(100)
    x, y = get_batch(toks, 5, 8, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)


def test_eval_windows_cover_every_target_once():
    toks = torch.arange(1, 202)  # 201 tokens -> 200 targets
    w = eval_windows(toks, 64)
    assert [len(x) for x, _ in w] == [64, 64, 64, 8]
    ys = torch.cat([y for _, y in w])
    assert torch.equal(ys, toks[1:])
    for x, y in w:
        assert torch.equal(y, x + 1)


# ---- corpus validation -------------------------------------------------------------------

FAKE_BOOK = (
    "CHAPTER I. Down the Rabbit-Hole\n"
    + "Alice saw the White Rabbit, the Mock Turtle, the Cheshire Cat, the Queen and the "
    "Hatter. " * 1400
)


def test_validate_accepts_book_like_text():
    assert corpus.validate_text(FAKE_BOOK) == FAKE_BOOK


@pytest.mark.parametrize(
    "text,match",
    [
        ("Alice " * 100, "fewer than"),
        ("x" * 500_000, "more than"),
        ("A long text about something else entirely. " * 4000, "does not look like"),
    ],
)
def test_validate_rejects(text, match):
    with pytest.raises(corpus.CorpusError, match=match) as e:
        corpus.validate_text(text)
    assert corpus.ENV_VAR in str(e.value)  # says how to provide the file


def test_gutenberg_header_footer_stripped(tmp_path):
    wrapped = (
        "\ufeffThe Project Gutenberg eBook of Alice's Adventures in Wonderland\r\n"
        "License blah\r\n*** START OF THE PROJECT GUTENBERG EBOOK 11 ***\r\n\r\n"
        + FAKE_BOOK.replace("\n", "\r\n")
        + "\r\n*** END OF THE PROJECT GUTENBERG EBOOK 11 ***\r\nDonations etc.\r\n"
    )
    src = tmp_path / "pg11.txt"
    src.write_bytes(wrapped.encode("utf-8"))
    out = corpus.fetch(tmp_path / "out" / "alice.txt", source=str(src))
    text = out.read_text()
    assert text.startswith("CHAPTER I.") and "Gutenberg" not in text and "\r" not in text
    assert not list((tmp_path / "out").glob(".*tmp"))  # atomic write left nothing behind


def test_text_without_markers_unchanged():
    assert corpus.strip_gutenberg(FAKE_BOOK) == FAKE_BOOK


def test_fetch_errors_name_the_fix(tmp_path, monkeypatch):
    with pytest.raises(corpus.CorpusError, match="ALICE_TXT"):
        corpus.fetch(tmp_path / "a.txt", source=str(tmp_path / "missing.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("not the book")
    assert corpus.main(["--out", str(tmp_path / "a.txt"), "--source", str(bad)]) == 1
    assert not (tmp_path / "a.txt").exists()

    def no_net(*a, **k):
        raise OSError("network unreachable")

    monkeypatch.delenv("ALICE_TXT", raising=False)
    monkeypatch.setattr(corpus.urllib.request, "urlopen", no_net)
    with pytest.raises(corpus.CorpusError, match="could not download.*ALICE_TXT"):
        corpus.fetch(tmp_path / "a.txt")


def test_random_init_loss_is_log_vocab():
    from genmod.gpt.model import GPT, GPTConfig

    torch.manual_seed(0)
    m = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16))
    x = torch.randint(VOCAB_SIZE, (4, 16))
    y = torch.randint(VOCAB_SIZE, (4, 16))
    _, loss, _ = m(x, y)
    assert abs(loss.item() - math.log(VOCAB_SIZE)) < 0.1


def test_unseen_fraction():
    from genmod.gpt.data import Splits, unseen_fraction

    s = Splits(torch.tensor([1, 2, 3]), torch.tensor([9, 1, 7, 7, 2]), 0, "")
    assert unseen_fraction(s) == 0.5  # targets 1, 7, 7, 2: the two 7s are unseen
