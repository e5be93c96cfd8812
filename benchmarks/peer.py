"""The ``madnis`` package (PyPI 1.0.0) driving one of our integrands, for side-by-side benchmarks.

Install with ``pip install --no-deps madnis==1.0.0`` (its other runtime needs
are numpy and torch). The package gets the same integrand -- channel
priors and features included -- with its own flows, VEGAS pretraining
(folded into its flow with ``init_with_grid``) and buffer; its settings are
matched to a :class:`~madnis_plugin.sampler.MadnisConfig`: flow size
(spline bins, network width and depth, coupling blocks; :func:`peer_flow_kwargs`),
batch size, steps, buffered steps per online one, learning rate with our
warm-up and cosine decay, channel dropping, VEGAS bins and calls. Our metrics
are recomputed from its samples.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from madnis_plugin.interface import MultiChannelIntegrand
from madnis_plugin.sampler import MadnisConfig
from madnis_plugin.sampler.estimate import integration_result
from madnis_plugin.sampler.training import learning_rate_factor


def warm_up() -> None:
    """Pay one-time costs of the process before anything is timed.

    The first optimizer step of a process imports ``torch._dynamo`` (measured:
    8 s of a 70 s training on a loaded 2-core machine); whichever sampler
    trains first in a side-by-side run would otherwise be charged for it.
    """
    parameter = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.Adam([parameter])
    parameter.sum().backward()
    optimizer.step()


def peer_flow_kwargs(cfg: MadnisConfig, dim: int) -> dict:
    """The package's flow settings matched to ours: spline bins, network width and depth, coupling blocks.

    Both flows use the logarithmic mask scheme; ``flow_repeats`` repeats it in
    ours, so the package gets its own log masks repeated as often.
    """
    from madnis.nn import Flow

    kwargs = {"bins": cfg.flow_bins, "units": cfg.flow_hidden, "layers": cfg.flow_layers}
    if cfg.flow_repeats > 1:
        kwargs["condition_masks"] = Flow(dims_in=dim).condition_masks.repeat(cfg.flow_repeats, 1)
    return kwargs


def run_peer(target: MultiChannelIntegrand, cfg: MadnisConfig, seed: int, points: int,
             unit: float = 1.0) -> tuple[object, float, int]:
    """Train and sample ``target`` with the ``madnis`` package.

    Returns our :class:`IntegrationResult` recomputed from its weighted
    samples, the training wall time (VEGAS pretraining included) and the
    integrand calls of training.

    ``unit`` divides the integrand values the package sees (its weights are
    multiplied back): in pb, physics weights reach 1e5 and the package's
    float32 training produced NaN batches and then failed to allocate its
    samples (w_jet), so the physics benchmark passes a cross-section scale.
    """
    from madnis.integrator import Integrand, Integrator, VegasPreTraining

    calls = {"n": 0}

    def evaluate(x: torch.Tensor, channels: torch.Tensor | None):
        r = x.detach().to(torch.float64).numpy()
        ch = np.zeros(len(r), dtype=np.int64) if channels is None else channels.numpy()
        value = np.zeros(len(r))
        features = np.zeros((len(r), target.n_features))
        prior = np.zeros((len(r), target.n_channels))
        for c in np.unique(ch):
            mask = ch == c
            batch = target(int(c), np.clip(r[mask], 0.0, np.nextafter(1.0, 0.0)))
            value[mask], features[mask], prior[mask] = batch.value / unit, batch.features, batch.channel_prior
        # Our integrands give cut points (value 0) an all-zero prior row; the package
        # normalises prior * exp(NN) and would turn those rows into NaN (its "nan batch"
        # warnings, then a failed sample allocation on w_jet). Their weight is 0 anyway.
        prior[prior.sum(axis=1) == 0] = 1.0 / target.n_channels
        calls["n"] += len(r)
        as_t = lambda a: torch.as_tensor(a, dtype=x.dtype)  # noqa: E731
        return as_t(value), as_t(features), as_t(prior)

    torch.manual_seed(seed)
    if target.n_channels == 1:
        peer_integrand = Integrand(lambda x: evaluate(x, None)[0], input_dim=target.dim)
    else:
        peer_integrand = Integrand(evaluate, input_dim=target.dim, channel_count=target.n_channels,
                                   remapped_dim=target.n_features, has_channel_weight_prior=True)
    steps = cfg.train_batches
    buffered = round(cfg.buffered_fraction / (1 - cfg.buffered_fraction))
    integrator = Integrator(
        peer_integrand, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        scheduler=lambda opt: torch.optim.lr_scheduler.LambdaLR(opt, learning_rate_factor(cfg, steps)),
        buffer_capacity=cfg.buffer_capacity * target.n_channels, buffered_steps=buffered,
        channel_dropping_threshold=cfg.drop_threshold if target.n_channels > 1 else 0.0,
        channel_dropping_interval=cfg.drop_interval, train_channel_weights=target.n_channels > 1,
        flow_kwargs=peer_flow_kwargs(cfg, target.dim),
        dtype=torch.float32)
    start = time.perf_counter()
    pretraining = VegasPreTraining(integrator, bins=cfg.vegas_bins)
    pretraining.rng = np.random.default_rng(seed)
    pretraining.train([cfg.vegas_points // target.n_channels] * cfg.vegas_iterations)
    pretraining.initialize_integrator()
    integrator.train(steps)
    wall = time.perf_counter() - start
    train_calls = calls["n"]
    with torch.no_grad():
        samples = integrator.sample(points)
    channels = (samples.channels.numpy() if samples.channels is not None
                else np.zeros(len(samples.weights), dtype=np.int64))
    counts = np.bincount(channels, minlength=target.n_channels)
    # The package scales weights by n / n_c so that their overall mean is the integral; undo it.
    raw = samples.weights.to(torch.float64).numpy() * counts[channels] / len(channels) * unit
    per_channel = [raw[channels == c] if counts[c] else None for c in range(target.n_channels)]
    res = integration_result(per_channel, target.channel_names, sampler="madnis-1.0.0",
                             max_overweight=cfg.max_overweight)
    res.phases = {}
    return res, wall, train_calls
