"""Rational-quadratic spline coupling flows on the unit hypercube.

A flow maps latent points ``z`` uniform on ``[0, 1]^d`` to ``y`` in
``[0, 1]^d`` through coupling blocks; each block transforms a subset of the
coordinates with monotonic rational-quadratic splines (Durkan, Bekasov,
Murray, Papamakarios, "Neural Spline Flows", NeurIPS 2019, arXiv:1906.04032)
whose knots are predicted by a network from the other coordinates and the
channel.  The splines live on the whole unit interval (no tails), so the
flow is a bijection of the hypercube and the density is ``|dz/dy|``.

Masks: block pair ``b`` transforms the coordinates whose index has bit ``b``
set, conditioned on the others, then the complement.  Any two coordinates
differ in some bit, so after ``2 * ceil(log2 d)`` blocks every coordinate has
conditioned every other one (the logarithmic scheme of MadNIS,
arXiv:2212.06172).

The coupling networks see the conditioning coordinates standardised,
``sqrt(12) (y - 1/2)``: mean 0 and variance 1 for uniform ``y``, which is
about what the flow sees once the VEGAS layer between it and the integrand
has flattened the target.

The last layer of every coupling network starts at zero and the spline
parameters are arranged so that zero means equal bins and unit slopes: the
untrained flow is the identity (up to rounding).

Multi-channel: the channel enters either as a one-hot condition of one shared
network (``channel_mode="conditional"``) or by giving every channel its own
weights (``channel_mode="per_channel"``), evaluated for a mixed batch by
grouping its rows by channel, one matrix product per channel.

Example:
    >>> import torch
    >>> from madnis_plugin.sampler.flows import CouplingFlow
    >>> flow = CouplingFlow(dim=3, n_channels=2).double()
    >>> z = torch.rand(5, 3, dtype=torch.float64)
    >>> y, log_jac = flow(z, torch.tensor([0, 1, 0, 1, 1]))
    >>> bool(torch.allclose(y, z)), float(log_jac.detach().abs().max()) < 1e-12
    (True, True)
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["FLOW_VERSION", "INPUT_SCALE", "rq_spline", "rq_segment", "ChannelLinear", "ChannelMLP", "SplineCoupling",
           "CouplingFlow", "log_masks", "softmax_last"]

#: How the network outputs become a flow; saved samplers carry it, and a file of
#: another version is refused (its weights would describe another density).
#: 1: end slopes unbounded (files without the key); 2: ``max_edge_slope``;
#: 3: standardised network inputs (:data:`INPUT_SCALE`).
FLOW_VERSION = 3

#: The coupling networks see ``INPUT_SCALE * (y - 1/2)`` of the conditioning
#: coordinates ``y``: unit variance for uniform ``y``. Why: on inputs in
#: [0, 1] the first layer's gradients share their sign, and Adam zig-zags
#: (LeCun, Bottou, Orr, Mueller, "Efficient BackProp", 1998). Measured on
#: w_jet (docs/sampler.md, stop 23): relative std 0.172 -> 0.157, unweighting
#: efficiency 0.621 -> 0.654 on 300k points.
INPUT_SCALE = math.sqrt(12.0)


def softmax_last(x: torch.Tensor) -> torch.Tensor:
    """Softmax over the last axis, written out: ``exp(x - max) / sum``.

    Why not ``torch.softmax``: on the CPU build of torch 2.13 with one thread
    it took 560 us for the ``(1024, 3, 10)`` bin logits of a coupling against
    114 us written out (forward and backward: 926 against 383 us), and it
    runs twice per coupling per step. Same values to float rounding.
    """
    e = torch.exp(x - x.max(dim=-1, keepdim=True).values)
    return e / e.sum(dim=-1, keepdim=True)


def rq_spline(
    x: torch.Tensor,
    widths: torch.Tensor,
    heights: torch.Tensor,
    derivatives: torch.Tensor,
    inverse: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monotonic rational-quadratic spline of ``[0, 1]`` onto itself, elementwise.

    Args:
        x: ``(...)`` inputs in [0, 1] (outputs when ``inverse``).
        widths: ``(..., K)`` positive bin widths summing to 1.
        heights: ``(..., K)`` positive bin heights summing to 1.
        derivatives: ``(..., K + 1)`` positive slopes at the knots.
        inverse: evaluate the inverse map.

    Returns:
        ``(y, log|dy/dx|)`` of the map evaluated (for ``inverse``, the inverse's
        output and ``log|dx/dy|`` of the inverse), both shaped like ``x``.
    """
    x = x.clamp(0.0, 1.0)
    # The last knot is 1 exactly: a cumulative sum of all the bins can miss it by rounding.
    knots_x = F.pad(F.pad(torch.cumsum(widths[..., :-1], dim=-1), (1, 0)), (0, 1), value=1.0)
    knots_y = F.pad(F.pad(torch.cumsum(heights[..., :-1], dim=-1), (1, 0)), (0, 1), value=1.0)
    search = knots_y if inverse else knots_x
    n_bins = widths.shape[-1]
    index = (torch.searchsorted(search.contiguous(), x[..., None].contiguous(), right=True) - 1)
    index = index.clamp(0, n_bins - 1)

    def pick(t: torch.Tensor) -> torch.Tensor:
        return torch.gather(t, -1, index)[..., 0]

    return rq_segment(x, pick(knots_x), pick(knots_y), pick(widths), pick(heights),
                      pick(derivatives[..., :-1]), pick(derivatives[..., 1:]), inverse)


