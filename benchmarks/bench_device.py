"""The neural sampler on the CPU against the same sampler on a CUDA GPU, side by side.

Each process of issue 6(a) (settings as in ``bench_physics_samplers.py``) is
trained and integrated with the madnis card's defaults once per device, with
the same seed. Printed as one JSON object: per process and device, training
and integration wall time, relative standard deviation, unweighting
efficiency and cross section, and the ratios CPU / CUDA of the wall times.
The integrand (phase space, PDFs, matrix elements) runs on the CPU in either
case; only the networks move. Without a GPU only the CPU column is printed.

Usage:
    python benchmarks/bench_device.py [--processes ttbar_jet ...] [--train-batches N] [--points N]
        [--seed S] [--threads T]

On an H200 machine with 16 cores the default budget (t t~ + jet, both
devices) took longer than 200 s, so a short check uses ``--train-batches 200``:
``--processes ttbar_jet gg_ggg --train-batches 200`` took 95 s there, both
devices, with training walls CPU / CUDA of 0.96 and 0.99 (docs/sampler.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import torch

from madnis_plugin.resources import default_card
from madnis_plugin.sampler import MadnisSampler, read_madnis_card
from bench_physics_samplers import SETTINGS, prepare
from peer import warm_up


def run(name: str, device: str, train_batches: int | None, points: int, seed: int) -> dict:
    setup = prepare(name, seed)
    config = read_madnis_card(default_card("madnis_card.dat")).replace(device=device)
    if train_batches is not None:
        config = config.replace(train_batches=train_batches)
    sampler = MadnisSampler(setup.integrand, config, seed=seed)
    start = time.perf_counter()
    sampler.train()
    train_wall = time.perf_counter() - start
    start = time.perf_counter()
    result = sampler.integrate(points=points)
    integrate_wall = time.perf_counter() - start
    return {"train_wall_s": train_wall, "integrate_wall_s": integrate_wall,
            "phases": {k: v.to_dict() for k, v in sampler.phases.items()},
            "rel_std": result.rel_std, "unweighting_efficiency": result.unweighting_efficiency,
            "cross_section_pb": result.cross_section, "error_pb": result.error,
            "active_channels": int(sampler.active.sum()), "channels": setup.integrand.n_channels}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", nargs="*", default=["ttbar_jet"], choices=list(SETTINGS))
    parser.add_argument("--train-batches", type=int, default=None, help="default: the madnis card's")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    warm_up()
    results = {}
    for name in args.processes:
        row = {}
        for device in devices:
            row[device] = run(name, device, args.train_batches, args.points, args.seed)
            print(f"{name} {device}: {json.dumps(row[device])}", file=sys.stderr, flush=True)
        if "cuda" in row:
            row["cpu_over_cuda"] = {key: row["cpu"][key] / row["cuda"][key]
                                    for key in ("train_wall_s", "integrate_wall_s")}
        results[name] = row
        print(f"{name}: {json.dumps(row.get('cpu_over_cuda', {}))}", file=sys.stderr)
    print(json.dumps({"benchmark": "device", "devices": devices,
                      "gpu": torch.cuda.get_device_name(0) if "cuda" in devices else None,
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "train_batches": args.train_batches, "points": args.points, "seed": args.seed,
                      "results": results}, indent=1))


if __name__ == "__main__":
    main()
