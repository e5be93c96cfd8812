"""No channel map ever returns a non-finite weight: 10^7 points per channel.

Runs every channel of every built-in process (diagrams from its process.json,
masses and widths from the default param card, its default collider) and a set
of synthetic topologies (s- and t-channel chains up to the t t~ dilepton double
decay chain), each at a lepton and a hadron collider, and counts non-finite
Jacobians and momenta, negative Jacobians, and the fraction of valid points.
Prints one JSON object; exits with status 1 if any non-finite value appeared.

Usage:
    python benchmarks/bench_phasespace_finite.py [--points 10000000] [--chunk 500000] [--jobs 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from madnis_plugin import resources  # noqa: E402
from madnis_plugin.cards import read_param_card  # noqa: E402
from madnis_plugin.phasespace import build_channel  # noqa: E402

LHC, LEP = 13000.0, 500.0
PHYSICAL = {23: (91.1876, 2.4952), 24: (80.419, 2.0476), 6: (173.0, 1.4915), 25: (125.0, 0.00407)}


def prop(ident, kind, daughters, pdg):
    return {"id": ident, "type": kind, "daughters": daughters, "pdg": pdg}


TTBAR_MASSES = [0.0, 0.0, 4.7, 0.0, 0.0, 4.7, 0.0, 0.0]
SYNTHETIC = {
    "flat_5": (None, [0.0] * 7),
    "s_z_2": ([prop(-1, "s", [3, 4], 23)], [0.0] * 4),
    "t_2": ([prop(-1, "t", [1, 3], 21), prop(-2, "t", [-1, 4], 0)], [0.0] * 4),
    "t_block_3": ([prop(-1, "s", [4, 5], 23), prop(-2, "t", [1, 3], 21), prop(-3, "t", [-2, -1], 0)], [0.0] * 5),
    "t_chain_3": ([prop(-1, "t", [1, 3], 22), prop(-2, "t", [-1, 4], 21), prop(-3, "t", [-2, 5], 0)], [0.0] * 5),
    "ttbar_dilepton_s": (
        [prop(-1, "s", [4, 5], 24), prop(-2, "s", [3, -1], 6), prop(-3, "s", [7, 8], -24),
         prop(-4, "s", [6, -3], -6), prop(-5, "s", [-2, -4], 21)], TTBAR_MASSES),
    "ttbar_dilepton_t": (
        [prop(-1, "s", [4, 5], 24), prop(-2, "s", [3, -1], 6), prop(-3, "s", [7, 8], -24),
         prop(-4, "s", [6, -3], -6), prop(-5, "t", [1, -2], 6), prop(-6, "t", [-5, -4], 0)], TTBAR_MASSES),
}


def channel_specs() -> list[dict]:
    """Every channel to run, as picklable specs."""
    specs = []
    for name, (diagram, masses) in SYNTHETIC.items():
        for hadronic in (False, True):
            specs.append({"name": f"synthetic/{name}/{'pp' if hadronic else 'll'}", "diagram": diagram,
                          "masses": masses, "widths": None, "hadronic": hadronic})
    card = read_param_card(resources.default_card("param_card.dat"))
    for proc in resources.builtin_processes():
        meta = json.loads((resources.builtin_process_dir(proc) / "process.json").read_text())
        hadronic = meta.get("collider") == "hadron"
        pdgs = {abs(p) for g in meta["groups"] for d in g["diagrams"] for p in [x["pdg"] for x in d["propagators"]]}
        widths = {p: (card.mass(p), card.width(p)) for p in pdgs if p}
        for g, group in enumerate(meta["groups"]):
            masses = [card.mass(abs(p)) for p in group["subprocesses"][0]["pdg"]]
            diagrams = [d for d in group["diagrams"] if not d.get("four_point")] or [None]
            for d in diagrams:
                label = "flat" if d is None else f"d{d['number']}"
                specs.append({"name": f"{proc}/g{g}.{label}", "diagram": d, "masses": masses,
                              "widths": widths, "hadronic": hadronic})
    return specs


def run_channel(spec: dict, points: int, chunk: int, seed: int) -> dict:
    table = spec["widths"] if spec["widths"] is not None else PHYSICAL
    e_cm = LHC if spec["hadronic"] else LEP
    cmap = build_channel(spec["diagram"], spec["masses"], lambda p: table.get(abs(p), (0.0, 0.0)), e_cm,
                         hadronic=spec["hadronic"], tau_min=(10.0 / LHC) ** 2 if spec["hadronic"] else 0.0)
    rng = np.random.default_rng(seed)
    counts = {"non_finite_jacobian": 0, "non_finite_momenta": 0, "negative_jacobian": 0, "invalid": 0}
    start = time.perf_counter()
    done = 0
    while done < points:
        n = min(chunk, points - done)
        pt = cmap.map(rng.random((n, cmap.dim)))
        counts["non_finite_jacobian"] += int(np.count_nonzero(~np.isfinite(pt.jacobian)))
        counts["non_finite_momenta"] += int(np.count_nonzero(~np.all(np.isfinite(pt.momenta), axis=(1, 2))))
        counts["negative_jacobian"] += int(np.count_nonzero(pt.jacobian < 0))
        counts["invalid"] += int(np.count_nonzero(~pt.valid))
        done += n
    return {"channel": spec["name"], "dim": cmap.dim, "points": done,
            "seconds": round(time.perf_counter() - start, 2), **counts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--points", type=int, default=10**7, help="points per channel")
    parser.add_argument("--chunk", type=int, default=500_000, help="points per batch (memory)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    parser.add_argument("--only", default="", help="run channels whose name contains this")
    args = parser.parse_args()
    specs = [s for s in channel_specs() if args.only in s["name"]]
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for result in pool.map(run_channel, specs, [args.points] * len(specs), [args.chunk] * len(specs),
                               range(len(specs))):
            print(json.dumps(result), file=sys.stderr, flush=True)  # progress; partial runs keep their lines
            results.append(result)
    bad = sum(r["non_finite_jacobian"] + r["non_finite_momenta"] + r["negative_jacobian"] for r in results)
    print(json.dumps({"points_per_channel": args.points, "channels": results, "all_finite": bad == 0}, indent=1))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
