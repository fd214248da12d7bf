"""Section 02: the partition and parameter checks (section config), and the science: class
geometry, class oracle and prior, conditional sampling, metrics, probabilities."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from genmod.diffusion import conditional as C
from genmod.diffusion.data import Partition
from genmod.diffusion.likelihood import eq9_bound
from genmod.diffusion.models import Denoiser, DenoiserConfig
from genmod.diffusion.oracle import Oracle
from genmod.diffusion.sampling import sample_ddim as S_ddim
from genmod.diffusion.sampling import time_grid as S_time_grid
from genmod.diffusion.schedules import ExpSchedule
from genmod.diffusion.train import TrainConfig, train_denoiser
from genmod.sections.diffusion_conditional import config as CFG

PART = CFG.FIVE_REGIONS
SCHED = ExpSchedule()


# ------------------------------------------------------------------ the partition
def test_every_point_of_the_square_is_in_exactly_one_class():
    g = np.random.default_rng(0)
    p = g.uniform(-1, 1, size=(50_000, 2))
    counts = np.stack([PART.in_class(p, c) for c in range(PART.n_classes)]).sum(0)
    assert (counts == 1).all()
    assert (PART.label(p) >= 0).all()
    assert (PART.label(np.array([[1.5, 0.0], [0.0, -1.2]])) == -1).all()
    assert len(CFG.CLASS_NAMES) == PART.n_classes >= 5


def test_partition_is_interesting_sizes_and_shapes():
    a = PART.areas()
    assert a.sum() == pytest.approx(4.0)
    assert a.max() / a.min() > 10  # sizes differ by more than an order of magnitude
    assert any(len(rs) > 1 for rs in PART.regions)  # non-rectangular classes
    # class 3 is disconnected: its two rectangles do not touch
    (a0, a1), (b0, b1) = [(r[0], r[1]) for r in PART.regions[3]]
    assert a1 < b0 or b1 < a0


def test_check_partition_rejects_bad_partitions():
    with pytest.raises(ValueError, match="at least 5"):
        CFG.check_partition(Partition((((-1.0, 1.0, -1.0, 1.0),),)))
    strips = [((-1.0, 1.0, -1.0 + 0.4 * i, -0.6 + 0.4 * i),) for i in range(5)]
    CFG.check_partition(Partition(tuple(strips)))  # five strips tile the square
    bad = [*strips[:4], ((-1.0, 1.0, 0.5, 1.0),)]
    with pytest.raises(ValueError, match="overlap"):
        CFG.check_partition(Partition(tuple(bad)))
    gap = [*strips[:4], ((-1.0, 0.0, 0.6, 1.0),)]
    with pytest.raises(ValueError, match="tile"):
        CFG.check_partition(Partition(tuple(gap)))
    with pytest.raises(ValueError, match="leaves the square"):
        CFG.check_partition(Partition(tuple([*strips[:4], ((-1.0, 1.5, 0.6, 1.0),)])))


# ------------------------------------------------------------------ parameters
def _given(**kw):
    base = dict(
        device="cpu",
        seed=0,
        profile="smoke",
        results_path="results.json",
        cache_dir="cache",
        retrain=False,
        n_points=None,
        epochs=None,
        T=None,
        probe_points=None,
        bonus_target=[4.0, 5.5],
    )
    base.update(kw)
    return base


def test_resolve_params_fills_profile_and_validates():
    p = CFG.resolve_params(_given())
    assert p["epochs"] == CFG.PROFILES["smoke"]["epochs"]
    assert p["probe_points"] == CFG.DEFAULT_PROBES
    assert p["bonus_target"] == [4.0, 5.5]
    p = CFG.resolve_params(_given(profile="default", T=50, probe_points=[[0, 0, 1]]))
    assert p["T"] == 50 and p["probe_points"] == [[0.0, 0.0, 1]]


@pytest.mark.parametrize(
    "kw, match",
    [
        (dict(probe_points=[[0.0, 0.0, 5]]), r"probe_points\[0\]\[2\]=5: class id out of range"),
        (dict(probe_points=[[0.0, 0.0, -1]]), "out of range"),
        (dict(probe_points=[[0.0, 0.0]]), r"probe_points\[0\]=.*\[x, y, class\]"),
        (dict(probe_points=[[0.0, "a", 1]]), r"probe_points\[0\]\[1\]"),
        (dict(probe_points=[[0.0, float("nan"), 1]]), "finite"),
        (dict(probe_points=[[0.0, 0.0, 1.5]]), "class id"),
        (dict(probe_points="0,0,1"), "expected a list"),
        (dict(probe_points=[]), "list of 1 or more"),
        (dict(bonus_target=[4.0]), r"bonus_target=\[4.0\]: expected a point"),
        (dict(bonus_target=[4.0, float("inf")]), r"bonus_target\[1\]"),
        (dict(T=0), "T=0"),
        (dict(epochs="many"), "epochs"),
        (dict(profile="huge"), "profile"),
    ],
)
def test_bad_parameters_fail_with_one_line_error(kw, match):
    with pytest.raises(ValueError, match=match) as e:
        CFG.resolve_params(_given(**kw))
    assert "\n" not in str(e.value)


def test_fewer_than_five_classes_is_rejected_by_the_checks():
    with pytest.raises(ValueError, match="at least 5"):
        CFG.resolve_params(_given(), partition=Partition((((-1.0, 1.0, -1.0, 1.0),),)))


# ------------------------------------------------------------------ geometry
def test_boundary_distance_and_interior_points():
    lab = np.array([2, 2, 2, 0])
    p = np.array([[0.35, 0.25], [0.21, 0.25], [0.0, 0.0], [-0.9, 0.0]])
    d = C.boundary_distance(p, PART, lab)
    assert d[0] == pytest.approx(0.15)
    assert d[1] == pytest.approx(0.01)
    assert d[2] < 0  # outside the small square
    assert d[3] == pytest.approx(0.1)  # the square's own edge counts as the region's edge
    g = torch.Generator().manual_seed(0)
    for c in range(PART.n_classes):
        m = C.default_margin(PART, c)
        pts = C.interior_points(PART, c, 50, m, g)
        assert pts.shape == (50, 2)
        assert (C.boundary_distance(pts, PART, np.full(50, c)) >= m).all()
    assert C.default_margin(PART, 0) == pytest.approx(0.2)
    assert C.default_margin(PART, 2) == pytest.approx(0.3 / 4)
    assert C.default_margin(PART, 1) == pytest.approx(0.25 / 4)


def test_class_prior_is_the_true_t1_marginal():
    means, stds = C.class_prior(PART, SCHED)
    g = torch.Generator().manual_seed(0)
    for c in (0, 3):
        x = PART.sample_class(c, 50_000, g) + torch.randn(50_000, 2, generator=g)
        assert torch.allclose(x.mean(0), means[c], atol=0.02)
        assert torch.allclose(x.std(0), stds[c], atol=0.02)


# ------------------------------------------------------------------ oracle and model
def test_class_oracle_equals_full_oracle_and_is_differentiable():
    full = Oracle(PART, SCHED)
    fast = C.ClassOracle(PART, SCHED)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 2, generator=g) * 1.2
    c = torch.randint(0, 5, (200,), generator=g)
    for t in (torch.tensor(0.0), torch.tensor(0.6), torch.rand(200, generator=g)):
        assert torch.allclose(fast(x, t, c), full(x, t, c), atol=1e-5)
        assert torch.allclose(fast.log_prob(x, t, c), full.log_prob(x, t, c), atol=1e-8)
    assert torch.allclose(fast(x, torch.tensor(0.3)), full(x, torch.tensor(0.3)), atol=1e-6)
    xg = x.clone().requires_grad_(True)
    fast(xg, torch.tensor(0.5), c).sum().backward()
    assert xg.grad is not None and torch.isfinite(xg.grad).all()


def test_conditional_denoiser_uses_the_class():
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(n_classes=5, hidden=32, n_layers=2), SCHED).eval()
    x = torch.randn(8, 2)
    t = torch.full((8,), 0.5)
    out0 = model(x, t, torch.zeros(8, dtype=torch.long))
    out1 = model(x, t, torch.ones(8, dtype=torch.long))
    assert not torch.allclose(out0, out1)
    assert isinstance(model.class_emb, torch.nn.Embedding)


def test_oracle_sampling_lands_in_class_regions():
    oracle = C.ClassOracle(PART, SCHED)
    lab = C.balanced_labels(5, 40)
    g = torch.Generator().manual_seed(0)
    _, x = C.sample_classes(
        oracle, lab, SCHED, 100, g, prior="matched", partition=PART, final_denoise=True
    )
    acc = C.class_accuracy(x, lab, PART)
    assert set(acc) == set(range(5))
    assert min(acc.values()) >= 0.95
    # The exercise's prior N(0, I) gives a different (here: no better) result.
    _, x2 = C.sample_classes(oracle, lab, SCHED, 100, torch.Generator().manual_seed(0))
    assert not torch.allclose(x, x2)
    with pytest.raises(ValueError, match="prior"):
        C.initial_noise(lab, g, prior="uniform")


def test_spread_stats_on_true_samples():
    g = torch.Generator().manual_seed(0)
    lab = C.balanced_labels(5, 2000)
    x = torch.cat([PART.sample_class(c, 2000, g) for c in range(5)])
    acc = C.class_accuracy(x, lab, PART)
    assert all(v == 1.0 for v in acc.values())
    st = C.spread_stats(x, lab, PART, g)
    for c, s in st.items():
        assert s["outside_share"] == 0.0
        assert np.allclose(s["std_ratio"], 1.0, atol=0.1), (c, s)
        assert abs(s["edge_share"] - s["edge_share_true"]) < 0.05
        assert abs(s["fill"] - s["fill_true"]) < 0.1
    # Shrinking every class toward its mean lowers the edge share and the spread.
    means = torch.tensor(np.stack([PART.mean(c) for c in range(5)])).float()[lab]
    shrunk = means + 0.7 * (x - means)
    st2 = C.spread_stats(shrunk, lab, PART, g)
    assert st2[0]["std_ratio"][0] < 0.8


# ------------------------------------------------------------------ with a trained model
@pytest.fixture(scope="module")
def smoke_model(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny MLP: one thread is fastest on a busy machine
    x0, lab0 = PART.sample(1000, torch.Generator().manual_seed(0))
    s = CFG.settings("smoke")
    cfg = DenoiserConfig(n_classes=5, hidden=s.hidden, n_layers=s.n_layers, output="precond")
    model, hist, _ = train_denoiser(
        cfg,
        TrainConfig(epochs=CFG.PROFILES["smoke"]["epochs"], lr=s.lr, seed=0),
        x0,
        lab0,
        SCHED,
        cache_dir=tmp_path_factory.mktemp("cache"),
        log=lambda m: None,
    )
    torch.set_num_threads(threads)
    return model


def test_eq9_inside_scores_higher_than_outside_with_smoke_model(smoke_model):
    x = torch.tensor([[-0.6, 0.3], [2.5, 2.5], [-0.6, 0.3]])
    est = eq9_bound(
        smoke_model, x, SCHED, c=torch.tensor([0, 0, 2]), n_draws=2048,
        generator=torch.Generator().manual_seed(0),
    )  # fmt: skip
    lp, se = est.log_prob_bound, est.stderr
    assert lp[0] - 3 * se[0] > lp[1] + 3 * se[1]
    assert lp[0] > lp[2]  # matching class above the non-matching one at the same place


# ------------------------------------------------------------------ C6 helpers (with the oracle)
def test_nearest_class_and_true_log_density():
    assert C.nearest_class(PART, [4.0, 5.5]) == 4  # the corner (1, 1) belongs to the frame
    assert C.nearest_class(PART, [-3.0, 0.0]) == 0
    lp = C.true_log_density(PART, np.array([[0.35, 0.25], [0.35, 0.25], [2.0, 0.0]]), [2, 0, 4])
    assert lp[0] == pytest.approx(-np.log(0.09))
    assert lp[1] == -np.inf and lp[2] == -np.inf


def test_probes_and_interior_likelihood_with_the_oracle():
    """With a perfect denoiser and the matched prior the exact likelihood is ≈ the truth,
    and −L_T + reconstruction − KL is close to it too."""
    oracle = C.ClassOracle(PART, SCHED)
    probes = [[0.35, 0.25, 2], [0.35, 0.25, 0], [1.5, 0.0, 3]]
    est = C.probe_estimates(
        oracle, probes, PART, SCHED, T=1000, n_draws=512, ode_steps=12,
        generator=torch.Generator().manual_seed(0), ode_method="rk4",
    )  # fmt: skip
    assert np.isfinite(est.truth[0]) and est.truth[1] == -np.inf and est.in_square.tolist() == [
        True, True, False,
    ]  # fmt: skip
    assert float(est.exact_log_prob[0]) == pytest.approx(-np.log(0.09), abs=0.1)
    full = est.log_prob_bound[0] + est.reconstruction[0] - est.prior_kl[0]
    assert float(full) == pytest.approx(est.truth[0], abs=0.5)
    assert est.log_prob_bound[0] > est.log_prob_bound[1] + 100
    lik = C.interior_exact_likelihood(
        oracle, PART, SCHED, 4, 12, torch.Generator().manual_seed(0), prior="matched",
        ode_method="rk4",
    )  # fmt: skip
    assert set(lik) == set(range(5))
    for c, v in lik.items():
        assert abs(v["mean"] - v["truth"]) < 0.15, (c, v)
    with pytest.raises(ValueError, match="prior"):
        C.interior_exact_likelihood(oracle, PART, SCHED, 2, 2, torch.Generator(), prior="x")


def test_denoised_along_the_way_matches_a_plain_run():
    oracle = C.ClassOracle(PART, SCHED)
    lab = C.balanced_labels(5, 4)
    z = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    snaps = C.denoised_along_the_way(oracle, z, lab, SCHED, 20, [0.0, 0.5])
    assert set(snaps) == {0.0, 0.5}
    ts = S_time_grid(20)
    x = S_ddim(oracle, z, ts, SCHED, c=lab)
    assert torch.allclose(snaps[0.0], x - SCHED.sigma(torch.tensor(0.0)) * oracle(x, 0.0, lab))
    with pytest.raises(ValueError, match="not a time"):
        C.denoised_along_the_way(oracle, z, lab, SCHED, 20, [0.33])


def test_denoised_along_the_way_returns_the_end_point_on_request():
    oracle = C.ClassOracle(PART, SCHED)
    lab = C.balanced_labels(5, 3)
    z = torch.randn(15, 2, generator=torch.Generator().manual_seed(1))
    snaps, end = C.denoised_along_the_way(oracle, z, lab, SCHED, 10, [0.0], with_end=True)
    x = S_ddim(oracle, z, S_time_grid(10), SCHED, c=lab)
    assert torch.allclose(end, x) and set(snaps) == {0.0}


# ------------------------------------------------------------------ section config
def test_parameters_are_the_notebooks_parameters_cell_in_order():
    import nbformat
    from genmod.paths import NOTEBOOKS_DIR

    nb = nbformat.read(NOTEBOOKS_DIR / "02_diffusion_conditional.ipynb", as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    names = [line.split("=")[0].strip() for line in cell.source.splitlines() if "=" in line]
    assert tuple(names) == CFG.PARAMETERS
    assert set(CFG.settings("smoke").to_json()) >= {"steer_starts", "prior_draws", "cpu_threads"}


# ------------------------------------------------------------------ geometry of the classes
def test_region_geometry_of_the_five_regions():
    assert C.region_perimeter(PART, 0) == pytest.approx(8.0)  # the L: 2·(2 + 2)
    assert C.region_perimeter(PART, 2) == pytest.approx(1.2)
    assert C.region_perimeter(PART, 3) == pytest.approx(1.6 + 1.7)  # two separate pieces
    # the frame: outer boundary of its 0.8 × 0.85 + … pieces: shared edges counted once
    assert C.region_perimeter(PART, 4) == pytest.approx(6.1)
    geo = C.class_geometry(PART, {"0.05": 0.05})
    assert [g["pieces"] for g in geo.values()] == [1, 1, 1, 2, 1]
    assert [g["holes"] for g in geo.values()] == [0, 0, 0, 0, 1]
    assert [g["convex"] for g in geo.values()] == [False, True, True, False, False]
    assert [g["mean_inside"] for g in geo.values()] == [True, True, True, False, False]
    assert geo[2]["perimeter_per_area"] == pytest.approx(1.2 / 0.09)
    # the small square: share within 0.05 of the edge = 1 − (0.2/0.3)²
    assert geo[2]["edge_area_share"]["0.05"] == pytest.approx(1 - (0.2 / 0.3) ** 2, abs=0.01)
    assert geo[1]["correlation"] == pytest.approx(0.0, abs=1e-12)
    assert geo[3]["correlation"] == pytest.approx(-0.92, abs=0.01)
    cov = C.class_covariance(PART, 3)
    x = PART.sample_class(3, 200_000, torch.Generator().manual_seed(0)).double().numpy()
    assert np.allclose(cov, np.cov(x.T), atol=2e-3)
    assert C.distance_to_region([[0.35, 0.25], [0.6, 0.25]], PART, 2) == pytest.approx([0.0, 0.1])


def test_prior_mismatch_measures_correlation_and_shape():
    pm = C.prior_mismatch(PART, SCHED, 4000, torch.Generator().manual_seed(0))
    s1 = SCHED.sigma_max
    cov = C.class_covariance(PART, 3)
    rho = cov[0, 1] / np.sqrt((cov[0, 0] + s1**2) * (cov[1, 1] + s1**2))
    assert pm[3]["correlation_t1"] == pytest.approx(rho)
    assert pm[3]["kl_correlation"] == pytest.approx(-0.5 * np.log(1 - rho**2))
    assert pm[3]["kl"] > 3 * pm[3]["kl_stderr"]  # the diagonal prior misses the correlation
    # a rectangle's p₁ is a product of two 1D marginals: uncorrelated, KL within the noise
    assert pm[2]["correlation_t1"] == 0.0 and abs(pm[2]["kl"]) <= 3 * pm[2]["kl_stderr"] + 1e-6
    assert pm[3]["kl_shape"] == pytest.approx(pm[3]["kl"] - pm[3]["kl_correlation"])


def test_posterior_mean_inside_convex_region_and_outside_for_the_l():
    pmi = C.posterior_mean_inside(PART, SCHED, [0.3], 200, torch.Generator().manual_seed(0))
    assert pmi[0.3][2] == 1.0  # convex: every posterior mean lies inside
    # the L-shape is not convex: near its inner corner the exact posterior mean leaves it
    oracle = C.ClassOracle(PART, SCHED)
    x = torch.tensor([[-0.17, -0.47]], dtype=torch.float64)
    for t in (0.2, 0.3, 0.4):
        from genmod.diffusion.sampling import denoised

        x_hat = denoised(oracle, x, t, SCHED, torch.tensor([0]))
        assert not PART.in_class(x_hat.numpy(), 0)[0], t


def test_class_steering_with_the_oracle_lands_in_the_conditioned_region():
    oracle = C.ClassOracle(PART, SCHED)
    z = torch.randn(8, 2, generator=torch.Generator().manual_seed(0))
    st = C.class_steering(oracle, z, SCHED, 50, PART)
    assert np.asarray(st["end_points"]).shape == (5, 8, 2)
    for s in st["per_class"].values():
        assert s["n"] == 8 and s["n_other"] == 32
        assert s["hits_own"] >= 7 and s["hits_own"] / 8 > s["hits_other"] / 32
        assert s["distance_own"] < s["distance_other"]
    region = np.asarray(st["region"])
    assert (region[2] == 2).sum() == st["per_class"][2]["hits_own"]


def test_interior_likelihood_of_the_denoised_output_and_solver_record():
    oracle = C.ClassOracle(PART, SCHED)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    kw = dict(prior="matched", ode_method="rk4")
    a = C.interior_exact_likelihood(oracle, PART, SCHED, 3, 12, g(), **kw)
    b = C.interior_exact_likelihood(oracle, PART, SCHED, 3, 12, g(), denoised_output=True, **kw)
    for c in range(5):
        assert a[c]["solver"]["method"] and "density" in b[c]["solver"]
        assert b[c]["solver"]["density"] != a[c]["solver"]["density"]
        assert abs(b[c]["mean"] - b[c]["truth"]) < 0.2  # interior: the Jacobian term is small
    est = C.probe_estimates(
        oracle, [[0.35, 0.25, 2], [1.5, 0.0, 3]], PART, SCHED, T=100, n_draws=64, ode_steps=4,
        generator=torch.Generator().manual_seed(0), ode_method="rk4",
    )  # fmt: skip
    assert est.distance_to_region[0] == 0.0
    assert est.distance_to_region[1] == pytest.approx(0.5)
    assert est.solver["method"]


def test_seed_check_reports_the_per_class_table(tmp_path):
    """The per-seed check runs the notebook's train and samples steps and summarises them."""
    from genmod.sections.diffusion_conditional import seeds

    r = seeds.check_seed(3, "smoke", "cpu", epochs=20, cache_dir=str(tmp_path))
    assert r["seed"] == 3 and len(r["learned"]) == len(r["oracle"]) == len(r["improved"]) == 5
    assert all(0 <= v <= 1 for v in r["learned"] + r["oracle"] + r["improved"])
    gaps = [o - a for o, a in zip(r["oracle"], r["learned"], strict=True)]
    assert r["max_gap"] == max(gaps) and r["min_improved"] == min(r["improved"])
    assert len(r["lik_err"]) == 5 and r["max_lik_err"] == max(abs(e) for e in r["lik_err"])
    assert len(r["memorisation"]) == len(r["memorisation_oracle"]) == 5
    assert r["min_memorisation"] == min(r["memorisation"]) > 0
    row = seeds.format_row(r)
    assert "seed   3" in row
    assert f"memorisation {r['memorisation'][0]:.2f}/{r['memorisation_oracle'][0]:.2f}" in row


