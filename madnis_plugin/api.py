"""The Python face of the commands: :func:`integrate` and :func:`generate`.

Each takes the options of its command-line twin and returns the same fields
that ``--json`` prints.

Example:
    >>> from madnis_plugin import integrate
    >>> res = integrate("ee_mumu", seed=1, points=20000, train_batches=20)
    >>> sorted(k for k in res if k in ("cross_section_pb", "error_pb"))
    ['cross_section_pb', 'error_pb']
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from . import __version__, resources
from .cards import CardError, ParamCard, RunCard, read_param_card, read_run_card
from .integrand import CollisionIntegrand
from .process import Process, ProcessError, load_process

__all__ = ["integrate", "generate", "RunSetup", "prepare_run", "UsageError", "DEFAULT_INTEGRATOR"]

#: The integrator used when none is asked for.
DEFAULT_INTEGRATOR = "madnis"
INTEGRATORS = ("vegas", "madnis")


class UsageError(ValueError):
    """Bad command input (one-line message; the CLI exits with code 2)."""


@dataclass
class RunSetup:
    """Everything a run needs, resolved from the user's options.

    Attributes:
        process: the loaded process.
        run_card: the run card (with command-line overrides applied).
        integrand: the multi-channel integrand.
        seed: the run's seed.
    """

    process: Process
    run_card: RunCard
    integrand: CollisionIntegrand
    seed: int


def default_run_card_path(process: Process) -> Path:
    """The default run card of a process: its folder's, else the collider default."""
    if process.folder is not None:
        own = process.folder / "Cards" / "run_card.dat"
        if own.is_file():
            return own
    name = "run_card.dat" if process.metadata.collider == "lepton" else "run_card_pp.dat"
    return resources.default_card(name)


def prepare_run(process: str | Path, run_card: str | Path | None = None, param_card: str | Path | None = None,
                seed: int | None = None, overrides: dict[str, Any] | None = None,
                single_channel: bool = False) -> RunSetup:
    """Load process and cards and build the integrand (no sampling yet)."""
    if param_card is not None and not Path(param_card).is_file():
        raise UsageError(f"param card not found: {param_card}")
    if param_card is not None:
        read_param_card(param_card)  # a malformed card fails here, before compiling anything
    if run_card is not None:
        card = read_run_card(run_card)
    proc = load_process(process, param_card=param_card)
    if run_card is None:
        card = read_run_card(default_run_card_path(proc))
    if overrides:
        card = card.with_overrides(overrides)
    if bool(card.get("zerowidth_tchannel", False)) != proc.zerowidth_tchannel:
        proc = load_process(process, param_card=proc.param_card_path,
                            zerowidth_tchannel=bool(card.get("zerowidth_tchannel", False)))
    run_seed = int(card.get("iseed", 0)) if seed is None else int(seed)
    integrand = CollisionIntegrand(proc, card, seed=run_seed, single_channel=single_channel)
    return RunSetup(proc, card, integrand, run_seed)


def _make_sampler(setup: RunSetup, integrator: str, madnis_card: str | Path | None,
                  train_batches: int | None, progress: Callable[[str], None] | None):
    """Build and train the sampler; both integrators read their settings from the madnis card."""
    if integrator not in INTEGRATORS:
        raise UsageError(f"unknown integrator '{integrator}' (choose from {', '.join(INTEGRATORS)})")
    from .sampler import read_madnis_card

    card_path = Path(madnis_card) if madnis_card else resources.default_card("madnis_card.dat")
    if not card_path.is_file():
        raise UsageError(f"madnis card not found: {card_path}")
    try:
        config = read_madnis_card(card_path)
    except ValueError as exc:
        raise UsageError(f"{card_path}: {exc}") from None
    if integrator == "vegas":
        from .sampler import VegasSampler

        sampler = VegasSampler(setup.integrand, bins=config.vegas_bins, seed=setup.seed,
                               damping=config.vegas_damping, max_overweight=config.max_overweight)
        iterations = config.vegas_iterations if train_batches is None else int(train_batches)
        sampler.train(iterations=iterations, points_per_iteration=config.vegas_points)
        return sampler
    from .sampler import MadnisSampler

    if train_batches is not None:
        config = config.replace(train_batches=int(train_batches))
    try:
        sampler = MadnisSampler(setup.integrand, config, seed=setup.seed)
    except ValueError as exc:   # a value the card parser cannot judge alone (a choice, a device)
        raise UsageError(f"{card_path}: {exc}") from None

    def report(state: dict[str, Any]) -> None:
        progress(f"step {state['step']}  loss {state['loss']:.4g}  rel.std {state['rel_std']:.4f}  "
                 f"channels {state['active_channels']}")

    sampler.train(progress=report if progress else None)
    return sampler


def _check_positive(name: str, value: int | None) -> None:
    if value is not None and int(value) <= 0:
        raise UsageError(f"{name} must be positive, got {value}")


