import pytest
import torch
import torch.nn.functional as F
from genmod.gpt.model import GPT, GPTConfig, chunked_head_loss, preset


def small(**kw):
    torch.manual_seed(0)
    return GPT(
        GPTConfig(**{"n_layer": 2, "n_head": 4, "n_embd": 32, "block_size": 16, **kw})
    ).eval()


def test_presets_and_config_checks():
    assert preset("mini").n_embd == 128
    assert preset("gpt2-124M").n_layer == 12
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="preset"):
        preset("huge")


def test_gpt2_124m_parameter_count():
    with torch.device("meta"):
        m = GPT(preset("gpt2-124M"))
    assert abs(sum(p.numel() for p in m.parameters()) / 1e6 - 124.44) < 0.01


def test_tied_embeddings():
    m = small()
    assert m.lm_head.weight is m.transformer.wte.weight


def test_causal_masking():
    m = small()
    x = torch.randint(50257, (2, 16))
    x2 = x.clone()
    x2[:, 10:] = torch.randint(50257, (2, 6))
    a, _, _ = m(x)
    b, _, _ = m(x2)
    assert torch.equal(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_manual_attention_equals_sdpa_and_rows_sum_to_one():
    m = small()
    x = torch.randint(50257, (3, 16))
    a, _, none = m(x)
    b, _, atts = m(x, need_weights=True)
    assert none is None
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    assert len(atts) == 2 and atts[0].shape == (3, 4, 16, 16)
    for att in atts:
        torch.testing.assert_close(att.sum(-1), torch.ones(3, 4, 16), atol=1e-6, rtol=0)
        assert torch.all(att.triu(1) == 0)  # no weight on future tokens


def test_embedding_path_equals_token_path():
    m = small()
    x = torch.randint(50257, (2, 12))
    a, _, _ = m(x)
    b, _, _ = m(inputs_embeds=m.embed(x))
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="exactly one"):
        m(x, inputs_embeds=m.embed(x))


def test_position_embeddings_added_to_input_embeddings():
    m = small()
    e = torch.randn(1, 5, 32)
    a, _, _ = m(inputs_embeds=e)
    with torch.no_grad():
        m.transformer.wpe.weight.add_(1.0)
    b, _, _ = m(inputs_embeds=e)
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("chunk,smoothing", [(1, 0.0), (7, 0.0), (64, 0.1), (1000, 0.0)])
def test_fast_head_loss_matches_plain(chunk, smoothing, dtype):
    """The chunked head+loss gives the plain loss and gradients (all parameters): to
    float64 round-off in float64, and to float32 round-off (relative to each gradient's
    scale) in float32."""
    torch.manual_seed(1)
    x = torch.randint(50257, (3, 16))
    y = torch.randint(50257, (3, 16))
    y[0, :3] = -1  # ignored targets
    grads, losses = [], []
    for fast in (0, chunk):
        torch.manual_seed(0)
        m = GPT(GPTConfig(n_layer=2, n_head=2, n_embd=32, block_size=16)).to(dtype)
        m.loss_chunk = fast
        for _ in range(2):  # twice: the reused workspace must not leak into the next call
            m.zero_grad(set_to_none=True)
            _, loss, _ = m(x, y, label_smoothing=smoothing)
            (2.5 * loss).backward()  # a non-unit upstream gradient
        losses.append(loss.detach())
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    tol = 1e-12 if dtype == torch.float64 else 2e-5
    torch.testing.assert_close(losses[0], losses[1], atol=tol, rtol=tol)
    for n, g in grads[0].items():
        torch.testing.assert_close(grads[1][n], g, atol=tol * g.abs().max(), rtol=0, msg=n)


def test_chunked_head_loss_function_direct():
    torch.manual_seed(0)
    h = torch.randn(50, 8, requires_grad=True)
    w = torch.randn(100, 8, requires_grad=True)
    t = torch.randint(100, (50,))
    ref = F.cross_entropy(h @ w.t(), t)
    gh, gw = torch.autograd.grad(ref, (h, w))
    out = chunked_head_loss(h, w, t, chunk_size=16)
    fh, fw = torch.autograd.grad(out, (h, w))
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(fh, gh)
    torch.testing.assert_close(fw, gw)
    ref = F.cross_entropy(h @ w.t(), t, label_smoothing=0.2)
    gh, gw = torch.autograd.grad(ref, (h, w))
    out = chunked_head_loss(h, w, t, chunk_size=16, label_smoothing=0.2)
    fh, fw = torch.autograd.grad(out, (h, w))
    torch.testing.assert_close(out, ref)
    torch.testing.assert_close(fh, gh)
    torch.testing.assert_close(fw, gw)


def test_sequence_longer_than_block_rejected():
    m = small()
    with pytest.raises(ValueError, match="block_size"):
        m(torch.zeros(1, 17, dtype=torch.long))


def test_fused_adamw_matches_reference():
    """The fused optimiser (a speed lever) gives the same update as the reference AdamW."""
    states = []
    for fused in (True, False):
        torch.manual_seed(0)
        m = GPT(GPTConfig(n_layer=1, n_head=2, n_embd=16, block_size=8))
        opt = m.configure_optimizer(1e-2, 0.1, fused=fused)
        x = torch.randint(50257, (2, 8))
        for _ in range(3):
            _, loss, _ = m(x, x)
            opt.zero_grad()
            loss.backward()
            opt.step()
        states.append(m.state_dict())
    for k in states[0]:
        # (the key part of c_attn.bias has an exactly-zero true gradient: softmax ignores a
        # per-row shift, so Adam normalises rounding noise there; hence atol 5e-5)
        torch.testing.assert_close(states[0][k], states[1][k], atol=5e-5, rtol=1e-5, msg=k)