def test_seed_check_rejects_a_bad_setting_before_training():
    from genmod.sections.diffusion_conditional import seeds

    with pytest.raises(SystemExit, match="fused_adam='maybe': expected True or False"):
        seeds.main(["--seeds", "0", "--profile", "smoke", "--set", "fused_adam=maybe"])
    with pytest.raises(SystemExit, match="batch_size=2.5: expected an integer"):
        seeds.main(["--seeds", "0", "--profile", "smoke", "--set", "batch_size=2.5"])
    with pytest.raises(SystemExit, match="'bogus' is not a setting"):
        seeds.main(["--seeds", "0", "--profile", "smoke", "--set", "bogus=1"])


def test_fused_adam_trains_like_plain_adam_and_keeps_old_cache_keys():
    """The fused kernel is the same algorithm: the same weights up to float32 rounding; the
    models trained before the setting existed keep their cache key."""
    from genmod.diffusion.models import Denoiser, DenoiserConfig
    from genmod.diffusion.train import TrainConfig, fit

    x0 = torch.rand(64, 2) * 2 - 1
    runs = {}
    for fused in (False, True):
        torch.manual_seed(0)
        model = Denoiser(DenoiserConfig(hidden=16, n_layers=1))
        fit(model, TrainConfig(epochs=30, lr=1e-2, fused_adam=fused), x0)
        runs[fused] = torch.cat([p.flatten() for p in model.parameters()])
    assert torch.allclose(runs[False], runs[True], atol=1e-5)
    assert "fused_adam" not in TrainConfig().to_json()
    assert TrainConfig(fused_adam=True).to_json()["fused_adam"] is True


