"""Finite-T figures the write-up quotes, checked against the perfect denoiser (the oracle): the
weight Eq. 9 puts on ‖x − x̂_0‖² (−L_T ≈ −W_T·d² far from the data), the factor by which T Euler
steps of DDIM scale a far point's distance to the data, and the DDIM inversion's convergence
record (it diverges for T ≤ 5 and says so)."""

from __future__ import annotations

import math

import pytest
import torch
from genmod.diffusion import bonus as B
from genmod.diffusion import likelihood as L
from genmod.diffusion.conditional import distance_to_region
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.sampling import sample_ddim, time_grid
from genmod.diffusion.schedules import ExpSchedule
from genmod.sections.diffusion_conditional.config import FIVE_REGIONS

SCHED = ExpSchedule()
SPAN = math.exp(10) - 1  # SNR(0) − SNR(1) for σ = e^{5(t−1)}
FAR = torch.tensor([[-40.0, 40.0]])


@pytest.fixture(scope="module")
def oracle():
    return Oracle(FIVE_REGIONS, SCHED)


@pytest.mark.parametrize("T", [1, 2, 3, 10, 1000])
def test_eq9_weight_closed_form_and_limit(T):
    w = L.eq9_weight(SCHED, T)
    assert w == pytest.approx(SPAN / 2 * T * (math.exp(10 / T) - 1) / 10, rel=1e-9)
    assert w > SPAN / 2  # above the T → ∞ limit at every T
    if T == 3:
        assert w / (SPAN / 2) == pytest.approx(8.11, abs=0.01)  # the factor audit item 4 names


@pytest.mark.parametrize("T", [3, 100])
def test_eq9_far_from_the_data_is_minus_weight_times_d_squared(oracle, T):
    x = torch.tensor([[3.0, 3.0]])
    d = float(distance_to_region(x, FIVE_REGIONS, 0)[0])
    b = L.eq9_bound(oracle, x, SCHED, T=T, c=0, n_draws=4096,
                    generator=torch.Generator().manual_seed(0))  # fmt: skip
    est, pred = float(b.log_prob_bound[0]), -L.eq9_weight(SCHED, T) * d * d
    assert est == pytest.approx(pred, rel=1e-3)
    if T == 3:  # the T → ∞ formula is off by the factor T(e^{10/T} − 1)/10 ≈ 8 here
        assert est < 5 * (-SPAN / 2 * d * d)


@pytest.mark.parametrize("T", [1, 2, 3, 5, 10, 1000])
def test_perfect_denoiser_scale_and_contraction(T):
    assert B.perfect_denoiser_scale(SCHED, T) == pytest.approx(abs(1 - 5 / T) ** T, abs=1e-12)
    assert B.contraction(SCHED, T) == pytest.approx(5 / T)
    assert B.perfect_denoiser_scale(SCHED, 100_000) == pytest.approx(math.exp(-5), rel=1e-3)


@pytest.mark.parametrize("T", [10, 50])
def test_perfect_denoiser_scale_matches_the_oracle_far_away(oracle, T):
    """Without overshoot (T > 5) the oracle's DDIM scales a far start's distance to its
    class's region by about the computed factor (0.001 at T = 10, not σ(0)/σ(1) = 0.0067)."""
    c = torch.tensor([0])
    x = sample_ddim(oracle, FAR.double(), time_grid(T), SCHED, c=c)
    d0, d1 = (float(distance_to_region(p, FIVE_REGIONS, 0)[0]) for p in (FAR, x))
    assert d1 / d0 == pytest.approx(B.perfect_denoiser_scale(SCHED, T), rel=0.1)


def test_inversion_converges_for_many_steps_and_says_when_it_does_not(oracle):
    c = torch.tensor([0])
    good = B.ddim_inverse(oracle, FAR, time_grid(10), SCHED, c)
    assert good.converged and good.residual <= good.tol and good.unconverged_steps == 0
    x = sample_ddim(oracle, good.z.double(), time_grid(10), SCHED, c=c)
    assert torch.allclose(x.float(), FAR, atol=1e-2)
    bad = B.ddim_inverse(oracle, FAR, time_grid(3), SCHED, c)  # contraction 5/3 > 1
    assert not bad.converged and bad.unconverged_steps > 0 and bad.residual > bad.tol
    assert bad.to_json()["inversion_converged"] is False
    a = B.invert_ddim(oracle, [-40.0, 40.0], SCHED, 3, c=0)
    assert a.extra["inversion_converged"] is False
    assert a.extra["inversion_contraction"] == pytest.approx(5 / 3)
