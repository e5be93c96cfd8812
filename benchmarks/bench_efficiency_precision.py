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
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from bench_physics_samplers import SETTINGS, prepare, train_vegas, training_calls
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import MadnisSampler, read_madnis_card
from madnis_plugin.sampler.estimate import integration_result


def study(sampler, names: list[str], samples: int, points: int) -> dict:
    drawn: list[list[np.ndarray]] = []
    rel_std, efficiency = [], []
    for _ in range(samples):
        batch = sampler.sample(points)
        drawn.append([batch.weight[batch.channel == c] for c in range(len(names))])
        result = integration_result(drawn[-1], names)
        rel_std.append(result.rel_std)
        efficiency.append(result.unweighting_efficiency)
    pooled = integration_result([np.concatenate(per_channel) for per_channel in zip(*drawn)], names)
    return {
        "rel_std": rel_std, "unweighting_efficiency": efficiency,
        "rel_std_mean": float(np.mean(rel_std)), "rel_std_spread": float(np.std(rel_std, ddof=1)),
        "efficiency_mean": float(np.mean(efficiency)), "efficiency_spread": float(np.std(efficiency, ddof=1)),
        "pooled_points": samples * points, "pooled_rel_std": pooled.rel_std,
        "pooled_efficiency": pooled.unweighting_efficiency,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--process", choices=sorted(SETTINGS), default="w_jet")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if args.samples < 2:
        parser.error("--samples must be at least 2 (the spread needs two)")
    torch.set_num_threads(args.threads)
    integrand = prepare(args.process, args.seed).integrand
    config = read_madnis_card(default_card("madnis_card.dat"))
    madnis = MadnisSampler(integrand, config, seed=args.seed)
    madnis.train()
    # VEGAS gets the neural sampler's training calls, as in bench_physics_samplers.
    vegas = train_vegas(integrand, config, args.seed, training_calls(madnis))
    names = list(integrand.channel_names)
    results = {name: study(sampler, names, args.samples, args.points)
               for name, sampler in (("madnis", madnis), ("vegas", vegas))}
    print(json.dumps({"benchmark": "efficiency_precision", "process": args.process, "seed": args.seed,
                      "samples": args.samples, "points": args.points, "results": results}, indent=1))


if __name__ == "__main__":
    main()
