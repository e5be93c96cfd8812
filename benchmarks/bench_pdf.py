"""Throughput of madnis_plugin.pdf's xfxQ: batched native reader vs per-point calls vs lhapdf.

Prints one JSON object: values per second of

* ``native_batch``: ``GridPDF.xfxQ`` on numpy batches (random pid, x log-uniform
  in [1e-6, 1], Q log-uniform in [3 GeV, 3 TeV]; all inside the grid), for
  several batch sizes;
* ``native_batch_mixed``: the same with 10% of the points outside the grid
  (continuation extrapolation);
* ``native_per_point``: the same reader called once per value from a Python
  loop (how a scalar LHAPDF-style interface is used naively);
* ``lhapdf_per_point``: the ``lhapdf`` module, one call per value, if it is
  importable (its Python API is per point);

and the ratios between them. numpy runs these kernels on one core, so the
numbers are per core. Usage::

    python benchmarks/bench_pdf.py [--set NNPDF23_lo_as_0130_qed] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from typing import Callable

import numpy as np

from madnis_plugin.pdf import DEFAULT_PDF_SET, mkPDF


def best_rate(fn: Callable[[], object], n_values: int, repeat: int) -> float:
    """Values per second of the fastest of ``repeat`` calls of ``fn`` (after one warm-up)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n_values / best


def sample(rng: np.random.Generator, n: int, flavors: list[int],
           outside_fraction: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pid = rng.choice(flavors, n)
    x = 10 ** rng.uniform(-6, 0, n)
    q = 10 ** rng.uniform(np.log10(3.0), np.log10(3000.0), n)
    if outside_fraction:
        out = rng.random(n) < outside_fraction
        x[out] = 10 ** rng.uniform(-11, -9.1, out.sum())
        q[out] = np.where(rng.random(out.sum()) < 0.5, 0.5, 5e4)
    return pid, x, q


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default=DEFAULT_PDF_SET)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    native = mkPDF(args.set, backend="native")
    flavors = [-5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 21]
    result: dict[str, object] = {
        "set": args.set,
        "machine": {"python": platform.python_version(), "numpy": np.__version__,
                    "cpu": platform.processor() or platform.machine(),
                    "cores_visible": os.cpu_count()},
        "native_batch": {},
        "native_batch_mixed": {},
    }
    for n in (10_000, 100_000, 1_000_000):
        pid, x, q = sample(rng, n, flavors)
        result["native_batch"][str(n)] = best_rate(lambda: native.xfxQ(pid, x, q), n, args.repeat)  # type: ignore[index]
        pid, x, q = sample(rng, n, flavors, outside_fraction=0.1)
        result["native_batch_mixed"][str(n)] = best_rate(lambda: native.xfxQ(pid, x, q), n,  # type: ignore[index]
                                                         args.repeat)

    n_loop = 3000
    pid, x, q = sample(rng, n_loop, flavors)
    triples = list(zip(pid.tolist(), x.tolist(), q.tolist()))

    def per_point(pdf: object) -> Callable[[], object]:
        return lambda: [pdf.xfxQ(p, a, b) for p, a, b in triples]  # type: ignore[attr-defined]

    result["native_per_point"] = best_rate(per_point(native), n_loop, max(1, args.repeat // 2))
    try:
        lhapdf_pdf = mkPDF(args.set, backend="lhapdf")
    except ImportError:
        result["lhapdf_per_point"] = None
    else:
        raw = lhapdf_pdf._pdf  # the module's own object, without our wrapper
        result["lhapdf_per_point"] = best_rate(
            lambda: [raw.xfxQ(p, a, b) for p, a, b in triples], n_loop, args.repeat)

    batch = result["native_batch"]["1000000"]  # type: ignore[index]
    result["ratios"] = {
        "native_batch_1e6_over_native_per_point": batch / result["native_per_point"],  # type: ignore[operator]
        "native_batch_1e6_over_lhapdf_per_point": (batch / result["lhapdf_per_point"]  # type: ignore[operator]
                                                   if result["lhapdf_per_point"] else None),
    }
    result["target_values_per_second_per_core"] = 1e6
    result["meets_target"] = bool(min(result["native_batch"].values()) >= 1e6)  # type: ignore[union-attr]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
