"""VEGAS against the neural sampler on the physics processes of issue 6(a), equal integrand calls.

Settings (run-card overrides on the shipped defaults, default PDF nn23lo1):

* ``w_jet``:          13 TeV, fixed scale MW, ptj 20, etaj 5, ptl 10, etal 2.5, drjl 0.4
* ``ttbar_jet``:      13 TeV, fixed scale 173 GeV, ptj 20, etaj 5
* ``gg_ggg``:         partonic g g at sqrt(s-hat) = 1000 GeV, ptj 20, drjj 0.4
* ``ttbar_dilepton``: 13 TeV, fixed scale 173 GeV, bwcutoff 15

The neural sampler runs with the madnis card (``--train-batches`` overrides its
budget); VEGAS gets the same number of integrand calls for its training
(iterations of the card's ``vegas_points``). Both then estimate from the same
number of fresh points, 1M by default. The 0.1% overweight rule rests on the
largest weights, and on 100k points the efficiency of one trained VEGAS grid
scattered from sample to sample (w_jet seed 1: 0.157 +- 0.015 over thirty
samples, 0.162 from all 3M; gg_ggg 0.005 to 0.036; ``bench_efficiency_precision.py``,
docs/sampler.md). Printed as one JSON object: per process and sampler,
the relative standard deviation of the weights, the unweighting efficiency
(0.1% overweight rule), cross section and error, calls and wall time per phase,
and the ratios VEGAS / MADNIS (rel_std) and MADNIS / VEGAS (efficiency).

With ``--peer`` the ``madnis`` package (PyPI 1.0.0) also trains on the same
integrand with settings matched to the card (``benchmarks/peer.py``) and is
reported beside ours, with the ratios ours / peer.

Usage:
    python benchmarks/bench_physics_samplers.py [--processes ...] [--train-batches N] [--points N]
        [--set KEY=VALUE ...]   (madnis card values, e.g. --set vegas_layer=exact)  [--peer]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import torch

from madnis_plugin import api
from madnis_plugin.resources import default_card
from madnis_plugin.sampler import MadnisSampler, VegasSampler, read_madnis_card
from madnis_plugin.sampler.config import parse_madnis_card
from peer import run_peer, warm_up

MW = 80.41900244575616

SETTINGS = {
    "w_jet": {"fixed_ren_scale": True, "fixed_fac_scale": True, "scale": MW, "dsqrt_q2fact1": MW,
              "dsqrt_q2fact2": MW, "ptj": 20.0, "etaj": 5.0, "ptl": 10.0, "etal": 2.5, "drjl": 0.4},
    "ttbar_jet": {"fixed_ren_scale": True, "fixed_fac_scale": True, "scale": 173.0, "dsqrt_q2fact1": 173.0,
                  "dsqrt_q2fact2": 173.0, "ptj": 20.0, "etaj": 5.0},
    "gg_ggg": {"lpp1": 0, "lpp2": 0, "ebeam1": 500.0, "ebeam2": 500.0, "ptj": 20.0, "drjj": 0.4},
    "ttbar_dilepton": {"fixed_ren_scale": True, "fixed_fac_scale": True, "scale": 173.0,
                       "dsqrt_q2fact1": 173.0, "dsqrt_q2fact2": 173.0, "bwcutoff": 15.0},
}


def summary(sampler, result, wall: float) -> dict:
    return {
        "cross_section_pb": result.cross_section,
        "error_pb": result.error,
        "rel_std": result.rel_std,
        "unweighting_efficiency": result.unweighting_efficiency,
        "n_calls": int(sum(p.n_calls for p in sampler.phases.values())),
        "phases": {name: phase.to_dict() for name, phase in sampler.phases.items()},
        "wall_s": wall,
    }


def prepare(name: str, seed: int):
    """The run of process ``name`` with its issue 6(a) settings (:data:`SETTINGS`)."""
    return api.prepare_run(name, run_card=default_card("run_card_pp.dat"), seed=seed, overrides=SETTINGS[name])


def training_calls(madnis: MadnisSampler) -> int:
    """Integrand calls the neural sampler spent before estimating (VEGAS pretraining and training)."""
    return sum(madnis.phases[p].n_calls for p in ("vegas", "training") if p in madnis.phases)


def train_vegas(integrand, config, seed: int, calls: int) -> VegasSampler:
    """VEGAS trained with ``calls`` integrand calls (whole iterations of the card's ``vegas_points``)."""
    vegas = VegasSampler(integrand, bins=config.vegas_bins, seed=seed, damping=config.vegas_damping)
    vegas.train(iterations=max(1, math.ceil(calls / config.vegas_points)), points_per_iteration=config.vegas_points)
    return vegas


def run(name: str, train_batches: int | None, points: int, seed: int, card_changes: dict | None = None,
        peer: bool = False) -> dict:
    setup = prepare(name, seed)
    config = read_madnis_card(default_card("madnis_card.dat"))
    if train_batches is not None:
        config = config.replace(train_batches=train_batches)
    if card_changes:
        config = parse_madnis_card("\n".join(f"{v} = {k}" for k, v in card_changes.items()), config)

    start = time.perf_counter()
    madnis = MadnisSampler(setup.integrand, config, seed=seed)
    madnis.train()
    madnis_result = madnis.integrate(points=points)
    madnis_wall = time.perf_counter() - start
    madnis_train_wall = sum(madnis.phases[p].wall_s for p in ("vegas", "training") if p in madnis.phases)

    start = time.perf_counter()
    vegas = train_vegas(setup.integrand, config, seed, training_calls(madnis))
    vegas_result = vegas.integrate(points=points)
    vegas_wall = time.perf_counter() - start

    out = {"vegas": summary(vegas, vegas_result, vegas_wall),
           "madnis": summary(madnis, madnis_result, madnis_wall),
           "channels": setup.integrand.n_channels, "dim": setup.integrand.dim}
    out["rel_std_ratio_vegas_over_madnis"] = vegas_result.rel_std / madnis_result.rel_std
    out["efficiency_ratio_madnis_over_vegas"] = (madnis_result.unweighting_efficiency
                                                 / max(vegas_result.unweighting_efficiency, 1e-300))
    out["pull"] = ((madnis_result.cross_section - vegas_result.cross_section)
                   / math.hypot(madnis_result.error, vegas_result.error))
    if peer:
        peer_result, peer_wall, peer_calls = run_peer(setup.integrand, config, seed, points,
                                                      unit=vegas_result.cross_section)
        out["madnis_1_0_0"] = {"cross_section_pb": peer_result.cross_section, "error_pb": peer_result.error,
                               "rel_std": peer_result.rel_std,
                               "unweighting_efficiency": peer_result.unweighting_efficiency,
                               "train_calls": peer_calls, "train_wall_s": peer_wall}
        out["ours_over_peer"] = {"rel_std": madnis_result.rel_std / peer_result.rel_std,
                                 "unweighting_efficiency": (madnis_result.unweighting_efficiency
                                                            / max(peer_result.unweighting_efficiency, 1e-300)),
                                 "train_wall": madnis_train_wall / peer_wall}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", nargs="*", default=list(SETTINGS))
    parser.add_argument("--train-batches", type=int, default=None, help="default: the madnis card's")
    parser.add_argument("--points", type=int, default=1_000_000, help="fresh points per sampler (default 1M)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="madnis card values for the neural sampler, e.g. vegas_layer=exact")
    parser.add_argument("--peer", action="store_true", help="also run the madnis 1.0.0 package")
    args = parser.parse_args()
    card_changes = dict(item.split("=", 1) for item in args.set)
    torch.set_num_threads(args.threads)
    warm_up()
    results = {}
    for name in args.processes:
        results[name] = run(name, args.train_batches, args.points, args.seed, card_changes, args.peer)
        headline = {k: v for k, v in results[name].items() if "ratio" in k or k in ("pull", "ours_over_peer")}
        print(f"{name}: {json.dumps(headline)}", file=sys.stderr)
    print(json.dumps({"benchmark": "physics_samplers", "train_batches": args.train_batches,
                      "points": args.points, "threads": args.threads, "card_changes": card_changes, "results": results}, indent=1))


if __name__ == "__main__":
    main()
