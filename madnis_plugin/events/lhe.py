"""Les Houches event files (LHE 3.0) as MadGraph writes them, through pylhe's records.

:class:`LHEEventBuilder` turns accepted events (the integrand's payload rows)
into :class:`pylhe.LHEEvent` records: incoming partons (status -1), the
s-channel resonances of the event's channel whose mass lies within
``bwcutoff`` widths of the pole (status 2; Z, W, top, never a photon), and the
outgoing particles (status 1) with mothers, colour tags from the matrix
element's colour flow, momenta, masses and helicities. :class:`LHEWriter`
streams events to a temporary body file (memory flat in the number of
events) and, on :meth:`LHEWriter.finish`, writes the header with the cards,
the ``<init>`` block with the final cross section, and the events into
``path`` (``.lhe`` or ``.lhe.gz``, gzip without a timestamp) via a temporary
file renamed on success, so no partial file ever poses as complete.

Example:
    >>> from madnis_plugin.events.lhe import read_lhe_events
    >>> events = read_lhe_events("events.lhe.gz")      # doctest: +SKIP
"""

from __future__ import annotations

import gzip
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pylhe

from ..process import Diagram, Process

__all__ = ["LHE_FORMAT", "LHEInitData", "LHEEventBuilder", "LHEWriter", "read_lhe_events", "read_lhe_init"]

#: pylhe's LHE 3.0 format with MadGraph's precision for momenta and weights.
LHE_FORMAT = pylhe.LHEXMLFormat(
    eventinfo="{nparticles:3d} {pid:6d} {weight:+.10e} {scale:+.10e} {aqed:+.10e} {aqcd:+.10e}",
    particle=(
        "{id:9d} {status:2d} {mother1:4d} {mother2:4d} {color1:4d} {color2:4d} "
        "{px:+.10e} {py:+.10e} {pz:+.10e} {e:+.10e} {m:+.10e} {lifetime:.4e} {spin:.4e}"
    ),
)

#: Particles written as status-2 resonances when on shell (never the photon or the gluon).
RESONANCE_PDGS = frozenset({23, 24, 25, 6})

#: The LHE "unknown helicity" value.
UNKNOWN_HELICITY = 9.0


@dataclass(slots=True)
class LHEInitData:
    """What the ``<init>`` block carries.

    Attributes:
        beams: PDG ids of the two beams.
        energies: beam energies (GeV).
        pdf_group, pdf_set: LHAPDF group (0) and set ids per beam (-1/0 for none).
        processes: ``(process id, cross section pb, error pb, max weight)`` per LHE process id.
    """

    beams: tuple[int, int]
    energies: tuple[float, float]
    pdf_set: tuple[int, int]
    processes: list[tuple[int, float, float, float]]
    pdf_group: tuple[int, int] = (0, 0)

    def to_pylhe(self, generator_version: str) -> pylhe.LHEInit:
        info = pylhe.LHEInitInfo(
            beamA=self.beams[0], beamB=self.beams[1], energyA=self.energies[0], energyB=self.energies[1],
            PDFgroupA=self.pdf_group[0], PDFgroupB=self.pdf_group[1], PDFsetA=self.pdf_set[0],
            PDFsetB=self.pdf_set[1], weightingStrategy=-4, numProcesses=len(self.processes))
        procs = [pylhe.LHEProcInfo(xSection=xs, error=err, unitWeight=wmax, procId=pid)
                 for pid, xs, err, wmax in self.processes]
        generator = pylhe.LHEGenerator(name="madnis-plugin", version=generator_version, description="")
        return pylhe.LHEInit(initInfo=info, procInfo=procs, generators=[generator])


