"""Drive event generation: sample, unweight, write, checkpoint, in random channel order.

Generation is a sequence of independent *batches*. Batch ``b`` of stream
``(seed, shard k/N)`` reseeds every random generator it touches (the
sampler's, the integrand's flavour/colour/helicity choices, the unweighting
draws) from ``SeedSequence([seed, k, N, b])``, draws a fixed number of points
with channels chosen at random with probability ``p_c ∝ w_max_c`` (the
per-channel thresholds of the fresh integration), unweights them
(:mod:`~madnis_plugin.events.unweighting`) and returns the accepted events as
LHE text in a random order. Batches are written in index order until ``n``
events are on disk, so

* any leading part of the file is a fair sample (batches are i.i.d., each
  shuffled);
* the file depends on the seed and inputs only: not on ``--jobs``, which only
  changes who computes a batch, and not on interruptions: the generation
  state after a batch is just its index, the committed byte offset of the body
  file and a few counters (:class:`~madnis_plugin.events.checkpoint.Checkpoint`);
* memory is flat in ``n``: a batch is written before the next one is drawn.

Example:
    >>> from madnis_plugin import generate
    >>> generate("ee_mumu", 100, "ee.lhe.gz", seed=1)["events_written"]   # doctest: +SKIP
    100
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .. import __version__
from .lhe import LHE_FORMAT, LHEEventBuilder, LHEInitData, LHEWriter
from .unweighting import generation_allocation, unweight

__all__ = ["check_output_path", "generate_events", "lhe_header", "EVENT_NORMS", "GenerationPlan",
           "BatchOutput", "BatchRunner", "make_plan", "nominal_weight", "GenerationTally"]

EVENT_NORMS = ("average", "sum", "unity")

#: Domain tag mixed into the generation seeds, so they never coincide with training streams.
_GENERATION_TAG = 0x6E76


def check_output_path(output: str | Path) -> Path:
    """Validate an event-file path before any work: suffix and a writable folder."""
    from ..api import UsageError

    path = Path(output)
    if not (path.name.endswith(".lhe") or path.name.endswith(".lhe.gz")):
        raise UsageError(f"output file must end in .lhe or .lhe.gz: {path}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write {path}: folder {folder} is not writable")
    if path.is_dir():
        raise UsageError(f"cannot write {path}: it is a folder")
    return path


def nominal_weight(event_norm: str, cross_section: float, n_events: int) -> float:
    """The weight of a non-overweight event: sigma (average), sigma/N (sum) or 1 (unity)."""
    return {"average": cross_section, "sum": cross_section / n_events, "unity": 1.0}[event_norm]


@dataclass(slots=True)
class GenerationPlan:
    """What every batch of one generation stream needs besides the sampler (JSON-ready).

    Attributes:
        seed: the run's seed.
        shard: ``(k, N)``: this stream is shard ``k`` of ``N`` (``(1, 1)``: unsharded).
        n_events: events this stream writes.
        batch_points: integrand points per batch (fixed, so files do not depend on ``--jobs``).
        channel_probabilities: ``(n_channels,)`` ``p_c ∝ w_max_c``.
        threshold: ``sum_c w_max_c``, the unweighting threshold of the sample weight ``w / p_c``.
        event_norm: ``average``, ``sum`` or ``unity``.
        nominal_weight: the weight of an event that is not an overweight.
        cross_section, error: the fresh integration's estimate (pb).
        unweighting_efficiency: the integration's DESIGN.md efficiency.
    """

    seed: int
    shard: tuple[int, int]
    n_events: int
    batch_points: int
    channel_probabilities: list[float]
    threshold: float
    event_norm: str
    nominal_weight: float
    cross_section: float
    error: float
    unweighting_efficiency: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready copy (floats round-trip exactly through ``json``)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GenerationPlan":
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        data["shard"] = tuple(data["shard"])
        return cls(**data)


def make_plan(setup, result, n_events: int, shard: tuple[int, int] = (1, 1),
              max_batch_points: int = 20_000) -> GenerationPlan:
    """The plan of one stream from a fresh integration ``result`` (thresholds and cross section).

    The batch size aims at the stream's whole sample in a few batches for
    small ``n`` and is capped at ``max_batch_points`` so memory stays flat.
    """
    from ..api import UsageError

    event_norm = str(setup.run_card.get("event_norm", "average")).lower()
    if event_norm not in EVENT_NORMS:
        raise UsageError(f"event_norm = {event_norm} is not supported ({', '.join(EVENT_NORMS)})")
    sigma, error = float(result.cross_section), float(result.error)
    if not sigma > 0:
        raise UsageError(f"cross section is {sigma} pb: no events to generate (check cuts and beams)")
    w_max = np.array([ch.w_max if ch.active else 0.0 for ch in result.channels], dtype=np.float64)
    probabilities = generation_allocation(w_max)
    efficiency = max(float(result.unweighting_efficiency), 1e-4)
    points = int(min(max_batch_points, math.ceil(1.1 * n_events / efficiency) + 100))
    return GenerationPlan(
        seed=int(setup.seed), shard=(int(shard[0]), int(shard[1])), n_events=int(n_events),
        batch_points=points, channel_probabilities=probabilities.tolist(), threshold=float(w_max.sum()),
        event_norm=event_norm, nominal_weight=nominal_weight(event_norm, sigma, int(n_events)),
        cross_section=sigma, error=error, unweighting_efficiency=float(result.unweighting_efficiency))


@dataclass(slots=True)
class BatchOutput:
    """The accepted events of one batch, shuffled, as LHE text.

    Attributes:
        index: the batch index.
        events: ``<event>`` blocks, one string each, in file order.
        factor: ``(len(events),)`` ``max(1, W / W_max)`` of each event.
        process_id: ``(len(events),)`` LHE process id of each event.
        accepted: accepted points (= ``len(events)``).
        calls: integrand points drawn (padding included).
    """

    index: int
    events: list[str]
    factor: np.ndarray
    process_id: np.ndarray
    accepted: int
    calls: int


def reseed_streams(sampler, integrand, sequence: np.random.SeedSequence) -> np.random.Generator:
    """Point every generator of sampler and integrand at children of ``sequence``.

    The samplers keep their streams in ``rng`` (numpy) and, for the neural one,
    ``vegas.rng`` and ``latent_generator`` (torch); the integrand draws flavour,
    colour and helicity from ``rng``. Returns the unweighting generator.
    """
    children = sequence.spawn(5)
    sampler.rng = np.random.default_rng(children[0])
    if hasattr(sampler, "vegas"):
        sampler.vegas.rng = np.random.default_rng(children[1])
    if hasattr(sampler, "latent_generator"):
        sampler.latent_generator.manual_seed(int(children[2].generate_state(1, np.uint64)[0] >> np.uint64(1)))
    integrand.rng = np.random.default_rng(children[3])
    return np.random.default_rng(children[4])


class BatchRunner:
    """Compute batches of one stream: ``runner(b)`` -> :class:`BatchOutput`.

    Args:
        setup: the :class:`~madnis_plugin.api.RunSetup`.
        sampler: the trained sampler (VEGAS or neural).
        plan: the stream's :class:`GenerationPlan`.
    """

    def __init__(self, setup, sampler, plan: GenerationPlan):
        self.setup = setup
        self.sampler = sampler
        self.plan = plan
        self.probabilities = np.asarray(plan.channel_probabilities, dtype=np.float64)
        integrand = setup.integrand
        self.builder = LHEEventBuilder(
            setup.process, [ch.diagram for ch in integrand.channels], float(setup.run_card.get("bwcutoff", 15.0)),
            alpha_qed=1.0 / setup.process.param_card.value("SMINPUTS", 1))
        self.process_ids = np.asarray(self.builder.process_ids)

    def __call__(self, index: int) -> BatchOutput:
        plan = self.plan
        sequence = np.random.SeedSequence([plan.seed, plan.shard[0], plan.shard[1], index, _GENERATION_TAG])
        rng = reseed_streams(self.sampler, self.setup.integrand, sequence)
        counts = rng.multinomial(plan.batch_points, self.probabilities)
        batch = self.sampler.sample(points=int(counts.sum()), allocation=counts)
        sample_weight = batch.weight / self.probabilities[batch.channel]
        outcome = unweight(sample_weight, plan.threshold, rng)
        rows = rng.permutation(np.flatnonzero(outcome.accepted))
        factor = outcome.factor[rows]
        payload = {key: value[rows] for key, value in batch.payload.items()}
        events = self.builder.events(payload, plan.nominal_weight * factor)
        text = [event.tolhe(lheformat=LHE_FORMAT) for event in events]
        pids = self.process_ids[payload["flavor_index"]] if rows.size else np.zeros(0, dtype=np.int64)
        return BatchOutput(index, text, factor, pids, int(rows.size), int(batch.weight.shape[0]))


@dataclass(slots=True)
class GenerationTally:
    """Running totals of a stream (persisted in the checkpoint, so a resume continues them).

    Attributes:
        written: events written.
        next_batch: index of the next batch to write.
        accepted: accepted points over all batches drawn (truncation not counted).
        calls: integrand points drawn during generation.
        overweight: sum of ``factor - 1`` over written events.
        factor_sum: sum of ``factor`` over written events.
        max_factor: the largest factor written.
        process_factor: per LHE process id (as str, for JSON), the sum of factors.
    """

    written: int = 0
    next_batch: int = 0
    accepted: int = 0
    calls: int = 0
    overweight: float = 0.0
    factor_sum: float = 0.0
    max_factor: float = 0.0
    process_factor: dict[str, float] = field(default_factory=dict)

    def add(self, out: BatchOutput, take: int) -> None:
        """Count batch ``out`` of which the first ``take`` events were written."""
        factor = out.factor[:take]
        self.written += take
        self.next_batch = out.index + 1
        self.accepted += out.accepted
        self.calls += out.calls
        self.overweight += float((factor - 1.0).sum())
        self.factor_sum += float(factor.sum())
        if take:
            self.max_factor = max(self.max_factor, float(factor.max()))
        for pid, f in zip(out.process_id[:take].tolist(), factor.tolist()):
            self.process_factor[str(pid)] = self.process_factor.get(str(pid), 0.0) + f

    @property
    def overweight_share(self) -> float:
        """Share of the sample's weight carried by overweights beyond their nominal weight."""
        return self.overweight / self.factor_sum if self.factor_sum else 0.0


