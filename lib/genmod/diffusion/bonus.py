"""The bonus: make a trained diffusion model *output* a given point far outside the data.

Attempts, each returning an :class:`Attempt` with its measured final distance:

- :func:`start_at_target` (simple): feed the target itself as the initial noise z; the
  caller measures where the reverse process carries that start (e.g. its distance to the
  data).
- :func:`best_of_n` (simple): draw n ordinary z ~ N(0, I) and keep the output closest to
  the target; ordinary samples land near the data, so the caller compares its distance
  with the target's distance to the data.
- :func:`invert_ddim` (principled): the exercise's DDIM is a deterministic, invertible map
  z ↦ x. Walk its time grid backwards from x_T = target, solving each Euler step
  x_{i+1} = x_i + σ̇(t_i)·ε̂(x_i, t_i)·(t_{i+1} − t_i) for x_i by fixed-point iteration
  (a contraction when |σ̇·Δt·∂ε̂/∂x| ≈ 5/T < 1, see :func:`contraction`), then sample from
  that z. When every step converged the sampler returns the target up to float round-off;
  for few steps (T ≤ 5) the iteration diverges, and the attempt records that it did not
  converge (:class:`Inversion`).
- :func:`optimise_noise` (principled): choose the stochastic sampler's z and per-step
  noises ξ_i by gradient descent through the sampler (Adam on ‖x_final − target‖²).
  The step displacements u_i = λ·g(t_i)·√|dt|·ξ_i are the optimised variables, which puts
  every step on the same scale; the ξ_i they imply are reported (how atypical they are).

For a perfect denoiser far from the data, x̂_0 is the data's nearest point and the DDIM
drift shrinks the distance to it in proportion to σ(t) (by σ(0)/σ(1) = e⁻⁵ over the run in
continuous time; by |1 − 5/T|^T over T Euler steps, :func:`perfect_denoiser_scale`),
so reaching a far target needs a start (or noises) far outside the N(0, I) typical set;
:class:`Attempt` records ‖z‖ and the prior's log density of it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from genmod.diffusion.likelihood import gaussian_log_prob
from genmod.diffusion.sampling import sample_ddim, sample_stochastic, time_grid
from genmod.diffusion.schedules import Schedule


@dataclass
class Attempt:
    method: str
    principled: bool
    description: str
    target: list[float]
    final: list[float]
    error: float  # ‖final − target‖
    z: list[float]
    trajectory: list[list[float]]  # [[t, x, y], …] of the run that produced ``final``
    extra: dict = field(default_factory=dict)

    def reached(self, tol: float = 0.01) -> bool:
        return self.error <= tol

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "principled": self.principled,
            "description": self.description,
            "target": self.target,
            "final": self.final,
            "error": self.error,
            "z": self.z,
            "trajectory": self.trajectory,
            **self.extra,
        }


def _target(target) -> torch.Tensor:
    return torch.as_tensor(target, dtype=torch.float32).reshape(1, 2)


def _labels(c, device) -> torch.Tensor | None:
    return None if c is None else torch.tensor([int(c)], device=device)


def _ddim_with_path(eps_model, z, ts, schedule, c):
    path = [[float(ts[0]), *z[0].tolist()]]

    def cb(info):
        path.append([info["t_next"], *info["x_next"][0].tolist()])

    with torch.no_grad():
        x = sample_ddim(eps_model, z, ts, schedule, c=c, callback=cb)
    return x, path


def _attempt(method, principled, description, target, x, z, path, extra=None) -> Attempt:
    tgt = _target(target)
    return Attempt(
        method=method,
        principled=principled,
        description=description,
        target=tgt[0].tolist(),
        final=x[0].tolist(),
        error=float(torch.linalg.norm(x.cpu() - tgt)),
        z=z[0].tolist(),
        trajectory=path,
        extra={"z_norm": float(torch.linalg.norm(z)), **(extra or {})},
    )


def start_at_target(eps_model, target, schedule: Schedule, T: int, c=None, device="cpu"):
    """Simple attempt: z = target, then the exercise's DDIM."""
    z = _target(target).to(device)
    ts = time_grid(T)
    x, path = _ddim_with_path(eps_model, z, ts, schedule, _labels(c, device))
    return _attempt(
        "start_at_target", False, "DDIM started from z = target", target, x, z.cpu(), path
    )


