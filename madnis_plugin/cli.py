"""The ``madnis-plugin`` command.

    madnis-plugin processes
    madnis-plugin integrate PROCESS [--run-card F] [--param-card F] [--seed N] [--json]
    madnis-plugin generate PROCESS -n N -o FILE [--run-card F] [--param-card F] [--seed N] [--json]
                  [--sampler F] [--save-sampler F] [--resume] [--jobs K] [--shard K/N]
                  [--executor local|dask --scheduler ADDRESS] [--batch-points P]
    madnis-plugin merge SHARD... -o FILE [--seed N] [--json]
    madnis-plugin config --libdir | --includedir

Bad input (unknown process, missing or malformed card, N <= 0, unwritable
output) prints one line naming the problem and exits with code 2. Progress
goes to stderr when it is a terminal and stays quiet when piped.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path
from typing import Any, Sequence

__all__ = ["main", "build_parser", "COMMAND_MODULES"]

#: Modules that contribute subcommands: each has ``register(subparsers)``.
COMMAND_MODULES: list[str] = ["madnis_plugin.runfolder", "madnis_plugin.events.merge"]


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("process", help="built-in process name (see 'processes') or process folder")
    parser.add_argument("--run-card", metavar="FILE", help="MadGraph run_card.dat (default: the process's)")
    parser.add_argument("--param-card", metavar="FILE", help="SLHA param_card.dat (default: MadGraph sm)")
    parser.add_argument("--seed", type=int, help="random seed (default: the run card's iseed)")
    parser.add_argument("--integrator", default=None, choices=("vegas", "madnis"),
                        help="sampler: madnis (neural, the default) or vegas (baseline)")
    parser.add_argument("--points", type=int, help="integrand points of the final estimate")
    parser.add_argument("--train-batches", type=int, help="training budget (overrides the card)")
    parser.add_argument("--madnis-card", metavar="FILE", help="neural sampler settings (madnis_card.dat)")
    parser.add_argument("--sampler", metavar="FILE", help="use this saved sampler instead of training")
    parser.add_argument("--save-sampler", metavar="FILE", help="save the trained sampler to FILE")
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="madnis-plugin",
        description="Neural importance sampling for LHC event generation: cross sections and LHE events.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("processes", help="list the built-in processes")
    integrate = sub.add_parser("integrate", help="integrate a cross section")
    _add_run_options(integrate)
    generate = sub.add_parser("generate", help="generate unweighted LHE events")
    _add_run_options(generate)
    generate.add_argument("-n", "--events", type=int, required=True, help="number of events")
    generate.add_argument("-o", "--output", required=True, help="output file (.lhe or .lhe.gz)")
    generate.add_argument("--resume", action="store_true", help="continue an interrupted run writing the output")
    generate.add_argument("--jobs", type=int, default=1, help="local worker processes (dask: number of shards)")
    generate.add_argument("--shard", metavar="K/N", help="write shard K of N (-n counts all shards)")
    generate.add_argument("--executor", default="local", choices=("local", "dask"), help="where shards run")
    generate.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler address (tcp://host:8786)")
    generate.add_argument("--batch-points", type=int, default=20_000,
                          help="integrand points per generation batch (the file depends on it)")
    config = sub.add_parser("config", help="paths of the C/Fortran bridge library and headers")
    group = config.add_mutually_exclusive_group(required=True)
    group.add_argument("--libdir", action="store_true")
    group.add_argument("--includedir", action="store_true")
    for module_name in COMMAND_MODULES:
        # Each module adds its subcommands and sets `handler` (args -> exit code) on them.
        importlib.import_module(module_name).register(sub)
    return parser


def _progress_printer():
    if not sys.stderr.isatty():
        return None

    def show(line: str) -> None:
        sys.stderr.write("\r\033[K" + line)
        sys.stderr.flush()

    return show


def _print_integration(result: dict[str, Any]) -> None:
    print(f"process        {result['process']}")
    print(f"integrator     {result['integrator']}")
    print(f"cross section  {result['cross_section_pb']:.6e} +- {result['error_pb']:.2e} pb")
    print(f"rel. std       {result['rel_std']:.4f}")
    print(f"unweighting    {result['unweighting_efficiency']:.4f}")
    print(f"calls          {result['n_integrand_calls']}   wall {result['wall_s']:.1f} s")
    channels = result.get("channels") or []
    if channels:
        print(f"{'channel':<14}{'sigma [pb]':>14}{'error':>11}{'rel.std':>9}{'eff.':>8}{'points':>9}")
        for ch in channels:
            print(f"{ch['name']:<14}{ch['cross_section']:>14.5e}{ch['error']:>11.2e}"
                  f"{ch['rel_std']:>9.3f}{ch['unweighting_efficiency']:>8.3f}{ch['n_points']:>9d}")


def _user_errors() -> tuple[type[BaseException], ...]:
    from .api import UsageError
    from .bridge import UmamiError
    from .cards import CardError
    from .compiler import CompileError
    from .integrand import IntegrandError
    from .process import ProcessError

    from .events.checkpoint import ResumeError
    from .events.sampler_io import SamplerFileError

    return (UsageError, CardError, ProcessError, IntegrandError, UmamiError, CompileError, OSError,
            ResumeError, SamplerFileError)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except KeyboardInterrupt:
        hint = " (continue with the same command and --resume)" if args.command == "generate" else ""
        print(f"madnis-plugin: interrupted{hint}", file=sys.stderr)
        return 130
    except _user_errors() as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"madnis-plugin: error: {message}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from . import api, resources

    handler = getattr(args, "handler", None)
    if handler is not None:
        return int(handler(args))

    if args.command == "processes":
        from .process import ProcessMetadata

        for name in resources.builtin_processes():
            meta = ProcessMetadata.read(resources.processes_dir() / name / "process.json")
            print(f"{name:<16} {meta.description}")
        return 0
    if args.command == "config":
        import madnis_plugin

        base = Path(madnis_plugin.__file__).resolve().parent
        print(base / ("lib" if args.libdir else "include"))
        return 0

    progress = None if args.json else _progress_printer()
    common = dict(run_card=args.run_card, param_card=args.param_card, seed=args.seed,
                  integrator=args.integrator or api.DEFAULT_INTEGRATOR, points=args.points,
                  train_batches=args.train_batches, madnis_card=args.madnis_card, progress=progress)
    if args.command == "integrate":
        result = api.integrate(args.process, sampler=args.sampler, save_sampler=args.save_sampler, **common)
        if progress:
            sys.stderr.write("\n")
        if args.json:
            print(json.dumps(result))
        else:
            _print_integration(result)
        return 0
    if args.command == "generate":
        result = api.generate(args.process, args.events, args.output, sampler=args.sampler,
                              save_sampler=args.save_sampler, resume=args.resume, jobs=args.jobs,
                              shard=args.shard, executor=args.executor, scheduler=args.scheduler,
                              batch_points=args.batch_points, **common)
        if progress:
            sys.stderr.write("\n")
        if args.json:
            keys = ("events_written", "file", "cross_section_pb", "error_pb", "unweighting_efficiency",
                    "overweight_fraction", "wall_s")
            print(json.dumps({**{k: result[k] for k in keys}, **result}))
        else:
            print(f"wrote {result['events_written']} events to {result['file']}")
            print(f"cross section  {result['cross_section_pb']:.6e} +- {result['error_pb']:.2e} pb")
            print(f"unweighting    {result['unweighting_efficiency']:.4f}  "
                  f"overweight share {result['overweight_fraction']:.2e}")
        return 0
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
