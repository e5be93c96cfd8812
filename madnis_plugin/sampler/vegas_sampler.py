"""The VEGAS baseline: one adaptive grid per channel, channels stratified.

Each channel ``c`` owns a separable piecewise-linear map (a
``vegas.AdaptiveMap`` of ``bins`` increments per axis) from uniform ``y`` to
the integrand's hypercube point ``r``; its density is ``q_c(r) = 1 / |dr/dy|``.
Training draws points, feeds ``(alpha_c f / q_c)^2`` back to the grid (VEGAS'
variance-minimising rule) and adapts with damping ``alpha``.  Points are
allocated across channels in proportion to each channel's weight standard
deviation, with a floor (:func:`~madnis_plugin.sampler.allocation.allocate_points`).

Random numbers come from the sampler's own ``numpy.random.Generator`` (the
grid is used through ``AdaptiveMap.map`` only), so a seed reproduces a run
without touching numpy's global state.

Estimates (:meth:`VegasSampler.integrate`) always come from fresh points
drawn after training.

Example:
    >>> from madnis_plugin.toys import GaussianPeaks
    >>> from madnis_plugin.sampler import VegasSampler
    >>> s = VegasSampler(GaussianPeaks(dim=2, width=0.1), bins=32, seed=1)
    >>> s.train(iterations=3, points_per_iteration=2000)
    >>> res = s.integrate(points=10000)
    >>> abs(res.cross_section - 1.0) < 5 * res.error
    True
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import vegas

from madnis_plugin.interface import IntegrandBatch, MultiChannelIntegrand
from madnis_plugin.sampler.allocation import allocate_points
from madnis_plugin.sampler.estimate import finite_weights, integration_result
from madnis_plugin.sampler.results import IntegrationResult, PhaseCost, SampleBatch

__all__ = ["VegasSampler", "VegasGrids"]

_BELOW_ONE = np.nextafter(1.0, 0.0)


class VegasGrids:
    """One ``vegas.AdaptiveMap`` per channel, with mapping and density helpers.

    Args:
        dim: dimension of the hypercube.
        n_channels: number of channels.
        bins: increments per axis.
        grids: optional ``(n_channels, dim, bins + 1)`` grid nodes to start from
            (default: uniform).

    Example:
        >>> import numpy as np
        >>> g = VegasGrids(dim=2, n_channels=1, bins=4)
        >>> r, q = g.map(0, np.array([[0.25, 0.5]]))
        >>> r.tolist(), q.tolist()
        ([[0.25, 0.5]], [1.0])
    """

    def __init__(self, dim: int, n_channels: int, bins: int, grids: np.ndarray | None = None):
        self.dim = dim
        self.bins = bins
        if grids is None:
            self.maps = [vegas.AdaptiveMap([[0.0, 1.0]] * dim, ninc=bins) for _ in range(n_channels)]
        else:
            self.maps = [vegas.AdaptiveMap(np.asarray(g, dtype=np.float64)) for g in grids]

    def map(self, channel: int, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map uniform ``y`` ``(n, dim)`` to ``r`` ``(n, dim)`` in [0, 1) and its density ``q`` ``(n,)``."""
        y = np.ascontiguousarray(y, dtype=np.float64)
        r = np.empty_like(y)
        jac = np.empty(y.shape[0], dtype=np.float64)
        self.maps[channel].map(y, r, jac)
        # The map can round the top edge of the last increment up to exactly 1.
        np.minimum(r, _BELOW_ONE, out=r)
        return r, 1.0 / jac

    def invmap(self, channel: int, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Invert :meth:`map`: ``y`` ``(n, dim)`` and the density ``q(r)`` ``(n,)`` for ``r`` ``(n, dim)``."""
        r = np.ascontiguousarray(r, dtype=np.float64)
        y = np.empty_like(r)
        jac = np.empty(r.shape[0], dtype=np.float64)
        self.maps[channel].invmap(r, y, jac)
        return y, 1.0 / jac

    def density(self, channel: int, r: np.ndarray) -> np.ndarray:
        """``q_c(r)`` ``(n,)`` for points ``r`` ``(n, dim)``."""
        return self.invmap(channel, r)[1]

    def nodes(self) -> np.ndarray:
        """``(n_channels, dim, bins + 1)`` grid nodes (increment edges) per channel and axis."""
        return np.array([np.asarray(m.extract_grid()) for m in self.maps], dtype=np.float64)


class VegasSampler:
    """VEGAS importance sampling of a :class:`MultiChannelIntegrand`, one grid per channel.

    Args:
        integrand: the multi-channel integrand.
        bins: VEGAS increments per axis.
        seed: seed of the sampler's random generator (None: fresh entropy).
        damping: VEGAS' ``alpha``: how fast the grid follows the training data.
        allocation_floor: share of points spread evenly over channels.
        batch_size: most points per integrand call.
        max_overweight: overweight share defining ``w_max`` in the metrics.

    Attributes:
        grids: the per-channel :class:`VegasGrids`.
        channel_std: ``(n_channels,)`` standard deviation of the weights per
            channel from the last training iteration (drives the allocation).
        phases: ``{"vegas": PhaseCost, "integration": ..., "sampling": ...}``.
        history: one dict per training iteration (``cross_section``, ``error``,
            ``rel_std``, ``points_per_channel``) -- biased, for monitoring only.
        fingerprint: the opaque dict given to :meth:`save`, restored by :meth:`load`.
    """

    name = "vegas"

    def __init__(
        self,
        integrand: MultiChannelIntegrand,
        bins: int = 64,
        seed: int | None = None,
        damping: float = 0.5,
        allocation_floor: float = 0.1,
        batch_size: int = 100_000,
        max_overweight: float = 1e-3,
    ):
        self.integrand = integrand
        self.bins = bins
        self.seed = seed
        self.damping = damping
        self.allocation_floor = allocation_floor
        self.batch_size = batch_size
        self.max_overweight = max_overweight
        self.rng = np.random.default_rng(seed)
        self.grids = VegasGrids(integrand.dim, integrand.n_channels, bins)
        self.channel_std = np.zeros(integrand.n_channels)
        self.phases: dict[str, PhaseCost] = {}
        self.history: list[dict[str, Any]] = []
        self.fingerprint: dict[str, Any] = {}

    # -- drawing ---------------------------------------------------------------

    def _draw(self, channel: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, IntegrandBatch]:
        """``n`` points of one channel: uniform ``y``, ``r``, density ``q`` and the integrand batch."""
        ys, rs, qs, batches = [], [], [], []
        # max(n, 1): a channel allotted no points still yields (empty) arrays.
        for start in range(0, max(n, 1), self.batch_size):
            y = self.rng.random((min(self.batch_size, n - start), self.integrand.dim))
            r, q = self.grids.map(channel, y)
            ys.append(y)
            rs.append(r)
            qs.append(q)
            batches.append(self.integrand(channel, r))
        if len(batches) == 1:
            return ys[0], rs[0], qs[0], batches[0]
        return (np.concatenate(ys), np.concatenate(rs), np.concatenate(qs),
                _concatenate_batches(batches, channel))

    def _phase(self, name: str) -> PhaseCost:
        return self.phases.setdefault(name, PhaseCost())

    def _allocation(self, points: int) -> np.ndarray:
        return allocate_points(points, self.channel_std, floor=self.allocation_floor)

    # -- public API ------------------------------------------------------------

    def train(self, iterations: int = 10, points_per_iteration: int = 10_000,
              on_points: Callable[[int, int, np.ndarray, np.ndarray, IntegrandBatch], None] | None = None) -> None:
        """Adapt the grids: ``iterations`` rounds of ``points_per_iteration`` points over all channels.

        ``on_points(iteration, channel, r, q, batch)``, when given, sees every
        channel's points of every iteration with the density ``q`` they were
        drawn from (before the grid adapts on them): the neural sampler
        keeps the last iterations' points for its buffered training.
        """
        start = time.perf_counter()
        n_calls = 0
        for iteration in range(iterations):
            counts = self._allocation(points_per_iteration)
            weights: list[np.ndarray] = []
            n_bad = []
            for c, n in enumerate(counts):
                y, r, q, batch = self._draw(c, int(n))
                if on_points is not None:
                    on_points(iteration, c, r, q, batch)
                w, bad = finite_weights(batch.weight / q)
                n_bad.append(bad)
                weights.append(w)
                n_calls += int(n)
                if np.any(w != 0.0):
                    self.grids.maps[c].add_training_data(y, w ** 2)
                    self.grids.maps[c].adapt(alpha=self.damping)
            self.channel_std = np.array([w.std() for w in weights])
            res = integration_result(weights, self.integrand.channel_names, n_bad,
                                     max_overweight=self.max_overweight)
            self.history.append({
                "cross_section": res.cross_section, "error": res.error, "rel_std": res.rel_std,
                "points_per_channel": counts.tolist(), "n_nonfinite": res.n_nonfinite,
            })
        self._phase("vegas").add(n_calls, time.perf_counter() - start)

    def integrate(self, points: int = 100_000) -> IntegrationResult:
        """Estimate the integral from ``points`` fresh points (never training points)."""
        start = time.perf_counter()
        counts = self._allocation(points)
        weights, n_bad = [], []
        for c, n in enumerate(counts):
            _, _, q, batch = self._draw(c, int(n))
            w, bad = finite_weights(batch.weight / q)
            weights.append(w)
            n_bad.append(bad)
        self._phase("integration").add(int(counts.sum()), time.perf_counter() - start)
        return integration_result(weights, self.integrand.channel_names, n_bad,
                                  phases=self.phases, sampler=self.name,
                                  max_overweight=self.max_overweight)

    def sample(self, points: int = 50_000, allocation: np.ndarray | None = None) -> SampleBatch:
        """Draw ``points`` weighted points, allocated across channels as in :meth:`integrate`.

        ``allocation`` ``(n_channels,)`` fixes the points per channel instead
        (event generation draws them in proportion to the channels' ``w_max``).
        """
        start = time.perf_counter()
        counts = self._allocation(points) if allocation is None else np.asarray(allocation, dtype=np.int64)
        parts = []
        for c, n in enumerate(counts):
            _, r, q, batch = self._draw(c, int(n))
            w, _ = finite_weights(batch.weight / q)
            parts.append((r, w, q, batch.payload))
        self._phase("sampling").add(int(counts.sum()), time.perf_counter() - start)
        return SampleBatch(
            channel=np.repeat(np.arange(len(counts)), counts),
            r=np.concatenate([p[0] for p in parts]),
            weight=np.concatenate([p[1] for p in parts]),
            density=np.concatenate([p[2] for p in parts]),
            points_per_channel=counts.astype(np.int64),
            payload=_concatenate_payloads([p[3] for p in parts]),
        )

    def density(self, channel: int, r: np.ndarray) -> np.ndarray:
        """The sampling density ``q_c(r)`` ``(n,)`` of channel ``channel`` at ``r`` ``(n, dim)``."""
        return self.grids.density(channel, r)

    # -- persistence -----------------------------------------------------------

    def save(self, path: str | os.PathLike, fingerprint: dict[str, Any] | None = None) -> None:
        """Write grids, settings, RNG state and ``fingerprint`` to ``path`` (numpy ``.npz``)."""
        settings = {
            "bins": self.bins, "seed": self.seed, "damping": self.damping,
            "allocation_floor": self.allocation_floor, "batch_size": self.batch_size,
            "max_overweight": self.max_overweight,
        }
        meta = {
            "kind": self.name, "settings": settings,
            "fingerprint": fingerprint if fingerprint is not None else self.fingerprint,
            "rng_state": self.rng.bit_generator.state,
            "phases": {k: v.to_dict() for k, v in self.phases.items()},
            "history": self.history,
            "dim": self.integrand.dim, "n_channels": self.integrand.n_channels,
        }
        with open(path, "wb") as handle:
            np.savez(handle, grids=self.grids.nodes(), channel_std=self.channel_std,
                     meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: str | os.PathLike, integrand: MultiChannelIntegrand) -> "VegasSampler":
        """Rebuild a sampler saved with :meth:`save` on ``integrand``; its ``fingerprint`` is restored.

        Raises:
            ValueError: the file is not a VEGAS sampler or its dimensions differ from ``integrand``.
        """
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            grids = data["grids"]
            channel_std = data["channel_std"]
        if meta.get("kind") != cls.name:
            raise ValueError(f"{path} holds a {meta.get('kind')!r} sampler, not {cls.name!r}")
        if (meta["dim"], meta["n_channels"]) != (integrand.dim, integrand.n_channels):
            raise ValueError(
                f"{path} was trained for dim={meta['dim']}, n_channels={meta['n_channels']}; "
                f"the integrand has dim={integrand.dim}, n_channels={integrand.n_channels}")
        sampler = cls(integrand, **meta["settings"])
        sampler.grids = VegasGrids(integrand.dim, integrand.n_channels, sampler.bins, grids)
        sampler.channel_std = channel_std
        sampler.rng.bit_generator.state = meta["rng_state"]
        sampler.phases = {k: PhaseCost(**v) for k, v in meta["phases"].items()}
        sampler.history = meta["history"]
        sampler.fingerprint = meta["fingerprint"]
        return sampler


def _concatenate_payloads(payloads: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Concatenate event records key by key (keys of the first record)."""
    if not payloads:
        return {}
    return {key: np.concatenate([p[key] for p in payloads]) for key in payloads[0]}


def _concatenate_batches(batches: list[IntegrandBatch], channel: int) -> IntegrandBatch:
    return IntegrandBatch(
        value=np.concatenate([b.value for b in batches]),
        channel_prior=np.concatenate([b.channel_prior for b in batches]),
        features=np.concatenate([b.features for b in batches]),
        payload=_concatenate_payloads([b.payload for b in batches]),
        channel=channel,
    )
