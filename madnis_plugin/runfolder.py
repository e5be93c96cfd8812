"""Run folders as MadGraph keeps them: ``output`` makes one, ``launch`` runs in it.

A run folder holds the cards of a process and one sub-folder per run::

    DIR/
      Cards/run_card.dat, param_card.dat, madnis_card.dat, proc_card_mg5.dat
      Process/                      copy of the built-in process (``output`` only)
      Events/run_01/
        unweighted_events.lhe.gz    the events
        run_01_banner.txt           every card, the command-line overrides, the result
        results.json                cross section, error, events, efficiencies, timings per phase
        sampler.npz | sampler.pt    the trained sampler (VEGAS or neural)
        report.html, report/*.png   the run report (:mod:`madnis_plugin.report`)

:func:`launch` also accepts a MadGraph5_aMC@NLO output folder (``output
madevent`` or ``output standalone``): its ``SubProcesses/P*`` are loaded
together as one process (FLAVOR_INDEX selects the subprocess, the LHE keeps
MadGraph's process ids), and cards it lacks (standalone output has no run
card) are copied in from the defaults on the first launch.

Options given to :func:`launch` override the cards for that run only; the
folder's ``Cards/`` stay as the user wrote them, and the banner records the
effective cards and the overrides. ``reuse="run_01"`` draws new events from
the sampler stored by ``run_01`` without training (MadGraph's gridpack use):
a new seed and event count are allowed, any other change of the physics
(run card physics keys, param card values, the process) is refused.

Seeds follow MadGraph's ``iseed``: an explicit seed wins, then a non-zero
``iseed`` of the run card; with ``iseed = 0`` every run of the folder gets the
next unused seed, so successive runs are independent samples.

Example:
    >>> from madnis_plugin.runfolder import launch, output
    >>> output("ee_mumu", "ee_run")                                    # doctest: +SKIP
    PosixPath('ee_run')
    >>> launch("ee_run", nevents=1000)["run_name"]                       # doctest: +SKIP
    'run_01'
    >>> launch("ee_run", reuse="run_01", nevents=5000)["reused_from"]   # doctest: +SKIP
    'run_01'
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

from . import __version__, resources
from .api import DEFAULT_INTEGRATOR, INTEGRATORS, RunSetup, UsageError, prepare_run
from .cards import ParamCard, RunCard, read_param_card, read_run_card

__all__ = [
    "output",
    "launch",
    "next_run_name",
    "physics_fingerprint",
    "reuse_conflicts",
    "register",
    "RESULTS_FILE",
    "EVENTS_FILE",
]

RESULTS_FILE = "results.json"
EVENTS_FILE = "unweighted_events.lhe.gz"
#: Stored sampler file name per sampler kind.
SAMPLER_FILES = {"vegas": "sampler.npz", "madnis": "sampler.pt"}
#: Run-card keys outside ``cards.TECHNICAL_KEYS`` that only normalise the written
#: events and leave the integrand alone: a reuse run may change them.
EVENT_ONLY_KEYS = frozenset({"event_norm"})
_RUN_NAME = re.compile(r"^run_(\d+)$")
_DEFAULT_POINTS = 100_000


# ---------------------------------------------------------------------------
# output
# ---------------------------------------------------------------------------

def output(process: str, folder: str | Path, force: bool = False) -> Path:
    """Make a run folder for built-in process ``process`` (like MadGraph's ``output``).

    ``Cards/`` gets the default run card of the process's collider, the
    default param card and madnis card, and a ``proc_card_mg5.dat`` naming the
    process; ``Process/`` gets a copy of the process (metadata and source), so
    the folder is self-contained.

    Args:
        process: a built-in process name (``madnis-plugin processes``).
        folder: the folder to create; it must not exist unless ``force``.
        force: replace the cards and process copy of an existing folder
            (its ``Events/`` are kept).

    Returns:
        The folder.

    Raises:
        UsageError: unknown process, or the folder exists without ``force``.
    """
    from .process import ProcessMetadata

    source = resources.builtin_process_dir(process)
    if source is None:
        known = ", ".join(resources.builtin_processes())
        raise UsageError(f"unknown process '{process}' (built-in processes: {known})")
    folder = Path(folder)
    if folder.exists() and not force:
        raise UsageError(f"{folder} already exists (use --force to replace its cards)")
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} exists and is not a folder")
    meta = ProcessMetadata.read(source / "process.json")
    cards = folder / "Cards"
    cards.mkdir(parents=True, exist_ok=True)
    run_card = "run_card.dat" if meta.collider == "lepton" else "run_card_pp.dat"
    shutil.copyfile(resources.default_card(run_card), cards / "run_card.dat")
    shutil.copyfile(resources.default_card("param_card.dat"), cards / "param_card.dat")
    shutil.copyfile(resources.default_card("madnis_card.dat"), cards / "madnis_card.dat")
    (cards / "proc_card_mg5.dat").write_text(
        "# written by madnis-plugin output (for reference; the process is Process/)\n"
        "import model sm\n"
        f"generate {meta.mg5_process or meta.name}\n"
        f"output {folder.name}\n")
    target = folder / "Process"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.o"))
    (folder / "Events").mkdir(exist_ok=True)
    return folder


# ---------------------------------------------------------------------------
# folder kinds
# ---------------------------------------------------------------------------

def _is_madgraph(folder: Path) -> bool:
    return (folder / "SubProcesses").is_dir()


def _process_spec(folder: Path) -> Path:
    """What :func:`~madnis_plugin.process.load_process` gets for a run folder."""
    if _is_madgraph(folder):
        return folder
    if (folder / "Process" / "process.json").is_file():
        return folder / "Process"
    raise UsageError(f"{folder} is neither a madnis-plugin run folder (Cards/ and Process/, made by "
                     "'madnis-plugin output') nor MadGraph output (SubProcesses/)")


def _ensure_cards(folder: Path, say: Callable[[str], None]) -> None:
    """Copy default cards a folder lacks (MadGraph standalone output has no run card)."""
    cards = folder / "Cards"
    cards.mkdir(exist_ok=True)
    if not (cards / "param_card.dat").is_file():
        raise UsageError(f"{cards / 'param_card.dat'} not found: the folder needs a param card")
    if not (cards / "run_card.dat").is_file():
        from .api import default_run_card_path
        from .process import load_process

        with warnings.catch_warnings():
            # The loader's standalone warning is repeated when the run starts.
            warnings.simplefilter("ignore")
            process = load_process(_process_spec(folder), param_card=cards / "param_card.dat")
        default = default_run_card_path(process)
        shutil.copyfile(default, cards / "run_card.dat")
        say(f"no run card in {cards}: copied the default {default.name} (edit it and launch again to change)")
    if not (cards / "madnis_card.dat").is_file():
        shutil.copyfile(resources.default_card("madnis_card.dat"), cards / "madnis_card.dat")
        say(f"copied the default madnis_card.dat into {cards}")


# ---------------------------------------------------------------------------
# runs
# ---------------------------------------------------------------------------

def _previous_runs(events: Path) -> dict[str, dict[str, Any]]:
    """Run name -> its results.json (empty dict when unreadable), for every run folder."""
    runs: dict[str, dict[str, Any]] = {}
    if not events.is_dir():
        return runs
    for sub in sorted(events.iterdir()):
        if not sub.is_dir():
            continue
        try:
            runs[sub.name] = json.loads((sub / RESULTS_FILE).read_text())
        except (OSError, ValueError):
            runs[sub.name] = {}
    return runs


def next_run_name(events: str | Path) -> str:
    """``run_NN`` after the highest ``run_NN`` in ``events`` (``run_01`` for none).

    Example:
        >>> next_run_name("/nonexistent")
        'run_01'
    """
    events = Path(events)
    numbers = [int(m.group(1)) for p in (events.iterdir() if events.is_dir() else [])
               if (m := _RUN_NAME.match(p.name))]
    return f"run_{max(numbers, default=0) + 1:02d}"


def _choose_seed(explicit: int | None, card: RunCard, previous: Mapping[str, Mapping[str, Any]]) -> int:
    if explicit is not None:
        return int(explicit)
    iseed = int(card.get("iseed", 0))
    if iseed != 0:
        return iseed
    used = [int(r["seed"]) for r in previous.values() if isinstance(r.get("seed"), int)]
    return max(used, default=0) + 1


def _jsonable(value: Any) -> Any:
    """A JSON round trip of ``value`` (tuples become lists), so stored and fresh values compare equal."""
    return json.loads(json.dumps(value, default=str))


def physics_fingerprint(setup: RunSetup) -> dict[str, Any]:
    """What a stored sampler was trained for: process, run-card physics, param-card values.

    Two runs with equal fingerprints integrate the same function, so one's
    sampler may generate the other's events.
    """
    card: ParamCard = setup.process.param_card
    blocks = {name: {" ".join(map(str, idx)): value for idx, value in sorted(entries.items())}
              for name, entries in sorted(card.blocks.items())}
    widths = {str(pdg): width for pdg, width in sorted(card.widths.items())}
    param_hash = hashlib.sha256(json.dumps([blocks, widths], sort_keys=True).encode()).hexdigest()
    return _jsonable({
        "process": setup.process.fingerprint,
        "process_name": setup.process.name,
        "n_channels": setup.integrand.n_channels,
        "run_card": {k: v for k, v in setup.run_card.physics_values().items() if k not in EVENT_ONLY_KEYS},
        "param_card_sha256": param_hash,
    })


def reuse_conflicts(stored: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Human-readable differences that forbid reusing a sampler (empty: reuse is fine).

    Example:
        >>> reuse_conflicts({"run_card": {"ptl": 10.0}}, {"run_card": {"ptl": 20.0}})
        ['run card ptl: 10.0 -> 20.0']
    """
    problems = []
    for key in sorted(set(stored) | set(current)):
        old, new = stored.get(key), current.get(key)
        if key == "run_card":
            old, new = old or {}, new or {}
            for name in sorted(set(old) | set(new)):
                if old.get(name) != new.get(name):
                    problems.append(f"run card {name}: {old.get(name)} -> {new.get(name)}")
        elif old != new:
            label = {"param_card_sha256": "param card values", "process": "process (matrix element)",
                     "process_name": "process", "n_channels": "channels"}.get(key, key)
            problems.append(f"{label} changed" if key != "process_name" else f"process: {old} -> {new}")
    return problems


def _load_sampler(path: Path, integrand):
    from .sampler import MadnisSampler, VegasSampler

    if path.suffix == ".pt":
        return MadnisSampler.load(path, integrand)
    return VegasSampler.load(path, integrand)


def _reseed(sampler, seed: int) -> None:
    """Give a loaded sampler fresh random streams derived from ``seed``.

    A stored sampler carries the random state it had after training; drawing
    from it unchanged would repeat the events of the run that trained it.
    """
    import numpy as np

    streams = np.random.SeedSequence([int(seed), 0x72657573]).spawn(3)
    sampler.rng = np.random.default_rng(streams[0])
    inner = getattr(sampler, "vegas", None)
    if inner is not None:
        inner.rng = np.random.default_rng(streams[1])
    latent = getattr(sampler, "latent_generator", None)
    if latent is not None:
        latent.manual_seed(int(streams[2].generate_state(1)[0]))


def _phase_delta(after: Mapping[str, Any], before: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Per-phase calls and wall time spent between two snapshots of ``sampler.phases``."""
    out = {}
    for name, cost in after.items():
        prev = before.get(name, {"n_calls": 0, "wall_s": 0.0})
        calls, wall = cost["n_calls"] - prev["n_calls"], cost["wall_s"] - prev["wall_s"]
        if calls or wall:
            out[name] = {"n_calls": int(calls), "wall_s": float(wall)}
    return out


def _banner(setup: RunSetup, madnis_card_text: str, summary: Mapping[str, Any], run_info: Mapping[str, Any]) -> str:
    """``run_NN_banner.txt``: the LHE header of the run plus the madnis card and the overrides."""
    from .events.generation import lhe_header

    extra = {
        "Run": run_info["run_name"],
        "Integrator": run_info["integrator"],
        "Seed": run_info["seed"],
        "Reused sampler of": run_info.get("reused_from") or "-",
        "Unweighting efficiency": f"{summary['generation_efficiency']:.6f}",
        "Overweight share": f"{summary['overweight_fraction']:.3e}",
    }
    header = lhe_header(setup, summary["cross_section_pb"], summary["error_pb"], summary["events_written"], extra)
    overrides = "\n".join(f"{k} = {v}" for k, v in run_info["overrides"].items()) or "# none"
    command = run_info.get("command_line") or "# (called from Python)"
    own = (f"<MadnisCard>\n<![CDATA[\n{madnis_card_text.rstrip()}\n]]>\n</MadnisCard>\n"
           f"<MadnisCommandLine>\n<![CDATA[\n{command}\n# run-card overrides of this run:\n{overrides}\n]]>\n"
           "</MadnisCommandLine>\n")
    header = header.replace("</header>\n", own + "</header>\n")
    return f'<LesHouchesEvents version="3.0">\n{header}</LesHouchesEvents>\n'


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


def launch(folder: str | Path, *, name: str | None = None, reuse: str | None = None,
           nevents: int | None = None, seed: int | None = None, integrator: str | None = None,
           points: int | None = None, train_batches: int | None = None,
           set_options: Mapping[str, Any] | None = None, report: bool = True,
           report_points: int = 20_000, command_line: str | None = None,
           progress: Callable[[str], None] | None = None,
           say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Integrate and generate events in a run folder, writing ``Events/run_NN/`` (like MadGraph's ``launch``).

    Args:
        folder: a folder made by :func:`output`, or MadGraph5_aMC@NLO output.
        name: the run's name (default: the next ``run_NN``); an existing run is never overwritten.
        reuse: a previous run whose stored sampler generates the events (no training).
        nevents: events to write (default: the run card's ``nevents``).
        seed: the run's seed (default: ``iseed``, or the next unused seed when ``iseed = 0``).
        integrator: ``vegas`` or ``madnis`` (ignored with ``reuse``: the stored sampler's).
        points: integrand points of the fresh estimate that sets the cross section and ``w_max``.
        train_batches: training budget (VEGAS iterations or flow steps; overrides the madnis card).
        set_options: run-card overrides ``{key: value}`` for this run.
        report: write ``report.html`` and its figures.
        report_points: fresh points drawn for the report's weight distribution.
        command_line: the command as typed, recorded in the banner.
        progress: called with short progress lines.
        say: called with notices (copied cards, reuse); default: stderr.

    Returns:
        The run's ``results.json`` content (see the module docstring).

    Raises:
        UsageError: bad folder or options, a run that exists, a forbidden reuse.
    """
    start = time.perf_counter()
    say = say or (lambda line: print(f"madnis-plugin: {line}", file=sys.stderr))
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"run folder not found: {folder}")
    spec = _process_spec(folder)
    for label, value in (("nevents", nevents), ("points", points), ("train_batches", train_batches),
                         ("report_points", report_points)):
        if value is not None and int(value) <= 0:
            raise UsageError(f"{label} must be positive, got {value}")
    if integrator is not None and integrator not in INTEGRATORS:
        raise UsageError(f"unknown integrator '{integrator}' (choose from {', '.join(INTEGRATORS)})")
    _ensure_cards(folder, say)
    cards = folder / "Cards"
    events_dir = folder / "Events"
    events_dir.mkdir(exist_ok=True)
    previous = _previous_runs(events_dir)

    run_name = name or next_run_name(events_dir)
    if not re.match(r"^[A-Za-z0-9_.-]+$", run_name) or run_name in (".", ".."):
        raise UsageError(f"run name {run_name!r}: use letters, digits, '_', '-' and '.'")
    if (events_dir / run_name).exists():
        raise UsageError(f"run {run_name} already exists in {events_dir} (choose another --name)")

    stored_path = None
    stored_results: dict[str, Any] = {}
    if reuse is not None:
        stored_dir = events_dir / reuse
        found = [stored_dir / f for f in SAMPLER_FILES.values() if (stored_dir / f).is_file()]
        if not found:
            raise UsageError(f"cannot reuse {reuse}: no stored sampler in {stored_dir}")
        stored_path = found[0]
        stored_results = previous.get(reuse, {})

    overrides: dict[str, Any] = dict(set_options or {})
    base_card = read_run_card(cards / "run_card.dat")
    if nevents is not None:
        overrides["nevents"] = int(nevents)
    run_seed = _choose_seed(seed, base_card.with_overrides(overrides) if overrides else base_card, previous)
    if reuse is not None:
        earlier = {n: r.get("seed") for n, r in previous.items()
                   if n == reuse or r.get("reused_from") == reuse}
        clash = [n for n, s in earlier.items() if s == run_seed]
        if clash:
            raise UsageError(f"seed {run_seed} was already used with the sampler of {reuse} (by {clash[0]}): "
                             "the events would repeat; pass a new --seed")
    overrides["iseed"] = run_seed
    madnis_card = cards / "madnis_card.dat"

    setup_start = time.perf_counter()
    setup = prepare_run(spec, run_card=cards / "run_card.dat", param_card=cards / "param_card.dat",
                        seed=run_seed, overrides=overrides)
    setup_wall = time.perf_counter() - setup_start
    n_events = int(setup.run_card.get("nevents", 10_000))
    if n_events <= 0:
        raise UsageError(f"nevents = {n_events} in the run card must be positive")
    fingerprint = physics_fingerprint(setup)

    run_dir = events_dir / run_name
    try:
        run_dir.mkdir(parents=True)
    except FileExistsError:
        raise UsageError(f"run {run_name} already exists in {events_dir} (choose another --name)") from None
    sampler_saved = False
    try:
        if stored_path is not None:
            sampler = _load_sampler(stored_path, setup.integrand)
            problems = reuse_conflicts(sampler.fingerprint, fingerprint)
            if problems:
                raise UsageError(f"cannot reuse {reuse}: the physics changed ({'; '.join(problems)}); "
                                 "launch without --reuse to train for it")
            _reseed(sampler, run_seed)
            kind = sampler.name
            say(f"{run_name}: reusing the {kind} sampler of {reuse} (no training), seed {run_seed}")
        else:
            from .api import _make_sampler

            kind = integrator or DEFAULT_INTEGRATOR
            sampler = _make_sampler(setup, kind, madnis_card, train_batches, progress)
        phases_before = {k: v.to_dict() for k, v in sampler.phases.items()} if stored_path else {}
        if stored_path is None:
            sampler.save(run_dir / SAMPLER_FILES[kind], fingerprint=fingerprint)
            sampler_saved = True
        result = sampler.integrate(points=int(points or _DEFAULT_POINTS))
        from .events.generation import generate_events

        summary = generate_events(setup, sampler, result, n_events, run_dir / EVENTS_FILE, progress=progress)
    except BaseException as exc:
        if not sampler_saved:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            # Keep the trained sampler: `--reuse` can generate from it later.
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            _write_json(run_dir / RESULTS_FILE, {"run_name": run_name, "status": status,
                                                 "error": str(exc).strip().splitlines()[0] if str(exc).strip() else
                                                 type(exc).__name__,
                                                 "seed": run_seed, "integrator": kind,
                                                 "sampler": SAMPLER_FILES[kind]})
            (run_dir / EVENTS_FILE).unlink(missing_ok=True)
        raise

    phases = _phase_delta({k: v.to_dict() for k, v in sampler.phases.items()}, phases_before)
    phases.pop("sampling", None)  # part of generation, reported there with unweighting and writing
    phases["generation"] = {"n_calls": int(summary["generation_calls"]), "wall_s": float(summary["generation_wall_s"])}
    total_calls = sum(p["n_calls"] for p in phases.values())
    run_info: dict[str, Any] = {
        "run_name": run_name,
        "status": "done",
        "process": setup.process.name,
        "folder": str(folder.resolve()),
        "madgraph_folder": _is_madgraph(folder),
        "integrator": kind,
        "seed": run_seed,
        "reused_from": reuse,
        "command_line": command_line,
        "overrides": _jsonable(setup.run_card.overrides),
        "cross_section_pb": summary["cross_section_pb"],
        "error_pb": summary["error_pb"],
        "events": summary["events_written"],
        "event_norm": summary["event_norm"],
        "unweighting_efficiency": result.unweighting_efficiency,
        "generation_efficiency": summary["generation_efficiency"],
        "overweight_fraction": summary["overweight_fraction"],
        "rel_std": result.rel_std,
        "n_integrand_calls": int(total_calls),
        "events_per_call_end_to_end": summary["events_written"] / total_calls if total_calls else math.nan,
        "channels": [c.to_dict() for c in result.channels],
        "timings": {"setup_wall_s": setup_wall, **{k: v["wall_s"] for k, v in phases.items()}},
        "phases": phases,
        "files": {"events": EVENTS_FILE, "banner": f"{run_name}_banner.txt",
                  "sampler": SAMPLER_FILES[kind] if stored_path is None else f"../{reuse}/{stored_path.name}"},
        "subprocesses": [{"pdg": list(s.pdg), "mg_process_id": s.mg_process_id}
                         for s in setup.process.metadata.subprocesses],
        "madnis_plugin_version": __version__,
    }
    if stored_results.get("cross_section_pb") is not None:
        run_info["stored_run_cross_section_pb"] = stored_results["cross_section_pb"]
    (run_dir / f"{run_name}_banner.txt").write_text(
        _banner(setup, madnis_card.read_text(), summary, run_info))
    run_info["timings"]["total_wall_s"] = time.perf_counter() - start
    _write_json(run_dir / RESULTS_FILE, run_info)
    if report:
        from .report import write_report

        report_start = time.perf_counter()
        report_path = write_report(run_dir, run_info, sampler, result, sample_points=report_points)
        run_info["files"]["report"] = report_path.name
        run_info["timings"]["report_wall_s"] = time.perf_counter() - report_start
        _write_json(run_dir / RESULTS_FILE, run_info)
    return run_info


# ---------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------

def _parse_set(items: list[str] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        key, value = (part.strip() for part in item.split("=", 1))
        if not key or not value:
            raise UsageError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.lower()] = value
    return out


def _output_command(args: argparse.Namespace) -> int:
    folder = output(args.process, args.folder, force=args.force)
    print(f"wrote run folder {folder} for {args.process}: edit {folder / 'Cards'} and run "
          f"'madnis-plugin launch {folder}'")
    return 0


def _command_line(args: argparse.Namespace) -> str:
    """The launch command as the user gave it, rebuilt from the parsed options."""
    import shlex

    words = ["madnis-plugin", "launch", str(args.folder)]
    for flag, value in (("--events", args.events), ("--seed", args.seed), ("--name", args.name),
                        ("--reuse", args.reuse), ("--integrator", args.integrator), ("--points", args.points),
                        ("--train-batches", args.train_batches)):
        if value is not None:
            words += [flag, str(value)]
    for item in args.set or []:
        words += ["--set", item]
    return shlex.join(words)


def _launch_command(args: argparse.Namespace) -> int:
    from .cli import _progress_printer

    progress = None if args.json else _progress_printer()
    result = launch(args.folder, name=args.name, reuse=args.reuse, nevents=args.events, seed=args.seed,
                    integrator=args.integrator, points=args.points, train_batches=args.train_batches,
                    set_options=_parse_set(args.set), report=not args.no_report,
                    command_line=_command_line(args),
                    progress=progress)
    if progress:
        sys.stderr.write("\n")
    if args.json:
        print(json.dumps(result, default=str))
        return 0
    run_dir = Path(args.folder) / "Events" / result["run_name"]
    print(f"run            {result['run_name']}  ({result['integrator']}, seed {result['seed']}"
          + (f", sampler of {result['reused_from']}" if result["reused_from"] else "") + ")")
    print(f"cross section  {result['cross_section_pb']:.6e} +- {result['error_pb']:.2e} pb")
    print(f"events         {result['events']}  -> {run_dir / EVENTS_FILE}")
    print(f"unweighting    {result['generation_efficiency']:.4f}  "
          f"overweight share {result['overweight_fraction']:.2e}  "
          f"end to end {result['events_per_call_end_to_end']:.4f} events/call")
    if "report" in result["files"]:
        print(f"report         {run_dir / result['files']['report']}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``output`` and ``launch`` to the ``madnis-plugin`` command."""
    out = subparsers.add_parser("output", help="make a run folder for a built-in process (like MadGraph's output)")
    out.add_argument("process", help="built-in process name (see 'processes')")
    out.add_argument("folder", help="run folder to create")
    out.add_argument("--force", action="store_true", help="replace the cards of an existing folder (keeps Events/)")
    out.set_defaults(handler=_output_command)

    run = subparsers.add_parser(
        "launch", help="integrate and generate events in a run folder or MadGraph output folder")
    run.add_argument("folder", help="run folder (from 'output') or MadGraph5_aMC@NLO output folder")
    run.add_argument("-n", "--events", type=int, help="number of events (default: the run card's nevents)")
    run.add_argument("--seed", type=int, help="random seed (default: iseed, or the next unused one if iseed = 0)")
    run.add_argument("--name", help="run name (default: the next run_NN)")
    run.add_argument("--reuse", metavar="RUN", help="generate with the sampler stored by RUN, without training")
    run.add_argument("--integrator", choices=INTEGRATORS, help=f"sampler (default: {DEFAULT_INTEGRATOR})")
    run.add_argument("--points", type=int, help="integrand points of the final estimate")
    run.add_argument("--train-batches", type=int, help="training budget (overrides the madnis card)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a run-card entry for this run (repeatable)")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    run.add_argument("--json", action="store_true", help="print results.json")
    run.set_defaults(handler=_launch_command)
