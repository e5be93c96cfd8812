"""The neural sampler: a VEGAS layer, a spline coupling flow and learned channel weights.

For channel ``c`` a latent point ``z`` uniform on ``[0, 1]^d`` goes through
the channel-aware coupling flow to ``y`` (density ``q_flow(y | c)``) and then
through the channel's fixed VEGAS layer to ``r``, so
``q_c(r) = q_flow(y | c) / |dr/dy|``.  The layer is either VEGAS' own
piecewise-linear map (``vegas_layer = exact``, evaluated by ``vegas`` in
float64: the untrained sampler *is* the VEGAS sampler it was initialised
from) or a smooth spline through the same grid nodes (``vegas_layer =
smooth``, :mod:`~madnis_plugin.sampler.smooth_grid`: same probability per
VEGAS increment, continuous density), fixed or, with ``vegas_layer =
trainable``, with nodes that training moves.  The flow starts at the identity.  The weight
of a point is ``alpha_c(x) value / q_c(r)`` with learned channel weights
``alpha`` (:mod:`~madnis_plugin.sampler.channel_weights`).

Training (:mod:`~madnis_plugin.sampler.training`) adapts the VEGAS grids,
then trains flow and channel weights together; estimates always come from
fresh points drawn after training.

Example:
    >>> from madnis_plugin.toys import BreitWignerPeaks
    >>> from madnis_plugin.sampler import MadnisConfig, MadnisSampler
    >>> cfg = MadnisConfig(vegas_iterations=3, vegas_points=2000, train_batches=20, batch_size=256)
    >>> s = MadnisSampler(BreitWignerPeaks(), cfg, seed=1)
    >>> s.train()
    >>> res = s.integrate(points=20000)
    >>> abs(res.cross_section - 1.5) < 5 * res.error
    True
"""

from __future__ import annotations

import math

import os
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from madnis_plugin.interface import MultiChannelIntegrand
from madnis_plugin.sampler.allocation import allocate_points
from madnis_plugin.sampler.channel_weights import ChannelWeightNet
from madnis_plugin.sampler.config import MadnisConfig
from madnis_plugin.sampler.estimate import integration_result
from madnis_plugin.sampler.flows import FLOW_VERSION, CouplingFlow
from madnis_plugin.sampler.results import IntegrationResult, PhaseCost, SampleBatch
from madnis_plugin.sampler.smooth_grid import SmoothGrids
from madnis_plugin.sampler.vegas_sampler import VegasGrids, VegasSampler, _concatenate_payloads

__all__ = ["MadnisSampler", "DrawnChannel", "select_device"]

_BELOW_ONE = np.nextafter(1.0, 0.0)
_DTYPES = {"float32": torch.float32, "float64": torch.float64}
_GRID_LAYERS = ("exact", "smooth", "trainable")


def select_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA when torch sees a GPU, else the CPU; otherwise the named device.

    Raises:
        ValueError: a CUDA device is named but torch sees none.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if _names_missing_cuda(name):
        raise ValueError(f"device = {name}, but torch sees no CUDA device here (use auto or cpu)")
    return torch.device(name)


def _names_missing_cuda(name: str) -> bool:
    """Whether the device setting ``name`` asks for CUDA where torch sees no GPU."""
    return name != "auto" and torch.device(name).type == "cuda" and not torch.cuda.is_available()


@dataclass(slots=True)
class DrawnChannel:
    """Points drawn in one channel, with everything training and estimates need.

    Attributes (``n`` points):
        channel: the channel.
        y: ``(n, d)`` flow-space points (network dtype, on the device).
        log_g: ``(n,)`` ``log q_flow(y)`` of the flow that drew them.
        r: ``(n, d)`` float64 hypercube points passed to the integrand.
        density: ``(n,)`` float64 ``q_c(r)``.
        value: ``(n,)`` float64 integrand values, non-finite ones set to 0.
        f_y: ``(n,)`` float64 ``value * |dr/dy|``.
        prior: ``(n, C)`` float64 prior channel weights.
        features: ``(n, F)`` float64 features.
        payload: the integrand's event record.
        n_nonfinite: integrand values that were not finite.
    """

    channel: int
    y: torch.Tensor
    log_g: torch.Tensor
    r: np.ndarray
    density: np.ndarray
    value: np.ndarray
    f_y: np.ndarray
    prior: np.ndarray
    features: np.ndarray
    payload: dict[str, np.ndarray]
    n_nonfinite: int


