"""The bonus: making a diffusion model output a point far outside the data."""

from __future__ import annotations

import pytest
import torch
from genmod.diffusion import bonus as B
from genmod.diffusion.data import SQUARE
from genmod.diffusion.models import DenoiserConfig
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.sampling import sample_ddim, time_grid
from genmod.diffusion.schedules import ExpSchedule
from genmod.diffusion.train import TrainConfig, train_denoiser

SCHED = ExpSchedule()


@pytest.fixture(scope="module")
def small_model(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny MLP: one thread is fastest on a busy machine
    x0 = SQUARE.sample(500, torch.Generator().manual_seed(0))[0]
    model, _, _ = train_denoiser(
        DenoiserConfig(hidden=32, n_layers=2, output="precond"),
        TrainConfig(epochs=100, lr=2e-3),
        x0,
        schedule=SCHED,
        cache_dir=tmp_path_factory.mktemp("cache"),
        log=lambda m: None,
    )
    torch.set_num_threads(threads)
    return model


def test_ddim_inverse_is_the_inverse_of_ddim(small_model):
    ts = time_grid(50)
    z = torch.randn(16, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x = sample_ddim(small_model, z, ts, SCHED)
    inv = B.ddim_inverse(small_model, x, ts, SCHED)
    assert torch.allclose(inv.z, z, atol=1e-4)
    assert inv.nfe >= 50 and inv.converged and inv.unconverged_steps == 0
    assert 0 <= inv.residual <= inv.tol and 1 <= inv.iterations < 50


@pytest.mark.parametrize("target", [[4.0, 5.5], [-3.0, 2.5]])
def test_principled_inversion_reaches_targets_simple_attempt_does_not(small_model, target):
    T = 60
    a = B.invert_ddim(small_model, target, SCHED, T)
    assert a.reached(0.01), a.error
    assert a.principled and a.method == "invert_ddim" and a.extra["inversion_converged"]
    assert len(a.trajectory) == T + 1 and a.trajectory[0][0] == 1.0 and a.trajectory[-1][0] == 0.0
    assert a.trajectory[-1][1:] == pytest.approx(a.final)
    # z lies far outside the N(0, I) typical set (P(‖z‖ > 5) = e^{-12.5}).
    assert a.extra["z_norm"] > 5
    s = B.start_at_target(small_model, target, SCHED, T)
    assert s.error > 1.0 and not s.principled


def test_best_of_n_is_bounded_by_the_data(small_model):
    a = B.best_of_n(small_model, [4.0, 5.5], SCHED, 30, 200, torch.Generator().manual_seed(0))
    # The nearest point of the square to (4, 5.5) is (1, 1), at distance √(9 + 20.25).
    assert a.error > 4.5  # ≈ the distance 5.41 from (1, 1), the nearest corner of the data
    assert a.extra["n"] == 200


def test_noise_optimisation_reaches_target_with_oracle():
    oracle = Oracle(SQUARE, SCHED)
    a = B.optimise_noise(
        oracle, [4.0, 5.5], SCHED, T=20, lam=1.0, iters=80, lr=0.2,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    assert a.error < 0.05, a.error
    assert a.extra["loss_history"][-1] < a.extra["loss_history"][0]
    assert a.extra["noise_log_prob"] < a.extra["typical_noise_log_prob"]  # atypical noise
    with pytest.raises(ValueError, match="lam"):
        B.optimise_noise(oracle, [4.0, 5.5], SCHED, T=5, lam=0.0)


def test_bonus_figure_names_attempts_as_the_answer_does_in_colours_no_class_uses():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from genmod.diffusion.plots_conditional import bonus_trajectories, class_colors
    from genmod.sections.diffusion_conditional.config import FIVE_REGIONS, bonus_name

    tr = [[1.0, 0.0, 0.0], [0.0, 4.0, 5.5]]
    attempts = [{"method": m, "target": [4, 5.5], "trajectory": tr} for m in
                ("start_at_target", "invert_ddim", "optimise_noise")]  # fmt: skip
    attempts.insert(1, {"method": "best_of_n", "n": 200, "target": [4, 5.5], "trajectory": tr})
    names = {a["method"]: bonus_name(a) for a in attempts}
    assert names["best_of_n"] == "Best of 200" and names["invert_ddim"] == "Invert DDIM"
    fig = bonus_trajectories(attempts, FIVE_REGIONS, names)
    right = fig.axes[1]
    labels = (
        [t.get_text() for t in right.get_legend().get_texts()]
        if right.get_legend()
        else [ln.get_label() for ln in right.get_lines()]
    )
    assert [n for n in names.values() if n in labels] == list(names.values())
    used = {tuple(ln.get_color()) for ln in right.get_lines() if ln.get_label() in labels}
    assert len(used) == 4 and not used & set(class_colors(FIVE_REGIONS.n_classes))
    plt.close(fig)