def best_of_n(
    eps_model, target, schedule: Schedule, T: int, n: int, generator, c=None, device="cpu"
):
    """Simple attempt: the closest of n DDIM outputs from z ~ N(0, I)."""
    zs = torch.randn(n, 2, generator=generator).to(device)
    ts = time_grid(T)
    lab = None if c is None else torch.full((n,), int(c), device=device)
    with torch.no_grad():
        xs = sample_ddim(eps_model, zs, ts, schedule, c=lab)
    k = int(torch.linalg.norm(xs.cpu() - _target(target), dim=1).argmin())
    x, path = _ddim_with_path(eps_model, zs[k : k + 1], ts, schedule, _labels(c, device))
    return _attempt(
        "best_of_n",
        False,
        f"closest of {n} DDIM samples from z ~ N(0, I)",
        target,
        x,
        zs[k : k + 1].cpu(),
        path,
        {"n": n},
    )


@dataclass
class Inversion:
    """The outcome of :func:`ddim_inverse`: the start z, and whether every step's fixed-point
    iteration converged (its relative change fell to ``tol``)."""

    z: torch.Tensor
    nfe: int  # model evaluations in all
    iterations: int  # the most fixed-point iterations any one step used
    residual: float  # the largest last relative change over the steps (inf: overflowed)
    unconverged_steps: int  # steps whose iteration stopped above ``tol`` (or overflowed)
    tol: float

    @property
    def converged(self) -> bool:
        return self.unconverged_steps == 0

    def to_json(self) -> dict:
        return {
            "inversion_nfe": self.nfe,
            "inversion_iterations": self.iterations,
            "inversion_residual": self.residual,
            "inversion_unconverged_steps": self.unconverged_steps,
            "inversion_tol": self.tol,
            "inversion_converged": self.converged,
        }


def contraction(schedule: Schedule, T: int) -> float:
    """The largest factor |σ̇(t_i)·Δt/σ(t_i)| over the exercise's T-step grid: far from the
    data a perfect denoiser's ε̂ = (x − x̂_0)/σ has ∂ε̂/∂x = I/σ, so this is how much the
    fixed-point map of :func:`ddim_inverse` scales a change per iteration (5/T for
    σ = e^{5(t−1)}): it converges when below 1 and diverges above."""
    ts = time_grid(T)
    t, dt = ts[:-1], ts[1:] - ts[:-1]
    return float((schedule.sigma_dot(t) * dt / schedule.sigma(t)).abs().max())


def perfect_denoiser_scale(schedule: Schedule, T: int) -> float:
    """The factor by which the exercise's T-step DDIM scales a far point's distance to the
    data for a perfect denoiser (whose x̂_0 far from the data is the data's nearest point p):
    each Euler step x ← x + σ̇·(x − p)/σ·Δt multiplies x − p by 1 + σ̇Δt/σ, so the run by
    Π_i |1 + σ̇(t_i)Δt_i/σ(t_i)| (|1 − 5/T|^T for σ = e^{5(t−1)}; σ(0)/σ(1) as T → ∞)."""
    ts = time_grid(T)
    t, dt = ts[:-1], ts[1:] - ts[:-1]
    return float((1 + schedule.sigma_dot(t) * dt / schedule.sigma(t)).abs().prod())


@torch.no_grad()
def ddim_inverse(
    eps_model, x, ts, schedule: Schedule, c=None, iters: int = 50, tol: float = 1e-6
) -> Inversion:
    """z with sample_ddim(eps_model, z, ts) = x: invert each Euler step by fixed point.

    Step i of DDIM: x_{i+1} = x_i + σ̇(t_i)·ε̂(x_i, t_i)·(t_{i+1} − t_i). Given x_{i+1},
    iterate x_i ← x_{i+1} − σ̇(t_i)·ε̂(x_i, t_i)·(t_{i+1} − t_i) from x_i = x_{i+1} until the
    change is below ``tol``·(1 + |x|), at most ``iters`` times. The map contracts by about
    :func:`contraction` per iteration far from the data, so for few steps (T ≤ 5 with the
    exercise's schedule) it need not converge: the returned :class:`Inversion` says so (a
    step that overflows stops the inversion, with an infinite residual).
    """
    nfe, most, worst, bad = 0, 0, 0.0, 0
    for i in reversed(range(len(ts) - 1)):
        t, t_next = float(ts[i]), float(ts[i + 1])
        sdot = float(schedule.sigma_dot(torch.tensor(t, dtype=torch.float64)))
        tt = torch.tensor(t, dtype=x.dtype, device=x.device)
        xi, rel, done, used = x, math.inf, False, 0
        while used < iters:
            new = x - sdot * eps_model(xi, tt, c) * (t_next - t)
            nfe, used = nfe + 1, used + 1
            change, scale = (new - xi).abs().max(), 1 + new.abs().max()
            rel, done = float(change / scale), bool(change <= tol * scale)
            xi = new
            if done or not math.isfinite(rel):
                break
        most = max(most, used)
        x = xi
        if not math.isfinite(rel):  # overflowed: this step and the ones before it are lost
            return Inversion(x, nfe, most, math.inf, bad + i + 1, tol)
        worst, bad = max(worst, rel), bad + (not done)
    return Inversion(x, nfe, most, worst, bad, tol)