def lhe_header(setup, cross_section: float, error: float, n_events: int, extra: dict[str, Any]) -> str:
    """MadGraph-style ``<header>``: version, process, run card, param card, generation info."""
    process = setup.process
    meta = process.metadata
    proc_card = "\n".join([
        "# process card written by madnis-plugin",
        "import model sm",
        f"generate {meta.mg5_process or meta.name}",
        f"# madnis-plugin process: {meta.name}",
    ])
    return (
        "<header>\n"
        f"<MGVersion>\nmadnis-plugin {__version__}\n</MGVersion>\n"
        f"<MG5ProcCard>\n<![CDATA[\n{proc_card}\n]]>\n</MG5ProcCard>\n"
        f"<MGRunCard>\n<![CDATA[\n{setup.run_card.text.rstrip()}\n]]>\n</MGRunCard>\n"
        f"<slha>\n{process.param_card.text.rstrip()}\n</slha>\n"
        f"<MGGenerationInfo>\n{generation_info(n_events, cross_section, error, extra)}\n</MGGenerationInfo>\n"
        "</header>\n"
    )


def generation_info(n_events: int, cross_section: float, error: float, extra: dict[str, Any]) -> str:
    """The ``<MGGenerationInfo>`` lines MadGraph writes, plus ours."""
    return "\n".join([
        f"#  Number of Events        :  {n_events}",
        f"#  Integrated weight (pb)  :  {cross_section:.10e}",
        f"#  Integration error (pb)  :  {error:.10e}",
        *[f"#  {key:<24}:  {value}" for key, value in extra.items()],
    ])


