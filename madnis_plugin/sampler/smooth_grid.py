"""A VEGAS grid as a smooth, fixed bijection: monotone rational-quadratic splines through its nodes.

VEGAS maps ``y`` in [0, 1] to ``r`` piecewise linearly: increment ``k`` of
each axis takes ``y`` in ``[k/N, (k+1)/N]`` onto ``[g_k, g_{k+1}]``, so its
density is piecewise constant and jumps at every node. A flow that starts
on top of that layer sees those jumps in its target and, with a few spline
bins per coordinate, cannot remove them. :class:`SmoothGrids` passes a
monotone rational-quadratic spline (Gregory and Delbourgo 1982; the form
of Durkan et al. 2019) through the same nodes ``(k/N, g_k)``: every
increment keeps probability ``1/N`` exactly, as in VEGAS, and the density
is continuous, with the derivative at an inner node set to the harmonic
mean of the two neighbouring increment slopes (the density there is the
mean of the two VEGAS densities). The map, its inverse and the Jacobian are
exact, in float64, evaluated by the flows' own spline formula
(:func:`~madnis_plugin.sampler.flows.rq_segment`).

Example:
    >>> import numpy as np
    >>> nodes = np.array([[[0.0, 0.1, 0.3, 1.0]]])     # one channel, one axis, three increments
    >>> layer = SmoothGrids(nodes)
    >>> r, q = layer.map(0, np.array([[0.0], [1 / 3], [2 / 3]]))
    >>> np.round(r[:, 0], 12).tolist()
    [0.0, 0.1, 0.3]
    >>> y, q_back = layer.invmap(0, r)
    >>> bool(np.allclose(y[:, 0], [0.0, 1 / 3, 2 / 3]) and np.allclose(q, q_back))
    True
"""

from __future__ import annotations

import numpy as np
import torch

from madnis_plugin.sampler.flows import rq_segment
from madnis_plugin.sampler.vegas_sampler import _BELOW_ONE


class SmoothGrids:
    """Fixed smooth maps ``[0, 1]^d -> [0, 1]^d``, one per channel, through VEGAS grid nodes.

    Args:
        nodes: ``(n_channels, dim, bins + 1)`` increment edges per channel and
            axis, increasing from 0 to 1 (:meth:`VegasGrids.nodes`).
    """

    def __init__(self, nodes: np.ndarray):
        nodes = np.asarray(nodes, dtype=np.float64)
        if nodes.ndim != 3 or nodes.shape[2] < 2:
            raise ValueError(f"nodes must have shape (channels, dim, bins + 1), got {nodes.shape}")
        heights = np.diff(nodes, axis=2)
        if np.any(heights <= 0.0):
            raise ValueError("grid nodes must be strictly increasing")
        self.bins = nodes.shape[2] - 1
        slopes = heights * self.bins                                     # dr/dy of VEGAS per increment
        inner = 2.0 * slopes[..., :-1] * slopes[..., 1:] / (slopes[..., :-1] + slopes[..., 1:])
        self.derivatives = torch.from_numpy(np.concatenate([slopes[..., :1], inner, slopes[..., -1:]], axis=2))
        self.nodes = torch.from_numpy(nodes)
        self.heights = torch.from_numpy(heights)

    def _segment(self, channel: int, values: torch.Tensor, k: torch.Tensor, inverse: bool):
        axis = torch.arange(k.shape[1])[None, :]
        width = torch.full_like(values, 1.0 / self.bins)
        out, log_slope = rq_segment(values, k.to(torch.float64) / self.bins, self.nodes[channel][axis, k], width,
                                    self.heights[channel][axis, k], self.derivatives[channel][axis, k],
                                    self.derivatives[channel][axis, k + 1], inverse)
        # The density of r: exp(-sum log dr/dy), whichever way the map ran.
        log_density = -log_slope.sum(dim=1) if not inverse else log_slope.sum(dim=1)
        return out.numpy(), torch.exp(log_density).numpy()

    def map(self, channel: int, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map ``y`` ``(n, dim)`` in [0, 1) to ``r`` ``(n, dim)`` and the density ``q(r)`` ``(n,)``."""
        y = torch.as_tensor(np.asarray(y, dtype=np.float64))
        k = torch.clamp((y * self.bins).floor().long(), 0, self.bins - 1)
        r, density = self._segment(channel, y, k, inverse=False)
        return np.minimum(r, _BELOW_ONE), density

    def invmap(self, channel: int, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Invert :meth:`map`: ``y`` ``(n, dim)`` and the density ``q(r)`` ``(n,)`` for ``r`` ``(n, dim)``."""
        r = torch.as_tensor(np.asarray(r, dtype=np.float64))
        k = torch.stack([torch.searchsorted(self.nodes[channel, axis], r[:, axis].contiguous(), right=True) - 1
                         for axis in range(r.shape[1])], dim=1)
        return self._segment(channel, r, torch.clamp(k, 0, self.bins - 1), inverse=True)

    def density(self, channel: int, r: np.ndarray) -> np.ndarray:
        """``q_c(r)`` ``(n,)`` for points ``r`` ``(n, dim)``."""
        return self.invmap(channel, r)[1]
