"""Turn per-channel weights of fresh samples into an :class:`IntegrationResult`.

Both samplers call :func:`integration_result` after drawing points that were
never used for training, so the estimate is unbiased.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.sampler.estimate import integration_result
    >>> res = integration_result([np.full(4, 2.0), np.full(4, 1.0)], ["a", "b"])
    >>> res.cross_section, res.error
    (3.0, 0.0)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from madnis_plugin import metrics
from madnis_plugin.sampler.results import ChannelResult, IntegrationResult, PhaseCost

__all__ = ["finite_weights", "integration_result"]


def finite_weights(weights: np.ndarray) -> tuple[np.ndarray, int]:
    """``weights`` with NaN/inf replaced by 0, and how many there were."""
    finite = np.isfinite(weights)
    n_bad = int(weights.size - finite.sum())
    if n_bad:
        weights = np.where(finite, weights, 0.0)
    return weights, n_bad


def integration_result(
    channel_weights: Sequence[np.ndarray | None],
    channel_names: Sequence[str],
    n_nonfinite: Sequence[int] | None = None,
    phases: dict[str, PhaseCost] | None = None,
    sampler: str = "",
    max_overweight: float = metrics.DEFAULT_MAX_OVERWEIGHT,
) -> IntegrationResult:
    """Stratified estimate from the weights of each channel.

    Args:
        channel_weights: per channel, ``(n_c,)`` finite weights whose mean
            estimates ``sigma_c``; ``None`` for a dropped channel.
        channel_names: per channel, its name.
        n_nonfinite: per channel, non-finite weights already replaced by 0.
        phases: phase costs to carry along.
        sampler: the sampler's name.
        max_overweight: the overweight share defining ``w_max``.
    """
    records: list[ChannelResult] = []
    n_total = 0
    for c, (w, name) in enumerate(zip(channel_weights, channel_names)):
        bad = int(n_nonfinite[c]) if n_nonfinite is not None else 0
        if w is None or w.size == 0:
            records.append(ChannelResult(name, 0.0, 0.0, float("nan"), 0, 0.0,
                                         n_nonfinite=bad, active=w is not None))
            continue
        n = w.size
        n_total += n
        mean = float(w.mean())
        error = float(w.std(ddof=1) / np.sqrt(n)) if n > 1 else float("inf")
        unw = metrics.unweighting_efficiency(w, max_overweight)
        records.append(ChannelResult(
            name=name, cross_section=mean, error=error, rel_std=metrics.relative_std(w),
            n_points=n, unweighting_efficiency=unw.efficiency, w_max=unw.w_max,
            overweight_fraction=unw.overweight_fraction, n_nonfinite=bad))
    sigma = sum(r.cross_section for r in records)
    error = float(np.sqrt(sum(r.error ** 2 for r in records if r.n_points)))
    overweight = (sum(r.cross_section * r.overweight_fraction for r in records) / sigma
                  if sigma else 0.0)
    return IntegrationResult(
        cross_section=sigma,
        error=error,
        n_calls=n_total,
        rel_std=metrics.combined_relative_std(sigma, error, n_total),
        unweighting_efficiency=metrics.combined_unweighting_efficiency(
            [r.cross_section for r in records], [r.unweighting_efficiency for r in records]),
        overweight_fraction=float(overweight),
        channels=records,
        phases=dict(phases or {}),
        sampler=sampler,
    )