def init_data(setup, plan: GenerationPlan, tally: GenerationTally) -> LHEInitData:
    """The ``<init>`` block: beams, PDF ids, IDWTUP -4, per-process cross sections and the max weight."""
    card = setup.run_card
    integrand = setup.integrand
    pdf_set = (0, 0)  # lepton beams: no PDF, as MadGraph writes them
    if integrand.hadronic:
        lhaid = int(integrand._pdf.lhapdf_id)
        pdf_set = (lhaid, lhaid)
    total = tally.factor_sum or 1.0
    max_weight = plan.nominal_weight * max(tally.max_factor, 1.0)
    processes = [(int(pid), plan.cross_section * share / total, plan.error * share / total, max_weight)
                 for pid, share in sorted(tally.process_factor.items(), key=lambda kv: int(kv[0]))]
    return LHEInitData(beams=integrand.beam_pdgs, energies=(float(card["ebeam1"]), float(card["ebeam2"])),
                       pdf_set=pdf_set, processes=processes)


def _batches(runner: BatchRunner, start: int, jobs: int, worker_spec: dict[str, Any] | None) -> Iterator[BatchOutput]:
    """Batch outputs from index ``start`` on, in order: in process or from ``jobs`` workers."""
    if jobs <= 1 or worker_spec is None:
        index = start
        while True:
            yield runner(index)
            index += 1
    from .parallel import ordered_worker_batches

    yield from ordered_worker_batches(worker_spec, start, jobs)


