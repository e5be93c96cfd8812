"""Momentum fractions ``(x1, x2)`` of the incoming partons from two random numbers.

``(x1, x2)`` are mapped through ``tau = x1 x2 = s-hat / s`` and the rapidity
``y = ln(x1 / x2) / 2`` of the partonic system (``dx1 dx2 = dtau dy``): ``s-hat``
with an invariant sampler -- the Breit-Wigner of a resonance that makes up the
whole final state (the Z of Drell-Yan, the W of single-W production), else a
power law that follows the falling parton luminosity -- and ``y`` flat in its
allowed range ``|y| <= -ln(tau) / 2``.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace.luminosity import MomentumFractions
    >>> lum = MomentumFractions(e_cm=13000.0, shat_min=50.0**2)
    >>> x1, x2, shat, y, jac = lum.map(np.array([[0.3, 0.6]]))
    >>> bool(np.isclose(x1[0] * x2[0] * 13000.0**2, shat[0]))
    True
"""

from __future__ import annotations

import numpy as np

from .invariants import BreitWigner, InvariantSampler, PowerLaw, Resonance
from .tree import MASSLESS_POWER

__all__ = ["MomentumFractions", "shat_sampler"]


def shat_sampler(resonance: InvariantSampler | None, shat_min: float) -> InvariantSampler:
    """The ``s-hat`` sampler: ``resonance`` if it is a massive resonance, else a power law.

    The power law is logarithmic (``d s-hat / s-hat``, roughly the falling parton
    luminosity) when ``shat_min > 0`` and ``s-hat^-0.8`` otherwise.
    """
    if isinstance(resonance, (BreitWigner, Resonance)):
        return resonance
    return PowerLaw(pole=0.0, nu=1.0 if shat_min > 0 else MASSLESS_POWER)


class MomentumFractions:
    """Maps ``r`` (``(n, 2)``) onto ``(x1, x2)`` with ``tau >= shat_min / s``.

    Args:
        e_cm: collider energy ``sqrt(s)`` (GeV).
        shat_min: smallest partonic ``s-hat`` (GeV^2), e.g. from final-state masses
            and cuts; must be below ``s``.
        resonance: sampler of an s-channel propagator holding the whole final
            state, or None.
        shat_max: largest ``s-hat`` (GeV^2; default ``s``), below ``s`` where
            that propagator's mass window ends lower.

    Attributes:
        dim: 2.
    """

    dim = 2

    def __init__(self, e_cm: float, shat_min: float = 0.0, resonance: InvariantSampler | None = None,
                 shat_max: float | None = None):
        self.s = float(e_cm) ** 2
        self.shat_max = self.s if shat_max is None else float(shat_max)
        if not 0.0 <= shat_min < self.shat_max <= self.s:
            raise ValueError(f"need 0 <= shat_min = {shat_min} < shat_max = {self.shat_max} <= s = {self.s}")
        self.shat_min = float(shat_min)
        self.sampler = shat_sampler(resonance, self.shat_min)

    def map(self, r: np.ndarray, shat_min: np.ndarray | None = None
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(x1, x2, s-hat, y, dx1 dx2 / dr)`` for ``r`` of shape ``(n, 2)``; Jacobian 0 where invalid.

        ``shat_min`` ``(n,)``: per-point lower ends of ``s-hat``, at least
        :attr:`shat_min` (the masses drawn before it; an empty range gives 0).
        """
        n = r.shape[0]
        lo = self._lower(shat_min, n)
        shat, dshat = self.sampler.map(r[:, 0], lo, np.full(n, self.shat_max))
        dshat = np.where(lo < self.shat_max, dshat, 0.0)
        tau = shat / self.s
        with np.errstate(divide="ignore", invalid="ignore"):
            y_max = -0.5 * np.log(tau)
        y = y_max * (2.0 * r[:, 1] - 1.0)
        x1, x2 = np.sqrt(tau) * np.exp(y), np.sqrt(tau) * np.exp(-y)
        jac = dshat / self.s * 2.0 * y_max
        ok = np.isfinite(jac) & (tau > 0) & (x1 <= 1.0) & (x2 <= 1.0)
        return (np.where(ok, x1, 1.0), np.where(ok, x2, 1.0), np.where(ok, shat, self.s),
                np.where(ok, y, 0.0), np.where(ok, jac, 0.0))

    def inverse(self, x1: np.ndarray, x2: np.ndarray, shat_min: np.ndarray | None = None) -> np.ndarray:
        """The ``r`` (``(n, 2)``) that :meth:`map` (with the same ``shat_min``) sends to ``(x1, x2)``."""
        tau = x1 * x2
        n = len(tau)
        shat = tau * self.s
        r0, _ = self.sampler.inverse(shat, self._lower(shat_min, n), np.full(n, self.shat_max))
        with np.errstate(divide="ignore", invalid="ignore"):
            y_max = -0.5 * np.log(tau)
            r1 = np.where(y_max > 0, 0.5 * (0.5 * np.log(x1 / x2) / y_max + 1.0), 0.5)
        return np.stack([r0, r1], axis=-1)

    def _lower(self, shat_min: np.ndarray | None, n: int) -> np.ndarray:
        if shat_min is None:
            return np.full(n, self.shat_min)
        return np.maximum(np.asarray(shat_min, dtype=np.float64), self.shat_min)
