"""VEGAS against MADNIS on the toy suite at equal integrand calls, printed as JSON.

MADNIS spends its calls on VEGAS pretraining plus the online training steps;
VEGAS gets the same number of training calls as extra adaptation iterations.
Both then integrate with the same number of fresh points.  Reported per toy
and sampler: cross section, error, pull against the exact integral, relative
standard deviation, unweighting efficiency (0.1% overweight rule), overweight
share, integrand calls and wall time per phase.

With ``--peer``, the ``madnis`` package (PyPI 1.0.0) drives the same
integrand with settings matched to our card (``benchmarks/peer.py``).

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
from madnis_plugin.toys import toy_suite
from peer import run_peer, warm_up


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
    warm_up()
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
