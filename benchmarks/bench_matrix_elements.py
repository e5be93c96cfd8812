"""Matrix-element throughput per built-in process, and the bridge's overhead.

For every built-in process (or those named on the command line) this draws
physical RAMBO points at sqrt(s) = 1000 GeV (the first subprocess), then times

* ``python``: ``Process.library.evaluate`` -- the Python API through the cffi bridge
  on event-major momenta ``(n, particles, 4)`` (transposition and chunking in C);
* ``python_columns``: the same call on the same momenta held in UMAMI's layout
  (``np.empty((4, particles, n)).T``), handed to the library without copies;
* ``c_loop``: a plain C program calling the same library's
  ``umami_matrix_element`` on arrays already in UMAMI's layout, in the same chunks.

and prints one JSON object: events per second for each and the bridge's
overheads ``c_loop / python - 1`` and ``c_loop / python_columns - 1`` (best of
several passes each).

Usage:
    python benchmarks/bench_matrix_elements.py [--events N] [--repeats R] [PROCESS ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from madnis_plugin import load_process, resources
from madnis_plugin.compiler import c_compiler
from madnis_plugin.phasespace import Rambo

HERE = Path(__file__).resolve().parent


def physical_points(process, n: int, e_cm: float, seed: int) -> np.ndarray:
    rambo = Rambo(process.masses, e_cm)
    rng = np.random.default_rng(seed)
    points = rambo.map(rng.random((n, rambo.dim)))
    return np.ascontiguousarray(points.momenta[points.valid])


def best_rate(function, n: int, repeats: int) -> float:
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        best = max(best, n / (time.perf_counter() - start))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("processes", nargs="*", default=None)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--e-cm", type=float, default=1000.0)
    args = parser.parse_args()
    names = args.processes or resources.builtin_processes()

    with tempfile.TemporaryDirectory() as tmp:
        loop = Path(tmp) / "plain_loop"
        subprocess.run([*c_compiler(), "-O2", f"-I{resources.csrc_dir()}", str(HERE / "c" / "plain_loop.c"),
                        "-o", str(loop), "-ldl"], check=True)
        results = {}
        for name in names:
            process = load_process(name)
            p = physical_points(process, args.events, args.e_cm, seed=1)
            n = p.shape[0]
            library = process.library
            data = Path(tmp) / f"{name}.bin"
            p.tofile(data)
            # Interleave the two so that load from other processes hits both alike;
            # the best pass of each approaches its unloaded speed.
            p_columns = np.ascontiguousarray(p.transpose(2, 1, 0)).T
            python_rate = columns_rate = c_rate = 0.0
            for _ in range(args.repeats):
                python_rate = max(python_rate, best_rate(lambda: library.evaluate(p, flavor_index=0), n, 3))
                columns_rate = max(columns_rate,
                                   best_rate(lambda: library.evaluate(p_columns, flavor_index=0), n, 3))
                c_rate = max(c_rate, float(subprocess.run(
                    [str(loop), str(library.path), str(process.param_card_path), str(data), str(n),
                     str(process.n_external), "0", "3"],
                    check=True, capture_output=True, text=True).stdout))
            results[name] = {
                "events": n,
                "events_per_s_python": python_rate,
                "events_per_s_python_columns": columns_rate,
                "events_per_s_c_loop": c_rate,
                "bridge_overhead": c_rate / python_rate - 1.0,
                "bridge_overhead_columns": c_rate / columns_rate - 1.0,
            }
            print(f"{name}: {python_rate:.3e} ev/s (python), {columns_rate:.3e} ev/s (python, columns), "
                  f"{c_rate:.3e} ev/s (C loop)", file=sys.stderr)
    print(json.dumps({"benchmark": "matrix_elements", "e_cm": args.e_cm, "results": results}, indent=1))


if __name__ == "__main__":
    main()