def test_ema_weights_are_the_moving_average():
    """ema_decay > 0 returns the exponential moving average of the trained weights."""
    from genmod.diffusion.models import Denoiser, DenoiserConfig
    from genmod.diffusion.train import TrainConfig, fit

    x0 = torch.rand(64, 2) * 2 - 1
    runs = {}
    for decay in (0.0, 0.9):
        torch.manual_seed(0)
        model = Denoiser(DenoiserConfig(hidden=16, n_layers=1))
        fit(model, TrainConfig(epochs=30, lr=1e-2, ema_decay=decay), x0)
        runs[decay] = torch.cat([p.flatten() for p in model.parameters()])
    assert not torch.allclose(runs[0.0], runs[0.9])
    assert "ema_decay" not in TrainConfig().to_json()  # keys of models without EMA unchanged
    assert TrainConfig(ema_decay=0.9).to_json()["ema_decay"] == 0.9


def test_minibatch_epochs_take_one_step_per_batch_and_full_batch_is_unchanged(monkeypatch):
    """batch_size splits each epoch's shuffled noisy copy into Adam steps; batch_size = 0 (the
    default) is the full-batch path, and neither the default nor t_power = 1 changes a key."""
    from genmod.diffusion.models import Denoiser, DenoiserConfig
    from genmod.diffusion.train import TrainConfig, fit

    x0 = torch.rand(100, 2) * 2 - 1
    assert TrainConfig(batch_size=0).steps(100) == TrainConfig().epochs
    assert TrainConfig(epochs=3, batch_size=30).steps(100) == 12  # 30, 30, 30, 10
    assert TrainConfig(epochs=3, batch_size=500).steps(100) == 3
    seen = []
    real = Denoiser.forward

    def spy(self, x, t, c=None):
        seen.append(len(x))
        return real(self, x, t, c)

    monkeypatch.setattr(Denoiser, "forward", spy)
    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(hidden=8, n_layers=1))
    hist = fit(model, TrainConfig(epochs=2, lr=1e-2, batch_size=30), x0)
    assert seen == [30, 30, 30, 10] * 2 and len(hist) == 2
    monkeypatch.setattr(Denoiser, "forward", real)
    params = {}
    for bs in (0, 100):  # one batch of everything: the same numbers as the full batch
        torch.manual_seed(0)
        model = Denoiser(DenoiserConfig(hidden=8, n_layers=1))
        h = fit(model, TrainConfig(epochs=5, lr=1e-2, batch_size=bs), x0)
        params[bs] = (h, torch.cat([p.flatten() for p in model.parameters()]))
    assert params[0][0] == params[100][0] and torch.equal(params[0][1], params[100][1])
    for key, value in (("batch_size", 30), ("t_power", 2.0)):
        assert key not in TrainConfig().to_json()
        assert TrainConfig(**{key: value}).to_json()[key] == value


