"""Toy multi-channel integrands with known integrals, for testing samplers.

Each toy follows :class:`madnis_plugin.interface.MultiChannelIntegrand` and
carries ``exact_integral``, the analytic value of the integral over the unit
hypercube, so a sampler's estimate can be checked by its pull
``(estimate - exact) / error``.

* :class:`GaussianPeaks` -- narrow Gaussians on the diagonal (the "camel"),
  one channel; hard for VEGAS, which sees only the projections.
* :class:`BreitWignerPeaks` -- two Breit-Wigner peaks in different variables,
  two channels, each mapping its own peak (with a deliberately too wide map)
  and a MadEvent-style prior ``alpha_c = |f_c| / sum_d |f_d|``.
* :class:`ThinRing` -- a thin Gaussian ring in two dimensions, one channel.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.toys import ThinRing
    >>> toy = ThinRing()
    >>> on_ring = np.array([[0.8, 0.5]])   # rho = rho_0: the peak, 1 / (2 pi rho_0 sqrt(2 pi) w)
    >>> round(float(toy(0, on_ring).value[0] * 2 * np.pi * 0.3 * np.sqrt(2 * np.pi) * 0.01), 6)
    1.0
"""

from __future__ import annotations

import numpy as np
from scipy.special import erf, ndtr

from madnis_plugin.interface import IntegrandBatch

__all__ = ["GaussianPeaks", "BreitWignerPeaks", "ThinRing", "toy_suite"]


class GaussianPeaks:
    """Equal-weight isotropic Gaussians, ``f(x) = 1/K sum_k prod_i N(x_i; mu_k, width)``.

    Args:
        dim: dimension.
        width: standard deviation of every peak.
        centers: the peaks' common coordinate ``mu_k`` (a peak sits at
            ``(mu_k, ..., mu_k)``); default two peaks at 1/3 and 2/3.

    Attributes:
        exact_integral: the integral over the unit hypercube (the Gaussian
            tails outside it removed exactly).
    """

    n_channels = 1
    channel_names = ["peaks"]

    def __init__(self, dim: int = 4, width: float = 0.1, centers: tuple[float, ...] = (1 / 3, 2 / 3)):
        self.dim = dim
        self.n_features = dim
        self.width = width
        self.centers = np.asarray(centers, dtype=np.float64)
        inside = ndtr((1.0 - self.centers) / width) - ndtr(-self.centers / width)
        self.exact_integral = float(np.mean(inside ** dim))

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        """Evaluate on ``r`` ``(n, dim)``; the only channel is 0."""
        norm = (2.0 * np.pi * self.width ** 2) ** (-self.dim / 2)
        chi2 = ((r[:, None, :] - self.centers[None, :, None]) ** 2).sum(axis=2) / self.width ** 2
        value = norm * np.exp(-0.5 * chi2).mean(axis=1)
        n = r.shape[0]
        return IntegrandBatch(value=value, channel_prior=np.ones((n, 1)), features=r.copy(),
                              payload={"x": r.copy()}, channel=channel)


def _bw_cdf(x: np.ndarray, mass: float, width: float) -> np.ndarray:
    """Unnormalised CDF of a Breit-Wigner: ``atan((x - m) / g)``."""
    return np.arctan((x - mass) / width)


