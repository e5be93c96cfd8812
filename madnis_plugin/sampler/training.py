"""The training loop of :class:`~madnis_plugin.sampler.madnis_sampler.MadnisSampler`.

1. VEGAS pretraining (first call only): the per-channel grids adapt on the
   integrand; they become the VEGAS layer under the flow (fixed, or with
   ``vegas_layer = trainable`` its nodes trained with the flow, the loss
   then evaluated at fixed ``r``).  The points of the last
   ``vegas_buffer_iterations`` iterations start the buffer, each with the
   density of the grid that drew it.
2. Flow and channel-weight training, ``batches`` steps of ``batch_size``
   points.  A share ``1 - buffered_fraction`` of the steps, spread evenly, are
   *online*: fresh points are drawn (allocated across active channels in
   proportion to each channel's weight standard deviation, with a floor),
   evaluated and stored in the :class:`~madnis_plugin.sampler.buffer.SampleBuffer`;
   the other steps re-use buffered points with importance reweighting.  The
   loss (:mod:`~madnis_plugin.sampler.losses`) is minimised with Adam, a
   learning rate that warms up linearly and then decays as a cosine
   (:func:`learning_rate_factor`), and gradient-norm clipping; a step whose
   loss is not finite is skipped and counted.
3. Channel dropping: every ``drop_interval`` steps, active channels whose
   running share of the integral is below ``drop_threshold`` are switched off
   (weight 0, points reassigned; the channel weights of the others are
   renormalised, so the estimate stays unbiased).

The history (``sampler.history``) holds per-step losses, the relative
standard deviation seen in online steps, active channels, drop events with the
channel shares, the learned against the prior channel shares, and counts of
non-finite integrand values and skipped steps.

Example:
    >>> from madnis_plugin.toys import GaussianPeaks
    >>> from madnis_plugin.sampler import MadnisConfig, MadnisSampler
    >>> cfg = MadnisConfig(vegas_iterations=2, vegas_points=1000, train_batches=10, batch_size=128)
    >>> s = MadnisSampler(GaussianPeaks(dim=2), cfg, seed=2)
    >>> s.train()
    >>> len(s.history["loss"])
    10
"""

from __future__ import annotations

import math
import re
import time
import warnings
from typing import Any, Callable

import numpy as np
import torch

from madnis_plugin.sampler.buffer import SampleBuffer
from madnis_plugin.sampler.madnis_sampler import DrawnChannel
from madnis_plugin.sampler.losses import kl_loss, stratified_variance_loss
from madnis_plugin.sampler.results import PhaseCost
from madnis_plugin.sampler.vegas_sampler import _BELOW_ONE

__all__ = ["Trainer", "is_online_step", "learning_rate_factor"]

_RUNNING = 0.2  # weight of the newest online batch in the running channel estimates


def is_online_step(step: int, buffered_fraction: float) -> bool:
    """Whether ``step`` (0-based) draws fresh points: online steps spread evenly, the first one online.

    Example:
        >>> [is_online_step(i, 0.8) for i in range(6)]
        [True, False, False, False, False, True]
    """
    online = 1.0 - buffered_fraction
    return step == 0 or math.floor((step + 1) * online - 1e-9) > math.floor(step * online - 1e-9)


def learning_rate_factor(cfg, batches: int) -> Callable[[int], float]:
    """The learning rate of step ``k`` (0-based) of ``batches``, as a multiple of ``learning_rate``.

    A linear rise over the first ``lr_warmup`` share of the steps, times the
    schedule: cosine decay from 1 to ``lr_min_factor`` at step ``batches``, or
    constant.  The warm-up keeps Adam's first steps, whose moment estimates
    rest on a few gradients, from throwing the flow far from its VEGAS start
    (docs/sampler.md, stop 22).

    Example:
        >>> from madnis_plugin.sampler import MadnisConfig
        >>> f = learning_rate_factor(MadnisConfig(lr_warmup=0.1), 100)
        >>> [round(f(k), 3) for k in (0, 4, 9, 50, 100)]
        [0.1, 0.498, 0.98, 0.505, 0.01]
    """
    if cfg.lr_schedule not in ("cosine", "constant"):
        raise ValueError(f"lr_schedule must be 'cosine' or 'constant', not {cfg.lr_schedule!r}")
    if not 0.0 <= cfg.lr_warmup < 1.0:
        raise ValueError(f"lr_warmup must lie in [0, 1), not {cfg.lr_warmup!r}")
    warmup_steps = cfg.lr_warmup * batches

    def factor(step: int) -> float:
        rise = min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0
        if cfg.lr_schedule == "constant":
            return rise
        low = cfg.lr_min_factor
        return rise * (low + (1.0 - low) * 0.5 * (1.0 + math.cos(math.pi * step / batches)))

    return factor


