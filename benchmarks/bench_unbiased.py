"""Pull study: are the samplers' estimates unbiased with honest errors on the toy suite?

For every toy (known integral I) and seed, train a sampler, integrate with
fresh points and record the pull ``(estimate - I) / error``.  Over the seeds
the pulls should look like a unit Gaussian; the issue's criterion is
``|mean| < 3 / sqrt(n_seeds)`` and ``0.6 <= std <= 1.5``.  Prints JSON.

Run (about 15 minutes on one core with these settings)::

    nice python benchmarks/bench_unbiased.py --seeds 20 --train-batches 300 --points 50000
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch

from madnis_plugin.sampler import MadnisConfig, MadnisSampler, VegasSampler
from madnis_plugin.toys import toy_suite


def pull_summary(pulls: list[float]) -> dict:
    """Mean, std and the issue's pass criterion of a list of pulls."""
    p = np.asarray(pulls)
    mean, std = float(p.mean()), float(p.std(ddof=1))
    return {"pulls": [round(x, 4) for x in pulls], "mean": mean, "std": std,
            "mean_limit": 3 / math.sqrt(p.size),
            "passes": bool(abs(mean) < 3 / math.sqrt(p.size) and 0.6 <= std <= 1.5)}


def run_one(kind: str, toy, seed: int, args) -> tuple[float, float]:
    if kind == "vegas":
        sampler = VegasSampler(toy, bins=args.vegas_bins, seed=seed)
        sampler.train(iterations=args.vegas_iterations, points_per_iteration=args.vegas_points)
    else:
        cfg = MadnisConfig(train_batches=args.train_batches, vegas_bins=args.vegas_bins,
                           vegas_iterations=args.vegas_iterations, vegas_points=args.vegas_points)
        sampler = MadnisSampler(toy, cfg, seed=seed)
        sampler.train()
    res = sampler.integrate(points=args.points)
    return res.cross_section, res.error


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--toys", nargs="*", default=list(toy_suite()))
    parser.add_argument("--samplers", nargs="*", default=["vegas", "madnis"])
    parser.add_argument("--train-batches", type=int, default=MadnisConfig().train_batches)
    parser.add_argument("--vegas-bins", type=int, default=64)
    parser.add_argument("--vegas-iterations", type=int, default=10)
    parser.add_argument("--vegas-points", type=int, default=10000)
    parser.add_argument("--points", type=int, default=50000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    toys = toy_suite()
    report: dict = {"settings": vars(args), "results": {}}
    for name in args.toys:
        toy = toys[name]
        for kind in args.samplers:
            start = time.perf_counter()
            pulls = []
            for seed in range(args.seeds):
                estimate, error = run_one(kind, toy, 1000 + seed, args)
                pulls.append((estimate - toy.exact_integral) / error)
            summary = pull_summary(pulls)
            summary["wall_s"] = time.perf_counter() - start
            report["results"][f"{name}/{kind}"] = summary
            print(f"{name}/{kind}: mean {summary['mean']:+.3f} std {summary['std']:.3f} "
                  f"passes {summary['passes']}", file=sys.stderr, flush=True)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
