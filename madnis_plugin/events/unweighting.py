"""Unweighting with bounded overweights (DESIGN.md).

Generation draws the channel of every point at random with probabilities
``p_c`` (:func:`generation_allocation`, ``p_c ∝ w_max_c``); a point of
channel ``c`` with sampler weight ``w`` (mean ``sigma_c`` over the channel)
then has the sample weight ``W = w / p_c`` (mean ``sigma`` over the batch).
Accepting with probability ``min(1, W / W_max)`` gives events distributed as
the integrand; an accepted overweight keeps the factor ``W / W_max`` so the
sample stays unbiased. With ``p_c ∝ w_max_c`` and ``W_max = sum_c w_max_c``
this is exactly per-channel unweighting with thresholds ``w_max_c``, whose
efficiency is DESIGN.md's ``sigma / sum_c sigma_c/eps_c``.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.events.unweighting import unweight
    >>> rng = np.random.default_rng(1)
    >>> res = unweight(np.array([1.0, 2.0, 4.0]), 2.0, rng)
    >>> bool(res.accepted[2]), float(res.factor[2])
    (True, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["UnweightingResult", "unweight", "generation_allocation"]


@dataclass(slots=True)
class UnweightingResult:
    """Outcome of unweighting one batch.

    Attributes:
        accepted: ``(n,)`` bool, the points kept as events.
        factor: ``(n,)`` ``max(1, W / W_max)``: an accepted overweight's weight
            relative to the nominal event weight.
        overweight_sum: sum over accepted points of ``factor - 1`` (in units of
            the nominal event weight), for the overweight share.
    """

    accepted: np.ndarray
    factor: np.ndarray
    overweight_sum: float


def unweight(sample_weight: np.ndarray, w_max: float, rng: np.random.Generator) -> UnweightingResult:
    """Accept each point with probability ``min(1, W / w_max)``.

    Args:
        sample_weight: ``(n,)`` weights ``W`` of the batch (mean: the cross section).
        w_max: the threshold.
        rng: random generator.
    """
    if not w_max > 0:
        raise ValueError(f"unweighting threshold must be positive, got {w_max}")
    ratio = np.asarray(sample_weight, dtype=np.float64) / w_max
    accepted = rng.random(ratio.shape[0]) < ratio
    factor = np.maximum(1.0, ratio)
    return UnweightingResult(accepted, factor, float((factor[accepted] - 1.0).sum()))


def generation_allocation(w_max: np.ndarray) -> np.ndarray:
    """Channel probabilities ``p_c ∝ w_max_c`` for generation batches."""
    w_max = np.asarray(w_max, dtype=np.float64)
    if not w_max.sum() > 0:
        raise ValueError("no channel has a positive unweighting threshold")
    return w_max / w_max.sum()