def rq_segment(
    x: torch.Tensor,
    x_k: torch.Tensor,
    y_k: torch.Tensor,
    w: torch.Tensor,
    h: torch.Tensor,
    d_k: torch.Tensor,
    d_k1: torch.Tensor,
    inverse: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The rational-quadratic map within the bin holding each ``x``, elementwise.

    The bin starts at knot ``(x_k, y_k)``, has width ``w``, height ``h`` and
    slopes ``d_k``, ``d_k1`` at its ends; all arguments share one shape.
    Returns ``(y, log|dy/dx|)`` (for ``inverse``: ``x`` is an output value,
    and the inverse's output and ``log|dx/dy|`` are returned).
    """
    s = h / w
    bend = d_k1 + d_k - 2.0 * s
    if inverse:
        dy = x - y_k
        a = h * (s - d_k) + dy * bend
        b = h * d_k - dy * bend
        c = -s * dy
        disc = (b * b - 4.0 * a * c).clamp_min(0.0)
        xi = (2.0 * c / (-b - torch.sqrt(disc))).clamp(0.0, 1.0)
        out = x_k + xi * w
    else:
        xi = ((x - x_k) / w).clamp(0.0, 1.0)
        out = y_k + h * (s * xi * xi + d_k * xi * (1 - xi)) / (s + bend * xi * (1 - xi))
    one_minus = 1.0 - xi
    denom = s + bend * xi * one_minus
    log_slope = (2.0 * torch.log(s) + torch.log(d_k1 * xi * xi + 2.0 * s * xi * one_minus
                                                  + d_k * one_minus * one_minus)
                 - 2.0 * torch.log(denom))
    return out.clamp(0.0, 1.0), (-log_slope if inverse else log_slope)


class ChannelLinear(nn.Module):
    """A linear layer with separate weights per channel, applied to a mixed batch.

    Args:
        n_channels: number of channels ``C``.
        in_features, out_features: layer widths.

    ``forward(x (n, in), channel (n,)) -> (n, out)``: row ``i`` uses channel
    ``channel[i]``'s weights; :meth:`grouped` does the same for rows already
    grouped by channel.
    """

    def __init__(self, n_channels: int, in_features: int, out_features: int):
        super().__init__()
        bound = 1.0 / math.sqrt(max(in_features, 1))
        self.weight = nn.Parameter(torch.empty(n_channels, in_features, out_features).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(n_channels, out_features).uniform_(-bound, bound))

    def forward(self, x: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
        order, sizes = group_rows(channel, self.weight.shape[0])
        return ungroup_rows(self.grouped(x[order], sizes), order)

    def grouped(self, x: torch.Tensor, sizes: list[int]) -> torch.Tensor:
        """``x`` ``(n, in)`` whose rows are ``sizes[c]`` rows of channel ``c``, for ``c = 0, 1, ...``."""
        return torch.cat([part @ self.weight[c] + self.bias[c] for c, part in enumerate(torch.split(x, sizes))])


def group_rows(channel: torch.Tensor, n_channels: int) -> tuple[torch.Tensor, list[int]]:
    """The row order that groups ``channel`` ``(n,)`` by channel (stable), and the group sizes.

    A per-channel network then costs one matrix product per channel. (Building
    a weight matrix per row, as a product with the one-hot channel, cost
    2.8-3.3 times the shared network's step at 2-20 channels;
    ``benchmarks/bench_flow_step.py``, docs/sampler.md.) The permutation is
    deterministic on every device: its backward adds each gradient to its own
    row, never two to one.
    """
    return torch.argsort(channel, stable=True), torch.bincount(channel, minlength=n_channels).tolist()


def ungroup_rows(x: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    """Rows of ``x`` (in the :func:`group_rows` order) back in the original order."""
    return x[torch.argsort(order)]


class ChannelMLP(nn.Module):
    """A multi-layer perceptron that knows the channel, with a zero last layer.

    Args:
        in_features: inputs besides the channel.
        out_features: outputs.
        n_channels: number of channels.
        hidden: width of the hidden layers.
        layers: number of hidden layers.
        channel_mode: ``"conditional"`` (one network, one-hot channel appended
            to the input) or ``"per_channel"`` (own weights per channel).

    ``forward(x (n, in), channel (n,)) -> (n, out)``; zero at initialisation.
    """

    def __init__(self, in_features: int, out_features: int, n_channels: int, hidden: int = 64,
                 layers: int = 3, channel_mode: str = "conditional"):
        super().__init__()
        if channel_mode not in ("conditional", "per_channel"):
            raise ValueError(f"unknown channel_mode {channel_mode!r}")
        self.channel_mode = channel_mode
        self.n_channels = n_channels
        widths = [in_features + (n_channels if channel_mode == "conditional" and n_channels > 1 else 0)]
        widths += [hidden] * layers + [out_features]
        if channel_mode == "conditional":
            self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        else:
            self.layers = nn.ModuleList(ChannelLinear(n_channels, a, b) for a, b in zip(widths[:-1], widths[1:]))
        # A zero last layer makes the coupling start at the identity.
        nn.init.zeros_(self.layers[-1].weight)
        nn.init.zeros_(self.layers[-1].bias)

    def forward(self, x: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
        if self.channel_mode == "conditional":
            if self.n_channels > 1:
                x = torch.cat([x, F.one_hot(channel, self.n_channels).to(x.dtype)], dim=1)
            for i, layer in enumerate(self.layers):
                x = layer(x)
                if i < len(self.layers) - 1:
                    x = F.leaky_relu(x)
            return x
        order, sizes = group_rows(channel, self.n_channels)
        x = x[order]
        for i, layer in enumerate(self.layers):
            x = layer.grouped(x, sizes)
            if i < len(self.layers) - 1:
                x = F.leaky_relu(x)
        return ungroup_rows(x, order)


class SplineCoupling(nn.Module):
    """One coupling block: RQ splines on ``mask`` coordinates, knots from the others.

    Args:
        mask: ``(d,)`` bool, True for the transformed coordinates.
        n_channels: number of channels.
        bins: spline bins ``K``.
        hidden, layers, channel_mode: passed to :class:`ChannelMLP`.
        min_bin: smallest bin width/height (as a share of the interval).
        min_derivative: smallest knot slope.
        max_edge_slope: largest slope at the two end knots (0: unbounded), so
            that the block lowers the density at a face of the hypercube by at
            most this factor.

    Why the edge bound: few training points fall near a face of the
    hypercube, and the variance loss sees too few of them to stop a block
    from thinning the density there; on t t~ dilepton the largest weights sat
    at the t t~ threshold, a corner of two coordinates, where the flow had
    made the VEGAS layer's density 4-8 times thinner (docs/sampler.md).
    """

    def __init__(self, mask: torch.Tensor, n_channels: int, bins: int = 10, hidden: int = 64,
                 layers: int = 3, channel_mode: str = "conditional", min_bin: float = 1e-3,
                 min_derivative: float = 1e-3, max_edge_slope: float = 0.0):
        super().__init__()
        if max_edge_slope != 0 and max_edge_slope <= 1:
            raise ValueError(f"max_edge_slope must be 0 (unbounded) or above 1, got {max_edge_slope}")
        self.register_buffer("mask", mask.clone())
        # Column indices instead of boolean indexing, which costs a nonzero()
        # per call and an index_put in the backward pass (3% of a gg_ggg
        # training step; docs/sampler.md, stop 20). Each index appears once, so
        # the backward adds each gradient to its own column: deterministic on
        # every device. Not saved: they follow from the mask.
        conditioning, moved = torch.nonzero(~mask)[:, 0], torch.nonzero(mask)[:, 0]
        self.register_buffer("conditioning", conditioning, persistent=False)
        self.register_buffer("moved", moved, persistent=False)
        self.register_buffer("restore", torch.argsort(torch.cat([conditioning, moved])), persistent=False)
        self.n_transformed = int(mask.sum())
        self.bins = bins
        self.min_bin = min_bin
        self.min_derivative = min_derivative
        self.max_edge_slope = max_edge_slope
        # softplus(0 + shift) + min_derivative = 1: zero parameters give unit slopes.
        self.derivative_shift = math.log(math.expm1(1.0 - min_derivative))
        # min + (max - min) sigmoid(0 + shift) = 1 likewise for the bounded end slopes.
        self.edge_shift = (math.log((1.0 - min_derivative) / (max_edge_slope - 1.0))
                           if max_edge_slope else 0.0)
        self.net = ChannelMLP(int((~mask).sum()), self.n_transformed * (3 * bins + 1), n_channels,
                              hidden, layers, channel_mode)

    def _spline_parameters(self, condition: torch.Tensor, channel: torch.Tensor):
        raw = self.net(INPUT_SCALE * (condition - 0.5), channel).reshape(-1, self.n_transformed, 3 * self.bins + 1)
        k = self.bins
        widths = self.min_bin + (1 - k * self.min_bin) * softmax_last(raw[..., :k])
        heights = self.min_bin + (1 - k * self.min_bin) * softmax_last(raw[..., k:2 * k])
        derivatives = self.min_derivative + F.softplus(raw[..., 2 * k:] + self.derivative_shift)
        if self.max_edge_slope:
            edges = self.min_derivative + (self.max_edge_slope - self.min_derivative) * torch.sigmoid(
                raw[..., [2 * k, 3 * k]] + self.edge_shift)
            derivatives = torch.cat([edges[..., :1], derivatives[..., 1:-1], edges[..., 1:]], dim=-1)
        return widths, heights, derivatives

    def forward(self, x: torch.Tensor, channel: torch.Tensor, inverse: bool = False):
        """Transform ``x`` ``(n, d)``; returns ``(x', log|dx'/dx|)`` with shapes ``(n, d)``, ``(n,)``."""
        condition = x.index_select(1, self.conditioning)
        params = self._spline_parameters(condition, channel)
        moved, log_jac = rq_spline(x.index_select(1, self.moved), *params, inverse=inverse)
        return torch.cat([condition, moved], dim=1).index_select(1, self.restore), log_jac.sum(dim=1)


def log_masks(dim: int) -> list[torch.Tensor]:
    """The masks of the logarithmic scheme: for each bit ``b``, bit set, then its complement.

    Example:
        >>> [m.int().tolist() for m in log_masks(3)]
        [[0, 1, 0], [1, 0, 1], [0, 0, 1], [1, 1, 0]]
    """
    index = torch.arange(dim)
    masks = []
    for bit in range(max(1, math.ceil(math.log2(dim)))):
        mask = ((index >> bit) & 1).bool()
        masks += [mask, ~mask]
    # In one dimension there is nothing to condition on: one unconditional spline.
    return [m for m in masks if m.any()]


class CouplingFlow(nn.Module):
    """A channel-aware spline coupling flow of ``[0, 1]^d``, the identity at initialisation.

    Args:
        dim: dimension ``d``.
        n_channels: number of channels.
        bins: spline bins per coordinate.
        hidden: hidden width of the coupling networks.
        layers: hidden layers of the coupling networks.
        channel_mode: ``"conditional"`` or ``"per_channel"`` (see the module docstring).
        repeats: how many times the logarithmic mask sequence is repeated.
        max_edge_slope: passed to every :class:`SplineCoupling`.

    ``forward(z, channel)`` maps latent ``z`` ``(n, d)`` to ``y`` and returns
    ``(y, log|dy/dz|)``; ``inverse(y, channel)`` returns ``(z, log|dz/dy|)``,
    and ``log|dz/dy|`` is the log-density of ``y``.
    """

    def __init__(self, dim: int, n_channels: int = 1, bins: int = 10, hidden: int = 64,
                 layers: int = 3, channel_mode: str = "conditional", repeats: int = 1,
                 max_edge_slope: float = 0.0):
        super().__init__()
        self.dim = dim
        self.n_channels = n_channels
        masks = log_masks(dim) * repeats
        self.blocks = nn.ModuleList(
            SplineCoupling(m, n_channels, bins, hidden, layers, channel_mode,
                           max_edge_slope=max_edge_slope) for m in masks)

    def forward(self, z: torch.Tensor, channel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_jac = torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        for block in self.blocks:
            z, lj = block(z, channel)
            log_jac = log_jac + lj
        return z, log_jac

    def inverse(self, y: torch.Tensor, channel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        log_jac = torch.zeros(y.shape[0], dtype=y.dtype, device=y.device)
        for block in reversed(self.blocks):
            y, lj = block(y, channel, inverse=True)
            log_jac = log_jac + lj
        return y, log_jac

    def log_density(self, y: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
        """``log q(y)`` ``(n,)`` of points ``y`` ``(n, d)`` under the flow."""
        return self.inverse(y, channel)[1]
