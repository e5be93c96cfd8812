"""How many points each channel gets: stratified allocation with a floor.

For a stratified estimate ``sigma = sum_c mean_c(w)`` with ``n_c`` points in
channel ``c``, the variance ``sum_c Var_c(w) / n_c`` at fixed ``sum_c n_c`` is
smallest for ``n_c`` proportional to the channel's standard deviation
(Neyman allocation).  Estimated standard deviations can be zero or badly
underestimated for a channel that has not yet found its peak, so a fixed
share ``floor`` of the points is spread evenly over the active channels.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.sampler.allocation import allocate_points
    >>> allocate_points(1000, np.array([3.0, 1.0, 0.0]), floor=0.3).tolist()
    [625, 275, 100]
"""

from __future__ import annotations

import numpy as np

__all__ = ["allocate_points"]


def allocate_points(
    n_points: int,
    channel_std: np.ndarray,
    floor: float = 0.1,
    active: np.ndarray | None = None,
    min_points: int = 2,
) -> np.ndarray:
    """Split ``n_points`` over channels in proportion to ``channel_std``, with a floor.

    Args:
        n_points: total points to allocate.
        channel_std: ``(n_channels,)`` standard deviation of the weights per
            channel (non-finite entries count as 0).
        floor: share of ``n_points`` spread evenly over the active channels.
        active: ``(n_channels,)`` bool; inactive (dropped) channels get 0.
        min_points: every active channel gets at least this many points, so
            its variance can be estimated.

    Returns:
        ``(n_channels,)`` int64 counts summing to ``n_points`` (or to
        ``min_points`` times the active channels if that is larger).
    """
    std = np.nan_to_num(np.asarray(channel_std, dtype=np.float64), nan=0.0, posinf=0.0)
    std = np.clip(std, 0.0, None)
    if active is None:
        active = np.ones(std.shape, dtype=bool)
    active = np.asarray(active, dtype=bool)
    n_active = int(active.sum())
    if n_active == 0:
        raise ValueError("no active channel to allocate points to")
    std = np.where(active, std, 0.0)
    even = active / n_active
    share = even if std.sum() == 0.0 else (1.0 - floor) * std / std.sum() + floor * even
    exact = share * n_points
    counts = np.floor(exact).astype(np.int64)
    # Largest remainders get the leftover points, so the total is exact.
    leftover = n_points - counts.sum()
    order = np.argsort(-(exact - counts), kind="stable")
    counts[order[:leftover]] += 1
    counts = np.where(active, np.maximum(counts, min_points), 0)
    return counts
