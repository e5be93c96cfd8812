"""One-dimensional maps of a random number onto an invariant mass squared.

Each sampler maps ``r`` in ``[0, 1)`` onto an invariant ``s`` in a per-event range
``[lo, hi]`` and returns the exact Jacobian ``ds/dr``; ``inverse`` returns ``r``
and the same Jacobian. They are the building blocks of the channel maps, shaped
like the propagator they flatten:

* :class:`BreitWigner` -- a massive s-channel propagator (arctan map);
* :class:`OffShellBreitWigner` -- a Breit-Wigner near the pole, logarithmic in
  the far off-shell tails;
* :class:`Resonance` -- the latter where the pole is in range, a power law above
  threshold where it is not (``t* -> t g``);
* :class:`PowerLaw` -- a massless s-channel propagator or the partonic ``s-hat``,
  density ``(s - pole)^-nu``;
* :class:`TChannel` -- a space-like (t-channel) propagator, density ``(m^2 - t)^-nu``;
* :class:`Uniform` -- flat in ``s``;
* :class:`RamboDiet` -- the invariant distribution of a massless sequential
  decay chain, which makes the whole chain's weight constant (RAMBO on diet,
  S. Plätzer, arXiv:1308.2922).

Where a range is empty (``hi < lo``) or a value is not finite the Jacobian is
exactly 0 and ``s`` is a finite placeholder inside ``[lo, max(lo, hi)]``.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace.invariants import BreitWigner
    >>> bw = BreitWigner(mass=91.1876, width=2.4952)
    >>> s, jac = bw.map(np.array([0.5]), np.array([0.0]), np.array([200.0**2]))
    >>> r, _ = bw.inverse(s, np.array([0.0]), np.array([200.0**2]))
    >>> bool(abs(r[0] - 0.5) < 1e-12)
    True
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

__all__ = ["InvariantSampler", "Uniform", "BreitWigner", "OffShellBreitWigner", "Resonance", "PowerLaw", "TChannel",
           "RamboDiet"]


def _finalise(s: np.ndarray, jac: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Zero the Jacobian of empty ranges and non-finite values; keep ``s`` finite."""
    ok = (hi >= lo) & np.isfinite(s) & np.isfinite(jac)
    s = np.where(ok, s, lo)
    jac = np.where(ok, jac, 0.0)
    return s, jac


