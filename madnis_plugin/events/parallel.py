"""Generation on many cores and many machines: local workers, shards, a Dask executor.

* :func:`ordered_worker_batches` runs batches of one stream on ``jobs`` local
  worker processes (spawned, so each loads its own process library: one UMAMI
  handle per process, and pins its math libraries to ``threads`` threads so
  workers do not oversubscribe the cores) and yields them in index order: the
  file is the same as a sequential run's.
* :func:`shard_events` splits ``n`` events into ``N`` shard streams; shard
  ``k`` is an independent stream seeded by ``(seed, k, N)``.
* :func:`run_dask` runs the shards of a saved sampler as Dask tasks and merges
  the shard files (:mod:`~madnis_plugin.events.merge`).

A *worker spec* is a plain dict that tells a fresh process how to rebuild the
run: ``{"prepare": prepare_run kwargs, "sampler_path": str, "plan": plan dict,
"threads": int}``.

Example:
    >>> from madnis_plugin.events.parallel import shard_events
    >>> [shard_events(10, k, 3) for k in (1, 2, 3)]
    [4, 3, 3]
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Iterator

__all__ = ["ordered_worker_batches", "shard_events", "parse_shard", "run_dask", "worker_threads",
           "limit_threads"]

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

# The runner of this worker process (set by the pool initializer).
_RUNNER = None


def worker_threads(jobs: int) -> int:
    """Threads per worker so ``jobs`` workers share the machine's cores without oversubscribing."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


def limit_threads(threads: int) -> None:
    """Pin the math libraries (OpenMP, BLAS, torch) of this process to ``threads`` threads."""
    for name in _THREAD_VARIABLES:
        os.environ[name] = str(threads)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but the physics layers run without it
        return
    torch.set_num_threads(threads)


def shard_events(n: int, k: int, shards: int) -> int:
    """Events of shard ``k`` (1-based) of ``shards`` when ``n`` are split as evenly as possible."""
    return n // shards + (1 if k <= n % shards else 0)


def parse_shard(text: str) -> tuple[int, int]:
    """``"K/N"`` -> ``(K, N)`` with ``1 <= K <= N``."""
    from ..api import UsageError

    try:
        k, n = (int(part) for part in str(text).split("/"))
    except ValueError:
        raise UsageError(f"--shard must look like K/N (e.g. 3/10), got {text!r}") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text}: K must be between 1 and N")
    return k, n


def _build_runner(spec: dict[str, Any]):
    from ..api import prepare_run
    from .generation import BatchRunner, GenerationPlan
    from .sampler_io import load_sampler

    setup = prepare_run(**spec["prepare"])
    sampler = load_sampler(spec["sampler_path"], setup)
    return BatchRunner(setup, sampler, GenerationPlan.from_dict(spec["plan"]))


def _initialise_worker(spec: dict[str, Any]) -> None:
    global _RUNNER
    limit_threads(int(spec.get("threads", 1)))
    _RUNNER = _build_runner(spec)


def _run_batch(index: int):
    return _RUNNER(index)


def ordered_worker_batches(spec: dict[str, Any], start: int, jobs: int) -> Iterator[Any]:
    """Batches ``start, start+1, ...`` computed by ``jobs`` worker processes, yielded in order.

    At most ``2 * jobs`` batches are in flight, so memory stays bounded; closing
    the iterator cancels the rest.
    """
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_initialise_worker,
                               initargs=(spec,))
    pending: list[Future] = []
    index = start
    try:
        while True:
            while len(pending) < 2 * jobs:
                pending.append(pool.submit(_run_batch, index))
                index += 1
            yield pending.pop(0).result()
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)


def _dask_shard(spec: dict[str, Any], sampler_bytes: bytes, output: str) -> dict[str, Any]:
    """One shard as a Dask task: rebuild the run from ``spec``, write ``output``, return the summary."""
    from ..api import prepare_run
    from .generation import GenerationPlan, generate_events
    from .sampler_io import load_sampler

    limit_threads(int(spec.get("threads", 1)))
    with tempfile.TemporaryDirectory() as folder:
        sampler_path = Path(folder) / "sampler"
        sampler_path.write_bytes(sampler_bytes)
        setup = prepare_run(**spec["prepare"])
        sampler = load_sampler(sampler_path, setup)
        plan = GenerationPlan.from_dict(spec["plan"])
        return generate_events(setup, sampler, None, plan.n_events, Path(output), plan=plan)


def run_dask(scheduler: str | Any, spec: dict[str, Any], plans: list[dict[str, Any]], output: Path,
             merge_seed: int) -> dict[str, Any]:
    """Run one shard per plan on a Dask cluster and merge the shard files into ``output``.

    Args:
        scheduler: the scheduler address (``tcp://host:8786``) or a ``distributed.Client``.
        spec: the worker spec (``prepare``, ``sampler_path``, ``threads``); ``plan`` is set per shard.
        plans: one plan dict per shard.
        output: the merged file. Shard files go beside it (a folder every worker can
            write: a shared file system on a real cluster) and are removed after the merge.
        merge_seed: seed of the merge's interleaving.
    """
    from distributed import Client

    from .merge import merge_lhe

    client = scheduler if isinstance(scheduler, Client) else Client(scheduler)
    try:
        sampler_bytes = Path(spec["sampler_path"]).read_bytes()
        shard_paths = [output.with_name(f".{output.name}.shard{k + 1}of{len(plans)}{''.join(output.suffixes)}")
                       for k in range(len(plans))]
        payload = client.scatter(sampler_bytes, broadcast=True)
        futures = [client.submit(_dask_shard, {**spec, "plan": plan}, payload, str(path), pure=False)
                   for plan, path in zip(plans, shard_paths)]
        summaries = client.gather(futures)
    finally:
        if not isinstance(scheduler, Client):
            client.close()
    try:
        merged = merge_lhe(shard_paths, output, seed=merge_seed)
    finally:
        for path in shard_paths:
            path.unlink(missing_ok=True)
    merged["shards"] = summaries
    merged["generation_calls"] = sum(s["generation_calls"] for s in summaries)
    return merged
