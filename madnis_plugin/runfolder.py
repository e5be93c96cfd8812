"""Run folders as MadGraph keeps them: ``output`` makes one, ``launch`` runs in it.

A run folder holds the cards of a process and one sub-folder per run::

    DIR/
      Cards/run_card.dat, param_card.dat, madnis_card.dat, proc_card_mg5.dat
      Process/                      copy of the built-in process (``output`` only)
      Events/run_01/
        unweighted_events.lhe.gz    the events
        run_01_banner.txt           every card, the command-line overrides, the result
        run_card.dat                the run's effective run card (the folder's, with its overrides)
        results.json                cross section, error, events, efficiencies, timings per phase
        sampler.npz | sampler.pt    the trained sampler (VEGAS or neural)
        report.html, report/*.png   the run report (:mod:`madnis_plugin.report`)

:func:`launch` also accepts a MadGraph5_aMC@NLO output folder (``output
madevent`` or ``output standalone``): its ``SubProcesses/P*`` are loaded
together as one process (FLAVOR_INDEX selects the subprocess, the LHE keeps
MadGraph's process ids), and cards it lacks (standalone output has no run
card) are copied in from the defaults on the first launch.

The generation itself is :func:`madnis_plugin.api.generate` (so ``jobs``
works as for ``madnis-plugin generate``); this module adds the folder, the
cards, seeds, the records and the report.

Options given to :func:`launch` override the cards for that run only; the
folder's ``Cards/`` stay as the user wrote them, and the banner records the
effective cards and the overrides. ``reuse="run_01"`` draws new events from
the sampler stored by ``run_01`` without training (MadGraph's gridpack use):
a new seed and event count are allowed, any other change of the physics
(run card physics keys, param card values, the process) is refused.

``resume="run_03"`` finishes a run that was interrupted during generation
(same cards and seed, no training, no lost or duplicated events).

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
import gzip
import json
import math
import re
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from . import __version__, resources
from .api import DEFAULT_INTEGRATOR, INTEGRATORS, UsageError, generate, prepare_run
from .cards import RunCard, read_run_card
from .events.checkpoint import Checkpoint
from .events.sampler_io import SamplerFileError, load_sampler, sampler_kind

__all__ = [
    "output",
    "launch",
    "next_run_name",
    "register",
    "RESULTS_FILE",
    "EVENTS_FILE",
]

RESULTS_FILE = "results.json"
EVENTS_FILE = "unweighted_events.lhe.gz"
#: Stored sampler file name per sampler kind.
SAMPLER_FILES = {"vegas": "sampler.npz", "madnis": "sampler.pt"}
_RUN_NAME = re.compile(r"^run_(\d+)$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
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
    """A JSON round trip of ``value`` (tuples become lists)."""
    return json.loads(json.dumps(value, default=str))


def _phases(summary: Mapping[str, Any], trained: Mapping[str, Any] | None, reused: bool) -> dict[str, dict[str, Any]]:
    """Integrand calls and wall seconds per phase of this run alone.

    ``trained``: the sampler file's ``phases``, saved right after training.
    ``summary["n_integrand_calls"]`` counts the sampler's training calls
    even when the sampler was loaded; a reuse run trained nothing, so they are
    taken out. The fresh estimate's calls are what remains; its wall time also
    holds loading the process and the cards, hence the phase name.
    """
    train = {name: {"n_calls": int(trained[name]["n_calls"]), "wall_s": float(trained[name]["wall_s"])}
             for name in ("vegas", "training") if trained and name in trained}
    train_calls = sum(p["n_calls"] for p in train.values())
    phases: dict[str, dict[str, Any]] = {} if reused else dict(train)
    train_wall = 0.0 if reused else sum(p["wall_s"] for p in train.values())
    gen_calls, gen_wall = int(summary["generation_calls"]), float(summary["generation_wall_s"])
    phases["setup_and_integration"] = {
        "n_calls": int(summary["n_integrand_calls"]) - gen_calls - train_calls,
        "wall_s": max(float(summary["wall_s"]) - gen_wall - train_wall, 0.0)}
    phases["generation"] = {"n_calls": gen_calls, "wall_s": gen_wall}
    return phases


def _lhe_header(events: Path) -> str:
    """The ``<header>...</header>`` block of an LHE file (plain or gzipped)."""
    opener = gzip.open if events.name.endswith(".gz") else open
    lines = []
    with opener(events, "rt") as handle:
        for line in handle:
            if lines or line.lstrip().startswith("<header>"):
                lines.append(line)
            if line.lstrip().startswith("</header>"):
                break
    return "".join(lines)


def _banner(events: Path, madnis_card_text: str, run_info: Mapping[str, Any]) -> str:
    """``run_NN_banner.txt``: the LHE header of the run plus the madnis card and the overrides."""
    header = _lhe_header(events)
    overrides = "\n".join(f"{k} = {v}" for k, v in run_info["overrides"].items()) or "# none"
    command = run_info.get("command_line") or "# (called from Python)"
    reused = f"# sampler trained by {run_info['reused_from']}\n" if run_info.get("reused_from") else ""
    own = (f"<MadnisCard>\n<![CDATA[\n{madnis_card_text.rstrip()}\n]]>\n</MadnisCard>\n"
           f"<MadnisCommandLine>\n<![CDATA[\n{command}\n{reused}# run-card overrides of this run:\n{overrides}\n]]>\n"
           "</MadnisCommandLine>\n")
    header = header.replace("</header>", own + "</header>", 1)
    return f'<LesHouchesEvents version="3.0">\n{header.rstrip()}\n</LesHouchesEvents>\n'


def _write_json(path: Path, data: Mapping[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    tmp.replace(path)


@dataclass
class _RunPlan:
    """Where a run writes and what it starts from (resolved before any work)."""

    run_name: str
    run_dir: Path
    seed: int
    effective_card: Path
    n_events: int
    kind: str
    sampler_path: Path
    stored_path: Path | None
    reuse: str | None
    overrides: dict[str, Any]


def _new_run_plan(events_dir: Path, cards: Path, previous: Mapping[str, Mapping[str, Any]], name: str | None,
                  reuse: str | None, nevents: int | None, seed: int | None, integrator: str | None,
                  set_options: Mapping[str, Any] | None) -> _RunPlan:
    """Name, seed and effective card of a new run; makes its folder and writes the card."""
    run_name = name or next_run_name(events_dir)
    if (events_dir / run_name).exists():
        raise UsageError(f"run {run_name} already exists in {events_dir} (choose another --name)")
    stored_path = None
    if reuse is not None:
        stored_dir = events_dir / reuse
        found = [stored_dir / f for f in SAMPLER_FILES.values() if (stored_dir / f).is_file()]
        if not found:
            raise UsageError(f"cannot reuse {reuse}: no stored sampler in {stored_dir}")
        stored_path = found[0]
    overrides: dict[str, Any] = dict(set_options or {})
    base_card = read_run_card(cards / "run_card.dat")
    if nevents is not None:
        overrides["nevents"] = int(nevents)
    run_seed = _choose_seed(seed, base_card.with_overrides(overrides) if overrides else base_card, previous)
    if reuse is not None:
        clash = [n for n, r in previous.items()
                 if (n == reuse or r.get("reused_from") == reuse) and r.get("seed") == run_seed]
        if clash:
            raise UsageError(f"seed {run_seed} was already used with the sampler of {reuse} (by {clash[0]}): "
                             "the events would repeat; pass a new --seed")
    overrides["iseed"] = run_seed
    run_card = base_card.with_overrides(overrides)
    n_events = int(run_card.get("nevents", 10_000))
    if n_events <= 0:
        raise UsageError(f"nevents = {n_events} in the run card must be positive")
    run_dir = events_dir / run_name
    try:
        run_dir.mkdir(parents=True)
    except FileExistsError:
        raise UsageError(f"run {run_name} already exists in {events_dir} (choose another --name)") from None
    # The run's effective card (the folder's card with this run's overrides) is what the run reads.
    effective_card = run_dir / "run_card.dat"
    run_card.write(effective_card)
    kind = sampler_kind(stored_path) if stored_path is not None else (integrator or DEFAULT_INTEGRATOR)
    return _RunPlan(run_name, run_dir, run_seed, effective_card, n_events, kind,
                    stored_path if stored_path is not None else run_dir / SAMPLER_FILES[kind],
                    stored_path, reuse, _jsonable(run_card.overrides))


def _resume_plan(events_dir: Path, resume: str, previous: Mapping[str, Mapping[str, Any]],
                 other_options: tuple) -> _RunPlan:
    """The plan of an interrupted run, read back from its folder."""
    if any(option is not None for option in other_options):
        raise UsageError("--resume continues a run with its own inputs: it takes no --name, --reuse, "
                         "--events, --seed or --set")
    run_dir = events_dir / resume
    stored = previous.get(resume)
    if stored is None:
        raise UsageError(f"cannot resume {resume}: no such run in {events_dir}")
    if stored.get("status") == "done":
        raise UsageError(f"cannot resume {resume}: it finished")
    if not stored.get("resumable"):
        raise UsageError(f"cannot resume {resume}: it stopped before writing events "
                         + ("(its sampler can be reused with --reuse)" if stored.get("sampler") else ""))
    effective_card = run_dir / "run_card.dat"
    card = read_run_card(effective_card)
    reuse = stored.get("reused_from")
    stored_path = None
    if reuse:
        found = [events_dir / reuse / f for f in SAMPLER_FILES.values() if (events_dir / reuse / f).is_file()]
        stored_path = found[0] if found else None
    kind = str(stored["integrator"])
    return _RunPlan(resume, run_dir, int(stored["seed"]), effective_card, int(card.get("nevents", 10_000)), kind,
                    stored_path if stored_path is not None else run_dir / SAMPLER_FILES[kind], stored_path, reuse,
                    dict(stored.get("overrides") or {}))


def launch(folder: str | Path, *, name: str | None = None, reuse: str | None = None, resume: str | None = None,
           nevents: int | None = None, seed: int | None = None, integrator: str | None = None,
           points: int | None = None, train_batches: int | None = None,
           set_options: Mapping[str, Any] | None = None, jobs: int = 1, report: bool = True,
           report_points: int = 20_000, command_line: str | None = None,
           progress: Callable[[str], None] | None = None,
           say: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Integrate and generate events in a run folder, writing ``Events/run_NN/`` (like MadGraph's ``launch``).

    Args:
        folder: a folder made by :func:`output`, or MadGraph5_aMC@NLO output.
        name: the run's name (default: the next ``run_NN``); an existing run is never overwritten.
        reuse: a previous run whose stored sampler generates the events (no training).
        resume: an interrupted run to finish (same inputs; no other option may change).
        nevents: events to write (default: the run card's ``nevents``).
        seed: the run's seed (default: ``iseed``, or the next unused seed when ``iseed = 0``).
        integrator: ``vegas`` or ``madnis`` (ignored with ``reuse``: the stored sampler's).
        points: integrand points of the fresh estimate that sets the cross section and ``w_max``.
        train_batches: training budget (VEGAS iterations or flow steps; overrides the madnis card).
        set_options: run-card overrides ``{key: value}`` for this run.
        jobs: local worker processes for the generation (the events do not depend on it).
        report: write ``report.html`` and its figures.
        report_points: fresh points drawn for the report's per-channel table and weight distribution.
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
    madnis_card = cards / "madnis_card.dat"
    for label, value in (("run name", name), ("--reuse", reuse), ("--resume", resume)):
        # Run names are folder names under Events/: nothing that leaves it.
        if value is not None and (not _SAFE_NAME.match(value) or value in (".", "..")):
            raise UsageError(f"{label} {value!r}: use letters, digits, '_', '-' and '.'")

    if resume is not None:
        plan = _resume_plan(events_dir, resume, previous, (name, reuse, nevents, seed, set_options))
    else:
        plan = _new_run_plan(events_dir, cards, previous, name, reuse, nevents, seed, integrator, set_options)
    run_name, run_dir, run_seed, reuse = plan.run_name, plan.run_dir, plan.seed, plan.reuse
    stored_path, sampler_path, kind = plan.stored_path, plan.sampler_path, plan.kind
    stored_results = previous.get(reuse, {}) if reuse else {}
    if stored_path is not None and resume is None:
        say(f"{run_name}: reusing the {kind} sampler of {reuse} (no training), seed {run_seed}")
    output_file = run_dir / EVENTS_FILE
    try:
        summary = generate(spec, plan.n_events, output_file, run_card=plan.effective_card,
                           param_card=cards / "param_card.dat", seed=run_seed, integrator=kind, points=points,
                           train_batches=train_batches, madnis_card=madnis_card, progress=progress,
                           sampler=stored_path, save_sampler=None if stored_path else sampler_path,
                           resume=resume is not None, jobs=jobs)
    except SamplerFileError as exc:
        if resume is None:
            shutil.rmtree(run_dir, ignore_errors=True)
        raise UsageError(f"cannot reuse {reuse}: {exc} (launch without --reuse to train for this physics)") from None
    except BaseException as exc:
        resumable = Checkpoint(output_file, {}).state_path.is_file()
        trained_here = stored_path is None and sampler_path.is_file()
        if resume is None and not (resumable or trained_here):
            shutil.rmtree(run_dir, ignore_errors=True)
        elif resume is None or resumable:
            # Keep the trained sampler (for --reuse) and the generation checkpoint (for --resume).
            status = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            _write_json(run_dir / RESULTS_FILE, {
                "run_name": run_name, "status": status, "error": message, "seed": run_seed, "integrator": kind,
                "reused_from": reuse, "resumable": resumable, "overrides": _jsonable(plan.overrides),
                "sampler": sampler_path.name if trained_here else None})
        raise

    phases = _phases(summary, _stored_phases(sampler_path), reused=stored_path is not None)
    total_calls = sum(p["n_calls"] for p in phases.values())
    run_info: dict[str, Any] = {
        "run_name": run_name,
        "status": "done",
        "process": summary["process"],
        "folder": str(folder.resolve()),
        "madgraph_folder": _is_madgraph(folder),
        "integrator": summary.get("integrator", kind),
        "seed": run_seed,
        "reused_from": reuse,
        "command_line": command_line,
        "overrides": plan.overrides,
        "cross_section_pb": summary["cross_section_pb"],
        "error_pb": summary["error_pb"],
        "events": summary["events_written"],
        "event_norm": summary["event_norm"],
        "unweighting_efficiency": summary["unweighting_efficiency"],
        "generation_efficiency": summary["generation_efficiency"],
        "overweight_fraction": summary["overweight_fraction"],
        "n_integrand_calls": total_calls,
        "events_per_call_end_to_end": summary["events_written"] / total_calls if total_calls else math.nan,
        "jobs": summary.get("jobs", jobs),
        "timings": {**{f"{k}_wall_s": v["wall_s"] for k, v in phases.items()},
                    "total_wall_s": time.perf_counter() - start},
        "phases": phases,
        "resumed": resume is not None,
        "files": {"events": EVENTS_FILE, "banner": f"{run_name}_banner.txt", "run_card": plan.effective_card.name,
                  "sampler": sampler_path.name if stored_path is None else f"../{reuse}/{stored_path.name}"},
        "madnis_plugin_version": __version__,
    }
    if stored_results.get("cross_section_pb") is not None:
        run_info["stored_run_cross_section_pb"] = stored_results["cross_section_pb"]
    (run_dir / f"{run_name}_banner.txt").write_text(_banner(run_dir / EVENTS_FILE, madnis_card.read_text(), run_info))
    _write_json(run_dir / RESULTS_FILE, run_info)
    if report:
        from .report import write_report

        report_start = time.perf_counter()
        setup = prepare_run(spec, run_card=plan.effective_card, param_card=cards / "param_card.dat", seed=run_seed)
        sampler = load_sampler(sampler_path, setup)
        run_info["subprocesses"] = [{"pdg": list(s.pdg), "mg_process_id": s.mg_process_id}
                                    for s in setup.process.metadata.subprocesses]
        report_path, channels = write_report(run_dir, run_info, sampler, sample_points=report_points)
        run_info["report_channels"] = channels
        run_info["files"]["report"] = report_path.name
        run_info["timings"]["report_wall_s"] = time.perf_counter() - report_start
        _write_json(run_dir / RESULTS_FILE, run_info)
    return run_info


def _stored_phases(path: Path) -> dict[str, Any] | None:
    """The ``phases`` a sampler file recorded (training costs), or None if unreadable."""
    try:
        if path.suffix == ".pt":
            import torch

            return torch.load(path, map_location="cpu", weights_only=True).get("phases")
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            return json.loads(str(data["meta"])).get("phases")
    except (OSError, ValueError, KeyError):
        return None


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
                        ("--reuse", args.reuse), ("--resume", args.resume), ("--integrator", args.integrator), ("--points", args.points),
                        ("--train-batches", args.train_batches), ("--jobs", args.jobs if args.jobs != 1 else None)):
        if value is not None:
            words += [flag, str(value)]
    for item in args.set or []:
        words += ["--set", item]
    return shlex.join(words)


def _launch_command(args: argparse.Namespace) -> int:
    from .cli import _progress_printer

    progress = None if args.json else _progress_printer()
    result = launch(args.folder, name=args.name, reuse=args.reuse, resume=args.resume, nevents=args.events,
                    seed=args.seed,
                    integrator=args.integrator, points=args.points, train_batches=args.train_batches,
                    set_options=_parse_set(args.set), jobs=args.jobs, report=not args.no_report,
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
    run.add_argument("--resume", metavar="RUN", help="finish the interrupted run RUN (same inputs)")
    run.add_argument("--integrator", choices=INTEGRATORS, help=f"sampler (default: {DEFAULT_INTEGRATOR})")
    run.add_argument("--points", type=int, help="integrand points of the final estimate")
    run.add_argument("--train-batches", type=int, help="training budget (overrides the madnis card)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a run-card entry for this run (repeatable)")
    run.add_argument("--jobs", type=int, default=1, help="local worker processes for the generation")
    run.add_argument("--no-report", action="store_true", help="skip the HTML report")
    run.add_argument("--json", action="store_true", help="print results.json")
    run.set_defaults(handler=_launch_command)
