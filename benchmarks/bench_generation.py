"""Event-generation throughput and memory: unweighted events per second, end to end and steady state.

Every measurement runs ``madnis_plugin.generate`` in its own subprocess, so
its peak resident memory (``ru_maxrss`` of the child) is its own. Prints one
JSON object:

* ``processes``: per built-in process, end to end (training and the fresh
  integration included: ``events / wall_s``), the generation phase
  (``events / generation_wall_s``) and steady state (from the first written
  batch on, so worker start-up is excluded), with the peak memory;
* ``scaling``: one process with a saved sampler, generated sequentially and
  with ``--jobs K`` local workers (worker start-up included in the wall time,
  and the speed-up against the sequential run);
* ``memory``: peak memory for a small and a ten times larger sample (flat in N).

Usage:
    python benchmarks/bench_generation.py                       # all processes, defaults
    python benchmarks/bench_generation.py --processes ee_mumu ttbar --events 2000 \\
        --jobs 1 2 --memory-events 10000 100000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["measure", "main"]


def _child(spec: dict) -> None:
    """Run one generation (in the child process) and print its summary with the peak memory."""
    from madnis_plugin import api

    result = api.generate(**spec)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    # Workers are children of this process: their peak is reported separately.
    result["peak_rss_children_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
    print("RESULT " + json.dumps(result, default=str))


def measure(spec: dict) -> dict:
    """Run ``api.generate(**spec)`` in a fresh process; its summary with throughput and memory."""
    run = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True,
                         text=True)
    if run.returncode != 0:
        return {"error": run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "failed"}
    line = next(x for x in run.stdout.splitlines() if x.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    n = res["events_written"]
    return {
        "events": n,
        "wall_s": res["wall_s"],
        "generation_wall_s": res["generation_wall_s"],
        "events_per_s_end_to_end": n / res["wall_s"],
        "events_per_s_generation": n / res["generation_wall_s"],
        # After the first batch is written: worker start-up and warm-up excluded (None: one batch only).
        "events_per_s_steady": (res["steady_events"] / res["steady_wall_s"]
                                if res.get("steady_wall_s") and res.get("steady_events") else None),
        "events_per_integrand_call": n / res["n_integrand_calls"],
        "generation_efficiency": res["generation_efficiency"],
        "unweighting_efficiency": res["unweighting_efficiency"],
        "overweight_fraction": res["overweight_fraction"],
        "peak_rss_mb": res["peak_rss_mb"],
        "peak_rss_workers_mb": res["peak_rss_children_mb"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--processes", nargs="*", help="built-in processes (default: all)")
    parser.add_argument("--events", type=int, default=2000, help="events per throughput run")
    parser.add_argument("--integrator", default="vegas", choices=("vegas", "madnis"))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scaling-process", default="ee_mumu")
    parser.add_argument("--scaling-events", type=int, default=20000)
    parser.add_argument("--scaling-batch-points", type=int, default=2000,
                        help="points per batch in the scaling runs (many batches: a steady state)")
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2], help="worker counts for the scaling run")
    parser.add_argument("--memory-events", type=int, nargs="*", default=[10_000, 100_000])
    args = parser.parse_args(argv)
    if args.child:
        _child(json.loads(args.child))
        return 0

    from madnis_plugin import api, resources

    names = args.processes if args.processes is not None else resources.builtin_processes()
    report: dict = {"cpu_count": os.cpu_count(), "integrator": args.integrator, "processes": {},
                    "scaling": {}, "memory": {}}
    with tempfile.TemporaryDirectory() as folder:
        base = {"seed": args.seed, "integrator": args.integrator}
        for name in names:
            report["processes"][name] = measure({**base, "process": name, "n": args.events,
                                                 "output": str(Path(folder) / f"{name}.lhe.gz")})
            print(f"{name}: {report['processes'][name]}", file=sys.stderr)
        sampler = Path(folder) / "scaling.sampler"
        api.generate(args.scaling_process, 10, Path(folder) / "warm.lhe", save_sampler=sampler, **base)
        sequential = None
        for jobs in args.jobs:
            res = measure({**base, "process": args.scaling_process, "n": args.scaling_events, "jobs": jobs,
                           "batch_points": args.scaling_batch_points, "sampler": str(sampler),
                           "output": str(Path(folder) / f"jobs{jobs}.lhe.gz")})
            if jobs == 1:
                sequential = res.get("events_per_s_steady")
            if sequential and res.get("events_per_s_steady"):
                res["speedup_vs_sequential"] = res["events_per_s_steady"] / sequential
            report["scaling"][f"jobs={jobs}"] = res
            print(f"jobs={jobs}: {res}", file=sys.stderr)
        for n in args.memory_events:
            res = measure({**base, "process": args.scaling_process, "n": n, "sampler": str(sampler),
                           "output": str(Path(folder) / f"mem{n}.lhe.gz")})
            report["memory"][f"n={n}"] = {k: res.get(k) for k in ("events", "peak_rss_mb", "events_per_s_steady")}
            print(f"memory n={n}: {res}", file=sys.stderr)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