class InvariantSampler(ABC):
    """A bijection ``r in [0, 1) -> s in [lo, hi]`` with Jacobian ``ds/dr``.

    All arguments are float64 arrays of one batch shape ``(n,)``.
    """

    @abstractmethod
    def map(self, r: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(s, ds/dr)`` for random numbers ``r`` and ranges ``[lo, hi]``."""

    @abstractmethod
    def inverse(self, s: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(r, ds/dr)`` for invariants ``s`` in ``[lo, hi]``."""


@dataclass(frozen=True)
class Uniform(InvariantSampler):
    """Flat in ``s``: ``s = lo + r (hi - lo)``."""

    def map(self, r, lo, hi):
        width = hi - lo
        return _finalise(lo + r * width, width, lo, hi)

    def inverse(self, s, lo, hi):
        width = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.where(width > 0, (s - lo) / width, 0.0)
        return r, np.where(width >= 0, width, 0.0)


@dataclass(frozen=True)
class BreitWigner(InvariantSampler):
    """Flattens ``1 / ((s - M^2)^2 + M^2 Gamma^2)`` with ``s = M^2 + M Gamma tan(theta)``.

    Angles are measured from the lower end of the range (``arctan2`` of the
    tangent difference) rather than as differences of two arctangents, which
    would lose all digits for a narrow range far from the pole (a narrow
    resonance squeezed below threshold).

    Args:
        mass: pole mass ``M`` (GeV, > 0).
        width: width ``Gamma`` (GeV, > 0).
    """

    mass: float
    width: float

    def __post_init__(self) -> None:
        if not (self.mass > 0 and self.width > 0):
            raise ValueError(f"BreitWigner needs mass > 0 and width > 0, got {self.mass}, {self.width}")

    def _setup(self, lo, hi):
        mg = self.mass * self.width
        x_lo = (lo - self.mass**2) / mg
        span = (np.maximum(hi, lo) - lo) / mg
        # arctan(x_hi) - arctan(x_lo) with x_hi = x_lo + span, without cancellation
        angle = np.arctan2(span, 1.0 + x_lo * (x_lo + span))
        return mg, x_lo, angle

    def _density_inverse(self, s, mg):
        return ((s - self.mass**2) ** 2 + mg**2) / mg

    def map(self, r, lo, hi):
        mg, x_lo, angle = self._setup(lo, hi)
        tangent = np.tan(r * angle)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            offset = mg * tangent * (1.0 + x_lo**2) / (1.0 - x_lo * tangent)
        s = np.clip(lo + offset, lo, np.maximum(hi, lo))
        return _finalise(s, angle * self._density_inverse(s, mg), lo, hi)

    def inverse(self, s, lo, hi):
        mg, x_lo, angle = self._setup(lo, hi)
        d = (s - lo) / mg
        with np.errstate(invalid="ignore", divide="ignore"):
            r = np.arctan2(d, 1.0 + x_lo * (x_lo + d)) / angle
        return _clean_inverse(r, angle * self._density_inverse(s, mg), hi >= lo)


def _power_map(r: np.ndarray, a: np.ndarray, b: np.ndarray, nu: float) -> tuple[np.ndarray, np.ndarray]:
    """``u`` in ``[a, b]`` (``0 <= a``) with density proportional to ``u^-nu``, and ``du/dr``."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if nu == 1.0:
            log_ratio = np.log(b / a)
            u = a * np.exp(r * log_ratio)
            return u, u * log_ratio
        e = 1.0 - nu
        ua, ub = a**e, b**e
        u = (ua + r * (ub - ua)) ** (1.0 / e)
        return u, (ub - ua) / e * u**nu


def _power_inverse(u: np.ndarray, a: np.ndarray, b: np.ndarray, nu: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`_power_map`: ``(r, du/dr)``; NaN where undefined."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if nu == 1.0:
            log_ratio = np.log(b / a)
            return np.log(u / a) / log_ratio, u * log_ratio
        e = 1.0 - nu
        ua, ub = a**e, b**e
        return (u**e - ua) / (ub - ua), (ub - ua) / e * u**nu


def _clean_inverse(r: np.ndarray, jac: np.ndarray, ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ok = ok & np.isfinite(r) & np.isfinite(jac)
    return np.where(ok, r, 0.0), np.where(ok, jac, 0.0)


@dataclass(frozen=True)
class PowerLaw(InvariantSampler):
    """Density proportional to ``(s - pole)^-nu`` on ``[lo, hi]``.

    Where a range reaches below ``pole`` the pole moves to ``lo`` for that event,
    so the map stays a bijection with an exact Jacobian. ``nu = 1`` is the
    logarithmic map and needs ``lo > pole``; ``nu < 1`` is integrable at the pole
    and serves massless propagators whose range reaches ``s = 0``.

    Args:
        pole: location of the singularity (GeV^2), e.g. 0 for a massless propagator.
        nu: the exponent, ``0 <= nu <= 1``.
    """

    pole: float = 0.0
    nu: float = 0.8

    def _range(self, lo, hi):
        pole = np.minimum(self.pole, lo)
        return pole, lo - pole, np.maximum(hi, lo) - pole

    def map(self, r, lo, hi):
        pole, a, b = self._range(lo, hi)
        u, jac = _power_map(r, a, b, self.nu)
        return _finalise(np.clip(pole + u, lo, np.maximum(hi, lo)), jac, lo, hi)

    def inverse(self, s, lo, hi):
        pole, a, b = self._range(lo, hi)
        r, jac = _power_inverse(np.maximum(s - pole, 0.0), a, b, self.nu)
        return _clean_inverse(r, jac, hi >= lo)


@dataclass(frozen=True)
class OffShellBreitWigner(InvariantSampler):
    """A Breit-Wigner within ``core`` widths of the pole, ``1 / (s + M^2)`` outside.

    A Breit-Wigner alone puts a share ``~ M Gamma / (pi (s - M^2))`` of the
    points above ``s``, while a matrix element falls like ``1 / s`` times
    what its numerator and phase space gain far off shell: on ``w_jet`` the
    largest weights of a trained sampler came from W masses of 400-550 GeV
    (35 times the mean weight; unweighting efficiency 0.04 in that channel).
    Here the density is the Breit-Wigner on ``[(M - core Gamma)^2, (M + core
    Gamma)^2]`` and, on each side, ``c / (s + M^2)`` with ``c`` making it
    continuous at the edge; each piece is inverted in closed form.

    Args:
        mass: pole mass ``M`` (GeV, > 0).
        width: width ``Gamma`` (GeV, > 0).
        core: half-width of the Breit-Wigner core in widths.
    """

    mass: float
    width: float
    core: float = 15.0

    def _pieces(self, lo, hi):
        """Edges of the core inside ``[lo, hi]``, the shares of the piece below it and of
        the core, and the density's normalisation."""
        m2, mg = self.mass**2, self.mass * self.width
        hi = np.maximum(hi, lo)
        edge_lo = np.clip(max(self.mass - self.core * self.width, 0.0) ** 2, lo, hi)
        edge_hi = np.clip((self.mass + self.core * self.width) ** 2, lo, hi)
        core = BreitWigner(self.mass, self.width)._setup(edge_lo, edge_hi)[2] / mg
        below = _log_span(lo, edge_lo, m2) / ((edge_lo - m2) ** 2 + mg**2) * (edge_lo + m2)
        above = _log_span(edge_hi, hi, m2) / ((edge_hi - m2) ** 2 + mg**2) * (edge_hi + m2)
        total = below + core + above
        with np.errstate(all="ignore"):   # an empty range: the Jacobian comes out 0
            return edge_lo, edge_hi, below / total, core / total, total

    def _density(self, s, edge_lo, edge_hi, total):
        m2, mg = self.mass**2, self.mass * self.width
        edge = np.clip(s, edge_lo, edge_hi)
        return (edge + m2) / (s + m2) / ((edge - m2) ** 2 + mg**2) / total

    def map(self, r, lo, hi):
        edge_lo, edge_hi, share_lo, share_core, total = self._pieces(lo, hi)
        m2, top = self.mass**2, np.maximum(hi, lo)
        share_hi = 1.0 - share_lo - share_core
        with np.errstate(all="ignore"):
            s_lo = _log_map(r / share_lo, lo, edge_lo, m2)
            s_core = BreitWigner(self.mass, self.width).map(np.clip((r - share_lo) / share_core, 0.0, 1.0),
                                                            edge_lo, edge_hi)[0]
            s_hi = _log_map((r - share_lo - share_core) / share_hi, edge_hi, top, m2)
        s = np.where(r < share_lo, s_lo, np.where(r < share_lo + share_core, s_core, s_hi))
        s = np.clip(s, lo, top)
        return _finalise(s, 1.0 / self._density(s, edge_lo, edge_hi, total), lo, hi)

    def inverse(self, s, lo, hi):
        edge_lo, edge_hi, share_lo, share_core, total = self._pieces(lo, hi)
        m2, top = self.mass**2, np.maximum(hi, lo)
        with np.errstate(all="ignore"):
            r_lo = np.log1p((s - lo) / (lo + m2)) / _log_span(lo, edge_lo, m2)
            r_hi = np.log1p((s - edge_hi) / (edge_hi + m2)) / _log_span(edge_hi, top, m2)
            r_core = BreitWigner(self.mass, self.width).inverse(np.clip(s, edge_lo, edge_hi), edge_lo, edge_hi)[0]
            r = np.where(s < edge_lo, share_lo * r_lo, np.where(
                s > edge_hi, 1.0 - (1.0 - share_lo - share_core) * (1.0 - r_hi), share_lo + share_core * r_core))
        return _clean_inverse(r, 1.0 / self._density(s, edge_lo, edge_hi, total), hi >= lo)


def _log_span(a, b, m2):
    """``log((b + m2) / (a + m2))`` without losing digits for a short span."""
    return np.log1p((b - a) / (a + m2))


def _log_map(r, a, b, m2):
    """``s`` in ``[a, b]`` with density proportional to ``1 / (s + m2)``."""
    return a + (a + m2) * np.expm1(r * _log_span(a, b, m2))


@dataclass(frozen=True)
class Resonance(InvariantSampler):
    """A massive s-channel propagator: Breit-Wigner where its pole is in range, power law where not.

    Where the range starts at or above the pole (a top radiating a gluon,
    ``t* -> t g``: the range begins at ``M^2`` exactly), the propagator is
    ``1 / (s - M^2)`` above threshold, not a peak: a Breit-Wigner there
    falls like ``(s - M^2)^-2`` and starves the tail. So, per point, the
    Breit-Wigner (:class:`OffShellBreitWigner` with its ``core``) is used
    where ``M^2 > lo + M Gamma`` and the power law ``(s - M^2)^-nu``
    otherwise; both are exact bijections of ``[lo, hi]``, and the choice
    depends on ``lo`` only, so the density stays exact.

    Args:
        mass: pole mass ``M`` (GeV, > 0).
        width: width ``Gamma`` (GeV, > 0).
        nu: exponent of the power law above threshold.
        core: half-width in widths of the Breit-Wigner core (0: a plain Breit-Wigner).
    """

    mass: float
    width: float
    nu: float = 0.5
    core: float = 0.0

    def _either(self, method: str, x, lo, hi):
        in_range = self.mass**2 > lo + self.mass * self.width
        peak_map = OffShellBreitWigner(self.mass, self.width, self.core) if self.core > 0 else BreitWigner(
            self.mass, self.width)
        peak = lambda: getattr(peak_map, method)(x, lo, hi)  # noqa: E731
        tail = lambda: getattr(PowerLaw(pole=self.mass**2, nu=self.nu), method)(x, lo, hi)  # noqa: E731
        # A propagator is almost always on one side for the whole batch: evaluate one map then.
        if np.all(in_range):
            return peak()
        if not np.any(in_range):
            return tail()
        (a_peak, jac_peak), (a_tail, jac_tail) = peak(), tail()
        return np.where(in_range, a_peak, a_tail), np.where(in_range, jac_peak, jac_tail)

    def map(self, r, lo, hi):
        return self._either("map", r, lo, hi)

    def inverse(self, s, lo, hi):
        return self._either("inverse", s, lo, hi)


@dataclass(frozen=True)
class TChannel(InvariantSampler):
    """A space-like propagator ``1 / (t - m^2)``: density ``(m^2 - t)^-nu`` on ``t in [lo, hi]``.

    Internally the map works on the distance ``v = hi - t`` from the upper end of
    the range, where massless exchanges peak: ``v`` converts to a scattering
    angle without cancellation (``1 - cos(theta) = v / (2 |q| |p|)``), which keeps
    the map and its inverse precise for very forward emissions. Where ``m^2 < hi``
    the pole moves to ``hi``.

    Args:
        mass: mass of the exchanged particle (GeV, >= 0).
        nu: the exponent (< 1 keeps massless exchanges with ``t -> 0`` integrable).
    """

    mass: float = 0.0
    nu: float = 0.8

    def map_distance(self, r: np.ndarray, t_hi: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(v, dv/dr)`` with ``v = t_hi - t`` in ``[0, width]``."""
        offset = np.maximum(self.mass**2 - t_hi, 0.0)
        u, jac = _power_map(r, offset, offset + np.maximum(width, 0.0), self.nu)
        v = np.clip(u - offset, 0.0, np.maximum(width, 0.0))
        ok = (width >= 0) & np.isfinite(v) & np.isfinite(jac)
        return np.where(ok, v, 0.0), np.where(ok, jac, 0.0)

    def inverse_distance(self, v: np.ndarray, t_hi: np.ndarray, width: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Inverse of :meth:`map_distance`: ``(r, dv/dr)``."""
        offset = np.maximum(self.mass**2 - t_hi, 0.0)
        r, jac = _power_inverse(np.maximum(v, 0.0) + offset, offset, offset + np.maximum(width, 0.0), self.nu)
        return _clean_inverse(r, jac, width >= 0)

    def map(self, r, lo, hi):
        v, jac = self.map_distance(r, hi, hi - lo)
        return hi - v, jac

    def inverse(self, s, lo, hi):
        return self.inverse_distance(hi - s, hi, hi - lo)


@dataclass(frozen=True)
class RamboDiet(InvariantSampler):
    """``s = lo + (hi - lo) x`` with ``x`` distributed as ``(k+1)(k+2) x^k (1 - x)``.

    In a chain of two-body decays of a massless system ``Q_0 -> p_1 Q_1``,
    ``Q_1 -> p_2 Q_2``, ... sampling ``x_i = M_i^2 / M_{i-1}^2`` with ``k = `` (number of
    particles in ``Q_i``) ``- 2`` makes the weight of the whole chain constant,
    the massless phase-space volume (RAMBO on diet, arXiv:1308.2922).

    Args:
        power: the exponent ``k >= 0``.
    """

    power: int

    def _cdf(self, x):
        k = self.power
        return (k + 2) * x ** (k + 1) - (k + 1) * x ** (k + 2)

    def _pdf(self, x):
        k = self.power
        return (k + 1) * (k + 2) * x**k * (1.0 - x)

    def _solve(self, r):
        if self.power == 0:
            return 1.0 - np.sqrt(1.0 - r)
        lo, hi = np.zeros_like(r), np.ones_like(r)
        # The CDF is monotonic on [0, 1]: bisect to ~2e-4, then Newton steps (quadratic
        # convergence: 1e-8, 1e-16), kept inside the bisection bracket.
        for _ in range(12):
            mid = 0.5 * (lo + hi)
            below = self._cdf(mid) < r
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
        x = 0.5 * (lo + hi)
        with np.errstate(invalid="ignore", divide="ignore"):
            for _ in range(3):
                step = (self._cdf(x) - r) / self._pdf(x)
                x = np.clip(np.where(np.isfinite(step), x - step, x), lo, hi)
        return x

    def map(self, r, lo, hi):
        x = self._solve(r)
        width = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            jac = width / self._pdf(x)
        return _finalise(lo + width * x, jac, lo, hi)

    def inverse(self, s, lo, hi):
        width = hi - lo
        with np.errstate(invalid="ignore", divide="ignore"):
            x = np.clip(np.where(width > 0, (s - lo) / width, 0.0), 0.0, 1.0)
            jac = width / self._pdf(x)
        ok = (hi >= lo) & np.isfinite(jac)
        return self._cdf(x), np.where(ok, jac, 0.0)