class Trainer:
    """Runs training steps on a :class:`MadnisSampler` (see the module docstring).

    Args:
        sampler: the sampler to train; its ``history`` and ``phases`` are extended.
    """

    def __init__(self, sampler):
        self.s = sampler
        cfg = sampler.config
        self.cfg = cfg
        self.n_channels = sampler.integrand.n_channels
        # Points in r (trainable layer) need float64: the layer resolves narrow peaks.
        self.buffer = SampleBuffer(self.n_channels, cfg.buffer_capacity, sampler.integrand.dim,
                                   sampler.integrand.n_features,
                                   torch.float64 if sampler.trains_layer else sampler.dtype, sampler.device)
        self.loss_fn = {"variance": stratified_variance_loss, "kl": kl_loss}.get(cfg.loss)
        if self.loss_fn is None:
            raise ValueError(f"loss must be 'variance' or 'kl', not {cfg.loss!r}")
        h = sampler.history
        for key in ("loss", "lr", "active_channels", "online_steps", "rel_std", "drops"):
            h.setdefault(key, [])
        h.setdefault("n_nonfinite", 0)
        h.setdefault("skipped_steps", 0)
        self.running_integral = np.zeros(self.n_channels)

    def _pretrain_vegas(self) -> None:
        s = self.s
        if "vegas" in s.phases or self.cfg.vegas_iterations <= 0:
            return
        first_kept = self.cfg.vegas_iterations - self.cfg.vegas_buffer_iterations
        kept: list[tuple[int, np.ndarray, np.ndarray, Any]] = []

        def keep(iteration: int, channel: int, r: np.ndarray, q: np.ndarray, batch: Any) -> None:
            if iteration >= first_kept and r.shape[0]:
                kept.append((channel, r, q, batch))

        s.vegas.train(self.cfg.vegas_iterations, self.cfg.vegas_points, on_points=keep)
        s.phases["vegas"] = s.vegas.phases["vegas"]
        s.refresh_grid_layer()
        for channel, r, q, batch in kept:
            self._buffer_vegas_points(channel, r, q, batch)
        s.channel_std = np.where(s.vegas.channel_std > 0, s.vegas.channel_std, 0.0)
        if not np.any(s.channel_std > 0):
            s.channel_std = np.ones(self.n_channels)
        last = s.vegas.history[-1]
        s.scale = last["cross_section"] if last["cross_section"] > 0 else 1.0
        s.history["vegas"] = s.vegas.history

    def _buffer_vegas_points(self, channel: int, r: np.ndarray, q: np.ndarray, batch: Any) -> None:
        """Store points VEGAS drew from density ``q`` in the buffer, in the coordinates training works in.

        They cost no further integrand calls, and reweighting by ``q_now / q``
        keeps their use unbiased; without them the first buffered steps
        re-use the first online batch over and over.
        """
        s = self.s
        value = np.asarray(batch.value, dtype=np.float64)
        value = np.where(np.isfinite(value), value, 0.0)
        # As if drawn through the final grid layer: flow-space y, with the
        # density in y the points had when VEGAS drew them.
        y, layer_density = s.grid_layer.invmap(channel, r)
        drawn = DrawnChannel(channel, s.tensor(np.clip(y, 0.0, _BELOW_ONE)),
                             s.tensor(np.log(np.maximum(q, 1e-300)) - np.log(layer_density)), r, q, value,
                             value / layer_density, batch.channel_prior, batch.features, batch.payload, 0)
        point, value_t, log_g = s.training_sample(drawn)
        self.buffer.add(channel, point, value_t, s.tensor(batch.channel_prior), s.tensor(batch.features), log_g)

    def _online_batch(self, batch_size: int) -> tuple[dict[str, torch.Tensor], int]:
        """Draw fresh points, store them, update the running estimates; returns the batch and its calls."""
        s = self.s
        counts = s.allocation(batch_size)
        parts, means, stds = [], np.zeros(self.n_channels), np.zeros(self.n_channels)
        for c, drawn in s.draw_channels(counts).items():
            n = counts[c]
            s.history["n_nonfinite"] += drawn.n_nonfinite
            if s.trained_steps == 0 and c == int(np.argmax(counts)):
                # The channel-weight network's input scale, fixed once from the first points.
                s.channel_weights.fit_standardisation(s.tensor(drawn.features))
            point, value, log_g = s.training_sample(drawn)
            part = {"channel": torch.full((int(n),), c, dtype=torch.int64, device=s.device),
                    "point": point, "value": value, "prior": s.tensor(drawn.prior),
                    "features": s.tensor(drawn.features), "log_g": log_g}
            self.buffer.add(c, part["point"], part["value"], part["prior"], part["features"], part["log_g"])
            parts.append(part)
            w = s.weights(drawn)
            means[c], stds[c] = w.mean(), w.std()
        active = s.active & (counts > 0)
        # Running estimates: per-channel integral (for dropping) and std (for allocation).
        if not self.running_integral.any():
            self.running_integral = means.copy()
            s.channel_std = np.where(active, stds, s.channel_std)
        else:
            self.running_integral = np.where(active, (1 - _RUNNING) * self.running_integral + _RUNNING * means, 0.0)
            s.channel_std = np.where(active, (1 - _RUNNING) * s.channel_std + _RUNNING * stds, 0.0)
        total = float(self.running_integral.sum())
        if total > 0:
            s.scale = total
        error = math.sqrt(sum((stds[c] ** 2) / counts[c] for c in range(self.n_channels) if counts[c] > 1))
        sigma = float(means.sum())
        rel_std = math.sqrt(counts.sum()) * error / sigma if sigma > 0 else float("inf")
        s.history["online_steps"].append(s.trained_steps)
        s.history["rel_std"].append(rel_std)
        batch = {key: torch.cat([p[key] for p in parts]) for key in parts[0]}
        return batch, int(counts.sum())

    def _loss(self, batch: dict[str, torch.Tensor], train_channel_weights: bool = True) -> torch.Tensor:
        s = self.s
        log_q = s.training_log_density(batch["point"], batch["channel"])
        # The channel-weight network learns from fresh points only: on the few
        # buffered samples, re-used for many steps, it overfits (measured on
        # ttbar_dilepton: unweighting efficiency 0.012 with, 0.04 without).
        with torch.set_grad_enabled(train_channel_weights and torch.is_grad_enabled()):
            alpha = s.channel_weights(batch["prior"].to(s.dtype), batch["features"].to(s.dtype))
        alpha_c = alpha.gather(1, batch["channel"][:, None])[:, 0]
        return self.loss_fn(batch["channel"], alpha_c * batch["value"], log_q, batch["log_g"],
                            self.n_channels, scale=s.scale)

    def _drop_channels(self) -> None:
        s = self.s
        shares = self.running_integral / max(self.running_integral.sum(), 1e-300)
        candidates = s.active & (shares < self.cfg.drop_threshold)
        # Never drop the last channels: keep the largest one at least.
        if candidates.sum() >= s.active.sum():
            candidates[int(np.argmax(np.where(s.active, shares, -1)))] = False
        # The share of the integral handed to other channels' maps, in total, stays
        # below drop_max_total: smallest channels first (measured on ttbar_jet: with
        # 30 of 45 channels dropped, ~10% of the integral, the estimate came out 4%
        # low with an error that did not show it).
        dropped = float(s.history.setdefault("dropped_share", 0.0))
        for c in sorted(np.nonzero(candidates)[0], key=lambda k: shares[k]):
            share = float(shares[c]) * (1.0 - dropped)
            if dropped + share > self.cfg.drop_max_total:
                candidates[c] = False
            else:
                dropped += share
        s.history["dropped_share"] = dropped
        event = {"step": s.trained_steps, "shares_before": shares.tolist(),
                 "dropped": np.nonzero(candidates)[0].tolist()}
        if candidates.any():
            s.active &= ~candidates
            s.channel_weights.active.copy_(torch.as_tensor(s.active, device=s.device))
            for c in np.nonzero(candidates)[0]:
                self.buffer.clear(int(c))
                self.running_integral[c] = 0.0
                s.channel_std[c] = 0.0
            kept = self.running_integral / max(self.running_integral.sum(), 1e-300)
            event["shares_after"] = kept.tolist()
        s.history["drops"].append(event)

    @torch.no_grad()
    def _channel_weight_shares(self) -> dict[str, list[float]]:
        """Shares of the integral per channel with the prior and with the learned weights, from the buffer."""
        s = self.s
        prior_share, learned_share = np.zeros(self.n_channels), np.zeros(self.n_channels)
        for c in range(self.n_channels):
            n = self.buffer.size(c)
            if n == 0 or not s.active[c]:
                continue
            data = {k: v[:n] for k, v in self.buffer.data[c].items()}
            inv_g = torch.exp(-data["log_g"])
            alpha = s.channel_weights(data["prior"].to(s.dtype), data["features"].to(s.dtype))[:, c]
            prior_share[c] = float((data["prior"][:, c] * data["value"] * inv_g).mean())
            learned_share[c] = float((alpha * data["value"] * inv_g).mean())
        norm = lambda a: (a / a.sum()).tolist() if a.sum() > 0 else a.tolist()  # noqa: E731
        return {"prior": norm(prior_share), "learned": norm(learned_share)}

    def run(self, batches: int, batch_size: int,
            progress: Callable[[dict[str, Any]], None] | None = None, progress_interval: int = 50) -> None:
        """Pretrain VEGAS if needed, then train ``batches`` steps of ``batch_size`` points."""
        # Built first: a bad schedule setting is refused before VEGAS spends its calls.
        lr_factor = learning_rate_factor(self.cfg, batches)
        self._pretrain_vegas()
        s, cfg = self.s, self.cfg
        if batches <= 0:
            return
        start = time.perf_counter()
        params = list(s.flow.parameters()) + (list(s.channel_weights.parameters()) if cfg.learn_channel_weights else [])
        groups = [{"params": list(params)}]
        if s.trains_layer:
            # Measured (docs/sampler.md): 3x the networks' rate flattens the Breit-Wigner toy 8% more than 1x.
            groups.append({"params": list(s.grid_layer.parameters()), "lr": cfg.learning_rate * cfg.layer_lr_factor})
            params += groups[-1]["params"]
        # fused: one kernel per dtype instead of a dozen small ops per parameter
        # tensor (w_jet's parameters with two mask passes, loaded 2-core
        # machine: 1.8 against 10.1 ms per step).
        optimizer = torch.optim.Adam(groups, lr=cfg.learning_rate, fused=True)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
        n_calls = 0
        for step in range(batches):
            online = bool(is_online_step(step, cfg.buffered_fraction) or self.buffer.count.sum() == 0)
            if online:
                batch, calls = self._online_batch(batch_size)
                n_calls += calls
            else:
                batch = self.buffer.draw(s.allocation(batch_size), self.s.rng)
            optimizer.zero_grad(set_to_none=True)
            loss = self._loss(batch, train_channel_weights=online)
            if torch.isfinite(loss):
                loss.backward()
                # One norm tells both: it is finite only if every gradient is
                # (1.6 against 6.0 ms per step for a finite test per tensor and clipping).
                grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None],
                                                          foreach=True)
                if torch.isfinite(grad_norm):
                    if cfg.gradient_clip > 0:
                        torch.nn.utils.clip_grads_with_norm_(params, cfg.gradient_clip, grad_norm, foreach=True)
                    optimizer.step()
                else:
                    s.history["skipped_steps"] += 1
            else:
                s.history["skipped_steps"] += 1
            with warnings.catch_warnings():
                # torch warns when the schedule moves before the optimizer's first step;
                # here that only means the first steps were skipped, which history counts.
                warnings.filterwarnings("ignore", message=re.escape("Detected call of `lr_scheduler.step()`"))
                scheduler.step()
            s.trained_steps += 1
            s.history["loss"].append(float(loss.detach()))
            s.history["lr"].append(optimizer.param_groups[0]["lr"])
            s.history["active_channels"].append(int(s.active.sum()))
            if cfg.drop_interval > 0 and (step + 1) % cfg.drop_interval == 0 and s.active.sum() > 1:
                self._drop_channels()
            if progress is not None and ((step + 1) % progress_interval == 0 or step + 1 == batches):
                progress({"step": step + 1, "loss": s.history["loss"][-1],
                          "rel_std": s.history["rel_std"][-1] if s.history["rel_std"] else float("nan"),
                          "active_channels": int(s.active.sum()), "lr": s.history["lr"][-1]})
        s.history["channel_weight_shares"] = self._channel_weight_shares()
        s.phases.setdefault("training", PhaseCost())
        s.phases["training"].add(n_calls, time.perf_counter() - start)

