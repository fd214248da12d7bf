"""The data of part 1: points uniform on unions of axis-aligned rectangles.

The unconditional data is :data:`SQUARE`, the uniform distribution on [-1, 1]² (one class).
A class-conditional data set is a :class:`Partition`: class ``c`` is uniform on the union of
its (disjoint) rectangles, and an unlabelled draw picks the class with probability
proportional to its area, so the marginal over classes is uniform on the union of all regions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

Rect = tuple[float, float, float, float]  # (xmin, xmax, ymin, ymax)


def _rect_area(r: Rect) -> float:
    return (r[1] - r[0]) * (r[3] - r[2])


@dataclass(frozen=True)
class Partition:
    """Class ``c`` is uniform on the union of ``regions[c]`` (disjoint rectangles)."""

    regions: tuple[tuple[Rect, ...], ...]

    def __post_init__(self):
        if not self.regions or any(len(rs) == 0 for rs in self.regions):
            raise ValueError("every class needs at least one rectangle")
        for rs in self.regions:
            for r in rs:
                if len(r) != 4 or not (r[0] < r[1] and r[2] < r[3]):
                    raise ValueError(f"rectangle {r!r}: expected (xmin, xmax, ymin, ymax)")

    @property
    def n_classes(self) -> int:
        return len(self.regions)

    def areas(self) -> np.ndarray:
        """Area of each class region, shape (n_classes,)."""
        return np.array([sum(_rect_area(r) for r in rs) for rs in self.regions])

    def rects(self) -> list[tuple[int, Rect]]:
        """Every rectangle with its class id: [(c, rect), ...]."""
        return [(c, r) for c, rs in enumerate(self.regions) for r in rs]

    def in_class(self, points, c: int) -> np.ndarray:
        """Boolean (N,): the point lies in (the closure of) the region of class ``c``."""
        p = _np(points)
        inside = np.zeros(len(p), dtype=bool)
        for x0, x1, y0, y1 in self.regions[c]:
            inside |= (p[:, 0] >= x0) & (p[:, 0] <= x1) & (p[:, 1] >= y0) & (p[:, 1] <= y1)
        return inside

    def label(self, points) -> np.ndarray:
        """Class id of each point (the first class whose region holds it), −1 outside all."""
        p = _np(points)
        labels = np.full(len(p), -1, dtype=np.int64)
        for c in reversed(range(self.n_classes)):
            labels[self.in_class(p, c)] = c
        return labels

    def contains(self, points, labels) -> np.ndarray:
        """Boolean (N,): point i lies inside the region of ITS class ``labels[i]``."""
        p = _np(points)
        lab = _np(labels).astype(np.int64)
        ok = np.zeros(len(p), dtype=bool)
        for c in range(self.n_classes):
            m = lab == c
            if m.any():
                ok[m] = self.in_class(p[m], c)
        return ok

    def sample_class(self, c: int, n: int, generator: torch.Generator | None = None):
        """n points uniform on the region of class ``c``: rectangle ∝ area, then uniform."""
        rs = torch.tensor(self.regions[c], dtype=torch.float64)  # (R, 4)
        w = (rs[:, 1] - rs[:, 0]) * (rs[:, 3] - rs[:, 2])
        idx = torch.multinomial(w, n, replacement=True, generator=generator)
        u = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        r = rs[idx]
        x = r[:, 0] + u[:, 0] * (r[:, 1] - r[:, 0])
        y = r[:, 2] + u[:, 1] * (r[:, 3] - r[:, 2])
        return torch.stack([x, y], dim=1).float()

    def sample(self, n: int, generator: torch.Generator | None = None):
        """(x (n, 2), labels (n,)): class drawn ∝ area, then uniform inside the class."""
        w = torch.tensor(self.areas(), dtype=torch.float64)
        labels = torch.multinomial(w, n, replacement=True, generator=generator)
        x = torch.empty(n, 2)
        for c in range(self.n_classes):
            m = labels == c
            k = int(m.sum())
            if k:
                x[m] = self.sample_class(c, k, generator)
        return x, labels

    def mean(self, c: int | None = None) -> np.ndarray:
        """Mean (2,) of class ``c`` (None: of the whole union, classes weighted by area)."""
        rs = self._rects_of(c)
        a = np.array([_rect_area(r) for r in rs])
        m = np.array([[(r[0] + r[1]) / 2, (r[2] + r[3]) / 2] for r in rs])
        return (a[:, None] * m).sum(0) / a.sum()

    def var(self, c: int | None = None) -> np.ndarray:
        """Per-coordinate variance (2,) of class ``c`` (None: of the whole union)."""
        rs = self._rects_of(c)
        a = np.array([_rect_area(r) for r in rs])
        # E[x²] of U(x0, x1) is (x0² + x0·x1 + x1²)/3.
        m2 = np.array(
            [
                [
                    (r[0] ** 2 + r[0] * r[1] + r[1] ** 2) / 3,
                    (r[2] ** 2 + r[2] * r[3] + r[3] ** 2) / 3,
                ]
                for r in rs
            ]
        )
        second = (a[:, None] * m2).sum(0) / a.sum()
        return second - self.mean(c) ** 2

    def _rects_of(self, c: int | None) -> list[Rect]:
        return [r for _, r in self.rects()] if c is None else list(self.regions[c])

    def to_json(self) -> dict:
        return {str(c): [list(map(float, r)) for r in rs] for c, rs in enumerate(self.regions)}


def _np(a) -> np.ndarray:
    if isinstance(a, torch.Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)


SQUARE = Partition((((-1.0, 1.0, -1.0, 1.0),),))
"""The unconditional data: uniform on [-1, 1]² (one class)."""


def make_square_data(n: int, seed: int) -> torch.Tensor:
    """The exercise's training set: ``n`` points uniform in [-1, 1]² (float32, (n, 2))."""
    g = torch.Generator().manual_seed(seed)
    return SQUARE.sample(n, g)[0]