class LHEEventBuilder:
    """Build LHE event records for one process and run.

    Args:
        process: the process (subprocess PDG ids, LHE process ids, colour flows,
            helicity tables from its metadata).
        diagrams: per channel, the diagram whose s-channel resonances an event
            of that channel shows (None: no resonances).
        bwcutoff: keep a resonance when ``|m - M| < bwcutoff * width``.
        alpha_qed: the alpha_QED written per event (MadGraph writes 1/aEWM1).
    """

    def __init__(self, process: Process, diagrams: Sequence[Diagram | None], bwcutoff: float,
                 alpha_qed: float):
        self.process = process
        self.bwcutoff = float(bwcutoff)
        self.alpha_qed = float(alpha_qed)
        subprocesses = process.metadata.subprocesses
        self.pdgs = [s.pdg for s in subprocesses]
        self.process_ids = [s.mg_process_id for s in subprocesses]
        self.color_flows = [s.color_flows for s in subprocesses]
        self.helicities = _helicity_tables(process)
        card = process.param_card
        self.resonances: list[list[tuple[int, tuple[int, ...], int, float, float]]] = []
        for diagram in diagrams:
            self.resonances.append(_resonances(diagram, card) if diagram is not None else [])

    def events(self, payload: dict[str, np.ndarray], weights: np.ndarray) -> list[pylhe.LHEEvent]:
        """LHE records for payload rows with per-event weights ``(n,)``."""
        p = payload["momenta"]
        out = []
        n_in = self.process.n_incoming
        for i in range(weights.shape[0]):
            flavor = int(payload["flavor_index"][i])
            pdg = self.pdgs[flavor]
            flows = self.color_flows[flavor]
            flow = flows[int(payload["color_index"][i])] if flows else tuple((0, 0) for _ in pdg)
            table = self.helicities[flavor]
            helicity = table[int(payload["helicity_index"][i])] if table is not None else None
            momenta = p[i]
            # Events of a folded channel have their identical particles permuted
            # (row k holds leg permutation[k]): colours, helicities and the
            # resonances' legs follow the momenta.
            row_of = None
            if "permutation" in payload:
                perm = payload["permutation"][i]
                if np.any(perm != np.arange(perm.size)):
                    flow = tuple(flow[j] for j in perm)
                    helicity = None if helicity is None else tuple(helicity[j] for j in perm)
                    row_of = np.argsort(perm) + 1
            # Resonances: (pdg, legs, propagator id) on shell within bwcutoff.
            kept = []
            for res_pdg, legs, prop_id, mass, width in self.resonances[int(payload["channel"][i])]:
                if row_of is not None:
                    legs = tuple(sorted(int(row_of[leg - 1]) for leg in legs))
                q = momenta[[leg - 1 for leg in legs]].sum(axis=0)
                m = float(np.sqrt(max(q[0] ** 2 - q[1] ** 2 - q[2] ** 2 - q[3] ** 2, 0.0)))
                if abs(m - mass) < self.bwcutoff * width:
                    kept.append((res_pdg, legs, q, m))
            # Line numbers: incoming 1..n_in, then resonances, then outgoing.
            n_res = len(kept)
            res_line = {}
            for k, (_, legs, _, _) in enumerate(kept):
                res_line[legs] = n_in + 1 + k

            def mother_of(legs: tuple[int, ...]) -> int:
                # The smallest kept resonance strictly containing these legs.
                best, size = 0, 10**9
                for r_legs, line in res_line.items():
                    if set(legs) < set(r_legs) and len(r_legs) < size:
                        best, size = line, len(r_legs)
                return best

            particles = []
            for leg in range(n_in):
                c, a = flow[leg]
                particles.append(self._particle(pdg[leg], -1, 0, 0, c, a, momenta[leg],
                                                self.process.masses[leg], helicity, leg))
            for res_pdg, legs, q, m in kept:
                mother = mother_of(legs)
                c, a = _net_colour([flow[leg - 1] for leg in legs])
                particles.append(pylhe.LHEParticle(
                    id=res_pdg, status=2, mother1=mother or 1, mother2=mother or 2, color1=c, color2=a,
                    px=q[1], py=q[2], pz=q[3], e=q[0], m=m, lifetime=0.0, spin=UNKNOWN_HELICITY))
            for leg in range(n_in, len(pdg)):
                mother = mother_of((leg + 1,))
                c, a = flow[leg]
                particles.append(self._particle(pdg[leg], 1, mother or 1, mother or 2, c, a, momenta[leg],
                                                self.process.masses[leg], helicity, leg))
            # SCALUP as MadEvent's unwgt.f writes it: sqrt(max(q2fact(1), q2fact(2))),
            # the larger factorisation scale (the scale the PDFs were evaluated at).
            info = pylhe.LHEEventInfo(
                nparticles=len(pdg) + n_res, pid=self.process_ids[flavor], weight=float(weights[i]),
                scale=float(max(payload["mu_f1"][i], payload["mu_f2"][i])), aqed=self.alpha_qed,
                aqcd=float(payload["alpha_s"][i]))
            out.append(pylhe.LHEEvent(eventinfo=info, particles=particles))
        return out

    @staticmethod
    def _particle(pdg: int, status: int, m1: int, m2: int, color: int, anticolor: int, p: np.ndarray,
                  mass: float, helicity: Sequence[int] | None, leg: int) -> pylhe.LHEParticle:
        spin = float(helicity[leg]) if helicity is not None else UNKNOWN_HELICITY
        return pylhe.LHEParticle(id=int(pdg), status=status, mother1=m1, mother2=m2, color1=int(color),
                                 color2=int(anticolor), px=float(p[1]), py=float(p[2]), pz=float(p[3]),
                                 e=float(p[0]), m=float(mass), lifetime=0.0, spin=spin)


