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

With ``trainable=True`` the increment heights are parameters, so training
can move the nodes as the flow learns (``vegas_layer = trainable``): a flow
with a few spline bins cannot correct a mismatch on the scale of one of 64
VEGAS increments, the nodes can.

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


class SmoothGrids(torch.nn.Module):
    """Smooth maps ``[0, 1]^d -> [0, 1]^d``, one per channel, through VEGAS grid nodes.

    Args:
        nodes: ``(n_channels, dim, bins + 1)`` increment edges per channel and
            axis, increasing from 0 to 1 (:meth:`VegasGrids.nodes`).
        trainable: the increment heights become parameters (``log_heights``,
            normalised by a softmax per axis) that training refines, starting
            at the VEGAS grid; otherwise the layer is fixed.
    """

    def __init__(self, nodes: np.ndarray, trainable: bool = False):
        super().__init__()
        nodes = np.asarray(nodes, dtype=np.float64)
        if nodes.ndim != 3 or nodes.shape[2] < 2:
            raise ValueError(f"nodes must have shape (channels, dim, bins + 1), got {nodes.shape}")
        heights = np.diff(nodes, axis=2)
        if np.any(heights <= 0.0):
            raise ValueError("grid nodes must be strictly increasing")
        self.bins = nodes.shape[2] - 1
        self.trainable = trainable
        self.log_heights = torch.nn.Parameter(torch.from_numpy(np.log(heights)), requires_grad=trainable)
        # A fixed layer keeps VEGAS' nodes bit for bit.
        self._fixed = None if trainable else self._tables(torch.from_numpy(nodes))

    def _tables(self, nodes: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Nodes, increment heights and knot derivatives ``dr/dy``, each ``(channels, dim, ...)``."""
        if nodes is None:
            if self._fixed is not None:
                return self._fixed
            cumulative = torch.cumsum(torch.softmax(self.log_heights, dim=2), dim=2)
            nodes = torch.cat([torch.zeros_like(cumulative[..., :1]), cumulative / cumulative[..., -1:]], dim=2)
        heights = torch.diff(nodes, dim=2)
        slopes = heights * self.bins                                     # dr/dy of VEGAS per increment
        inner = 2.0 * slopes[..., :-1] * slopes[..., 1:] / (slopes[..., :-1] + slopes[..., 1:])
        return nodes, heights, torch.cat([slopes[..., :1], inner, slopes[..., -1:]], dim=2)

    def nodes(self) -> np.ndarray:
        """``(channels, dim, bins + 1)`` the current nodes (the VEGAS ones until training moves them)."""
        with torch.no_grad():
            return self._tables()[0].numpy().copy()

    def _segment(self, channel: torch.Tensor, values: torch.Tensor, k: torch.Tensor, inverse: bool):
        """The map (or inverse) of ``values`` ``(n, d)`` in increments ``k``: output, log|d out/d in| ``(n,)``."""
        nodes, heights, derivatives = self._tables()
        row, axis = channel[:, None], torch.arange(k.shape[1])[None, :]
        out, log_slope = rq_segment(values, k.to(torch.float64) / self.bins, nodes[row, axis, k],
                                    torch.full_like(values, 1.0 / self.bins), heights[row, axis, k],
                                    derivatives[row, axis, k], derivatives[row, axis, k + 1], inverse)
        return out, log_slope.sum(dim=1)

    @torch.no_grad()
    def map(self, channel: int, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map ``y`` ``(n, dim)`` in [0, 1) to ``r`` ``(n, dim)`` and the density ``q(r)`` ``(n,)``."""
        y = torch.as_tensor(np.asarray(y, dtype=np.float64))
        k = torch.clamp((y * self.bins).floor().long(), 0, self.bins - 1)
        r, log_dr_dy = self._segment(torch.full((y.shape[0],), channel), y, k, inverse=False)
        return np.minimum(r.numpy(), _BELOW_ONE), torch.exp(-log_dr_dy).numpy()

    @torch.no_grad()
    def invmap(self, channel: int, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Invert :meth:`map`: ``y`` ``(n, dim)`` and the density ``q(r)`` ``(n,)`` for ``r`` ``(n, dim)``."""
        r = torch.as_tensor(np.asarray(r, dtype=np.float64))
        nodes = self._tables()[0][channel]
        k = torch.stack([torch.searchsorted(nodes[axis], r[:, axis].contiguous(), right=True) - 1
                         for axis in range(r.shape[1])], dim=1)
        y, log_dy_dr = self._segment(torch.full((r.shape[0],), channel), r, torch.clamp(k, 0, self.bins - 1),
                                     inverse=True)
        return y.numpy(), torch.exp(log_dy_dr).numpy()

    def inverse(self, channel: torch.Tensor, r: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Differentiable inverse for a mixed batch: ``y`` ``(n, d)`` and ``log |dy/dr|`` ``(n,)``.

        Args:
            channel: ``(n,)`` channel of each point.
            r: ``(n, d)`` float64 points.
        """
        nodes = self._tables()[0]
        rows = nodes[channel]                                            # (n, d, bins + 1)
        k = torch.searchsorted(rows, r[..., None].contiguous(), right=True)[..., 0] - 1
        return self._segment(channel, r, torch.clamp(k, 0, self.bins - 1), inverse=True)

    def density(self, channel: int, r: np.ndarray) -> np.ndarray:
        """``q_c(r)`` ``(n,)`` for points ``r`` ``(n, dim)``."""
        return self.invmap(channel, r)[1]
