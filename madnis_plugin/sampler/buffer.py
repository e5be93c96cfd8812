"""A per-channel ring buffer of evaluated samples for buffered training steps.

Every sample keeps what a later loss needs without calling the integrand
again, in the coordinates training works in
(:meth:`~madnis_plugin.sampler.madnis_sampler.MadnisSampler.training_sample`):
the ``point`` (flow-space ``y`` under a fixed VEGAS layer, ``r`` under a
trainable one), the integrand ``value`` there (channel weight not applied),
the prior row, the features, and ``log g``, the log-density of the point
under the sampler that drew it.  A buffered step reweights by ``q_now / g``,
so reusing old samples is unbiased.  When a channel is full its oldest samples are overwritten.

Example:
    >>> import torch
    >>> from madnis_plugin.sampler.buffer import SampleBuffer
    >>> buf = SampleBuffer(n_channels=1, capacity=3, dim=1, n_features=1)
    >>> one = torch.ones(2)
    >>> buf.add(0, torch.zeros(2, 1), one, torch.ones(2, 1), torch.zeros(2, 1), one)
    >>> buf.size(0)
    2
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["SampleBuffer", "BufferBatch"]

BufferBatch = dict[str, torch.Tensor]
"""``channel (n,)``, ``point (n, d)``, ``value (n,)``, ``prior (n, C)``, ``features (n, F)``, ``log_g (n,)``."""


class SampleBuffer:
    """Ring buffers of ``capacity`` samples per channel.

    Args:
        n_channels: number of channels ``C``.
        capacity: samples kept per channel.
        dim: dimension of the points.
        n_features: width of the features.
        dtype, device: storage of the tensors.
    """

    def __init__(self, n_channels: int, capacity: int, dim: int, n_features: int,
                 dtype: torch.dtype = torch.float32, device: torch.device | str = "cpu"):
        self.capacity = capacity
        self.n_channels = n_channels
        self.dtype = dtype
        self.device = device
        # Storage grows with the samples actually added (up to capacity), so
        # memory follows the training budget, not capacity times channels.
        self.data: list[dict[str, torch.Tensor]] = [{} for _ in range(n_channels)]
        self.count = np.zeros(n_channels, dtype=np.int64)   # samples ever added

    def size(self, channel: int) -> int:
        """Samples currently held for ``channel``."""
        return int(min(self.count[channel], self.capacity))

    def clear(self, channel: int) -> None:
        """Forget ``channel``'s samples (a dropped channel)."""
        self.count[channel] = 0
        self.data[channel] = {}

    def add(self, channel: int, point: torch.Tensor, value: torch.Tensor, prior: torch.Tensor,
            features: torch.Tensor, log_g: torch.Tensor) -> None:
        """Append ``n`` samples of ``channel`` (shapes as in :data:`BufferBatch`)."""
        new = {"point": point, "value": value, "prior": prior, "features": features, "log_g": log_g}
        new = {k: v[-self.capacity:].to(device=self.device, dtype=self.dtype) for k, v in new.items()}
        n_all = point.shape[0]
        n = new["point"].shape[0]
        if n == 0:
            return
        self.count[channel] += n_all - n
        store = self.data[channel]
        held = self.size(channel)
        empty = not store
        if held + n <= self.capacity and (empty or store["point"].shape[0] == held):
            for key, value in new.items():
                store[key] = value if empty else torch.cat([store[key], value])
        else:
            if store["point"].shape[0] < self.capacity:
                room = self.capacity - store["point"].shape[0]
                for key, value in new.items():
                    store[key] = torch.cat([store[key], torch.zeros_like(value[:1]).expand(
                        room, *value.shape[1:])])
            slots = torch.as_tensor((self.count[channel] + np.arange(n)) % self.capacity, device=self.device)
            for key, value in new.items():
                store[key][slots] = value
        self.count[channel] += n

    def draw(self, counts: np.ndarray, rng: np.random.Generator) -> BufferBatch:
        """``counts[c]`` samples of each channel, uniformly with replacement, grouped by channel."""
        parts = []
        for c, n in enumerate(counts):
            held = self.size(c)
            if n == 0 or held == 0:
                continue
            row = torch.as_tensor(rng.integers(0, held, size=int(n)), device=self.device)
            part = {key: value[row] for key, value in self.data[c].items()}
            part["channel"] = torch.full((int(n),), c, dtype=torch.int64, device=self.device)
            parts.append(part)
        return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
