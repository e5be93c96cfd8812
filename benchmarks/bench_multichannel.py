"""Multi-channel VEGAS against single-channel VEGAS on every built-in process.

For each process (default run card: lepton card for lepton beams,
``run_card_pp.dat`` for hadron beams), two VEGAS samplers get the same
integrand-call budget (training iterations x points, then a fresh estimate):

* ``multi``: one channel per (subprocess group, diagram), diagram priors of the
  run card's ``sde_strategy`` (:class:`~madnis_plugin.integrand.CollisionIntegrand`);
* ``single``: one flat channel per subprocess group (``single_channel=True``).

Each prints the cross section and error, the relative standard deviation of
the weights (``sqrt(N) error / sigma``, which is ``sigma_w / <w>`` for one
channel) and the unweighting efficiency with at most 0.1% of the cross
section in overweights (:mod:`madnis_plugin.metrics`), the integrand calls and
the wall time.  ``--finite-points N`` instead evaluates N points per channel of
the full integrand (value and multi-channel weight) and prints the counts of
non-finite and negative results (issue 5 asks for 10^7).

Prints one JSON object.

Usage:
    python benchmarks/bench_multichannel.py [--processes ee_mumu ttbar] [--iterations 5]
        [--training-points 20000] [--points 100000] [--seed 1]
    python benchmarks/bench_multichannel.py --finite-points 10000000 [--chunk 200000]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madnis_plugin.api import prepare_run  # noqa: E402
from madnis_plugin.resources import builtin_processes  # noqa: E402
from madnis_plugin.sampler import VegasSampler  # noqa: E402


def compare(name: str, iterations: int, training_points: int, points: int, seed: int) -> dict[str, Any]:
    """Both samplers on one process at equal integrand calls."""
    out: dict[str, Any] = {"process": name}
    for label, single in (("multi", False), ("single", True)):
        start = time.perf_counter()
        setup = prepare_run(name, seed=seed, single_channel=single)
        sampler = VegasSampler(setup.integrand, bins=64, seed=seed)
        sampler.train(iterations=iterations, points_per_iteration=training_points)
        result = sampler.integrate(points=points)
        out[label] = {
            "channels": setup.integrand.n_channels,
            "cross_section_pb": result.cross_section,
            "error_pb": result.error,
            "rel_std": result.rel_std,
            "unweighting_efficiency": result.unweighting_efficiency,
            "overweight_fraction": result.overweight_fraction,
            "integrand_calls": int(sum(p.n_calls for p in sampler.phases.values())),
            "wall_s": round(time.perf_counter() - start, 2),
        }
    m, s = out["multi"], out["single"]
    out["pull"] = (m["cross_section_pb"] - s["cross_section_pb"]) / float(np.hypot(m["error_pb"], s["error_pb"]))
    return out


def count_non_finite(name: str, points: int, chunk: int, seed: int) -> dict[str, Any]:
    """Evaluate ``points`` uniform points per channel; count non-finite and negative values and weights."""
    integrand = prepare_run(name, seed=seed).integrand
    rng = np.random.default_rng(seed)
    rows = []
    for c, label in enumerate(integrand.channel_names):
        counts = {"non_finite_value": 0, "non_finite_weight": 0, "negative_value": 0, "non_finite_prior": 0,
                  "nonzero": 0}
        start = time.perf_counter()
        done = 0
        while done < points:
            n = min(chunk, points - done)
            batch = integrand(c, rng.random((n, integrand.dim)))
            counts["non_finite_value"] += int(np.count_nonzero(~np.isfinite(batch.value)))
            counts["non_finite_weight"] += int(np.count_nonzero(~np.isfinite(batch.weight)))
            counts["negative_value"] += int(np.count_nonzero(batch.value < 0))
            counts["non_finite_prior"] += int(np.count_nonzero(~np.all(np.isfinite(batch.channel_prior), axis=1)))
            counts["nonzero"] += int(np.count_nonzero(batch.value))
            done += n
        rows.append({"channel": label, "points": done, "seconds": round(time.perf_counter() - start, 1), **counts})
    return {"process": name, "channels": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", nargs="*", default=None, help="default: every built-in process")
    parser.add_argument("--iterations", type=int, default=5)
    parser.add_argument("--training-points", type=int, default=20_000)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--finite-points", type=int, default=0,
                        help="instead of the comparison: points per channel for the non-finite count")
    parser.add_argument("--chunk", type=int, default=200_000)
    args = parser.parse_args()
    names = args.processes or builtin_processes()
    if args.finite_points:
        report = [count_non_finite(n, args.finite_points, args.chunk, args.seed) for n in names]
        print(json.dumps({"non_finite": report}, indent=1))
        bad = sum(r["non_finite_value"] + r["non_finite_weight"] + r["negative_value"] + r["non_finite_prior"]
                  for p in report for r in p["channels"])
        return 1 if bad else 0
    report = [compare(n, args.iterations, args.training_points, args.points, args.seed) for n in names]
    print(json.dumps({"settings": vars(args), "results": report}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