class BreitWignerPeaks:
    """Two Breit-Wigner peaks in different variables, two channels.

    ``f(x) = A_0 bw_0(x_0) (1 + s (x_2 - 1/2)) + A_1 bw_1(x_1) (1 - s (x_3 - 1/2))``
    with ``bw_c`` a Breit-Wigner normalised to 1 on [0, 1] and ``s = 0.8``, so
    the integral is ``A_0 + A_1``.  Channel ``c`` maps ``r_c`` through the
    inverse CDF of a Breit-Wigner ``map_width_factor`` times too wide (a map
    that is good, not perfect), the other variables unchanged; its prior is
    ``|term_c| / (|term_0| + |term_1|)``.

    Args:
        dim: dimension, at least 4.
        masses: peak positions in (0, 1).
        widths: peak widths.
        amplitudes: ``A_0, A_1``.
        map_width_factor: the channel maps' width relative to the true width.
    """

    n_channels = 2
    channel_names = ["bw_x0", "bw_x1"]
    slope = 0.8

    def __init__(self, dim: int = 4, masses: tuple[float, float] = (0.3, 0.6),
                 widths: tuple[float, float] = (0.002, 0.005),
                 amplitudes: tuple[float, float] = (1.0, 0.5), map_width_factor: float = 2.0):
        if dim < 4:
            raise ValueError("BreitWignerPeaks needs dim >= 4")
        self.dim = dim
        self.n_features = dim
        self.masses = masses
        self.widths = widths
        self.amplitudes = amplitudes
        self.map_widths = tuple(map_width_factor * g for g in widths)
        self.exact_integral = float(sum(amplitudes))

    def _bw_pdf(self, x: np.ndarray, mass: float, width: float) -> np.ndarray:
        norm = _bw_cdf(1.0, mass, width) - _bw_cdf(0.0, mass, width)
        return width / ((x - mass) ** 2 + width ** 2) / norm

    def _terms(self, x: np.ndarray) -> np.ndarray:
        """``(n, 2)`` the two terms of ``f``."""
        t0 = self.amplitudes[0] * self._bw_pdf(x[:, 0], self.masses[0], self.widths[0]) \
            * (1.0 + self.slope * (x[:, 2] - 0.5))
        t1 = self.amplitudes[1] * self._bw_pdf(x[:, 1], self.masses[1], self.widths[1]) \
            * (1.0 - self.slope * (x[:, 3] - 0.5))
        return np.stack([t0, t1], axis=1)

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        """Evaluate channel ``channel`` (0 or 1) on ``r`` ``(n, dim)``."""
        mass, width = self.masses[channel], self.map_widths[channel]
        lo, hi = _bw_cdf(0.0, mass, width), _bw_cdf(1.0, mass, width)
        x = r.copy()
        x[:, channel] = mass + width * np.tan(lo + (hi - lo) * r[:, channel])
        x[:, channel] = np.clip(x[:, channel], 0.0, 1.0)
        jacobian = 1.0 / self._bw_pdf(x[:, channel], mass, width)
        terms = self._terms(x)
        prior = terms / terms.sum(axis=1, keepdims=True)
        value = terms.sum(axis=1) * jacobian
        return IntegrandBatch(value=value, channel_prior=prior, features=x.copy(),
                              payload={"x": x}, channel=channel)


class ThinRing:
    """A thin Gaussian ring in two dimensions, normalised to 1 on the plane.

    ``f(x) proportional to exp(-(rho - rho_0)^2 / (2 w^2))`` with ``rho = |x - (1/2, 1/2)|``;
    with the defaults the square's edge lies 20 widths from the ring, so the
    integral over the unit square is 1 up to ``exp(-200)``.

    Args:
        radius: ``rho_0``.
        width: ``w``.
    """

    dim = 2
    n_features = 2
    n_channels = 1
    channel_names = ["ring"]

    def __init__(self, radius: float = 0.3, width: float = 0.01):
        self.radius = radius
        self.width = width
        # Integral over the plane: 2 pi int_0^inf rho exp(-(rho - rho_0)^2 / 2w^2) d rho.
        a = radius / (np.sqrt(2.0) * width)
        self.norm = 2.0 * np.pi * (width ** 2 * np.exp(-a ** 2)
                                   + radius * width * np.sqrt(np.pi / 2.0) * (1.0 + erf(a)))
        self.exact_integral = 1.0

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        """Evaluate on ``r`` ``(n, 2)``; the only channel is 0."""
        rho = np.hypot(r[:, 0] - 0.5, r[:, 1] - 0.5)
        value = np.exp(-0.5 * ((rho - self.radius) / self.width) ** 2) / self.norm
        n = r.shape[0]
        return IntegrandBatch(value=value, channel_prior=np.ones((n, 1)), features=r.copy(),
                              payload={"x": r.copy()}, channel=channel)


def toy_suite() -> dict[str, GaussianPeaks | BreitWignerPeaks | ThinRing]:
    """The toys of the unbiasedness study and the benchmarks, by name."""
    return {
        "gauss_4d": GaussianPeaks(dim=4, width=0.05),
        "gauss_8d": GaussianPeaks(dim=8, width=0.1),
        "breit_wigner_2ch": BreitWignerPeaks(),
        "ring": ThinRing(),
    }
