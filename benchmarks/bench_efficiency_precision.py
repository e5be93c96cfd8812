"""How precisely a sample of fresh points measures the unweighting efficiency, printed as JSON.

The efficiency of DESIGN.md (per channel, ``w_max`` such that the overweights
carry 0.1% of the cross section) rests on the largest weights, so its estimate
from one sample scatters, and where the weights have a heavy tail the scatter
is large. This script trains VEGAS and the neural sampler as
``bench_physics_samplers.py`` does (issue 6(a) settings, the madnis card, VEGAS
with as many training calls as the neural sampler), then draws ``--samples``
independent samples of ``--points`` fresh points from each and reports, per
sampler, the relative standard deviation and efficiency of every sample, their
mean and standard deviation, and both figures from all samples pooled.

Usage:
    python benchmarks/bench_efficiency_precision.py [--process w_jet] [--seed 1] [--samples 30] [--points 100000]
        [--samplers vegas madnis]
"""

from __future__ import annotations

import argparse
import json
import math

import numpy as np
import torch

from bench_physics_samplers import SETTINGS
from madnis_plugin import api
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import MadnisSampler, VegasSampler, read_madnis_card
from madnis_plugin.sampler.estimate import integration_result
from madnis_plugin.sampler.training import is_online_step


def estimate(weights_by_channel: list[list[np.ndarray]], names: list[str]):
    """The integration result from each channel's weights (None where a channel drew nothing)."""
    joined = [np.concatenate(w) if w and sum(x.size for x in w) else None for w in weights_by_channel]
    return integration_result(joined, names)


def study(sampler, n_channels: int, names: list[str], samples: int, points: int) -> dict:
    pooled: list[list[np.ndarray]] = [[] for _ in range(n_channels)]
    rel_std, efficiency = [], []
    for _ in range(samples):
        batch = sampler.sample(points)
        per_channel = [batch.weight[batch.channel == c] for c in range(n_channels)]
        result = estimate([[w] for w in per_channel], names)
        rel_std.append(result.rel_std)
        efficiency.append(result.unweighting_efficiency)
        for c in range(n_channels):
            pooled[c].append(per_channel[c])
    everything = estimate(pooled, names)
    return {
        "rel_std": rel_std, "unweighting_efficiency": efficiency,
        "rel_std_mean": float(np.mean(rel_std)), "rel_std_spread": float(np.std(rel_std, ddof=1)),
        "efficiency_mean": float(np.mean(efficiency)), "efficiency_spread": float(np.std(efficiency, ddof=1)),
        "pooled_points": samples * points, "pooled_rel_std": everything.rel_std,
        "pooled_efficiency": everything.unweighting_efficiency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--process", choices=sorted(SETTINGS), default="w_jet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--samplers", nargs="+", choices=("vegas", "madnis"), default=["vegas", "madnis"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.samples < 2:
        parser.error("--samples must be at least 2 (the spread needs two)")
    torch.set_num_threads(args.threads)
    setup = api.prepare_run(args.process, run_card=default_card("run_card_pp.dat"), seed=args.seed,
                            overrides=SETTINGS[args.process])
    integrand = setup.integrand
    config = read_madnis_card(default_card("madnis_card.dat"))
    # VEGAS gets the neural sampler's training calls, as in bench_physics_samplers
    # (counted from its run when it trains here, which it then does first).
    online = sum(is_online_step(step, config.buffered_fraction) for step in range(config.train_batches))
    training_calls = config.vegas_iterations * config.vegas_points + online * config.batch_size
    results = {}
    for name in sorted(args.samplers, key=lambda n: n != "madnis"):
        if name == "madnis":
            sampler = MadnisSampler(integrand, config, seed=args.seed)
            sampler.train()
            training_calls = sum(p.n_calls for p in sampler.phases.values())
        else:
            sampler = VegasSampler(integrand, bins=config.vegas_bins, seed=args.seed, damping=config.vegas_damping)
            sampler.train(iterations=max(1, math.ceil(training_calls / config.vegas_points)),
                          points_per_iteration=config.vegas_points)
        results[name] = study(sampler, integrand.n_channels, list(integrand.channel_names), args.samples, args.points)
    print(json.dumps({"benchmark": "efficiency_precision", "process": args.process, "seed": args.seed,
                      "samples": args.samples, "points": args.points, "results": results}, indent=1))


if __name__ == "__main__":
    main()