def test_t_power_draws_more_small_noise_levels(monkeypatch):
    """t = u^p: with p = 2 about √0.2 ≈ 45 % of the training times fall below 0.2 (20 % for
    the exercise's U[0, 1])."""
    from genmod.diffusion.models import Denoiser, DenoiserConfig
    from genmod.diffusion.train import TrainConfig, fit

    x0 = torch.rand(4000, 2) * 2 - 1
    share = {}
    for p in (1.0, 2.0):
        ts = []
        real = Denoiser.forward

        def spy(self, x, t, c=None, ts=ts, real=real):
            ts.append(torch.as_tensor(t).clone())
            return real(self, x, t, c)

        monkeypatch.setattr(Denoiser, "forward", spy)
        fit(Denoiser(DenoiserConfig(hidden=8, n_layers=1)), TrainConfig(epochs=1, t_power=p), x0)
        monkeypatch.setattr(Denoiser, "forward", real)
        share[p] = float((torch.cat(ts) < 0.2).float().mean())
    assert abs(share[1.0] - 0.2) < 0.03 and abs(share[2.0] - 0.2**0.5) < 0.03


def test_gated_x_features_vanish_at_large_sigma_only():
    """With x_gate the Fourier features of x enter the first layer multiplied by
    exp(−(σ/x_gate)²): about 0 at σ = 1, about as large as ungated at σ = e^−5."""
    from genmod.diffusion.models import Denoiser, DenoiserConfig

    torch.manual_seed(0)
    model = Denoiser(DenoiserConfig(hidden=16, n_layers=2, x_freqs=2, x_gate=0.05))
    plain = Denoiser(DenoiserConfig(hidden=16, n_layers=2, x_freqs=2))
    plain.load_state_dict(model.state_dict())
    x = torch.rand(50, 2) * 2 - 1
    inputs = {}
    for name, m in (("gated", model), ("plain", plain)):
        m.net[0].register_forward_hook(
            lambda mod, a, out, name=name: inputs.__setitem__(name, a[0])
        )
    n_x = 2 * 2 * 2  # sin and cos, 2 frequencies, 2 coordinates: the last columns
    for t in (1.0, 0.0):
        model(x, t), plain(x, t)
        g, p = inputs["gated"][:, -n_x:], inputs["plain"][:, -n_x:]
        assert torch.equal(inputs["gated"][:, :-n_x], inputs["plain"][:, :-n_x])
        gate = math.exp(-((math.exp(5 * (t - 1)) / 0.05) ** 2))
        assert torch.allclose(g, p * gate, atol=1e-6)
        assert (g.abs().max() < 1e-6) if t == 1.0 else (g.abs().max() > 0.5)
    assert "x_gate" not in DenoiserConfig().to_json()
    assert DenoiserConfig(x_freqs=2, x_gate=0.2).to_json()["x_gate"] == 0.2
    assert DenoiserConfig(x_gate=0.2).to_json() == DenoiserConfig().to_json()  # nothing gated


