"""The seam between the physics layers and the samplers.

A multi-channel integrand maps, for channel ``c``, a batch of points ``r`` in the
unit hypercube to an :class:`IntegrandBatch`. Samplers (VEGAS, the flows, a peer
library in a benchmark) see nothing else of the physics.

For a point drawn in channel ``c`` with sampling density ``q_c(r)`` on the unit
hypercube, the importance weight is ``alpha_c(x) * value / q_c(r)``, where
``alpha`` is the prior (``channel_prior``) or a learned channel weight. The sum
over channels of the expected weights is the integral.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.interface import IntegrandBatch
    >>> b = IntegrandBatch(value=np.array([2.0, 0.0]),
    ...                    channel_prior=np.array([[0.25, 0.75], [0.5, 0.5]]),
    ...                    features=np.zeros((2, 1)), payload={}, channel=1)
    >>> b.weight
    array([1.5, 0. ])
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["IntegrandBatch", "MultiChannelIntegrand", "select_payload"]


@dataclass(slots=True)
class IntegrandBatch:
    """What an integrand returns for a batch of ``n`` points of one channel.

    Attributes:
        value: ``(n,)`` the integrand times the Jacobian of the channel's map
            (``f(x(r)) |dx/dr|``), channel weight not applied; exactly 0 outside
            the physical region or the cuts, never NaN or inf.
        channel_prior: ``(n, n_channels)`` prior channel weights at ``x``; each
            row sums to 1 (a row may be all zero where ``value`` is 0), except
            where channels equivalent under permutations of identical particles
            are folded into one: then a row sums to a symmetric function ``S(x)``
            whose integral against the integrand equals that of 1, and learned
            channel weights must keep each row's sum.
        features: ``(n, n_features)`` inputs for a learned channel-weight network.
        payload: the event record, arrays with leading dimension ``n``; opaque to
            samplers, interpreted by the physics side when writing events.
        channel: the channel these points were mapped with.
    """

    value: np.ndarray
    channel_prior: np.ndarray
    features: np.ndarray
    payload: dict[str, np.ndarray] = field(default_factory=dict)
    channel: int = 0

    @property
    def weight(self) -> np.ndarray:
        """The multi-channel weight with the prior: ``value * prior[:, channel]``."""
        return self.value * self.channel_prior[:, self.channel]

    def select(self, index: np.ndarray) -> "IntegrandBatch":
        """The sub-batch at ``index`` (boolean mask or integer indices)."""
        return IntegrandBatch(
            value=self.value[index],
            channel_prior=self.channel_prior[index],
            features=self.features[index],
            payload=select_payload(self.payload, index),
            channel=self.channel,
        )


def select_payload(payload: dict[str, np.ndarray], index: np.ndarray) -> dict[str, np.ndarray]:
    """Index every array of an event record the same way."""
    return {key: value[index] for key, value in payload.items()}


@runtime_checkable
class MultiChannelIntegrand(Protocol):
    """A multi-channel integrand on the unit hypercube.

    Attributes:
        dim: dimension of ``r``, the same for every channel.
        n_channels: number of channels.
        n_features: width of :attr:`IntegrandBatch.features`.
        channel_names: a short label per channel, for tables.
    """

    dim: int
    n_channels: int
    n_features: int
    channel_names: list[str]

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        """Evaluate channel ``channel`` on ``r`` of shape ``(n, dim)``, float64 in [0, 1)."""
        ...