def invert_ddim(eps_model, target, schedule: Schedule, T: int, c=None, device="cpu"):
    """Principled attempt: z = DDIM⁻¹(target) (step-by-step fixed point), then DDIM(z); the
    attempt records whether the inversion converged (:class:`Inversion`)."""
    ts = time_grid(T)
    lab = _labels(c, device)
    inv = ddim_inverse(eps_model, _target(target).to(device), ts, schedule, lab)
    z = inv.z
    x, path = _ddim_with_path(eps_model, z, ts, schedule, lab)
    return _attempt(
        "invert_ddim",
        True,
        "inverted the DDIM map step by step (fixed point per Euler step), then sampled",
        target,
        x,
        z.cpu(),
        path,
        {
            **inv.to_json(),
            "inversion_contraction": contraction(schedule, T),
            "z_log_prior": float(gaussian_log_prob(z.cpu().double())[0]),
        },
    )


def optimise_noise(
    eps_model,
    target,
    schedule: Schedule,
    T: int,
    lam: float = 1.0,
    iters: int = 150,
    lr: float = 0.1,
    generator: torch.Generator | None = None,
    c=None,
    device="cpu",
):
    """Principled attempt: optimise z and the per-step noises of the λ-sampler by Adam.

    The variables are z and the step displacements u_i = λ·g(t_i)·√|dt|·ξ_i (started from
    an ordinary draw), the loss is ‖x_final − target‖², the learning rate decays by a
    cosine to 1 % of ``lr``. Returns the attempt with the implied ξ's statistics
    (``xi_rms``, ``xi_max``, ``noise_log_prob`` = Σ log N(ξ_i; 0, I) + log N(z; 0, I)).
    """
    if lam <= 0:
        raise ValueError(f"lam={lam!r}: the noise can only be chosen for λ > 0")
    ts = time_grid(T)
    tgt = _target(target).to(device)
    lab = _labels(c, device)
    dts = (ts[1:] - ts[:-1]).abs()
    tt = ts[:-1]
    g = torch.sqrt(2 * schedule.sigma(tt) * schedule.sigma_dot(tt))
    scale = (lam * g * dts.sqrt()).to(torch.float32).to(device)  # (T,)
    z = torch.randn(1, 2, generator=generator).to(device).requires_grad_(True)
    u = (torch.randn(T, 1, 2, generator=generator).to(device) * scale[:, None, None]).detach()
    u.requires_grad_(True)
    opt = torch.optim.Adam([z, u], lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, iters, eta_min=lr * 0.01)
    losses = []
    for _ in range(iters):
        with torch.enable_grad():
            x = sample_stochastic(
                eps_model, z, ts, schedule, lam, c=lab, noises=u / scale[:, None, None]
            )
            loss = ((x - tgt) ** 2).sum()
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    xi = (u / scale[:, None, None]).detach()
    path = [[float(ts[0]), *z[0].tolist()]]

    def cb(info):
        path.append([info["t_next"], *info["x_next"][0].tolist()])

    with torch.no_grad():
        x = sample_stochastic(
            eps_model, z.detach(), ts, schedule, lam, c=lab, noises=xi, callback=cb
        )
    noise_lp = float(gaussian_log_prob(xi.reshape(-1, 2).double().cpu()).sum())
    noise_lp += float(gaussian_log_prob(z.detach().cpu().double())[0])
    return _attempt(
        "optimise_noise",
        True,
        f"optimised z and the {T} per-step noises of the λ={lam:g} sampler by Adam "
        f"({iters} iterations through the sampler)",
        target,
        x,
        z.detach().cpu(),
        path,
        {
            "lam": lam,
            "steps": T,
            "iters": iters,
            "loss_history": losses,
            "xi_rms": float(xi.pow(2).mean().sqrt()),
            "xi_max": float(xi.abs().max()),
            "noise_log_prob": noise_lp,
            "typical_noise_log_prob": float(-(T + 1) * (math.log(2 * math.pi) + 1)),
        },
    )
