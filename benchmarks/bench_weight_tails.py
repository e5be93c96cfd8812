"""Where the largest VEGAS weights of a process come from, printed as JSON.

Trains VEGAS on a process (issue 6(a) settings of ``bench_physics_samplers``),
draws weighted points and reports the largest weights: channel, weight over
the mean weight of its channel and over the global mean, subprocess group,
x1, x2, sqrt(s-hat) and every final-state particle's transverse momentum,
rapidity and mass, plus the invariants t_i = (p_beam_i - p_last)^2 with the
last final-state leg. A map that flattens its channel well has no point far
above its channel's mean; the ones listed show which region it misses.

Usage:
    python benchmarks/bench_weight_tails.py ttbar_jet [--seed 1] [--iterations 20] [--points 400000] [--top 10]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from bench_physics_samplers import SETTINGS, prepare
from madnis_plugin.phasespace.kinematics import invariant_mass, minkowski_square
from madnis_plugin.sampler import VegasSampler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("process", choices=sorted(SETTINGS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--points", type=int, default=400_000)
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    setup = prepare(args.process, args.seed)
    integrand = setup.integrand
    vegas = VegasSampler(integrand, bins=64, seed=args.seed)
    vegas.train(args.iterations, 10_000)
    batch = vegas.sample(points=args.points)
    w, p = batch.weight, batch.payload["momenta"]
    rows = []
    for i in np.argsort(w)[::-1][:args.top]:
        c = int(batch.channel[i])
        q = p[i]
        fs = q[2:]
        rows.append({
            "channel": integrand.channel_names[c],
            "weight_over_channel_mean": float(w[i] / w[batch.channel == c].mean()),
            "weight_over_mean": float(w[i] / w.mean()),
            "group_pdg": list(integrand.groups[integrand.channels[c].group].subprocesses[0].pdg),
            "x1": float(batch.payload["x1"][i]), "x2": float(batch.payload["x2"][i]),
            "sqrt_shat": float(invariant_mass(q[0] + q[1])),
            "pt": np.round(np.hypot(fs[:, 1], fs[:, 2]), 3).tolist(),
            "rapidity": np.round(0.5 * np.log((fs[:, 0] + fs[:, 3]) / (fs[:, 0] - fs[:, 3])), 3).tolist(),
            "mass": np.round(invariant_mass(fs), 3).tolist(),
            "t_beam_last": [float(minkowski_square(q[0] - q[-1])), float(minkowski_square(q[1] - q[-1]))],
        })
    result = vegas.integrate(points=args.points)
    print(json.dumps({"benchmark": "weight_tails", "process": args.process, "seed": args.seed,
                      "training_calls": args.iterations * 10_000, "points": args.points,
                      "cross_section_pb": result.cross_section, "error_pb": result.error,
                      "rel_std": result.rel_std, "largest": rows}, indent=1))


if __name__ == "__main__":
    main()
