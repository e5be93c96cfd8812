"""The two multi-channel priors (run card ``sde_strategy``) side by side under VEGAS.

For each process (issue 6(a) settings of ``bench_physics_samplers``) and seed,
VEGAS is trained and integrated twice on the same channels, once with the
diagram-amplitude prior (``sde_strategy = 1``) and once with the
propagator-denominator prior (``2``), equal budgets. Printed as one JSON
object: per process, strategy and seed the relative standard deviation of the
weights, the unweighting efficiency (0.1% overweight rule) and the cross
section; per process the medians over seeds and the ratios
``rel_std(1) / rel_std(2)`` and ``efficiency(2) / efficiency(1)`` of the
medians. The prior changes how the integral is split, not its value, so the
two cross sections must agree within their errors (``pull``).

Usage:
    python benchmarks/bench_channel_prior.py [--processes ttbar_jet ...] [--seeds 1 2 3]
        [--iterations 20] [--points 100000]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics

from bench_physics_samplers import SETTINGS
from madnis_plugin import api
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import VegasSampler


def run(name: str, strategy: int, seed: int, iterations: int, points: int) -> dict:
    setup = api.prepare_run(name, run_card=default_card("run_card_pp.dat"), seed=seed,
                            overrides={**SETTINGS[name], "sde_strategy": strategy})
    vegas = VegasSampler(setup.integrand, bins=64, seed=seed)
    vegas.train(iterations=iterations, points_per_iteration=10_000)
    result = vegas.integrate(points=points)
    return {"cross_section_pb": result.cross_section, "error_pb": result.error, "rel_std": result.rel_std,
            "unweighting_efficiency": result.unweighting_efficiency}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", nargs="*", default=list(SETTINGS))
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2, 3])
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    out = {}
    for name in args.processes:
        runs = {k: [run(name, k, seed, args.iterations, args.points) for seed in args.seeds] for k in (1, 2)}
        median = {k: {m: statistics.median(r[m] for r in runs[k]) for m in ("rel_std", "unweighting_efficiency")}
                  for k in runs}
        pulls = [(a["cross_section_pb"] - b["cross_section_pb"]) / math.hypot(a["error_pb"], b["error_pb"])
                 for a, b in zip(runs[1], runs[2])]
        out[name] = {"sde_strategy_1": runs[1], "sde_strategy_2": runs[2], "median": median, "pull": pulls,
                     "rel_std_ratio_1_over_2": median[1]["rel_std"] / median[2]["rel_std"],
                     "efficiency_ratio_2_over_1": (median[2]["unweighting_efficiency"]
                                                   / median[1]["unweighting_efficiency"])}
    print(json.dumps({"benchmark": "channel_prior", "seeds": args.seeds, "iterations": args.iterations,
                      "points": args.points, "results": out}, indent=1))


if __name__ == "__main__":
    main()
