"""Records the samplers return: integration results, sample batches, phase costs.

These are plain dataclasses shared by :class:`~madnis_plugin.sampler.VegasSampler`
and :class:`~madnis_plugin.sampler.MadnisSampler`, so a caller (the CLI, the
event writer, a benchmark) never needs to know which sampler produced them.

Example:
    >>> from madnis_plugin.sampler.results import PhaseCost
    >>> PhaseCost(n_calls=10, wall_s=0.5).to_dict()
    {'n_calls': 10, 'wall_s': 0.5}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = ["PhaseCost", "ChannelResult", "IntegrationResult", "SampleBatch"]


@dataclass(slots=True)
class PhaseCost:
    """Integrand calls and wall time spent in one phase (VEGAS training, flow training, ...).

    Attributes:
        n_calls: integrand evaluations (points) in the phase.
        wall_s: wall-clock seconds.
    """

    n_calls: int = 0
    wall_s: float = 0.0

    def add(self, n_calls: int, wall_s: float) -> None:
        """Accumulate another stretch of the same phase."""
        self.n_calls += int(n_calls)
        self.wall_s += float(wall_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return {"n_calls": self.n_calls, "wall_s": self.wall_s}


@dataclass(slots=True)
class ChannelResult:
    """One channel's share of an integration.

    Attributes:
        name: the integrand's channel name.
        cross_section: the channel's contribution ``sigma_c`` (mean weight over its points).
        error: the Monte-Carlo error of ``sigma_c``.
        rel_std: ``sigma_w / <w>`` over the channel's points.
        n_points: points drawn in the channel.
        unweighting_efficiency: ``<w> / w_max`` with the 0.1% overweight rule.
        w_max: the channel's unweighting threshold.
        overweight_fraction: share of ``sigma_c`` above ``w_max``.
        n_nonfinite: weights that were NaN or inf and were set to 0.
        active: False for a channel dropped during training (it has no points).
    """

    name: str
    cross_section: float
    error: float
    rel_std: float
    n_points: int
    unweighting_efficiency: float
    w_max: float = 0.0
    overweight_fraction: float = 0.0
    n_nonfinite: int = 0
    active: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy."""
        return asdict(self)


@dataclass(slots=True)
class IntegrationResult:
    """A cross section estimated from fresh samples, with the DESIGN.md metrics.

    Attributes:
        cross_section: ``sum_c sigma_c``.
        error: ``sqrt(sum_c error_c^2)``.
        n_calls: integrand evaluations of this estimate (training excluded;
            see ``phases`` for every phase).
        rel_std: relative std per weighted point of the whole estimate,
            ``sqrt(n_calls) * error / cross_section``; equals ``sigma_w/<w>``
            for one channel.
        unweighting_efficiency: ``sigma / sum_c (sigma_c / eps_c)``.
        overweight_fraction: share of the cross section above the channels' ``w_max``.
        channels: per-channel records, in channel order.
        phases: cost of every phase so far, e.g. ``{"vegas": PhaseCost, "integration": PhaseCost}``.
        sampler: which sampler made it ("vegas" or "madnis").
    """

    cross_section: float
    error: float
    n_calls: int
    rel_std: float
    unweighting_efficiency: float
    overweight_fraction: float
    channels: list[ChannelResult]
    phases: dict[str, PhaseCost] = field(default_factory=dict)
    sampler: str = ""

    @property
    def relative_error(self) -> float:
        """``error / cross_section``."""
        return self.error / self.cross_section if self.cross_section else float("inf")

    @property
    def n_nonfinite(self) -> int:
        """Non-finite weights set to zero, over all channels."""
        return sum(c.n_nonfinite for c in self.channels)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (plain floats, ints, strings, lists and dicts)."""
        return {
            "sampler": self.sampler,
            "cross_section": self.cross_section,
            "error": self.error,
            "relative_error": self.relative_error,
            "n_calls": self.n_calls,
            "rel_std": self.rel_std,
            "unweighting_efficiency": self.unweighting_efficiency,
            "overweight_fraction": self.overweight_fraction,
            "n_nonfinite": self.n_nonfinite,
            "channels": [c.to_dict() for c in self.channels],
            "phases": {name: cost.to_dict() for name, cost in self.phases.items()},
        }


@dataclass(slots=True)
class SampleBatch:
    """Weighted points drawn from a sampler, grouped by channel in channel order.

    The mean of ``weight`` over the points of channel ``c`` estimates
    ``sigma_c``; an unbiased estimate of the total is
    ``sum_c weight[channel == c].mean()``.  Points are NOT shuffled.

    Attributes:
        channel: ``(n,)`` int64 channel of every point.
        r: ``(n, dim)`` float64 points in the unit hypercube, as passed to the integrand.
        weight: ``(n,)`` float64 ``alpha_c * value / q_c(r)``; non-finite values set to 0.
        density: ``(n,)`` float64 sampling density ``q_c(r)`` on the unit hypercube.
        points_per_channel: ``(n_channels,)`` int64 number of points of each channel.
        payload: the integrand's event record, arrays concatenated in the same order.
    """

    channel: np.ndarray
    r: np.ndarray
    weight: np.ndarray
    density: np.ndarray
    points_per_channel: np.ndarray
    payload: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.weight.shape[0])

    def channel_cross_sections(self) -> np.ndarray:
        """``(n_channels,)`` mean weight per channel (0 for a channel with no points)."""
        sums = np.bincount(self.channel, weights=self.weight, minlength=self.points_per_channel.size)
        return np.divide(sums, self.points_per_channel, out=np.zeros_like(sums),
                         where=self.points_per_channel > 0)