# ------------------------------------------------------------------ memorisation
def test_nearest_distance_in_chunks_and_without_reference():
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(300, 2, generator=g), torch.rand(70, 2, generator=g)
    full = torch.cdist(a.double(), b.double()).min(1).values.numpy()
    assert np.allclose(C.nearest_distance(a, b, max_pairs=100), full)  # one point per chunk
    assert np.allclose(C.nearest_distance(a, b), full)
    assert np.isinf(C.nearest_distance(a, b[:0])).all()


def test_memorisation_ratio_of_fresh_points_is_one_and_of_copies_small():
    """New data lie as far from the training points as fresh data do (ratio ≈ 1 within its
    standard error); copies of the training points with a little noise lie much closer."""
    g = torch.Generator().manual_seed(0)
    x, lab = PART.sample(3000, g)
    new, new_lab = PART.sample(5000, g)
    fresh = C.memorisation(new, new_lab, x, lab, PART, g)
    assert set(fresh) == set(range(5))
    for c, m in fresh.items():
        assert m["n"] == int((new_lab == c).sum()) and m["n_train"] == int((lab == c).sum())
        assert m["ratio"] == pytest.approx(m["median_samples"] / m["median_fresh"])
        assert 0 < m["ratio_stderr"] < 0.15
        assert abs(m["ratio"] - 1) < 3 * m["ratio_stderr"]
    copies = C.memorisation(x + 0.002 * torch.randn(x.shape, generator=g), lab, x, lab, PART, g)
    assert all(m["ratio"] < 0.2 for m in copies.values())
    none = C.memorisation(new, new_lab, x[lab != 2], lab[lab != 2], PART, g)
    assert none[2]["n_train"] == 0 and math.isnan(none[2]["ratio"])
    assert math.isnan(none[2]["ratio_stderr"]) and not math.isnan(none[0]["ratio"])