def generate_events(setup, sampler, result, n_events: int, output: Path, batch_points: int = 20_000,
                    progress: Callable[[str], None] | None = None, shard: tuple[int, int] = (1, 1),
                    jobs: int = 1, worker_spec: dict[str, Any] | None = None,
                    checkpoint=None, plan: GenerationPlan | None = None) -> dict[str, Any]:
    """Write ``n_events`` unweighted events of a trained sampler to ``output``.

    Args:
        setup: the :class:`~madnis_plugin.api.RunSetup`.
        sampler: a trained sampler (VEGAS or neural).
        result: its fresh :class:`~madnis_plugin.sampler.IntegrationResult`
            (cross section and per-channel thresholds ``w_max``).
        n_events: events to write.
        output: ``.lhe`` or ``.lhe.gz``.
        batch_points: most integrand points per batch.
        shard: ``(k, N)`` for shard ``k`` of ``N``.
        jobs: local worker processes (needs ``worker_spec``: how a worker rebuilds setup and sampler).
        checkpoint: a :class:`~madnis_plugin.events.checkpoint.Checkpoint` to persist the state
            after every batch and to resume from (None: no resume support).
        plan: the stream's plan (a resume passes the saved one).

    Returns:
        ``events_written, file, cross_section_pb, error_pb, unweighting_efficiency,
        generation_efficiency, overweight_fraction, generation_calls, generation_wall_s, event_norm``.
    """
    if plan is None:
        plan = make_plan(setup, result, n_events, shard, batch_points)
    tally = GenerationTally()
    offset = 0
    if checkpoint is not None and checkpoint.resuming:
        tally, offset = checkpoint.tally, checkpoint.offset
    writer = LHEWriter(output, body_path=None if checkpoint is None else checkpoint.body_path,
                       resume_offset=offset if checkpoint is not None and checkpoint.resuming else None)
    if checkpoint is not None and not checkpoint.resuming:
        checkpoint.commit(plan, tally, writer.offset)
    runner = BatchRunner(setup, sampler, plan) if jobs <= 1 else None
    start = time.perf_counter()
    # Steady state: from the first written batch on (worker start-up and warm-up excluded).
    steady_start, steady_first = None, 0
    try:
        if tally.written < plan.n_events:
            batches = _batches(runner, tally.next_batch, jobs, worker_spec)
            for out in batches:
                take = min(len(out.events), plan.n_events - tally.written)
                writer.write_text(out.events[:take])
                tally.add(out, take)
                if steady_start is None:
                    steady_start, steady_first = time.perf_counter(), tally.written
                if checkpoint is not None:
                    writer.flush()
                    checkpoint.commit(plan, tally, writer.offset)
                if progress:
                    progress(f"events {tally.written}/{plan.n_events}  "
                             f"efficiency {tally.accepted / max(tally.calls, 1):.4f}")
                if tally.written >= plan.n_events:
                    break
            batches.close()  # stops the workers and cancels batches drawn ahead
        efficiency = tally.accepted / max(tally.calls, 1)
        extra = {
            "Generator": f"madnis-plugin {__version__}",
            "Seed": plan.seed,
            "Shard": f"{plan.shard[0]}/{plan.shard[1]}",
            "Unweighting efficiency": f"{efficiency:.6f}",
            "Overweight share": f"{tally.overweight_share:.3e}",
            "Event normalisation": plan.event_norm,
        }
        header = lhe_header(setup, plan.cross_section, plan.error, tally.written, extra)
        writer.finish(header, init_data(setup, plan, tally), __version__)
    except BaseException:
        # The body file and checkpoint stay for --resume; no output file was produced.
        writer.abort()
        if checkpoint is None:
            writer.body_path.unlink(missing_ok=True)
        raise
    if checkpoint is not None:
        checkpoint.remove()
    return {
        "events_written": tally.written,
        "file": str(output),
        "cross_section_pb": plan.cross_section,
        "error_pb": plan.error,
        "unweighting_efficiency": plan.unweighting_efficiency,
        "generation_efficiency": efficiency,
        "overweight_fraction": tally.overweight_share,
        "generation_calls": tally.calls,
        "generation_wall_s": time.perf_counter() - start,
        "steady_events": tally.written - steady_first,
        "steady_wall_s": (time.perf_counter() - steady_start) if steady_start is not None else 0.0,
        "event_norm": plan.event_norm,
        "shard": f"{plan.shard[0]}/{plan.shard[1]}",
    }
