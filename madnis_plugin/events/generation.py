"""Drive event generation: sample, unweight, write, in random channel order.

Every batch draws the channel of each point at random with probability
``p_c ∝ w_max_c`` (the per-channel thresholds of the fresh integration
sample), unweights with bounded overweights
(:mod:`~madnis_plugin.events.unweighting`) and writes the accepted events in a
random order, so that any leading part of the file is a fair sample. Memory
stays flat in the number of events: each batch is written before the next
is drawn.

Example:
    >>> from madnis_plugin import generate
    >>> generate("ee_mumu", 100, "ee.lhe.gz", seed=1)["events_written"]   # doctest: +SKIP
    100
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import __version__
from .lhe import LHEEventBuilder, LHEInitData, LHEWriter
from .unweighting import generation_allocation, unweight

__all__ = ["check_output_path", "generate_events", "lhe_header", "EVENT_NORMS"]

EVENT_NORMS = ("average", "sum", "unity")


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
    info = "\n".join([
        f"#  Number of Events        :  {n_events}",
        f"#  Integrated weight (pb)  :  {cross_section:.10e}",
        f"#  Integration error (pb)  :  {error:.10e}",
        *[f"#  {key:<24}:  {value}" for key, value in extra.items()],
    ])
    return (
        "<header>\n"
        f"<MGVersion>\nmadnis-plugin {__version__}\n</MGVersion>\n"
        f"<MG5ProcCard>\n<![CDATA[\n{proc_card}\n]]>\n</MG5ProcCard>\n"
        f"<MGRunCard>\n<![CDATA[\n{setup.run_card.text.rstrip()}\n]]>\n</MGRunCard>\n"
        f"<slha>\n{process.param_card.text.rstrip()}\n</slha>\n"
        f"<MGGenerationInfo>\n{info}\n</MGGenerationInfo>\n"
        "</header>\n"
    )


def _init_data(setup, cross_section: float, error: float, pid_shares: dict[int, float],
               max_weight: float) -> LHEInitData:
    card = setup.run_card
    integrand = setup.integrand
    pdf_set = (0, 0)  # lepton beams: no PDF, as MadGraph writes them
    if integrand.hadronic:
        lhaid = integrand._pdf.lhapdf_id
        pdf_set = (int(lhaid), int(lhaid))
    total = sum(pid_shares.values()) or 1.0
    processes = [(pid, cross_section * share / total, error * share / total, max_weight)
                 for pid, share in sorted(pid_shares.items())]
    return LHEInitData(beams=integrand.beam_pdgs, energies=(float(card["ebeam1"]), float(card["ebeam2"])),
                       pdf_set=pdf_set, processes=processes)


def generate_events(setup, sampler, result, n_events: int, output: Path, batch_points: int = 20_000,
                    progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Write ``n_events`` unweighted events of a trained sampler to ``output``.

    Args:
        setup: the :class:`~madnis_plugin.api.RunSetup`.
        sampler: a trained sampler (VEGAS or neural).
        result: its fresh :class:`~madnis_plugin.sampler.IntegrationResult`
            (cross section and per-channel thresholds ``w_max``).
        n_events: events to write.
        output: ``.lhe`` or ``.lhe.gz``.
        batch_points: integrand points per batch.
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
    threshold = float(w_max.sum())
    rng = np.random.default_rng([setup.seed, 0x6E76])
    integrand = setup.integrand
    builder = LHEEventBuilder(
        setup.process, [ch.diagram for ch in integrand.channels], float(setup.run_card.get("bwcutoff", 15.0)),
        alpha_qed=1.0 / setup.process.param_card.value("SMINPUTS", 1))
    nominal = {"average": sigma, "sum": sigma / n_events, "unity": 1.0}[event_norm]

    writer = LHEWriter(output)
    start = time.perf_counter()
    written = 0
    accepted_total = 0
    calls = 0
    expected_efficiency = max(float(result.unweighting_efficiency), 1e-4)
    overweight = 0.0
    factor_sum = 0.0
    pid_shares: dict[int, float] = {}
    max_weight = 0.0
    try:
        while written < n_events:
            # Enough points for the remaining events at the expected efficiency, bounded.
            wanted = int(1.1 * (n_events - written) / expected_efficiency) + 100
            points = min(batch_points, wanted)
            counts = rng.multinomial(points, probabilities)
            batch = sampler.sample(points=points, allocation=counts)
            calls += len(batch)
            sample_weight = np.divide(batch.weight, probabilities[batch.channel],
                                      out=np.zeros_like(batch.weight), where=probabilities[batch.channel] > 0)
            outcome = unweight(sample_weight, threshold, rng)
            kept = np.flatnonzero(outcome.accepted)
            accepted_total += kept.size
            kept = rng.permutation(kept)[: n_events - written]
            if kept.size == 0:
                continue
            factor = outcome.factor[kept]
            payload = {key: value[kept] for key, value in batch.payload.items()}
            weights = nominal * factor
            writer.write(builder.events(payload, weights))
            written += kept.size
            overweight += float((factor - 1.0).sum())
            factor_sum += float(factor.sum())
            max_weight = max(max_weight, float(weights.max()))
            for pid, f in zip(np.asarray(builder.process_ids)[payload["flavor_index"]], factor):
                pid_shares[int(pid)] = pid_shares.get(int(pid), 0.0) + float(f)
            if progress:
                progress(f"events {written}/{n_events}  efficiency {accepted_total / calls:.4f}")
        efficiency = accepted_total / calls
        extra = {
            "Generator": f"madnis-plugin {__version__}",
            "Unweighting efficiency": f"{efficiency:.6f}",
            "Overweight share": f"{overweight / factor_sum:.3e}",
            "Event normalisation": event_norm,
        }
        header = lhe_header(setup, sigma, error, written, extra)
        writer.finish(header, _init_data(setup, sigma, error, pid_shares, max_weight), __version__)
    except BaseException:
        writer.abort()
        writer.body_path.unlink(missing_ok=True)
        raise
    return {
        "events_written": written,
        "file": str(output),
        "cross_section_pb": sigma,
        "error_pb": error,
        "unweighting_efficiency": result.unweighting_efficiency,
        "generation_efficiency": efficiency,
        "overweight_fraction": overweight / factor_sum,
        "generation_calls": calls,
        "generation_wall_s": time.perf_counter() - start,
        "event_norm": event_norm,
    }