def test_memorisation_step_uses_its_own_stream_and_the_same_fresh_points_for_both():
    from genmod.sections.diffusion_conditional import workflow as W

    assert W.STREAMS["memorisation"] not in [v for k, v in W.STREAMS.items() if k != "memorisation"]
    p = CFG.resolve_params(_given(n_points=600))
    s = W.setup(p)
    labels = C.balanced_labels(5, 40)
    pts = torch.cat([PART.sample_class(c, 40, torch.Generator().manual_seed(c)) for c in range(5)])
    smp = W.Samples({}, labels, pts, pts, pts, {}, {})
    rec = W.memorisation(s, smp).records["memorisation"]
    assert rec["n_points"] == 600 and rec["learned"] == rec["oracle"]  # same points, same draws
    assert set(rec["learned"]) == {str(c) for c in range(5)}


def test_weight_decay_uses_adamw_and_keeps_old_cache_keys():
    """weight_decay > 0 trains with AdamW's decoupled decay (smaller weights); 0 is plain Adam
    under the key models had before the setting existed."""
    from genmod.diffusion.train import fit

    x0 = torch.rand(64, 2) * 2 - 1
    norms = {}
    for wd in (0.0, 0.5):
        torch.manual_seed(0)
        model = Denoiser(DenoiserConfig(hidden=16, n_layers=1))
        fit(model, TrainConfig(epochs=200, lr=1e-2, weight_decay=wd), x0)
        norms[wd] = float(torch.cat([p.detach().flatten() for p in model.parameters()]).norm())
    assert norms[0.5] < norms[0.0]
    assert "weight_decay" not in TrainConfig().to_json()
    assert TrainConfig(weight_decay=0.1).to_json()["weight_decay"] == 0.1


