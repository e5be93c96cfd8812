"""Flat phase space: RAMBO on diet and the massless n-body volume.

:class:`Rambo` is the flat single channel: the final state as a chain of
two-body decays ``Q0 -> p1 Q1, Q1 -> p2 Q2, ...`` whose invariant masses follow
RAMBO on diet (S. Plätzer, arXiv:1308.2922). For massless particles its weight
is constant, the phase-space volume :func:`massless_volume`, from ``3 n - 4``
random numbers and with an exact inverse. With masses each ``Q_i`` is drawn
with the same distribution over its kinematically allowed range: the density
stays exact, the weight is no longer constant.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace import Rambo, massless_volume
    >>> rambo = Rambo(np.zeros(6), e_cm=500.0)
    >>> pt = rambo.map(np.random.default_rng(0).random((3, rambo.dim)))
    >>> bool(np.allclose(pt.jacobian, massless_volume(4, 500.0**2)))
    True
"""

from __future__ import annotations

from math import factorial, pi
from typing import Sequence

import numpy as np

from .channel import ChannelMap
from .topology import flat_topology

__all__ = ["Rambo", "massless_volume"]


def massless_volume(n: int, s: float) -> float:
    """Volume of massless ``n``-body phase space at ``s``:
    ``(2 pi)^(4 - 3n) (pi / 2)^(n - 1) s^(n - 2) / ((n - 1)! (n - 2)!)``, in the
    normalisation ``dPhi_n = prod d^3p / ((2 pi)^3 2E) (2 pi)^4 delta^4``.
    """
    if n < 2:
        raise ValueError("phase space needs n >= 2")
    return (2 * pi) ** (4 - 3 * n) * (pi / 2) ** (n - 1) * s ** (n - 2) / (factorial(n - 1) * factorial(n - 2))


class Rambo(ChannelMap):
    """The flat channel (RAMBO on diet), a :class:`~.channel.ChannelMap` without propagators.

    Args:
        masses: ``(n_external,)`` external masses, the two incoming first.
        e_cm: collider ``sqrt(s)`` (GeV).
        hadronic: also sample ``x1, x2`` (``s-hat`` logarithmically above ``tau_min s``).
        tau_min: smallest ``s-hat / s``.
    """

    def __init__(self, masses: Sequence[float] | np.ndarray, e_cm: float, hadronic: bool = False, tau_min: float = 0.0):
        masses = np.asarray(masses, dtype=np.float64)
        super().__init__(
            flat_topology(len(masses)), masses, lambda pdg: (0.0, 0.0), e_cm, hadronic=hadronic, tau_min=tau_min
        )
