"""VEGAS against MADNIS on the toy suite at equal integrand calls, printed as JSON.

MADNIS spends its calls on VEGAS pretraining plus the online training steps;
VEGAS gets the same number of training calls as extra adaptation iterations.
Both then integrate with the same number of fresh points.  Reported per toy
and sampler: cross section, error, pull against the exact integral, relative
standard deviation, unweighting efficiency (0.1% overweight rule), overweight
share, integrand calls and wall time per phase.

With ``--peer``, the ``madnis`` package (PyPI 1.0.0: ``pip install --no-deps
madnis==1.0.0``, its only other runtime needs are numpy and torch) drives the
same integrand with its own flows, VEGAS pretraining (folded into its flow
with ``init_with_grid``) and buffer, with settings matched to our card
(batch size, steps, 4 buffered steps per online one, learning rate with
cosine decay, channel dropping, 64 VEGAS bins, VEGAS calls); our metrics are
recomputed from its samples.

Run::

    nice python benchmarks/bench_sampler_toys.py                 # card defaults
    nice python benchmarks/bench_sampler_toys.py --train-batches 300 --toys ring --peer
    nice python benchmarks/bench_sampler_toys.py --set vegas_layer=exact   # any madnis card value
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from madnis_plugin.sampler import MadnisConfig, MadnisSampler, VegasSampler
from madnis_plugin.sampler.config import parse_madnis_card
from madnis_plugin.sampler.estimate import integration_result
from madnis_plugin.toys import toy_suite


def run_peer(toy, cfg: MadnisConfig, seed: int, points: int) -> tuple[object, float, int]:
    """Train and sample with the ``madnis`` package; returns our result, training wall time and calls."""
    from madnis.integrator import Integrand, Integrator, VegasPreTraining

    calls = {"n": 0}

    def evaluate(x: torch.Tensor, channels: torch.Tensor | None):
        r = x.detach().to(torch.float64).numpy()
        ch = np.zeros(len(r), dtype=np.int64) if channels is None else channels.numpy()
        value = np.zeros(len(r))
        features = np.zeros((len(r), toy.n_features))
        prior = np.zeros((len(r), toy.n_channels))
        for c in np.unique(ch):
            mask = ch == c
            batch = toy(int(c), np.clip(r[mask], 0.0, np.nextafter(1.0, 0.0)))
            value[mask], features[mask], prior[mask] = batch.value, batch.features, batch.channel_prior
        calls["n"] += len(r)
        as_t = lambda a: torch.as_tensor(a, dtype=x.dtype)  # noqa: E731
        return as_t(value), as_t(features), as_t(prior)

    torch.manual_seed(seed)
    if toy.n_channels == 1:
        integrand = Integrand(lambda x: evaluate(x, None)[0], input_dim=toy.dim)
    else:
        integrand = Integrand(evaluate, input_dim=toy.dim, channel_count=toy.n_channels,
                              remapped_dim=toy.n_features, has_channel_weight_prior=True)
    steps = cfg.train_batches
    buffered = round(cfg.buffered_fraction / (1 - cfg.buffered_fraction))
    integrator = Integrator(
        integrand, batch_size=cfg.batch_size, learning_rate=cfg.learning_rate,
        scheduler=lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(
            opt, steps, eta_min=cfg.learning_rate * cfg.lr_min_factor),
        buffer_capacity=cfg.buffer_capacity * toy.n_channels, buffered_steps=buffered,
        channel_dropping_threshold=cfg.drop_threshold if toy.n_channels > 1 else 0.0,
        channel_dropping_interval=cfg.drop_interval, train_channel_weights=toy.n_channels > 1,
        flow_kwargs={"bins": cfg.flow_bins, "units": cfg.flow_hidden, "layers": cfg.flow_layers},
        dtype=torch.float32)
    start = time.perf_counter()
    pretraining = VegasPreTraining(integrator, bins=cfg.vegas_bins)
    pretraining.rng = np.random.default_rng(seed)
    pretraining.train([cfg.vegas_points // toy.n_channels] * cfg.vegas_iterations)
    pretraining.initialize_integrator()
    integrator.train(steps)
    wall = time.perf_counter() - start
    train_calls = calls["n"]
    with torch.no_grad():
        samples = integrator.sample(points)
    channels = (samples.channels.numpy() if samples.channels is not None
                else np.zeros(len(samples.weights), dtype=np.int64))
    counts = np.bincount(channels, minlength=toy.n_channels)
    # The package scales weights by n / n_c so that their overall mean is the integral; undo it.
    raw = samples.weights.to(torch.float64).numpy() * counts[channels] / len(channels)
    per_channel = [raw[channels == c] if counts[c] else None for c in range(toy.n_channels)]
    res = integration_result(per_channel, toy.channel_names, sampler="madnis-1.0.0",
                             max_overweight=cfg.max_overweight)
    res.phases = {}
    return res, wall, train_calls


def summary(res, exact: float, train_calls: int, train_wall: float) -> dict:
    return {
        "cross_section": res.cross_section, "error": res.error, "exact": exact,
        "pull": (res.cross_section - exact) / res.error if res.error > 0 else None,
        "rel_std": res.rel_std, "unweighting_efficiency": res.unweighting_efficiency,
        "overweight_fraction": res.overweight_fraction,
        "train_calls": train_calls, "train_wall_s": train_wall,
        "integration_calls": res.n_calls,
        "phases": {k: v.to_dict() for k, v in res.phases.items()},
        "integration_wall_s": res.phases["integration"].wall_s if "integration" in res.phases else None,
        "channels": [c.to_dict() for c in res.channels],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toys", nargs="*", default=list(toy_suite()))
    parser.add_argument("--train-batches", type=int, default=None)
    parser.add_argument("--channel-mode", default=None, choices=["conditional", "per_channel"])
    parser.add_argument("--loss", default=None, choices=["variance", "kl"])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--peer", action="store_true", help="also run the madnis 1.0.0 package")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="madnis card values for our sampler, e.g. vegas_layer=exact")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    changes = {k: v for k, v in (("train_batches", args.train_batches), ("channel_mode", args.channel_mode),
                                 ("loss", args.loss)) if v is not None}
    cfg = parse_madnis_card("\n".join(f"{v} = {k}" for k, v in (item.split("=", 1) for item in args.set)),
                            MadnisConfig().replace(**changes))
    toys = toy_suite()
    report: dict = {"settings": {**vars(args), "config": cfg.to_dict(),
                                 "torch_threads": torch.get_num_threads()}, "results": {}}
    for name in args.toys:
        toy = toys[name]
        start = time.perf_counter()
        madnis = MadnisSampler(toy, cfg, seed=args.seed)
        madnis.train()
        madnis_train_wall = time.perf_counter() - start
        madnis_calls = madnis.phases["vegas"].n_calls + madnis.phases["training"].n_calls
        madnis_res = madnis.integrate(points=args.points)

        start = time.perf_counter()
        vegas = VegasSampler(toy, bins=cfg.vegas_bins, seed=args.seed)
        vegas.train(iterations=max(1, round(madnis_calls / cfg.vegas_points)),
                    points_per_iteration=cfg.vegas_points)
        vegas_train_wall = time.perf_counter() - start
        vegas_res = vegas.integrate(points=args.points)

        v = summary(vegas_res, toy.exact_integral, vegas.phases["vegas"].n_calls, vegas_train_wall)
        m = summary(madnis_res, toy.exact_integral, madnis_calls, madnis_train_wall)
        m["history"] = {"rel_std_first_last": [madnis.history["rel_std"][0], madnis.history["rel_std"][-1]],
                        "skipped_steps": madnis.history["skipped_steps"],
                        "n_nonfinite": madnis.history["n_nonfinite"],
                        "drops": [d["dropped"] for d in madnis.history["drops"] if d["dropped"]],
                        "channel_weight_shares": madnis.history["channel_weight_shares"]}
        report["results"][name] = {
            "vegas": v, "madnis": m,
            "rel_std_ratio_vegas_over_madnis": v["rel_std"] / m["rel_std"],
            "efficiency_ratio_madnis_over_vegas": (m["unweighting_efficiency"] / v["unweighting_efficiency"]
                                                   if v["unweighting_efficiency"] > 0 else None),
        }
        if args.peer:
            peer_res, peer_wall, peer_calls = run_peer(toy, cfg, args.seed, args.points)
            report["results"][name]["madnis_1_0_0"] = summary(peer_res, toy.exact_integral, peer_calls, peer_wall)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