def test_dropout_acts_while_training_only_and_keeps_old_cache_keys():
    model = Denoiser(DenoiserConfig(hidden=16, n_layers=2, dropout=0.5))
    assert sum(isinstance(m, torch.nn.Dropout) for m in model.net) == 2
    x, t = torch.rand(20, 2), torch.full((20,), 0.3)
    model.train()
    assert not torch.equal(model(x, t), model(x, t))
    model.eval()
    assert torch.equal(model(x, t), model(x, t))
    assert not any(isinstance(m, torch.nn.Dropout) for m in Denoiser(DenoiserConfig()).net)
    assert "dropout" not in DenoiserConfig().to_json()
    assert DenoiserConfig(dropout=0.1).to_json()["dropout"] == 0.1


# ------------------------------------------------------------------ the data-size study
def _study(setting: dict, sizes=(1000, 3000), seeds=(0, 1, 2)) -> dict:
    runs = []
    for n in sizes:
        for s in seeds:
            ok = n > 1000 or s == 0  # at 1,000 points only seed 0 meets every target
            runs.append(
                {"n_points": n, "seed": s, "max_gap": 0.01 + 0.01 * s, "min_improved": 0.97,
                 "max_lik_err": 0.1 if ok else 0.3, "min_memorisation": 0.95 if ok else 0.7,
                 "memorisation": [0.95] * 5, "memorisation_oracle": [1.0 - 0.01 * s] * 5}
            )  # fmt: skip
    return {"command": "python -m x", "commit": "abc", "uncommitted_changes": False,
            "date": "2026-12-05", "device": "cpu", "sizes": list(sizes), "seeds": list(seeds),
            **setting, "runs": runs}  # fmt: skip


