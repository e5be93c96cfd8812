"""Quality metrics of weighted samples, as DESIGN.md defines them.

Every sampler, benchmark and the event writer computes its figures here, so
that VEGAS, the neural sampler and a peer library are judged by one rule.

* Relative standard deviation of the weights, ``sigma_w / <w>``: independent
  of the sample size; the relative error of a mean of ``N`` weights is
  ``rel_std / sqrt(N)``.
* Unweighting efficiency with bounded overweights: per channel, ``w_max`` is
  the smallest value for which the overweights carry at most a fraction
  ``max_overweight`` (default 0.1%) of the channel's integral,
  ``sum_{w > w_max} (w - w_max) <= max_overweight * sum w``; the efficiency is
  ``eps_c = <w> / w_max``.  Channels combine as
  ``eps = sigma / sum_c (sigma_c / eps_c)``: unweighted events per weighted
  event when every channel is sampled in proportion to its cross section.
* The overweight share: the part of the cross section that sits above
  ``w_max`` (at most ``max_overweight`` by construction).

Example:
    >>> import numpy as np
    >>> from madnis_plugin.metrics import relative_std, unweighting_efficiency
    >>> w = np.array([1.0, 1.0, 1.0, 1.0])
    >>> float(relative_std(w))
    0.0
    >>> float(unweighting_efficiency(w).efficiency)
    1.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = [
    "DEFAULT_MAX_OVERWEIGHT",
    "UnweightingEfficiency",
    "relative_std",
    "overweight_threshold",
    "unweighting_efficiency",
    "combined_unweighting_efficiency",
    "combined_relative_std",
]

DEFAULT_MAX_OVERWEIGHT = 1e-3
"""Largest share of a channel's integral allowed above ``w_max`` (0.1%)."""


@dataclass(slots=True)
class UnweightingEfficiency:
    """The unweighting figures of one channel's weights.

    Attributes:
        efficiency: ``<w> / w_max``, in [0, 1]; 0 for an all-zero sample.
        w_max: the threshold weight.
        overweight_fraction: ``sum_{w > w_max} (w - w_max) / sum w``.
    """

    efficiency: float
    w_max: float
    overweight_fraction: float


def relative_std(weights: np.ndarray) -> float:
    """``sigma_w / <w>`` of ``weights`` ``(n,)`` (population std); ``inf`` when ``<w>`` is 0."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.size == 0:
        return float("nan")
    mean = weights.mean()
    if mean == 0.0:
        return float("inf")
    return float(weights.std() / abs(mean))


def overweight_threshold(weights: np.ndarray, max_overweight: float = DEFAULT_MAX_OVERWEIGHT) -> float:
    """The smallest ``w_max`` with ``sum (w - w_max)_+ <= max_overweight * sum w``.

    The overweight ``O(t) = sum (w_i - t)_+`` is piecewise linear and
    decreasing in ``t``; with the weights sorted in decreasing order and
    ``S_k`` the sum of the ``k`` largest, ``O(t) = S_k - k t`` between the
    ``(k+1)``-th and ``k``-th largest weight, so the threshold is found exactly.

    Args:
        weights: ``(n,)`` non-negative weights.
        max_overweight: allowed share of ``sum w`` above the threshold.

    Returns:
        ``w_max`` (0 for an empty or all-zero sample).
    """
    w = np.sort(np.asarray(weights, dtype=np.float64))[::-1]
    total = w.sum() if w.size else 0.0
    if total <= 0.0:
        return 0.0
    target = max_overweight * total
    cumulative = np.cumsum(w)
    # Overweight when the threshold sits at the j-th largest weight (j = 1..n):
    # the j-1 larger weights stick out by (w_i - w_(j)).
    k = np.arange(w.size)
    overweight_at = np.concatenate(([0.0], cumulative[:-1])) - k * w
    above = np.nonzero(overweight_at > target)[0]
    # Either the first breakpoint past the target, or (all within target)
    # the stretch below the smallest weight.
    n_above = above[0] if above.size else w.size
    return float((cumulative[n_above - 1] - target) / n_above)


def unweighting_efficiency(
    weights: np.ndarray, max_overweight: float = DEFAULT_MAX_OVERWEIGHT
) -> UnweightingEfficiency:
    """Unweighting efficiency of one channel's ``weights`` ``(n,)`` (see the module docstring)."""
    w = np.asarray(weights, dtype=np.float64)
    w_max = overweight_threshold(w, max_overweight)
    total = w.sum() if w.size else 0.0
    if w_max <= 0.0 or total <= 0.0:
        return UnweightingEfficiency(0.0, 0.0, 0.0)
    overweight = np.clip(w - w_max, 0.0, None).sum()
    return UnweightingEfficiency(
        efficiency=float(min(1.0, w.mean() / w_max)),
        w_max=w_max,
        overweight_fraction=float(overweight / total),
    )


def combined_unweighting_efficiency(
    cross_sections: Sequence[float], efficiencies: Sequence[float]
) -> float:
    """``sigma / sum_c sigma_c / eps_c`` over channels; channels with ``sigma_c = 0`` are left out.

    Returns 0 when a contributing channel has efficiency 0 or nothing contributes.
    """
    sigma = np.asarray(cross_sections, dtype=np.float64)
    eps = np.asarray(efficiencies, dtype=np.float64)
    contributing = sigma > 0.0
    if not contributing.any() or np.any(eps[contributing] <= 0.0):
        return 0.0
    return float(sigma[contributing].sum() / np.sum(sigma[contributing] / eps[contributing]))


def combined_relative_std(cross_section: float, error: float, n_points: int) -> float:
    """The relative std per weighted point of a stratified estimate: ``sqrt(N) * error / sigma``.

    For a single channel this equals :func:`relative_std`; for several channels
    sampled separately it is the figure a single-channel sampler would need to
    reach the same error with the same ``N`` points.
    """
    if cross_section == 0.0:
        return float("inf")
    return float(np.sqrt(n_points) * error / abs(cross_section))