class MadnisSampler:
    """Neural importance sampling of a :class:`MultiChannelIntegrand` (same API as :class:`VegasSampler`).

    Args:
        integrand: the multi-channel integrand.
        config: settings (default: the madnis card defaults).
        seed: seed of every random stream (VEGAS, latent points, buffer, network
            initialisation); None: fresh entropy.

    Attributes:
        vegas: the :class:`VegasSampler` whose grids form the VEGAS layer.
        flow: the :class:`~madnis_plugin.sampler.flows.CouplingFlow`.
        channel_weights: the :class:`~madnis_plugin.sampler.channel_weights.ChannelWeightNet`.
        active: ``(C,)`` bool, False for dropped channels.
        channel_std: ``(C,)`` weight standard deviation per channel (drives allocation).
        history: training record for reports (see :mod:`~madnis_plugin.sampler.training`).
        phases: ``{"vegas", "training", "integration", "sampling"}`` -> :class:`PhaseCost`.
        fingerprint: the opaque dict given to :meth:`save`, restored by :meth:`load`.
    """

    name = "madnis"

    def __init__(self, integrand: MultiChannelIntegrand, config: MadnisConfig | None = None,
                 seed: int | None = None):
        self.integrand = integrand
        self.config = config or MadnisConfig()
        self.seed = seed
        cfg = self.config
        if cfg.dtype not in _DTYPES:
            raise ValueError(f"dtype must be one of {sorted(_DTYPES)}, not {cfg.dtype!r}")
        if not 0.0 <= cfg.defensive_fraction < 1.0:
            raise ValueError(f"defensive_fraction must be in [0, 1), not {cfg.defensive_fraction}")
        if cfg.vegas_layer not in _GRID_LAYERS:
            raise ValueError(f"vegas_layer must be one of {list(_GRID_LAYERS)}, not {cfg.vegas_layer!r}")
        if cfg.flow_edge_slope != 0 and cfg.flow_edge_slope <= 1:
            raise ValueError(f"flow_edge_slope must be 0 (unbounded) or above 1, not {cfg.flow_edge_slope}")
        self.device = select_device(cfg.device)
        self.dtype = _DTYPES[cfg.dtype]
        vegas_seed, latent_seed, init_seed, buffer_seed = (
            int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(4))
        self.vegas = VegasSampler(integrand, bins=cfg.vegas_bins, seed=vegas_seed,
                                  damping=cfg.vegas_damping, allocation_floor=cfg.allocation_floor,
                                  batch_size=cfg.eval_batch_size, max_overweight=cfg.max_overweight)
        self.refresh_grid_layer()
        self.latent_generator = torch.Generator().manual_seed(latent_seed)
        self.rng = np.random.default_rng(buffer_seed)
        # Initialise the networks from our own seed without disturbing torch's global stream.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            self.flow = CouplingFlow(integrand.dim, integrand.n_channels, bins=cfg.flow_bins,
                                     hidden=cfg.flow_hidden, layers=cfg.flow_layers,
                                     channel_mode=cfg.channel_mode, repeats=cfg.flow_repeats,
                                     max_edge_slope=cfg.flow_edge_slope)
            self.channel_weights = ChannelWeightNet(integrand.n_features, integrand.n_channels,
                                                    cfg.cwnet_hidden, cfg.cwnet_layers,
                                                    learn=cfg.learn_channel_weights)
        self.flow.to(self.device, self.dtype)
        self.channel_weights.to(self.device, self.dtype)
        n = integrand.n_channels
        self.active = np.ones(n, dtype=bool)
        self.channel_std = np.ones(n)
        self.scale = 1.0
        self.history: dict[str, Any] = {}
        self.phases: dict[str, PhaseCost] = {}
        self.fingerprint: dict[str, Any] = {}
        self.trained_steps = 0

    def refresh_grid_layer(self) -> None:
        """Rebuild the layer between flow and integrand from the VEGAS grids (after they change)."""
        if self.config.vegas_layer == "exact":
            self.grid_layer = self.vegas.grids
        else:
            self.grid_layer = SmoothGrids(self.vegas.grids.nodes(), trainable=self.trains_layer)

    @property
    def trains_layer(self) -> bool:
        """Whether training moves the grid layer's nodes (``vegas_layer = trainable``)."""
        return self.config.vegas_layer == "trainable"

    def training_sample(self, drawn: DrawnChannel) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(point, integrand, log g)`` of drawn points in the coordinates training works in.

        Under a fixed layer these are the flow-space ``y``, ``value |dr/dy|``
        and ``log q_flow(y)``: the layer is a constant factor. A trainable
        layer changes with the loss, so training works at fixed ``r`` with the
        integrand value and ``log q_c(r)`` (float64; see :meth:`training_log_density`).
        """
        if not self.trains_layer:
            return drawn.y, self.tensor(drawn.f_y), drawn.log_g
        as64 = lambda a: torch.as_tensor(a, dtype=torch.float64, device=self.device)  # noqa: E731
        # A density that underflowed to 0 would give 0 * inf = nan in the loss for a zero weight.
        return as64(drawn.r), as64(drawn.value), as64(np.log(np.maximum(drawn.density, 1e-300)))

    def training_log_density(self, point: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
        """``log q`` ``(n,)`` at training points (:meth:`training_sample`), differentiable in all trained parameters."""
        if not self.trains_layer:
            return self.log_density_y(point, channel)
        y, log_dy_dr = self.grid_layer.inverse(channel.cpu(), point.to("cpu", torch.float64))
        y = y.clamp(0.0, _BELOW_ONE).to(self.device, self.dtype)
        return self.log_density_y(y, channel) + log_dy_dr.to(self.device)

    # -- drawing ---------------------------------------------------------------

    @torch.no_grad()
    def draw_channel(self, channel: int, n: int) -> DrawnChannel:
        """Draw ``n`` points of ``channel`` and evaluate the integrand on them (no gradients)."""
        parts = []
        for start in range(0, max(n, 1), self.config.eval_batch_size):
            size = min(self.config.eval_batch_size, n - start)
            labels = torch.full((size,), channel, dtype=torch.int64, device=self.device)
            parts.append(self._evaluate(channel, *self._flow_sample(labels)))
        if len(parts) == 1:
            return parts[0]
        cat_t = lambda key: torch.cat([getattr(p, key) for p in parts])  # noqa: E731
        cat_n = lambda key: np.concatenate([getattr(p, key) for p in parts])  # noqa: E731
        return DrawnChannel(channel, cat_t("y"), cat_t("log_g"), cat_n("r"), cat_n("density"),
                            cat_n("value"), cat_n("f_y"), cat_n("prior"), cat_n("features"),
                            _concatenate_payloads([p.payload for p in parts]),
                            sum(p.n_nonfinite for p in parts))

    @torch.no_grad()
    def draw_channels(self, counts: np.ndarray) -> dict[int, DrawnChannel]:
        """Draw ``counts[c]`` points in each channel ``c`` with one pass through the flow.

        For a training batch spread over many channels, a flow call per
        channel would run the networks on a few points each; one call for
        all of them costs about as much as one of those. Returns the
        channels with points; larger draws go through :meth:`draw_channel`.
        """
        counts = np.asarray(counts, dtype=np.int64)
        labels = torch.as_tensor(np.repeat(np.arange(counts.size), counts), device=self.device)
        y, log_g = self._flow_sample(labels)
        drawn, start = {}, 0
        for c in np.nonzero(counts)[0]:
            stop = start + int(counts[c])
            drawn[int(c)] = self._evaluate(int(c), y[start:stop], log_g[start:stop])
            start = stop
        return drawn

    def _flow_sample(self, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Flow-space points ``y`` and ``log q(y)`` for channels ``labels`` ``(n,)``, mixture included."""
        n = labels.shape[0]
        z = torch.rand((n, self.integrand.dim), generator=self.latent_generator, dtype=torch.float64)
        z = z.to(self.device, self.dtype)
        y, log_jac = self.flow(z, labels)
        log_g = -log_jac
        if self.config.defensive_fraction > 0 and n:
            # The defensive share skips the flow: its y is the uniform z itself.
            uniform = (torch.rand(n, generator=self.latent_generator, dtype=torch.float64)
                       < self.config.defensive_fraction).to(self.device)
            if bool(uniform.any()):
                y = torch.where(uniform[:, None], z, y)
                log_g = log_g.clone()
                log_g[uniform] = self.flow.log_density(z[uniform], labels[uniform])
            log_g = self._mix(log_g)
        return y, log_g

    def _evaluate(self, channel: int, y: torch.Tensor, log_g: torch.Tensor) -> DrawnChannel:
        """Map flow-space points of ``channel`` through its VEGAS layer and evaluate the integrand."""
        n = y.shape[0]
        y64 = np.clip(y.detach().to("cpu", torch.float64).numpy(), 0.0, _BELOW_ONE)
        r, vegas_density = self.grid_layer.map(channel, y64)
        batch = self.integrand(channel, r)
        value = np.asarray(batch.value, dtype=np.float64)
        f_y = value / vegas_density
        finite = np.isfinite(f_y)
        n_bad = int(n - finite.sum())
        if n_bad:
            value, f_y = np.where(finite, value, 0.0), np.where(finite, f_y, 0.0)
        density = np.exp(log_g.to("cpu", torch.float64).numpy()) * vegas_density
        return DrawnChannel(channel, y, log_g, r, density, value, f_y,
                            np.asarray(batch.channel_prior, dtype=np.float64),
                            np.asarray(batch.features, dtype=np.float64), batch.payload, n_bad)

    def _mix(self, log_q_flow: torch.Tensor) -> torch.Tensor:
        """``log((1 - e) q_flow + e)``: the density of the defensive mixture in ``y``."""
        e = self.config.defensive_fraction
        if e <= 0:
            return log_q_flow
        return torch.logaddexp(log_q_flow + math.log1p(-e), torch.full_like(log_q_flow, math.log(e)))

    def log_density_y(self, y: torch.Tensor, channel: torch.Tensor) -> torch.Tensor:
        """``log q(y | c)`` ``(n,)`` of the sampler in flow space (flow, or its defensive mixture)."""
        return self._mix(self.flow.log_density(y, channel))

    def tensor(self, array: np.ndarray) -> torch.Tensor:
        """``array`` as a tensor of the network dtype on the device."""
        return torch.as_tensor(array, device=self.device).to(self.dtype)

    @torch.no_grad()
    def weights(self, drawn: DrawnChannel) -> np.ndarray:
        """``(n,)`` float64 weights ``alpha_c value / q_c(r)`` of drawn points (0 where not finite)."""
        if drawn.f_y.size == 0:
            return np.zeros(0)
        alpha = self.channel_weights(self.tensor(drawn.prior), self.tensor(drawn.features))[:, drawn.channel]
        alpha = alpha.to("cpu", torch.float64).numpy()
        w = alpha * drawn.f_y / np.exp(drawn.log_g.to("cpu", torch.float64).numpy())
        return np.where(np.isfinite(w), w, 0.0)

    def allocation(self, points: int) -> np.ndarray:
        """Points per channel for a draw of ``points``: proportional to ``channel_std`` with a floor."""
        return allocate_points(points, self.channel_std, floor=self.config.allocation_floor, active=self.active)

    def _phase(self, name: str) -> PhaseCost:
        return self.phases.setdefault(name, PhaseCost())

    # -- public API ------------------------------------------------------------

    def train(self, batches: int | None = None, batch_size: int | None = None,
              progress: Callable[[dict[str, Any]], None] | None = None, progress_interval: int = 50) -> None:
        """VEGAS pretraining (first call only), then ``batches`` flow training steps (default: the config's).

        Args:
            batches: training steps, overriding ``config.train_batches``.
            batch_size: points per step, overriding ``config.batch_size``.
            progress: called every ``progress_interval`` steps with a dict
                (``step``, ``loss``, ``rel_std``, ``active_channels``, ``lr``).
        """
        from madnis_plugin.sampler.training import Trainer

        Trainer(self).run(self.config.train_batches if batches is None else batches,
                          self.config.batch_size if batch_size is None else batch_size,
                          progress, progress_interval)

    def integrate(self, points: int = 100_000) -> IntegrationResult:
        """Estimate the integral from ``points`` fresh points (never training points)."""
        start = time.perf_counter()
        counts = self.allocation(points)
        weights: list[np.ndarray | None] = []
        n_bad = []
        for c, n in enumerate(counts):
            if not self.active[c]:
                weights.append(None)
                n_bad.append(0)
                continue
            drawn = self.draw_channel(c, int(n))
            weights.append(self.weights(drawn))
            n_bad.append(drawn.n_nonfinite)
        self._phase("integration").add(int(counts.sum()), time.perf_counter() - start)
        return integration_result(weights, self.integrand.channel_names, n_bad, phases=self.phases,
                                  sampler=self.name, max_overweight=self.config.max_overweight)

    def sample(self, points: int = 50_000, allocation: np.ndarray | None = None) -> SampleBatch:
        """Draw ``points`` weighted points, allocated across channels as in :meth:`integrate`.

        ``allocation`` ``(n_channels,)`` fixes the points per channel instead
        (event generation draws them in proportion to the channels' ``w_max``).
        """
        start = time.perf_counter()
        counts = self.allocation(points) if allocation is None else np.asarray(allocation, dtype=np.int64)
        drawn = [self.draw_channel(c, int(n)) for c, n in enumerate(counts)]
        self._phase("sampling").add(int(counts.sum()), time.perf_counter() - start)
        return SampleBatch(
            channel=np.repeat(np.arange(len(counts)), counts),
            r=np.concatenate([d.r for d in drawn]),
            weight=np.concatenate([self.weights(d) for d in drawn]),
            density=np.concatenate([d.density for d in drawn]),
            points_per_channel=counts.astype(np.int64),
            payload=_concatenate_payloads([d.payload for d in drawn if d.r.shape[0]] or [{}]),
        )

    @torch.no_grad()
    def density(self, channel: int, r: np.ndarray) -> np.ndarray:
        """The sampling density ``q_c(r)`` ``(n,)`` float64 of channel ``channel`` at ``r`` ``(n, dim)``."""
        y, layer_density = self.grid_layer.invmap(channel, r)
        labels = torch.full((r.shape[0],), channel, dtype=torch.int64, device=self.device)
        log_q = self.log_density_y(self.tensor(y), labels).to("cpu", torch.float64).numpy()
        return np.exp(log_q) * layer_density

    # -- persistence -----------------------------------------------------------

    def save(self, path: str | os.PathLike, fingerprint: dict[str, Any] | None = None) -> None:
        """Write networks, grids, config, random states, history and ``fingerprint`` with ``torch.save``."""
        state = {
            "kind": self.name,
            "flow_version": FLOW_VERSION,
            "config": self.config.to_dict(),
            "seed": self.seed,
            "dim": self.integrand.dim,
            "n_channels": self.integrand.n_channels,
            "fingerprint": fingerprint if fingerprint is not None else self.fingerprint,
            "flow": {k: v.cpu() for k, v in self.flow.state_dict().items()},
            "channel_weights": {k: v.cpu() for k, v in self.channel_weights.state_dict().items()},
            "vegas_grids": torch.from_numpy(self.vegas.grids.nodes()),
            "grid_layer": ({k: v.detach().cpu() for k, v in self.grid_layer.state_dict().items()}
                           if self.trains_layer else {}),
            "vegas_channel_std": self.vegas.channel_std.tolist(),
            "channel_std": self.channel_std.tolist(),
            "active": self.active.tolist(),
            "scale": self.scale,
            "trained_steps": self.trained_steps,
            "rng_state": self.rng.bit_generator.state,
            "vegas_rng_state": self.vegas.rng.bit_generator.state,
            "latent_state": self.latent_generator.get_state(),
            "history": self.history,
            "phases": {k: v.to_dict() for k, v in self.phases.items()},
        }
        torch.save(state, path)

    @classmethod
    def load(cls, path: str | os.PathLike, integrand: MultiChannelIntegrand,
             device: str | None = None) -> "MadnisSampler":
        """Rebuild a sampler saved with :meth:`save` on ``integrand``; its ``fingerprint`` is restored.

        Args:
            device: overrides the saved config's device (e.g. ``"cpu"`` for a GPU-trained file).
                ``None``: the saved one, so the networks run where they ran in
                training; where it names CUDA and torch sees no GPU, the CPU
                (with a warning).

        Raises:
            ValueError: the file is not a MADNIS sampler, holds flows of another
                :data:`~madnis_plugin.sampler.flows.FLOW_VERSION` or its dimensions differ from ``integrand``.
        """
        state = torch.load(path, map_location="cpu", weights_only=True)
        if state.get("kind") != cls.name:
            raise ValueError(f"{path} holds a {state.get('kind')!r} sampler, not {cls.name!r}")
        saved_version = state.get("flow_version", 1)   # files from before the key hold version 1
        if saved_version != FLOW_VERSION:
            raise ValueError(f"{path} holds flows of version {saved_version}, this release "
                             f"reads version {FLOW_VERSION}: train the sampler again")
        if (state["dim"], state["n_channels"]) != (integrand.dim, integrand.n_channels):
            raise ValueError(
                f"{path} was trained for dim={state['dim']}, n_channels={state['n_channels']}; "
                f"the integrand has dim={integrand.dim}, n_channels={integrand.n_channels}")
        config = MadnisConfig.from_dict(state["config"])
        if device is None and _names_missing_cuda(config.device):
            warnings.warn(f"{path} was trained with device = {config.device}; torch sees no GPU here, "
                          "so it runs on the CPU", stacklevel=2)
            device = "cpu"
        if device is not None:
            config = config.replace(device=device)
        sampler = cls(integrand, config, seed=state["seed"])
        sampler.flow.load_state_dict(state["flow"])
        sampler.channel_weights.load_state_dict(state["channel_weights"])
        sampler.vegas.grids = VegasGrids(integrand.dim, integrand.n_channels, config.vegas_bins,
                                         state["vegas_grids"].numpy())
        sampler.vegas.channel_std = np.asarray(state["vegas_channel_std"])
        sampler.refresh_grid_layer()
        if sampler.trains_layer:
            sampler.grid_layer.load_state_dict(state["grid_layer"])
        sampler.channel_std = np.asarray(state["channel_std"])
        sampler.active = np.asarray(state["active"], dtype=bool)
        sampler.scale = state["scale"]
        sampler.trained_steps = state["trained_steps"]
        sampler.rng.bit_generator.state = state["rng_state"]
        sampler.vegas.rng.bit_generator.state = state["vegas_rng_state"]
        sampler.latent_generator.set_state(state["latent_state"])
        sampler.history = state["history"]
        sampler.phases = {k: PhaseCost(**v) for k, v in state["phases"].items()}
        sampler.fingerprint = state["fingerprint"]
        return sampler
