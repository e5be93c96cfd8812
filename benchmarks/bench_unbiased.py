"""Pull study: are the samplers' estimates unbiased with honest errors?

Toys: for every toy (known integral I) and seed, train a sampler, integrate
with fresh points and record the pull ``(estimate - I) / error``.

Built-in processes (``--processes``, default run cards): the exact integral
is unknown, so every seed also runs an independent VEGAS integration (its own
seed, the same VEGAS training, ``--reference-points`` points) and the pull is
``(estimate - I_vegas) / sqrt(error^2 + error_vegas^2)``.  One shared
high-statistics reference would not do: its own fluctuation would shift all
twenty pulls together.

Over the seeds the pulls should look like a unit Gaussian; the issue's
criterion is ``|mean| < 3 / sqrt(n_seeds)`` and ``0.6 <= std <= 1.5``.
``--first-seed N`` runs another, independent set of seeds (``N`` to ``N +
seeds - 1``). Prints JSON.

``--reference-check`` checks the references themselves: it computes only the
VEGAS references of the processes for the seeds, and compares their scatter
with their quoted errors (ratio, chi-square about the weighted mean, and its
lower- and upper-tail probabilities)::

    python benchmarks/bench_unbiased.py --toys --processes ttbar_dilepton --seeds 200 --reference-check

Run (about 15 minutes on one core with these settings)::

    nice python benchmarks/bench_unbiased.py --seeds 20 --train-batches 300 --points 50000

and for the processes (MADNIS against VEGAS, about two hours on one core)::

    nice python benchmarks/bench_unbiased.py --toys --processes all --samplers madnis \\
        --seeds 20 --train-batches 100 --points 30000
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np
import torch
from scipy import stats

from madnis_plugin import api
from madnis_plugin.resources import builtin_processes
from madnis_plugin.sampler import MadnisConfig, MadnisSampler, VegasSampler
from madnis_plugin.toys import toy_suite

REFERENCE_SEED_OFFSET = 5000


def pull_summary(pulls: list[float]) -> dict:
    """Mean, std and the issue's pass criterion of a list of pulls."""
    p = np.asarray(pulls)
    mean, std = float(p.mean()), float(p.std(ddof=1))
    return {"pulls": [round(x, 4) for x in pulls], "mean": mean, "std": std,
            "mean_limit": 3 / math.sqrt(p.size),
            "passes": bool(abs(mean) < 3 / math.sqrt(p.size) and 0.6 <= std <= 1.5)}


def run_one(kind: str, integrand, seed: int, args, points: int | None = None) -> tuple[float, float]:
    """Train a ``kind`` sampler with the study's budget; estimate and error from ``points`` (default ``--points``)."""
    if kind == "vegas":
        sampler = VegasSampler(integrand, bins=args.vegas_bins, seed=seed)
        sampler.train(iterations=args.vegas_iterations, points_per_iteration=args.vegas_points)
    else:
        cfg = MadnisConfig(train_batches=args.train_batches, vegas_bins=args.vegas_bins,
                           vegas_iterations=args.vegas_iterations, vegas_points=args.vegas_points)
        sampler = MadnisSampler(integrand, cfg, seed=seed)
        sampler.train()
    res = sampler.integrate(points=args.points if points is None else points)
    return res.cross_section, res.error


def vegas_reference(integrand, seed: int, args) -> tuple[float, float]:
    """An independent VEGAS estimate of ``integrand`` (the reference of one process pull)."""
    return run_one("vegas", integrand, REFERENCE_SEED_OFFSET + seed, args, points=args.reference_points)


def study(name: str, integrand, reference, args, report: dict) -> None:
    """Pulls of every sampler over the seeds against ``reference(seed)`` (value, error); into ``report``."""
    for kind in args.samplers:
        start = time.perf_counter()
        pulls, references = [], []
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            estimate, error = run_one(kind, integrand, 1000 + seed, args)
            references.append(reference(seed))
            pulls.append((estimate - references[-1][0]) / math.hypot(error, references[-1][1]))
        summary = pull_summary(pulls)
        summary["references"] = references
        summary["wall_s"] = time.perf_counter() - start
        report["results"][f"{name}/{kind}"] = summary
        print(f"{name}/{kind}: mean {summary['mean']:+.3f} std {summary['std']:.3f} "
              f"passes {summary['passes']}", file=sys.stderr, flush=True)


def reference_check(name: str, integrand, args, report: dict) -> None:
    """Scatter of the VEGAS references over the seeds against their quoted errors; into ``report``."""
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    values, errors = np.array([vegas_reference(integrand, seed, args) for seed in seeds]).T
    mean = np.average(values, weights=errors ** -2)
    chi2, dof = float(np.sum(((values - mean) / errors) ** 2)), values.size - 1
    scatter, quoted = float(values.std(ddof=1)), float(errors.mean())
    summary = {"references": np.c_[values, errors].tolist(), "weighted_mean": float(mean),
               "scatter": scatter, "mean_quoted_error": quoted,
               "scatter_over_quoted": scatter / quoted, "chi2": chi2, "dof": dof,
               "p_below": float(stats.chi2.cdf(chi2, dof)), "p_above": float(stats.chi2.sf(chi2, dof))}
    report["results"][f"{name}/references"] = summary
    print(f"{name} references: scatter / quoted error {summary['scatter_over_quoted']:.3f}, "
          f"chi2 {chi2:.1f} / {dof}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds first-seed ... first-seed + seeds - 1 (another set: --first-seed 20)")
    parser.add_argument("--toys", nargs="*", default=list(toy_suite()))
    parser.add_argument("--processes", nargs="*", default=[],
                        help="built-in processes (default run cards), or 'all'")
    parser.add_argument("--samplers", nargs="*", default=["vegas", "madnis"])
    parser.add_argument("--train-batches", type=int, default=MadnisConfig().train_batches)
    parser.add_argument("--vegas-bins", type=int, default=64)
    parser.add_argument("--vegas-iterations", type=int, default=10)
    parser.add_argument("--vegas-points", type=int, default=10000)
    parser.add_argument("--points", type=int, default=50000)
    parser.add_argument("--reference-points", type=int, default=200_000,
                        help="points of each process' VEGAS reference")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--reference-check", action="store_true",
                        help="only the processes' VEGAS references: their scatter against their quoted errors")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    toys = toy_suite()
    report: dict = {"settings": vars(args), "results": {}}
    for name in args.toys:
        study(name, toys[name], lambda seed: (toys[name].exact_integral, 0.0), args, report)
    processes = builtin_processes() if args.processes == ["all"] else args.processes
    for name in processes:
        integrand = api.prepare_run(name, seed=1).integrand
        if args.reference_check:
            reference_check(name, integrand, args, report)
            continue
        study(name, integrand, lambda seed: vegas_reference(integrand, seed, args), args, report)
    print(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