def _helicity_tables(process: Process) -> list[list[tuple[int, ...]] | None]:
    """Per subprocess, the per-leg helicities of each HELICITY_INDEX (None if unknown)."""
    raw = process.metadata.raw
    tables = []
    for group in raw.get("groups", []):
        for sub in group["subprocesses"]:
            table = sub.get("helicities", raw.get("helicities"))
            tables.append((sub["flavor_index"], [tuple(h) for h in table] if table else None))
    tables.sort(key=lambda t: t[0])
    return [t for _, t in tables]


def _resonances(diagram: Diagram, card) -> list[tuple[int, tuple[int, ...], int, float, float]]:
    """The massive s-channel propagators of a diagram that may be written as resonances.

    Returns ``(pdg, external legs below it, propagator id, mass, width)``
    outermost first, so mothers come before daughters.
    """
    legs_of: dict[int, tuple[int, ...]] = {}
    found = []
    for prop in diagram.propagators:
        legs: list[int] = []
        for d in prop.daughters:
            legs.extend((d,) if d > 0 else legs_of.get(d, ()))
        legs_of[prop.id] = tuple(sorted(legs))
        if prop.type == "s" and abs(prop.pdg) in RESONANCE_PDGS:
            width = card.width(abs(prop.pdg))
            if width > 0:
                found.append((prop.pdg, legs_of[prop.id], prop.id, card.mass(abs(prop.pdg)), width))
    found.sort(key=lambda r: -len(r[1]))
    return found


def _net_colour(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """The colour line a resonance carries: its daughters' unmatched colour and anticolour."""
    colours = [c for c, _ in pairs if c]
    anticolours = []
    for _, a in pairs:
        if not a:
            continue
        if a in colours:
            colours.remove(a)
        else:
            anticolours.append(a)
    return (colours[0] if colours else 0, anticolours[0] if anticolours else 0)


class LHEWriter:
    """Stream events into ``path`` via a temporary body file; finish() assembles the file.

    Args:
        path: ``.lhe`` or ``.lhe.gz`` output.
        body_path: where the events go while running (default ``path`` + ``.events.part``);
            kept for ``--resume`` until :meth:`finish`.
        resume_offset: continue an existing body file, cut back to this committed
            byte offset (whatever a killed run wrote after its last commit is dropped).
    """

    def __init__(self, path: str | Path, body_path: str | Path | None = None, resume_offset: int | None = None):
        self.path = Path(path)
        self.body_path = Path(body_path) if body_path else self.path.with_name(self.path.name + ".events.part")
        if resume_offset is None:
            self._body = open(self.body_path, "wb")
        else:
            self._body = open(self.body_path, "r+b")
            self._body.truncate(int(resume_offset))
            self._body.seek(int(resume_offset))
        self.count = 0

    @property
    def offset(self) -> int:
        """Bytes of the body file written so far."""
        return self._body.tell()

    def write(self, events: Iterable[pylhe.LHEEvent]) -> None:
        """Append event records."""
        self.write_text([event.tolhe(lheformat=LHE_FORMAT) for event in events])

    def write_text(self, events: Sequence[str]) -> None:
        """Append events already formatted as ``<event>`` blocks."""
        if events:
            self._body.write(("\n".join(events) + "\n").encode())
            self.count += len(events)

    def flush(self) -> None:
        """Make the body durable on disk (before its offset is committed)."""
        self._body.flush()
        os.fsync(self._body.fileno())

    def abort(self) -> None:
        """Close without producing ``path``; the body file stays for a resume."""
        self._body.close()

    def finish(self, header: str, init: LHEInitData, generator_version: str) -> Path:
        """Write header, init and events to ``path`` (atomically) and remove the body file."""
        self._body.close()
        gz = self.path.suffix == ".gz"
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        with open(tmp, "wb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if gz else raw
            try:
                stream.write(b'<LesHouchesEvents version="3.0">\n')
                stream.write(header.encode())
                stream.write((init.to_pylhe(generator_version).tolhe(lheformat=LHE_FORMAT) + "\n").encode())
                with open(self.body_path, "rb") as body:
                    shutil.copyfileobj(body, stream, 1 << 20)
                stream.write(b"</LesHouchesEvents>\n")
            finally:
                if gz:
                    stream.close()
        os.replace(tmp, self.path)
        self.body_path.unlink(missing_ok=True)
        return self.path


def read_lhe_init(path: str | Path) -> pylhe.LHEInit:
    """The ``<init>`` block of an LHE file, read with pylhe."""
    return pylhe.LHEFile.fromfile(str(path)).init


def read_lhe_events(path: str | Path) -> list[pylhe.LHEEvent]:
    """All events of an LHE file, read with pylhe."""
    return list(pylhe.LHEFile.fromfile(str(path)).events)
