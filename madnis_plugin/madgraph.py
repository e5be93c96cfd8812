"""MadGraph5_aMC@NLO output folders as UMAMI matrix-element libraries.

Three layouts are recognised:

* ``standalone``: ``output standalone DIR``; each ``SubProcesses/P*/matrix.f``
  exports ``SMATRIX(P, ANS)``. No channel topologies: the metadata has empty
  diagram lists and ``"has_topologies": false``, and integration falls back to
  a single (flat) channel.
* ``madevent``: ``output madevent DIR`` (folders with ``configs.inc``); the
  per-diagram weights ``AMP2`` of ``COMMON/TO_AMPS/`` become UMAMI's
  DIAGRAM_AMP2 and ``configs.inc``/``props.inc`` give the channel topologies.
* ``prefix``: ``output standalone DIR --prefix=int``; ``SubProcesses/all_matrix.f``
  dispatches ``SMATRIXHEL(PDGS, PROCID, NPDG, P, ALPHAS, SCALE2, NHEL, ANS)``.

The Fortran of every ``P*`` folder, the model (``Source/MODEL``), the helicity
routines (``Source/DHELAS``) and ``csrc/mg5_umami_shim.c`` are compiled with
gfortran into ONE shared library in the per-user cache, keyed by a hash of all
sources. Several ``P*`` folders export the same symbol names (``SMATRIX``,
``MATRIX``, ...); their objects are renamed (``objcopy --redefine-sym``) so that
one library holds them all, and FLAVOR_INDEX selects the subprocess.

The Fortran keeps global state: COMMON blocks and a helicity filter fixed by
the first calls of each subprocess (helicities that vanish there are skipped
forever). Keep one process instance per worker process; the loader warms the
filter up with physical RAMBO points before anything else reaches it.

Example:
    >>> from madnis_plugin.madgraph import load_madgraph_folder
    >>> library, metadata = load_madgraph_folder("tests/fixtures/mg5_standalone_ee_mumu")  # doctest: +SKIP
    >>> [s["pdg"] for g in metadata["groups"] for s in g["subprocesses"]]                 # doctest: +SKIP
    [[-11, 11, -13, 13], [2, -2, 1, -1], [4, -4, 3, -3]]
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import resources
from .cards import ParamCard, read_param_card
from .compiler import CompileError, build_into_cache, c_compiler, fortran_compiler

__all__ = [
    "MadGraphError",
    "MadGraphOutput",
    "SubprocessFolder",
    "detect_layout",
    "parse_configs",
    "read_output",
    "build_library",
    "load_madgraph_folder",
    "load_madgraph_process",
    "particle_pdg",
]

#: Fortran flags for MadGraph's fixed-form sources (as its make_opts uses).
FORTRAN_FLAGS = ("-O2", "-fPIC", "-ffixed-line-length-132", "-w")

#: Calls per subprocess used to settle the Fortran helicity filter.
WARMUP_POINTS = 32


class MadGraphError(ValueError):
    """The folder is not MadGraph output this adapter understands."""


# MadGraph `sm` particle names (as in matrix.f "Process:" lines) -> PDG id.
_SM_NAMES: dict[str, int] = {
    "d": 1, "u": 2, "s": 3, "c": 4, "b": 5, "t": 6,
    "e-": 11, "ve": 12, "mu-": 13, "vm": 14, "ta-": 15, "vt": 16,
    "g": 21, "a": 22, "z": 23, "w+": 24, "h": 25,
}


def particle_pdg(name: str) -> int:
    """PDG id of a MadGraph ``sm`` particle name (``"e+"`` -> -11, ``"u~"`` -> -2)."""
    key = name.lower()
    if key in _SM_NAMES:
        return _SM_NAMES[key]
    if key.endswith("~") and key[:-1] in _SM_NAMES:
        return -_SM_NAMES[key[:-1]]
    conjugate = {"e+": "e-", "mu+": "mu-", "ta+": "ta-", "w-": "w+"}.get(key)
    if conjugate:
        return -_SM_NAMES[conjugate]
    raise MadGraphError(f"unknown particle name '{name}' (only the sm model's names are known)")


@dataclass(slots=True)
class SubprocessFolder:
    """One ``SubProcesses/P*`` folder.

    Attributes:
        path: the folder.
        matrix_sources: its ``matrix*.f`` files.
        smatrix_symbol: gfortran symbol of ``SMATRIX`` (standalone, madevent).
        prefix: the ``--prefix=int`` routine prefix (``"M0_"``), or ``""``.
        processes: ``(pdg tuple, mg_process_id)`` pairs, in FLAVOR_INDEX order.
        color_flows: ``[colour, anticolour]`` per leg, per flow (madevent), else ``[]``.
        diagrams: architecture.md diagrams (madevent), else ``[]``.
        n_diagrams: AMP2 slots this folder fills (madevent), else 0.
        process_lines: the ``Process:`` lines of the matrix file's header.
    """

    path: Path
    matrix_sources: list[Path]
    smatrix_symbol: str = "smatrix_"
    prefix: str = ""
    processes: list[tuple[tuple[int, ...], int]] = field(default_factory=list)
    color_flows: list[list[list[int]]] = field(default_factory=list)
    diagrams: list[dict[str, Any]] = field(default_factory=list)
    n_diagrams: int = 0
    process_lines: list[str] = field(default_factory=list)


@dataclass(slots=True)
class MadGraphOutput:
    """What :func:`read_output` learns from an output folder.

    Attributes:
        root: the output folder.
        layout: ``"standalone"``, ``"madevent"`` or ``"prefix"``.
        n_external, n_incoming: leg counts (equal in every ``P*`` folder).
        subfolders: the ``P*`` folders.
        model_sources: Fortran of ``Source/MODEL`` and ``Source/DHELAS``.
        extra_sources: further Fortran (``all_matrix.f`` for ``prefix``).
        include_dirs: folders searched by ``INCLUDE``.
    """

    root: Path
    layout: str
    n_external: int
    n_incoming: int
    subfolders: list[SubprocessFolder]
    model_sources: list[Path]
    extra_sources: list[Path]
    include_dirs: list[Path]


def detect_layout(folder: str | os.PathLike) -> str:
    """``"prefix"``, ``"madevent"`` or ``"standalone"`` for a MadGraph output folder."""
    sub = Path(folder) / "SubProcesses"
    if not sub.is_dir():
        raise MadGraphError(f"{folder}: no SubProcesses/ folder (not MadGraph output)")
    all_matrix = sub / "all_matrix.f"
    if all_matrix.is_file() and re.search(r"SUBROUTINE\s+SMATRIXHEL\s*\(\s*PDGS", _read(all_matrix), re.I):
        return "prefix"
    if any((p / "configs.inc").is_file() for p in _p_folders(sub)):
        return "madevent"
    return "standalone"


def _p_folders(sub: Path) -> list[Path]:
    def key(p: Path) -> tuple[int, str]:
        m = re.match(r"P(\d+)", p.name)
        return (int(m.group(1)) if m else 0, p.name)

    return sorted((p for p in sub.glob("P*") if p.is_dir()), key=key)


def _read(path: Path) -> str:
    return path.read_text(errors="replace")


def _fortran_statements(text: str) -> str:
    """Fixed-form Fortran with comments dropped and continuation lines joined."""
    out: list[str] = []
    for line in text.splitlines():
        if not line or line[0] in "cC*!":
            continue
        if len(line) > 5 and line[5] not in " 0" and out:
            out[-1] += line[6:].strip()
        else:
            out.append(line.split("!")[0].rstrip())
    return "\n".join(out)


def _int_parameter(text: str, name: str) -> int | None:
    m = re.search(rf"PARAMETER\s*\(\s*{name}\s*=\s*(\d+)", text, re.I)
    return int(m.group(1)) if m else None


def _int_list(text: str) -> list[int]:
    return [int(x) for x in re.split(r"[\s,]+", text.strip()) if x]


def _process_lines(matrix_text: str) -> list[tuple[tuple[int, ...], int, str]]:
    """``(pdg tuple, process id, text)`` of each ``C Process:`` comment in the header."""
    found: list[tuple[tuple[int, ...], int, str]] = []
    seen: set[str] = set()
    for m in re.finditer(r"^[cC*]\s*Process:\s*(.+?)\s*$", matrix_text, re.M):
        line = m.group(1)
        if line in seen:
            continue
        seen.add(line)
        proc_id = re.search(r"@\s*(\d+)", line)
        body = re.split(r"\s(?:@|WEIGHTED|QED|QCD|/|\$)", line, maxsplit=1)[0]
        body = re.sub(r"\b\w+\s*[<>=]+\s*\d+", "", body)
        if ">" not in body:
            continue
        initial, final = body.split(">", 1)
        pdgs = tuple(particle_pdg(n) for n in initial.split() + final.split())
        found.append((pdgs, int(proc_id.group(1)) if proc_id else 1, line))
    return found


def _smatrix_symbol(matrix_text: str, path: Path) -> str:
    m = re.search(r"SUBROUTINE\s+(SMATRIX\d*)\s*\(\s*P\s*,\s*ANS\s*\)", matrix_text, re.I)
    if not m:
        raise MadGraphError(
            f"{path}: no SUBROUTINE SMATRIX(P, ANS); this adapter supports standalone output and "
            "madevent output whose SMATRIX takes (P, ANS)")
    return m.group(1).lower() + "_"


def _leshouche(text: str, n_external: int) -> tuple[list[tuple[int, ...]], list[list[list[int]]]]:
    """IDUP tuples and colour flows (``[[c, a] per leg] per flow``) of a leshouche.inc."""
    statements = _fortran_statements(text)
    idup: dict[int, tuple[int, ...]] = {}
    for m in re.finditer(r"DATA\s*\(\s*IDUP\s*\(\s*I\s*,\s*(\d+)[^)]*\)[^/]*/([^/]*)/", statements, re.I):
        idup.setdefault(int(m.group(1)), tuple(_int_list(m.group(2))))
    colours: dict[tuple[int, int], list[int]] = {}
    for m in re.finditer(r"DATA\s*\(\s*ICOLUP\s*\(\s*(\d)\s*,\s*I\s*,\s*(\d+)[^)]*\)[^/]*/([^/]*)/",
                         statements, re.I):
        colours.setdefault((int(m.group(2)), int(m.group(1))), _int_list(m.group(3)))
    flows = []
    for flow in sorted({f for f, _ in colours}):
        c, a = colours.get((flow, 1), [0] * n_external), colours.get((flow, 2), [0] * n_external)
        flows.append([[int(c[i]), int(a[i])] for i in range(n_external)])
    return [idup[k] for k in sorted(idup)], flows


def parse_configs(configs_text: str, props_text: str = "") -> list[dict[str, Any]]:
    r"""Diagrams in the architecture.md format from configs.inc and props.inc texts.

    Both spellings MadGraph versions use are read: ``DATA (SPROP(I,-1,1),I=1,1)/22/``
    and ``DATA SPROP(-1,1)/22/`` (likewise ``TPRID``).

    Example:
        >>> parse_configs("      DATA MAPCONFIG(1)/1/\n"
        ...               "      DATA (IFOREST(I,-1,1),I=1,2)/4,3/\n"
        ...               "      DATA (SPROP(I,-1,1),I=1,1)/23/\n")
        [{'number': 1, 'four_point': False, 'propagators': [{'id': -1, 'type': 's', 'daughters': [4, 3], 'pdg': 23}]}]
    """
    st = _fortran_statements(configs_text)
    mapconfig: dict[int, int] = {}
    for m in re.finditer(r"DATA\s+MAPCONFIG\s*\(\s*(\d+)\s*\)\s*/\s*(\d+)\s*/", st, re.I):
        if int(m.group(1)) > 0:
            mapconfig[int(m.group(1))] = int(m.group(2))
    forest: dict[int, dict[int, list[int]]] = {}
    for m in re.finditer(r"DATA\s*\(\s*IFOREST\s*\(\s*I\s*,\s*(-\d+)\s*,\s*(\d+)\s*\)[^/]*/([^/]*)/", st, re.I):
        forest.setdefault(int(m.group(2)), {})[int(m.group(1))] = _int_list(m.group(3))

    def table(name: str) -> dict[tuple[int, int], int]:
        out: dict[tuple[int, int], int] = {}
        pattern = (rf"DATA\s*(?:\(\s*{name}\s*\(\s*I\s*,\s*(-\d+)\s*,\s*(\d+)\s*\)[^/]*"
                   rf"|{name}\s*\(\s*(-\d+)\s*,\s*(\d+)\s*\)\s*)/([^/]*)/")
        for m in re.finditer(pattern, st, re.I):
            k = int(m.group(1) or m.group(3))
            config = int(m.group(2) or m.group(4))
            out[(config, k)] = _int_list(m.group(5))[0]
        return out

    sprop, tprid = table("SPROP"), table("TPRID")
    props: dict[tuple[int, int], dict[str, str]] = {}
    for m in re.finditer(r"P(MASS|WIDTH)\s*\(\s*(-\d+)\s*,\s*(\d+)\s*\)\s*=\s*([\w.+-]+)", props_text, re.I):
        props.setdefault((int(m.group(3)), int(m.group(2))), {})[m.group(1).lower()] = m.group(4)
    diagrams = []
    for config in sorted(forest):
        propagators = []
        for k in sorted(forest[config], reverse=True):
            s_pdg = sprop.get((config, k), 0)
            t_pdg = tprid.get((config, k), 0)
            # Every s-channel line is a particle (SPROP != 0); the t-channel
            # chain has SPROP 0, its last entry (joining leg 2) TPRID 0 too.
            kind = "s" if s_pdg != 0 else "t"
            entry: dict[str, Any] = {"id": k, "type": kind, "daughters": forest[config][k],
                                     "pdg": s_pdg if kind == "s" else t_pdg}
            names = props.get((config, k))
            if names:
                entry["mass_parameter"] = names.get("mass", "ZERO")
                entry["width_parameter"] = names.get("width", "ZERO")
            propagators.append(entry)
        diagrams.append({"number": mapconfig.get(config, config), "four_point": False,
                         "propagators": propagators})
    return diagrams


def read_output(folder: str | os.PathLike) -> MadGraphOutput:
    """Inspect a MadGraph output folder: layout, subprocesses, diagrams, sources."""
    root = Path(folder).resolve()
    layout = detect_layout(root)
    sub = root / "SubProcesses"
    folders = _p_folders(sub)
    if not folders:
        raise MadGraphError(f"{root}: SubProcesses/ has no P* folders")
    n_external = n_incoming = None
    subfolders: list[SubprocessFolder] = []
    for p in folders:
        nexternal = p / "nexternal.inc"
        if not nexternal.is_file():
            raise MadGraphError(f"{p}: no nexternal.inc")
        text = _read(nexternal)
        ne, ni = _int_parameter(text, "NEXTERNAL"), _int_parameter(text, "NINCOMING")
        if ne is None or ni is None:
            raise MadGraphError(f"{nexternal}: NEXTERNAL/NINCOMING not found")
        if n_external is not None and (ne, ni) != (n_external, n_incoming):
            raise MadGraphError(f"{p}: {ni} -> {ne - ni} differs from the other P* folders")
        n_external, n_incoming = ne, ni
        sources = sorted(p.glob("matrix*.f"))
        if not sources:
            raise MadGraphError(f"{p}: no matrix*.f")
        if len(sources) > 1 and layout == "madevent":
            raise MadGraphError(
                f"{p}: grouped subprocesses ({len(sources)} matrix files) are not supported; "
                "generate with `set group_subprocesses False`")
        matrix_text = _read(sources[0])
        entry = SubprocessFolder(path=p, matrix_sources=sources)
        if layout == "prefix":
            m = re.search(r"SUBROUTINE\s+(\w+?_)SMATRIXHEL\s*\(", matrix_text, re.I)
            if not m:
                raise MadGraphError(f"{sources[0]}: no <prefix>SMATRIXHEL routine")
            entry.prefix = m.group(1).upper()
        else:
            entry.smatrix_symbol = _smatrix_symbol(matrix_text, sources[0])
            lines = _process_lines(matrix_text)
            entry.processes = [(pdgs, pid) for pdgs, pid, _ in lines]
            entry.process_lines = [text for _, _, text in lines]
        if layout == "madevent":
            leshouche = p / "leshouche.inc"
            if leshouche.is_file():
                idups, entry.color_flows = _leshouche(_read(leshouche), ne)
                if idups:
                    ids = [pid for _, pid in entry.processes] or [1]
                    entry.processes = [(t, ids[min(i, len(ids) - 1)]) for i, t in enumerate(idups)]
            props = p / "props.inc"
            entry.diagrams = parse_configs(_read(p / "configs.inc"), _read(props) if props.is_file() else "")
            maxamps = _read(p / "maxamps.inc") if (p / "maxamps.inc").is_file() else ""
            entry.n_diagrams = _int_parameter(maxamps, "MAXAMPS") or max(
                (d["number"] for d in entry.diagrams), default=0)
            # MadEvent writes no channel for diagrams with four-point vertices;
            # their AMP2 slots exist (and stay zero), so list them as such.
            with_channel = {d["number"] for d in entry.diagrams}
            entry.diagrams += [{"number": n, "four_point": True, "propagators": []}
                               for n in range(1, entry.n_diagrams + 1) if n not in with_channel]
            entry.diagrams.sort(key=lambda d: d["number"])
        if layout != "prefix" and not entry.processes:
            raise MadGraphError(f"{sources[0]}: no 'Process:' line and no leshouche.inc to read the PDG ids from")
        for pdgs, _ in entry.processes:
            if len(pdgs) != ne:
                raise MadGraphError(f"{p}: process {pdgs} does not have NEXTERNAL={ne} particles")
        subfolders.append(entry)

    extra: list[Path] = []
    if layout == "prefix":
        all_matrix = sub / "all_matrix.f"
        extra.append(all_matrix)
        by_prefix = {f.prefix: f for f in subfolders}
        for pdgs, prefix, pid in _prefix_table(_read(all_matrix)):
            if prefix not in by_prefix:
                raise MadGraphError(f"{all_matrix}: {prefix} names no P* folder")
            by_prefix[prefix].processes.append((pdgs, pid))
        subfolders = [f for f in subfolders if f.processes]
    model_dirs = [root / "Source" / "MODEL", root / "Source" / "DHELAS"]
    # Test programs (Source/MODEL/testprog.f) are no part of the library.
    model_sources = [s for d in model_dirs for s in sorted(d.glob("*.f"))
                     if not re.search(r"^\s+PROGRAM\s+\w+", _read(s), re.I | re.M)]
    if not model_sources:
        raise MadGraphError(f"{root}: no Fortran in Source/MODEL and Source/DHELAS")
    include_dirs = [root / "Source" / "MODEL", root / "Source", sub]
    return MadGraphOutput(root, layout, n_external, n_incoming, subfolders, model_sources, extra,
                          [d for d in include_dirs if d.is_dir()])


def _prefix_table(all_matrix_text: str) -> list[tuple[tuple[int, ...], str, int]]:
    """``(pdg order, routine prefix, process id)`` from the ``C PY ...`` lines of all_matrix.f."""
    comments = " ".join(line[1:].strip() for line in all_matrix_text.splitlines() if line[:1] in "cC")
    table = []
    pattern = r"PY\s*\(\(.*?\)\s*,\s*\(.*?\)\)\s*:\s*\(([-\d,\s]+)\)\s*#\s*(\w+?_)\s*(\d+)"
    for m in re.finditer(pattern, comments):
        table.append((tuple(_int_list(m.group(1))), m.group(2).upper(), int(m.group(3))))
    if not table:
        raise MadGraphError("all_matrix.f: no 'C PY ((...), (...)) : (...) # M<n>_ <id>' lines")
    return table


def _metadata(output: MadGraphOutput) -> dict[str, Any]:
    flavor = 0
    groups = []
    for f in output.subfolders:
        subprocesses = []
        for pdgs, pid in f.processes:
            subprocesses.append({"flavor_index": flavor, "pdg": list(pdgs), "mg_process_id": pid,
                                 "color_flows": f.color_flows})
            flavor += 1
        groups.append({"subprocesses": subprocesses, "diagrams": f.diagrams, "folder": f.path.name})
    first = output.subfolders[0]
    mg5_process = first.process_lines[0] if first.process_lines else " ".join(map(str, first.processes[0][0]))
    leptons = all(abs(p) in (11, 13, 15, 22) for f in output.subfolders for pdgs, _ in f.processes
                  for p in pdgs[: output.n_incoming])
    has_topologies = output.layout == "madevent"
    return {
        "name": output.root.name,
        "description": f"MadGraph5_aMC@NLO {output.layout} output {output.root}",
        "mg5_process": mg5_process,
        "sources": [],
        "collider": "lepton" if leptons else "hadron",
        "n_incoming": output.n_incoming,
        "n_external": output.n_external,
        "groups": groups,
        "has_topologies": has_topologies,
        "madgraph": {"folder": str(output.root), "layout": output.layout},
    }


def _hash_files(paths: Sequence[Path], extra: Sequence[bytes]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        data = path.name.encode() + b"\0" + path.read_bytes()
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    for item in extra:
        digest.update(len(item).to_bytes(8, "little"))
        digest.update(item)
    return digest.hexdigest()[:20]


def _config_header(output: MadGraphOutput, masses: Sequence[float], fingerprint: str,
                   symbols: list[list[str]], default_card: Path) -> str:
    nflavors = sum(len(f.processes) for f in output.subfolders)
    lines = [
        "/* Generated by madnis_plugin.madgraph for " + str(output.root).replace("*/", "") + " */",
        f"#define MG5_VARIANT_{output.layout.upper()} 1",
        f"#define MG5_NEXTERNAL {output.n_external}",
        f"#define MG5_NFLAVORS {nflavors}",
        f"#define MG5_NDIAGRAMS {max((f.n_diagrams for f in output.subfolders), default=0)}",
        "#define MG5_MASSES {" + ", ".join(repr(float(m)) for m in masses) + "}",
        f'#define MG5_FINGERPRINT "mg5-{output.layout}-{fingerprint}"',
        f'#define MG5_DEFAULT_PARAM_CARD "{_c_string(str(default_card))}"',
        f'#define MG5_CARDS_DIR "{_c_string(str(default_card.parent))}"',
    ]
    if output.layout == "prefix":
        rows = [pdgs for f in output.subfolders for pdgs, _ in f.processes]
        ids = [pid for f in output.subfolders for _, pid in f.processes]
        lines.append("#define MG5_PDG_TABLE {" + ", ".join("{" + ", ".join(map(str, r)) + "}" for r in rows) + "}")
        lines.append("#define MG5_PROCID_TABLE {" + ", ".join(map(str, ids)) + "}")
    else:
        table = []
        for f, names in zip(output.subfolders, symbols):
            lines.append(f"extern void {names[0]}(const double*, double*);")
            table += [names[0]] * len(f.processes)
        lines.append("#define MG5_SMATRIX_TABLE {" + ", ".join(table) + "}")
        ndiag = [f.n_diagrams for f in output.subfolders for _ in f.processes]
        lines.append("#define MG5_NDIAG_TABLE {" + ", ".join(map(str, ndiag)) + "}")
    return "\n".join(lines) + "\n"


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _run(command: list[str], what: str, cwd: Path | None = None) -> str:
    if shutil.which(command[0]) is None:
        raise CompileError(f"cannot build {what}: '{command[0]}' not found (install gfortran/binutils)")
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise CompileError(f"cannot build {what}: {' '.join(command)} failed:\n"
                           f"{(result.stderr or result.stdout).strip()}")
    return result.stdout


def build_library(output: MadGraphOutput, param_card: ParamCard) -> Path:
    """Compile the output's Fortran and the UMAMI shim into a cached shared library.

    The cache key hashes every Fortran source and include file, the shim, the
    compilers and flags, the folder's path (the default param card) and the
    external masses of ``param_card`` (the library's MASSES metadata);
    other parameters are read at run time, so a new card needs no rebuild. A P* folder's defined functions are renamed
    ``mg5p<k>_<name>`` so several folders share one library.
    """
    shim = resources.csrc_dir() / "mg5_umami_shim.c"
    umami_h = resources.csrc_dir() / "umami.h"
    fc, cc = fortran_compiler(), c_compiler()
    sources = [*output.model_sources, *output.extra_sources,
               *(s for f in output.subfolders for s in f.matrix_sources)]
    includes = sorted({i for d in [*output.include_dirs, *(f.path for f in output.subfolders)]
                       for i in d.glob("*.inc")})
    default_card = output.root / "Cards" / "param_card.dat"
    masses = [param_card.mass(p) for p in output.subfolders[0].processes[0][0]]
    key = _hash_files([*sources, *includes, shim, umami_h],
                      [" ".join([*fc, *cc, *FORTRAN_FLAGS, output.layout]).encode(),
                       repr(masses).encode(), str(output.root).encode()])
    name = "mg5_" + re.sub(r"\W", "_", output.root.name)

    def compile_output(build: Path) -> list[Path]:
        common_inc = [f"-I{d}" for d in output.include_dirs]
        objects: list[str] = []
        for i, source in enumerate([*output.model_sources, *output.extra_sources]):
            obj = build / f"m{i}_{source.stem}.o"
            _run([*fc, *FORTRAN_FLAGS, f"-J{build}", *common_inc, "-c", str(source), "-o", str(obj)], name)
            objects.append(str(obj))
        symbols: list[list[str]] = []
        for k, folder in enumerate(output.subfolders, start=1):
            folder_objects = []
            for j, source in enumerate(folder.matrix_sources):
                obj = build / f"p{k}_{j}_{source.stem}.o"
                _run([*fc, *FORTRAN_FLAGS, f"-J{build}", f"-I{folder.path}", *common_inc, "-c", str(source),
                      "-o", str(obj)], name)
                folder_objects.append(obj)
            if output.layout == "prefix":
                objects += [str(o) for o in folder_objects]
                symbols.append([])
                continue
            renamed = _rename_defined_functions(folder_objects, f"mg5p{k}_", name)
            objects += [str(o) for o in folder_objects]
            symbols.append([renamed.get(folder.smatrix_symbol, folder.smatrix_symbol)])
        config = build / "mg5_shim_config.h"
        config.write_text(_config_header(output, masses, key, symbols, default_card))
        shim_obj = build / "mg5_umami_shim.o"
        _run([*cc, "-O2", "-fPIC", "-std=c99", f"-I{build}", f"-I{resources.csrc_dir()}", "-c", str(shim),
              "-o", str(shim_obj)], name)
        built = build / f"lib{name}.so"
        _run([*fc, "-shared", "-fPIC", str(shim_obj), *objects, "-o", str(built), "-lm"], name)
        return [built, config]

    return build_into_cache(name, key, compile_output)


def _rename_defined_functions(objects: Sequence[Path], prefix: str, what: str) -> dict[str, str]:
    """Prefix the global functions the objects define; return old -> new names.

    Calls between the objects are renamed with them; references to the model
    and helicity libraries (undefined here) stay as they are.
    """
    defined: set[str] = set()
    for obj in objects:
        for line in _run(["nm", "--defined-only", "-g", str(obj)], what).splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] == "T":
                defined.add(parts[2])
    mapping = {old: prefix + old for old in sorted(defined)}
    if mapping:
        with tempfile.NamedTemporaryFile("w", suffix=".syms", delete=False) as handle:
            handle.write("".join(f"{old} {new}\n" for old, new in mapping.items()))
        try:
            for obj in objects:
                _run(["objcopy", f"--redefine-syms={handle.name}", str(obj)], what)
        finally:
            os.unlink(handle.name)
    return mapping


def load_madgraph_folder(path: str | os.PathLike, param_card: str | os.PathLike | None = None
                         ) -> tuple[Path, dict[str, Any]]:
    """Compile a MadGraph output folder; return ``(library_path, metadata_dict)``.

    Args:
        path: the output folder (``SubProcesses/``, ``Source/``, ``Cards/``).
        param_card: the card whose masses become the library's default
            MASSES; None: ``Cards/param_card.dat``. Parameters are read at
            ``umami_initialize`` from the card passed there.

    Returns:
        The shared library (one for all ``P*`` folders; FLAVOR_INDEX selects
        the subprocess) and its metadata in the ``process.json`` format of
        docs/architecture.md, plus ``has_topologies`` (False for standalone
        output: no diagrams, one flat channel) and ``madgraph`` (folder, layout).
    """
    output = read_output(path)
    card = read_param_card(param_card or output.root / "Cards" / "param_card.dat")
    return build_library(output, card), _metadata(output)


def load_madgraph_process(folder: str | os.PathLike, param_card: str | os.PathLike | None = None,
                          zerowidth_tchannel: bool = False):
    """A :class:`~madnis_plugin.process.Process` for a MadGraph output folder.

    The helicity filter of every subprocess is fed physical RAMBO points before
    the process is returned. ``zerowidth_tchannel`` cannot change compiled
    MadGraph Fortran: the output keeps the treatment it was generated with,
    and a warning says so.
    """
    from .bridge import UmamiLibrary
    from .process import Process, ProcessMetadata

    output_root = Path(folder).resolve()
    card_path = Path(param_card) if param_card is not None else output_root / "Cards" / "param_card.dat"
    if not card_path.is_file():
        raise MadGraphError(f"{output_root}: param card {card_path} not found")
    library_path, metadata = load_madgraph_folder(output_root, card_path)
    if not metadata["has_topologies"]:
        warnings.warn(f"{output_root.name}: standalone output has no channel topologies; "
                      "integration uses a single flat channel", stacklevel=2)
    if zerowidth_tchannel:
        warnings.warn(f"{output_root.name}: zerowidth_tchannel is fixed in MadGraph's generated Fortran; "
                      "the output keeps the t-channel widths it was generated with", stacklevel=2)
    library = UmamiLibrary(library_path, card_path.resolve())
    process = Process(ProcessMetadata.from_dict(metadata, origin=str(output_root)), library,
                      card_path, zerowidth_tchannel=False, folder=output_root)
    warm_up_helicities(process)
    return process


def warm_up_helicities(process, n_points: int = WARMUP_POINTS, seed: int = 20240) -> None:
    """Evaluate every subprocess on physical RAMBO points to settle the helicity filter.

    MadGraph's Fortran drops helicity configurations that vanish on its first
    calls; degenerate or unphysical first points would drop live ones.
    """
    from .phasespace import Rambo

    masses = np.asarray(process.masses, dtype=float)
    threshold = max(masses[: process.n_incoming].sum(), masses[process.n_incoming:].sum())
    e_cm = max(1000.0, 4.0 * threshold)
    rng = np.random.default_rng(seed)
    rambo = Rambo(masses, e_cm=e_cm)
    for pdgs in process.subprocesses:
        points = rambo.map(rng.random((n_points, rambo.dim))).momenta
        process.matrix_element(points, pdgs=pdgs)
