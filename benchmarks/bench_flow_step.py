"""One training step of the multi-channel flow: one conditioned network against per-channel networks.

A step is the density of a batch, its backward pass and a fused Adam update
(as in training), for a flow with the madnis card's network settings
(``flow_bins``, ``flow_hidden``, ``flow_layers``, ``flow_repeats``,
``flow_edge_slope``). The two channel modes
alternate step by step in one process, so a loaded machine slows both alike.
Printed as one JSON object: per channel count, the parameters of each mode,
the mean step time and the ratio per_channel / conditional.

Usage:
    python benchmarks/bench_flow_step.py [--channels 2 20 100] [--dim 10] [--batch 1024] [--steps 20]
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from madnis_plugin.resources import default_card
from madnis_plugin.sampler import read_madnis_card
from madnis_plugin.sampler.flows import CouplingFlow

MODES = ("conditional", "per_channel")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, nargs="*", default=[2, 20, 100])
    parser.add_argument("--dim", type=int, default=10)
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    cfg = read_madnis_card(default_card("madnis_card.dat"))
    results = {}
    for n_channels in args.channels:
        generator = torch.Generator().manual_seed(n_channels)
        y = torch.rand(args.batch, args.dim, generator=generator)
        channel = torch.randint(0, n_channels, (args.batch,), generator=generator)
        runs = {}
        for mode in MODES:
            torch.manual_seed(0)
            flow = CouplingFlow(args.dim, n_channels, bins=cfg.flow_bins, hidden=cfg.flow_hidden,
                                layers=cfg.flow_layers, repeats=cfg.flow_repeats, channel_mode=mode,
                                max_edge_slope=cfg.flow_edge_slope)
            runs[mode] = (flow, torch.optim.Adam(flow.parameters(), lr=cfg.learning_rate, fused=True))
        seconds = dict.fromkeys(MODES, 0.0)
        for step in range(args.steps + 2):   # two warm-up steps each
            for mode, (flow, optimizer) in runs.items():
                start = time.perf_counter()
                optimizer.zero_grad(set_to_none=True)
                (-flow.log_density(y, channel).mean()).backward()
                optimizer.step()
                if step >= 2:
                    seconds[mode] += time.perf_counter() - start
        results[str(n_channels)] = {
            **{mode: {"parameters": sum(p.numel() for p in runs[mode][0].parameters()),
                      "step_ms": 1000 * seconds[mode] / args.steps} for mode in MODES},
            "time_ratio_per_channel_over_conditional": seconds["per_channel"] / seconds["conditional"],
        }
    print(json.dumps({"benchmark": "flow_step", "dim": args.dim, "batch": args.batch, "steps": args.steps,
                      "threads": args.threads, "results": results}, indent=1))


if __name__ == "__main__":
    main()