def test_study_epochs_give_the_same_adam_steps_at_every_size():
    from genmod.sections.diffusion_conditional import studies as S

    steps = 12000
    for n in S.SIZES:
        e = S.epochs_for(n, steps, 500)
        assert TrainConfig(epochs=e, batch_size=500).steps(n) == steps
    with pytest.raises(ValueError, match="not a whole number of epochs"):
        S.epochs_for(3000, 1000, 500)
    from genmod.paths import REPO_ROOT

    assert REPO_ROOT / S.STUDY_SOURCE == S.STUDY_PATH


def test_study_summary_per_size_and_whether_it_is_this_runs_setting():
    from genmod.sections.diffusion_conditional import studies as S
    from genmod.sections.diffusion_conditional import workflow as W

    p = CFG.resolve_params(_given(profile="default"))
    st = CFG.settings("default")
    trained = W.Trained({}, None, None, W.TrainConfig(epochs=p["epochs"], batch_size=st.batch_size),
                        [], None)  # fmt: skip
    setting = S.study_setting("default")
    rec = W.data_size_study(p, st, trained, _study(setting)).records["data_size_study"]
    assert rec["matches"] and rec["differences"] == []
    assert rec["source"] == S.STUDY_SOURCE and rec["targets"] == CFG.TARGETS
    r1, r3 = rec["rows"]
    assert r1["n_points"] == 1000 and r1["seeds"] == [0, 1, 2]
    assert r1["max_gap"] == {"mean": pytest.approx(0.02), "min": 0.01, "max": 0.03}
    assert r1["max_lik_err"]["max"] == 0.3 and r1["min_memorisation"]["min"] == 0.7
    assert r1["min_memorisation_oracle"]["min"] == pytest.approx(0.98)
    assert r1["seeds_meeting_targets"] == 1 and r3["seeds_meeting_targets"] == 3
    assert len(rec["runs"]) == 6 and set(rec["runs"][0]) == {
        "n_points", "seed", "max_gap", "min_improved", "max_lik_err", "min_memorisation"
    }  # fmt: skip
    other = dict(setting, settings=dict(setting["settings"], hidden=7), T=10)
    other["adam_steps"] += 1
    rec = W.data_size_study(p, st, trained, _study(other)).records["data_size_study"]
    assert not rec["matches"] and rec["differences"] == ["hidden", "T", "Adam steps"]
    p2 = dict(p, n_points=p["n_points"] + 1000)  # more points, the same epochs: more steps
    rec = W.data_size_study(p2, st, trained, _study(setting)).records["data_size_study"]
    assert rec["differences"] == ["Adam steps"]


def test_meets_targets_needs_all_four():
    from genmod.sections.diffusion_conditional import workflow as W

    good = {"min_improved": 0.95, "max_gap": 0.03, "max_lik_err": 0.15, "min_memorisation": 0.9}
    assert W.meets_targets(good)
    for key, bad in (("min_improved", 0.949), ("max_gap", 0.031), ("max_lik_err", 0.151),
                     ("min_memorisation", 0.899)):  # fmt: skip
        assert not W.meets_targets(dict(good, **{key: bad}))