def integrate(process: str | Path, run_card: str | Path | None = None, param_card: str | Path | None = None,
              seed: int | None = None, integrator: str = DEFAULT_INTEGRATOR, points: int | None = None,
              train_batches: int | None = None, madnis_card: str | Path | None = None,
              progress: Callable[[str], None] | None = None, sampler: str | Path | None = None,
              save_sampler: str | Path | None = None) -> dict[str, Any]:
    """Integrate the cross section of ``process``.

    Args:
        process: built-in name or process folder.
        run_card, param_card: cards (defaults: the process's or the shipped ones).
        seed: overrides the run card's ``iseed``.
        integrator: ``madnis`` (default) or ``vegas``.
        points: integrand evaluations of the final (fresh) estimate.
        train_batches: training budget (VEGAS iterations or flow batches).
        madnis_card: neural-sampler settings.
        progress: called with short progress lines.
        sampler: a saved sampler to use instead of training (refused if it was
            trained for other physics); its random streams restart from ``seed``.
        save_sampler: save the trained sampler here.

    Returns:
        ``process, cross_section_pb, error_pb, integrator, n_integrand_calls,
        rel_std, unweighting_efficiency, overweight_fraction, wall_s, seed,
        channels, phases``.
    """
    _check_positive("points", points)
    _check_positive("train_batches", train_batches)
    if sampler is not None and not Path(sampler).is_file():
        raise UsageError(f"sampler file not found: {sampler}")
    start = time.perf_counter()
    setup = prepare_run(process, run_card, param_card, seed)
    if sampler is not None:
        from .events.generation import reseed_streams
        from .events.sampler_io import load_sampler

        sampler = load_sampler(sampler, setup)
        integrator = sampler.name
        reseed_streams(sampler, setup.integrand, np.random.SeedSequence([setup.seed, 0x1A7E]))
    else:
        sampler = _make_sampler(setup, integrator, madnis_card, train_batches, progress)
    if save_sampler is not None:
        from .events.sampler_io import save_sampler as save_sampler_file

        save_sampler_file(sampler, save_sampler, setup)
    result = sampler.integrate(points=int(points or 100_000))
    out = result.to_dict()
    return {
        "process": setup.process.name,
        "cross_section_pb": result.cross_section,
        "error_pb": result.error,
        "integrator": integrator,
        "n_integrand_calls": int(sum(phase.n_calls for phase in sampler.phases.values())),
        "rel_std": result.rel_std,
        "unweighting_efficiency": result.unweighting_efficiency,
        "overweight_fraction": result.overweight_fraction,
        "wall_s": time.perf_counter() - start,
        "seed": setup.seed,
        "channels": out.get("channels", []),
        "phases": {name: phase.to_dict() for name, phase in sampler.phases.items()},
    }


def generate(process: str | Path, n: int, output: str | Path, run_card: str | Path | None = None,
             param_card: str | Path | None = None, seed: int | None = None,
             integrator: str = DEFAULT_INTEGRATOR, points: int | None = None, train_batches: int | None = None,
             madnis_card: str | Path | None = None,
             progress: Callable[[str], None] | None = None, sampler: str | Path | None = None,
             save_sampler: str | Path | None = None, resume: bool = False, jobs: int = 1,
             shard: str | tuple[int, int] | None = None, executor: str = "local",
             scheduler: Any = None, batch_points: int = 20_000) -> dict[str, Any]:
    """Generate ``n`` unweighted events of ``process`` into ``output`` (``.lhe`` or ``.lhe.gz``).

    Args:
        sampler: use this saved sampler instead of training (refused if trained for other physics).
        save_sampler: save the trained sampler here.
        resume: continue an interrupted run writing ``output`` (same inputs and seed).
        jobs: local worker processes (the file does not depend on it); with
            ``executor="dask"`` the number of shards.
        shard: ``"K/N"``: write shard K of N independent shards (``n`` counts all shards);
            combine them with ``madnis-plugin merge``.
        executor: ``local`` or ``dask`` (``scheduler``: address or ``distributed.Client``).
        batch_points: integrand points per generation batch (memory use; part of the seed stream).

    Returns:
        ``events_written, file, cross_section_pb, error_pb, unweighting_efficiency,
        overweight_fraction, wall_s`` and the run's details.
    """
    from .events.run import run_generation

    _check_positive("points", points)
    _check_positive("train_batches", train_batches)
    if integrator not in INTEGRATORS:
        raise UsageError(f"unknown integrator '{integrator}' (choose from {', '.join(INTEGRATORS)})")
    return run_generation(process, n, output, run_card=run_card, param_card=param_card, seed=seed,
                          integrator=integrator, points=points, train_batches=train_batches,
                          madnis_card=madnis_card, progress=progress, sampler=sampler,
                          save_sampler=save_sampler, resume=resume, jobs=jobs, shard=shard,
                          executor=executor, scheduler=scheduler, batch_points=batch_points,
                          make_sampler=_make_sampler)
