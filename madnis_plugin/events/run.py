"""One ``generate`` command from options to file: sampler, resume, jobs, shards, executors.

:func:`run_generation` is what :func:`madnis_plugin.api.generate` calls. It
resolves the run, gets a sampler (trained, or loaded with ``--sampler`` and
checked against the run's fingerprint), integrates afresh for the unweighting
thresholds, and writes the events

* in this process, or with ``jobs`` local worker processes (same file either way);
* as shard ``K/N`` (``N`` independent streams of ``n`` events in all);
* as ``jobs`` shards on a Dask cluster, merged into one file;

keeping a checkpoint (:mod:`~madnis_plugin.events.checkpoint`) so that an
interrupted local run resumes with ``resume=True``.

Example:
    >>> from madnis_plugin.events.run import run_generation
    >>> run_generation("ee_mumu", 100, "ee.lhe", seed=1)["events_written"]     # doctest: +SKIP
    100
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from .. import __version__

__all__ = ["run_generation", "EXECUTORS"]

#: Where shards run: this machine (``local``) or a Dask cluster (``dask``).
EXECUTORS = ("local", "dask")


def run_generation(process: str | Path, n: int, output: str | Path, *, run_card: str | Path | None = None,
                   param_card: str | Path | None = None, seed: int | None = None, integrator: str | None = None,
                   points: int | None = None, train_batches: int | None = None,
                   madnis_card: str | Path | None = None, progress: Callable[[str], None] | None = None,
                   sampler: str | Path | None = None, save_sampler: str | Path | None = None,
                   resume: bool = False, jobs: int = 1, shard: str | tuple[int, int] | None = None,
                   executor: str = "local", scheduler: Any = None, batch_points: int = 20_000,
                   make_sampler: Callable | None = None) -> dict[str, Any]:
    """Generate ``n`` unweighted events of ``process`` into ``output``; see :func:`madnis_plugin.api.generate`.

    Args:
        sampler: a saved sampler to use instead of training (refused if trained for other physics).
        save_sampler: where to save the trained sampler.
        resume: continue the interrupted run that was writing ``output``.
        jobs: local worker processes; with ``executor="dask"`` the number of shards.
        shard: ``"K/N"``: write shard K of N (``n`` is the total over all shards).
        executor: ``local`` or ``dask``; ``scheduler``: the Dask scheduler address or a ``Client``.
        batch_points: most integrand points per generation batch.
        make_sampler: ``(setup, integrator, madnis_card, train_batches, progress) -> trained sampler``.
    """
    from ..api import DEFAULT_INTEGRATOR, UsageError, prepare_run
    from .checkpoint import Checkpoint
    from .generation import check_output_path, generate_events, make_plan
    from .parallel import parse_shard, run_dask, shard_events, worker_threads
    from .sampler_io import load_sampler, run_fingerprint, save_sampler as save_sampler_file

    if n is None or int(n) <= 0:
        raise UsageError(f"number of events must be positive, got {n}")
    n = int(n)
    integrator = integrator or DEFAULT_INTEGRATOR
    output = check_output_path(output)
    jobs = int(jobs or 1)
    if jobs <= 0:
        raise UsageError(f"jobs must be positive, got {jobs}")
    if int(batch_points) <= 0:
        raise UsageError(f"batch_points must be positive, got {batch_points}")
    if executor not in EXECUTORS:
        raise UsageError(f"unknown executor '{executor}' (choose from {', '.join(EXECUTORS)})")
    if executor == "dask" and scheduler is None:
        raise UsageError("--executor dask needs --scheduler ADDRESS")
    if executor == "dask" and (resume or shard):
        raise UsageError("--executor dask runs all shards itself; it takes neither --resume nor --shard")
    k, n_shards = parse_shard(shard) if isinstance(shard, str) else (shard or (1, 1))
    stream_events = shard_events(n, k, n_shards)
    if stream_events == 0:
        raise UsageError(f"shard {k}/{n_shards} of {n} events is empty")
    if sampler is not None and not Path(sampler).is_file():
        raise UsageError(f"sampler file not found: {sampler}")

    start = time.perf_counter()
    prepare = {"process": str(process), "run_card": None if run_card is None else str(run_card),
               "param_card": None if param_card is None else str(param_card), "seed": seed}
    setup = prepare_run(**prepare)
    prepare["seed"] = setup.seed
    run_key = {"run": run_fingerprint(setup), "seed": setup.seed, "n": n, "shard": [k, n_shards],
               "generator": __version__}

    result = None
    if resume:
        checkpoint = Checkpoint.resume(output, run_key)
        trained = load_sampler(checkpoint.sampler_path, setup)
        plan = checkpoint.plan
    else:
        if sampler is not None:
            trained = load_sampler(sampler, setup)
        else:
            trained = make_sampler(setup, integrator, madnis_card, train_batches, progress)
        if save_sampler is not None:
            save_sampler_file(trained, save_sampler, setup)
        result = trained.integrate(points=int(points or 100_000))
        plan = make_plan(setup, result, stream_events, (k, n_shards), batch_points)
        checkpoint = Checkpoint(output, run_key)
        save_sampler_file(trained, checkpoint.sampler_path, setup)

    spec = {"prepare": prepare, "sampler_path": str(checkpoint.sampler_path), "plan": plan.to_dict(),
            "threads": worker_threads(jobs)}
    if executor == "dask":
        plans = [make_plan(setup, result, shard_events(n, j, jobs), (j, jobs), batch_points).to_dict()
                 for j in range(1, jobs + 1)]
        try:
            summary = run_dask(scheduler, spec, plans, output, merge_seed=setup.seed)
        finally:
            checkpoint.remove()
        shards = summary.pop("shards")
        summary.update({
            "unweighting_efficiency": plan.unweighting_efficiency,
            "generation_efficiency": sum(s["generation_efficiency"] * s["events_written"] for s in shards) / n,
            "overweight_fraction": sum(s["overweight_fraction"] * s["events_written"] for s in shards) / n,
            "shard": f"1-{jobs}/{jobs}",
        })
    else:
        summary = generate_events(setup, trained, result, stream_events, output, batch_points=batch_points,
                                  progress=progress, jobs=jobs, worker_spec=spec, checkpoint=checkpoint, plan=plan)
    calls = sum(phase.n_calls for name, phase in trained.phases.items() if name != "sampling")
    summary.update({
        "process": setup.process.name,
        "integrator": getattr(trained, "name", integrator),
        "seed": setup.seed,
        "jobs": jobs,
        "executor": executor,
        "resumed": bool(resume),
        "wall_s": time.perf_counter() - start,
        "n_integrand_calls": int(calls) + int(summary["generation_calls"]),
    })
    return summary
