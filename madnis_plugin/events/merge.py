"""Merge shard LHE files into one, with the normalisation of the combined sample.

Shards (``generate --shard K/N``, or the Dask executor's tasks) are
independent streams; each file is normalised for itself under the run card's
``event_norm``. The merge

* combines the cross sections: shards of one run share their integration and
  agree exactly, in which case that value is kept; otherwise the
  inverse-variance weighted mean;
* rescales every event weight to the merged sample: an event keeps its
  overweight factor ``w / w_nominal(shard)`` and gets ``factor * w_nominal(merged)``
  (``average``: sigma; ``sum``: sigma / N_total; ``unity``: 1);
* interleaves the shards at random (probability proportional to the events
  left in each), so any leading part of the merged file is still a fair
  sample; streams line by line, so memory stays flat;
* recomputes the per-process cross sections and maximum weight of ``<init>``.

Command line: ``madnis-plugin merge SHARD... -o OUT``.

Example:
    >>> from madnis_plugin.events.merge import merge_lhe
    >>> merge_lhe(["a.lhe.gz", "b.lhe.gz"], "all.lhe.gz")["events_written"]   # doctest: +SKIP
    2000
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Sequence

import numpy as np
import pylhe

from .. import __version__
from .lhe import LHEInitData, LHEWriter

__all__ = ["ShardInfo", "read_shard_info", "merge_lhe", "register"]

_INFO_BLOCK = re.compile(r"<MGGenerationInfo>\n(.*?)\n</MGGenerationInfo>", re.S)


@dataclass(slots=True)
class ShardInfo:
    """What a merge needs from one LHE file's header and ``<init>``.

    Attributes:
        path: the file.
        header: the ``<header>...</header>`` text.
        init: the first line of the ``<init>`` block (beams, PDFs, weighting strategy).
        n_events, cross_section, error: from ``<MGGenerationInfo>``.
        event_norm: ``average``, ``sum`` or ``unity``.
        seed: the run's seed (None if not written).
    """

    path: Path
    header: str
    init: pylhe.LHEInitInfo
    n_events: int
    cross_section: float
    error: float
    event_norm: str
    seed: int | None


def _open_text(path: Path) -> IO[str]:
    with open(path, "rb") as probe:
        magic = probe.read(2)
    return gzip.open(path, "rt") if magic == b"\x1f\x8b" else open(path, "r")


def _info_value(info: str, label: str) -> str | None:
    match = re.search(rf"^#\s*{re.escape(label)}\s*:\s*(.+?)\s*$", info, re.M)
    return match.group(1) if match else None


def read_shard_info(path: str | Path) -> ShardInfo:
    """Header facts of an LHE file written by ``generate`` (raises ``ValueError`` otherwise)."""
    path = Path(path)
    head = []
    with _open_text(path) as handle:
        for line in handle:
            head.append(line)
            if line.strip() == "</init>":
                break
        else:
            raise ValueError(f"{path}: no <init> block")
    text = "".join(head)
    header = text[text.index("<header>"): text.index("</header>") + len("</header>")] + "\n"
    init_lines = text[text.index("<init>") + len("<init>"): text.index("</init>")].strip().splitlines()
    init = pylhe.LHEInitInfo.fromstring(init_lines[0])
    match = _INFO_BLOCK.search(header)
    if not match:
        raise ValueError(f"{path}: no <MGGenerationInfo> block (not written by madnis-plugin generate)")
    info = match.group(1)
    seed = _info_value(info, "Seed")
    return ShardInfo(
        path=path, header=header, init=init, n_events=int(_info_value(info, "Number of Events")),
        cross_section=float(_info_value(info, "Integrated weight (pb)")),
        error=float(_info_value(info, "Integration error (pb)")),
        event_norm=(_info_value(info, "Event normalisation") or "average").lower(),
        seed=int(seed) if seed is not None else None)


def _events(path: Path) -> Iterator[list[str]]:
    """The ``<event>`` blocks of a file, each as its list of lines (newline-free)."""
    with _open_text(path) as handle:
        block: list[str] | None = None
        for line in handle:
            stripped = line.rstrip("\n")
            if stripped.startswith("<event"):
                block = [stripped]
            elif block is not None:
                block.append(stripped)
                if stripped.strip() == "</event>":
                    yield block
                    block = None


def _combined_cross_section(shards: Sequence[ShardInfo]) -> tuple[float, float]:
    sigmas = np.array([s.cross_section for s in shards])
    errors = np.array([s.error for s in shards])
    if np.all(sigmas == sigmas[0]) and np.all(errors == errors[0]):
        return float(sigmas[0]), float(errors[0])  # one integration shared by all shards
    inverse = 1.0 / np.maximum(errors, 1e-300) ** 2
    return float((sigmas * inverse).sum() / inverse.sum()), float(1.0 / np.sqrt(inverse.sum()))


def _nominal(norm: str, sigma: float, n: int) -> float:
    from .generation import nominal_weight

    return nominal_weight(norm, sigma, n)


def merge_lhe(inputs: Sequence[str | Path], output: str | Path, seed: int | None = None) -> dict[str, Any]:
    """Merge shard files ``inputs`` into ``output`` (``.lhe`` or ``.lhe.gz``).

    Args:
        inputs: shard files of one run (same process, cards and ``event_norm``).
        output: the merged file; written via a temporary file renamed on success.
        seed: seed of the random interleaving (default: the shards' run seed).

    Returns:
        ``events_written, file, cross_section_pb, error_pb, event_norm, shards``.
    """
    from ..api import UsageError
    from .generation import check_output_path, generation_info

    if not inputs:
        raise UsageError("merge needs at least one shard file")
    output = check_output_path(output)
    shards = []
    for path in inputs:
        if not Path(path).is_file():
            raise UsageError(f"shard file not found: {path}")
        try:
            shards.append(read_shard_info(path))
        except (ValueError, KeyError) as exc:
            raise UsageError(f"{path}: not a madnis-plugin event file ({exc})") from None
    first = shards[0]
    norms = {s.event_norm for s in shards}
    if len(norms) != 1:
        raise UsageError(f"shards have different event_norm: {sorted(norms)}")
    beams = {(s.init.beamA, s.init.beamB, s.init.energyA, s.init.energyB)
             for s in shards}
    if len(beams) != 1:
        raise UsageError("shards have different beams")
    norm = first.event_norm
    sigma, error = _combined_cross_section(shards)
    total = sum(s.n_events for s in shards)
    nominal = _nominal(norm, sigma, total)
    scale = [nominal / _nominal(norm, s.cross_section, s.n_events) for s in shards]
    rng = np.random.default_rng([first.seed if seed is None else seed, len(shards), 0x6D72])

    writer = LHEWriter(output)
    remaining = np.array([s.n_events for s in shards], dtype=np.int64)
    streams = [_events(s.path) for s in shards]
    process_weight: dict[int, float] = {}
    max_weight = 0.0
    written = 0
    try:
        chunk: list[str] = []
        while remaining.sum() > 0:
            k = int(rng.choice(len(shards), p=remaining / remaining.sum()))
            try:
                block = next(streams[k])
            except StopIteration:
                raise UsageError(f"{shards[k].path} holds fewer events than its header says") from None
            remaining[k] -= 1
            fields = block[1].split()
            weight = float(fields[2]) * scale[k]
            fields[2] = f"{weight:+.10e}"
            # Keep MadGraph's column layout of the event line.
            block[1] = f"{int(fields[0]):3d} {int(fields[1]):6d} " + " ".join(fields[2:6]) + (
                (" " + " ".join(fields[6:])) if len(fields) > 6 else "")
            pid = int(fields[1])
            process_weight[pid] = process_weight.get(pid, 0.0) + weight
            max_weight = max(max_weight, abs(weight))
            chunk.append("\n".join(block))
            written += 1
            if len(chunk) >= 1000:
                writer.write_text(chunk)
                chunk = []
        writer.write_text(chunk)
        weight_sum = sum(process_weight.values()) or 1.0
        processes = [(pid, sigma * w / weight_sum, error * w / weight_sum, max_weight)
                     for pid, w in sorted(process_weight.items())]
        info = first.init
        init = LHEInitData(beams=(info.beamA, info.beamB), energies=(info.energyA, info.energyB),
                           pdf_set=(info.PDFsetA, info.PDFsetB), processes=processes,
                           pdf_group=(info.PDFgroupA, info.PDFgroupB))
        extra = {"Generator": f"madnis-plugin {__version__}",
                 "Seed": first.seed if first.seed is not None else "",
                 "Merged shards": len(shards),
                 "Event normalisation": norm}
        header = _INFO_BLOCK.sub(lambda _: f"<MGGenerationInfo>\n{generation_info(written, sigma, error, extra)}"
                                           "\n</MGGenerationInfo>", first.header, count=1)
        writer.finish(header, init, __version__)
    except BaseException:
        writer.abort()
        writer.body_path.unlink(missing_ok=True)
        raise
    return {"events_written": written, "file": str(output), "cross_section_pb": sigma, "error_pb": error,
            "event_norm": norm, "shards": len(shards)}


def _handle(args: argparse.Namespace) -> int:
    result = merge_lhe(args.shards, args.output, seed=args.seed)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"merged {result['shards']} shards: {result['events_written']} events to {result['file']}")
        print(f"cross section  {result['cross_section_pb']:.6e} +- {result['error_pb']:.2e} pb")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``merge`` subcommand to the ``madnis-plugin`` command."""
    parser = subparsers.add_parser("merge", help="merge shard event files into one, renormalised")
    parser.add_argument("shards", nargs="+", help="shard files (.lhe or .lhe.gz) of one run")
    parser.add_argument("-o", "--output", required=True, help="merged file (.lhe or .lhe.gz)")
    parser.add_argument("--seed", type=int, help="seed of the random interleaving (default: the run's)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(handler=_handle)
