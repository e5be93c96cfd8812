"""Processes: a UMAMI matrix-element library together with its metadata.

:func:`load_process` accepts a built-in process name (``processes/<name>/``),
a process folder (a ``process.json`` beside C sources or a compiled UMAMI
library), or a MadGraph5_aMC@NLO output folder (see :mod:`madnis_plugin.madgraph`).
The metadata (``process.json``, format in docs/architecture.md) names the
external particles, the subprocesses selected by FLAVOR_INDEX, the diagrams as
propagator trees and the colour flows; UMAMI itself carries none of that.

Example:
    >>> import numpy as np
    >>> from madnis_plugin import load_process
    >>> proc = load_process("ee_mumu")
    >>> proc.subprocesses
    [(-11, 11, -13, 13)]
    >>> p = np.array([[[500, 0, 0, 500], [500, 0, 0, -500],
    ...                [500, 300, 0, 400], [500, -300, 0, -400]]], dtype=float)
    >>> proc.matrix_element(p).shape
    (1,)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import resources
from .bridge import MatrixElementResult, UmamiLibrary
from .cards import ParamCard, read_param_card
from .compiler import HELAS_SOURCES, compile_shared_library

__all__ = [
    "ProcessError",
    "Propagator",
    "Diagram",
    "Subprocess",
    "SubprocessGroup",
    "ProcessMetadata",
    "Process",
    "load_process",
    "resolve_process_spec",
]


class ProcessError(ValueError):
    """A process spec that cannot be resolved or loaded (one-line message)."""


@dataclass(frozen=True, slots=True)
class Propagator:
    """One internal line of a diagram, as MadEvent's configs.inc writes it.

    Attributes:
        id: negative index (-1, -2, ...).
        type: ``"s"`` (s-channel) or ``"t"`` (t-channel chain).
        daughters: two entries: positive = external leg (1-based), negative = propagator id.
        pdg: the propagating particle (0 where configs.inc has none).
    """

    id: int
    type: str
    daughters: tuple[int, int]
    pdg: int


@dataclass(frozen=True, slots=True)
class Diagram:
    """A Feynman diagram: its DIAGRAM_AMP2 slot (1-based) and propagator tree."""

    number: int
    propagators: tuple[Propagator, ...]
    four_point: bool = False

    def s_channel_legs(self, pdg: int) -> tuple[int, ...] | None:
        """External legs (0-based) under the first s-channel propagator of ``pdg``, or None."""
        by_id = {p.id: p for p in self.propagators}

        def legs(node: int) -> tuple[int, ...]:
            return (node - 1,) if node > 0 else tuple(sorted(sum((legs(d) for d in by_id[node].daughters), ())))

        for p in self.propagators:
            if p.type == "s" and p.pdg == pdg:
                return legs(p.id)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "four_point": self.four_point,
            "propagators": [
                {"id": p.id, "type": p.type, "daughters": list(p.daughters), "pdg": p.pdg}
                for p in self.propagators
            ],
        }


@dataclass(frozen=True, slots=True)
class Subprocess:
    """A flavour assignment: FLAVOR_INDEX, PDG ids in evaluation order, LHE id, colour flows."""

    flavor_index: int
    pdg: tuple[int, ...]
    mg_process_id: int
    color_flows: tuple[tuple[tuple[int, int], ...], ...]


@dataclass(frozen=True, slots=True)
class SubprocessGroup:
    """Subprocesses sharing one diagram list with the same leg numbering."""

    subprocesses: tuple[Subprocess, ...]
    diagrams: tuple[Diagram, ...]


@dataclass(frozen=True, slots=True)
class ProcessMetadata:
    """The parsed ``process.json`` of a process folder."""

    name: str
    description: str
    n_incoming: int
    n_external: int
    groups: tuple[SubprocessGroup, ...]
    collider: str = "hadron"
    mg5_process: str = ""
    sources: tuple[str, ...] = ()
    #: PDG ids forced on shell by decay-chain syntax (kept within bwcutoff widths of the pole).
    onshell_resonances: tuple[int, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any], origin: str = "process.json") -> "ProcessMetadata":
        try:
            groups = []
            for group in data["groups"]:
                subprocesses = tuple(
                    Subprocess(
                        flavor_index=int(s["flavor_index"]),
                        pdg=tuple(int(x) for x in s["pdg"]),
                        mg_process_id=int(s.get("mg_process_id", 1)),
                        color_flows=tuple(
                            tuple((int(c), int(a)) for c, a in flow) for flow in s.get("color_flows", [])
                        ),
                    )
                    for s in group["subprocesses"]
                )
                diagrams = tuple(
                    Diagram(
                        number=int(d["number"]),
                        four_point=bool(d.get("four_point", False)),
                        propagators=tuple(
                            Propagator(int(p["id"]), str(p["type"]), tuple(int(x) for x in p["daughters"]),
                                       int(p.get("pdg", 0)))
                            for p in d.get("propagators", [])
                        ),
                    )
                    for d in group.get("diagrams", [])
                )
                groups.append(SubprocessGroup(subprocesses, diagrams))
            n_external = int(data.get("n_external", len(groups[0].subprocesses[0].pdg)))
            meta = cls(
                name=str(data["name"]),
                description=str(data.get("description", "")),
                n_incoming=int(data.get("n_incoming", 2)),
                n_external=n_external,
                groups=tuple(groups),
                collider=str(data.get("collider", "hadron")),
                mg5_process=str(data.get("mg5_process", "")),
                sources=tuple(data.get("sources", ())),
                onshell_resonances=tuple(int(x) for x in data.get("onshell_resonances", ())),
                raw=data,
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise ProcessError(f"{origin}: malformed process metadata ({exc!r})") from None
        flavors = sorted(s.flavor_index for g in meta.groups for s in g.subprocesses)
        if flavors != list(range(len(flavors))):
            raise ProcessError(f"{origin}: flavor_index values must be 0..{len(flavors) - 1}, got {flavors}")
        for g in meta.groups:
            for s in g.subprocesses:
                if len(s.pdg) != n_external:
                    raise ProcessError(f"{origin}: subprocess {s.pdg} does not have {n_external} particles")
        return meta

    @classmethod
    def read(cls, path: str | Path) -> "ProcessMetadata":
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ProcessError(f"cannot read process metadata {path}: {exc.strerror}") from None
        except json.JSONDecodeError as exc:
            raise ProcessError(f"{path}: invalid JSON at line {exc.lineno}: {exc.msg}") from None
        return cls.from_dict(data, origin=str(path))

    @property
    def subprocesses(self) -> list[Subprocess]:
        """All subprocesses ordered by FLAVOR_INDEX."""
        return sorted((s for g in self.groups for s in g.subprocesses), key=lambda s: s.flavor_index)


def resolve_process_spec(spec: str | Path) -> Path:
    """The folder a process spec names: a built-in name or a path."""
    builtin = resources.builtin_process_dir(str(spec)) if isinstance(spec, str) else None
    if builtin is not None:
        return builtin
    path = Path(spec).expanduser()
    if path.is_dir():
        return path
    known = ", ".join(resources.builtin_processes()) or "none"
    raise ProcessError(f"unknown process '{spec}': not a built-in process ({known}) nor a folder")


def _is_madgraph_folder(folder: Path) -> bool:
    return (folder / "SubProcesses").is_dir()


class Process:
    """A matrix-element library with its metadata and parameters.

    Use :func:`load_process` to make one. Not thread-safe (one UMAMI handle);
    worker processes each load their own.

    Attributes:
        name: process name.
        metadata: the :class:`ProcessMetadata`.
        library: the :class:`~madnis_plugin.bridge.UmamiLibrary`.
        param_card: the :class:`~madnis_plugin.cards.ParamCard` in use.
        param_card_path: its file.
        zerowidth_tchannel: whether t-channel widths are dropped.
        subprocesses: PDG tuples, index = FLAVOR_INDEX.
        masses: ``(n_external,)`` external masses from the param card.
        fingerprint: a hash of library fingerprint, metadata and parameters.
    """

    def __init__(self, metadata: ProcessMetadata, library: UmamiLibrary, param_card_path: Path,
                 zerowidth_tchannel: bool = False, folder: Path | None = None):
        self.metadata = metadata
        self.library = library
        self.folder = folder
        self.name = metadata.name
        self.param_card_path = Path(param_card_path)
        self.param_card: ParamCard = read_param_card(self.param_card_path)
        self.zerowidth_tchannel = bool(zerowidth_tchannel)
        if self.zerowidth_tchannel:
            library.set_parameter("zerowidth_tchannel", 1.0)
        if library.n_particles != metadata.n_external:
            raise ProcessError(
                f"{self.name}: library has {library.n_particles} particles, metadata {metadata.n_external}")
        self.subprocesses: list[tuple[int, ...]] = [s.pdg for s in metadata.subprocesses]
        self._flavor_of = {pdg: i for i, pdg in enumerate(self.subprocesses)}
        self.masses = np.array([self.param_card.mass(abs(p)) for p in self.subprocesses[0]])
        digest = hashlib.sha256()
        digest.update(library.fingerprint.encode())
        digest.update(json.dumps(metadata.raw, sort_keys=True).encode())
        digest.update(self.param_card.text.encode())
        digest.update(b"zw" if self.zerowidth_tchannel else b"w")
        self.fingerprint = digest.hexdigest()[:16]

    @property
    def n_external(self) -> int:
        return self.metadata.n_external

    @property
    def n_incoming(self) -> int:
        return self.metadata.n_incoming

    @property
    def diagram_count(self) -> int:
        return self.library.n_diagrams

    def flavor_index(self, pdgs: Sequence[int]) -> int:
        """FLAVOR_INDEX of a PDG tuple; ProcessError if the process lacks it."""
        key = tuple(int(p) for p in pdgs)
        try:
            return self._flavor_of[key]
        except KeyError:
            raise ProcessError(f"{self.name} has no subprocess {key}") from None

    def evaluate(
        self,
        momenta: np.ndarray,
        flavor_index: np.ndarray | int = 0,
        alpha_s: np.ndarray | float | None = None,
        random_color: np.ndarray | None = None,
        random_helicity: np.ndarray | None = None,
        amp2: bool = True,
    ) -> MatrixElementResult:
        """|M|^2 with per-diagram weights and, given random numbers, colour and helicity.

        Args:
            momenta: ``(n, n_external, 4)``.
            flavor_index: one FLAVOR_INDEX or ``(n,)``.
            alpha_s: one value or ``(n,)``; None: the param card's aS.
            random_color, random_helicity: ``(n,)`` uniforms; when given, the
                colour flow and helicity are selected and returned.
            amp2: ask for the per-diagram weights (where the library has them).
        """
        lib = self.library
        return lib.evaluate(
            momenta,
            alpha_s=alpha_s,
            flavor_index=flavor_index if lib.supports_input("FLAVOR_INDEX") else None,
            random_color=random_color,
            random_helicity=random_helicity,
            amp2=amp2 and lib.n_diagrams > 0 and lib.supports_output("DIAGRAM_AMP2"),
            color=random_color is not None and lib.supports_output("COLOR_INDEX"),
            helicity=random_helicity is not None and lib.supports_output("HELICITY_INDEX"),
        )

    def matrix_element(self, momenta: np.ndarray, pdgs: Sequence[int] | None = None,
                       alpha_s: np.ndarray | float | None = None) -> np.ndarray:
        """|M|^2 of shape ``(n,)`` for momenta ``(n, n_external, 4)``.

        Args:
            pdgs: the subprocess (a PDG tuple); None: the first.
            alpha_s: one value or ``(n,)``; None: the param card's aS.
        """
        flavor = 0 if pdgs is None else self.flavor_index(pdgs)
        lib = self.library
        if flavor and not lib.supports_input("FLAVOR_INDEX"):
            raise ProcessError(f"{self.name}: library cannot select subprocess {tuple(pdgs)}")
        return lib.evaluate(momenta, alpha_s=alpha_s,
                            flavor_index=flavor if lib.supports_input("FLAVOR_INDEX") else None).me2

    def __repr__(self) -> str:
        return f"Process({self.name!r}, subprocesses={len(self.subprocesses)}, diagrams={self.diagram_count})"


def _library_for_folder(folder: Path, metadata: ProcessMetadata) -> Path:
    """A compiled library for a process folder: a shipped one, or built from its C sources."""
    prebuilt = metadata.raw.get("library")
    if prebuilt:
        path = (folder / prebuilt).resolve()
        if not path.is_file():
            raise ProcessError(f"{folder}: library {prebuilt} named in process.json not found")
        return path
    sources = [folder / s for s in metadata.sources] if metadata.sources else sorted(folder.glob("*.c"))
    if not sources:
        libraries = sorted(folder.glob("*.so"))
        if len(libraries) == 1:
            return libraries[0].resolve()
        raise ProcessError(f"{folder}: no C sources and no single UMAMI library (*.so)")
    csrc = resources.csrc_dir()
    helas = [csrc / name for name in HELAS_SOURCES if (csrc / name).is_file()]
    return compile_shared_library(metadata.name, [*sources, *helas], include_dirs=[folder])


def load_process(spec: str | Path, param_card: str | Path | None = None,
                 zerowidth_tchannel: bool = False) -> Process:
    """Load a process by built-in name or folder.

    Args:
        spec: built-in name (see ``madnis-plugin processes``), a process folder
            with ``process.json``, or a MadGraph5_aMC@NLO output folder.
        param_card: SLHA param card; None: the folder's ``Cards/param_card.dat``
            if there is one, else ``cards/param_card.dat``.
        zerowidth_tchannel: drop widths in t-channel propagators (MadGraph's
            event-generation default); False keeps them as standalone output does.
    """
    folder = resolve_process_spec(spec)
    if _is_madgraph_folder(folder):
        from .madgraph import load_madgraph_process

        return load_madgraph_process(folder, param_card=param_card, zerowidth_tchannel=zerowidth_tchannel)
    meta_path = folder / "process.json"
    if not meta_path.is_file():
        raise ProcessError(f"{folder}: no process.json (not a process folder)")
    metadata = ProcessMetadata.read(meta_path)
    if param_card is None:
        own = folder / "Cards" / "param_card.dat"
        param_card = own if own.is_file() else resources.default_card("param_card.dat")
    param_card = Path(param_card)
    if not param_card.is_file():
        raise ProcessError(f"param card not found: {param_card}")
    library = UmamiLibrary(_library_for_folder(folder, metadata), param_card)
    return Process(metadata, library, param_card, zerowidth_tchannel=zerowidth_tchannel, folder=folder)
