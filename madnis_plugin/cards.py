"""MadGraph cards: the SLHA ``param_card.dat`` and the ``run_card.dat``.

Both readers keep the card's original text (for LHE banners and for writing the
card back unchanged) beside the parsed values.

``run_card.dat`` lines read ``  value = key ! comment``; ``#`` starts a comment
line. Values are typed by key (booleans as ``True``/``.true.``/``T``, integers,
floats in Fortran notation such as ``1d3``, strings, lists). Keys the card does
not set take MadGraph's LO defaults. Every key MadGraph's LO run card knows is
catalogued in one of four kinds:

* supported physics keys (beams, PDF, scales, generation cuts, ...), which the
  integrand honours;
* technical keys (``nevents``, ``iseed``, systematics, output options), which
  do not change the physics;
* unsupported physics keys (matching, polarised beams, photon isolation, ...):
  accepted while they keep MadGraph's inactive default, otherwise the reader
  raises :class:`CardError` naming the key -- a physics change is never
  silently ignored;
* anything else is an unknown key: kept, ignored, and listed in
  :attr:`RunCard.unknown_keys` (a :class:`UserWarning` names them).

Example:
    >>> from madnis_plugin.cards import RunCard
    >>> rc = RunCard.from_text("  0 = lpp1\\n 0 = lpp2\\n 500 = ebeam1\\n 500 = ebeam2\\n")
    >>> rc["ebeam1"], rc["ptj"], rc["fixed_ren_scale"]
    (500.0, 20.0, False)
    >>> rc.with_overrides({"nevents": 500}).overrides
    {'nevents': 500}
"""

from __future__ import annotations

import math
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

__all__ = [
    "CardError",
    "ParamCard",
    "RunCard",
    "read_param_card",
    "read_run_card",
    "RUN_CARD_DEFAULTS",
    "SUPPORTED_PHYSICS_KEYS",
    "TECHNICAL_KEYS",
    "UNSUPPORTED_PHYSICS_KEYS",
    "SUPPORTED_CUT_KEYS",
]


class CardError(ValueError):
    """A card that cannot be read or asks for physics this tool does not do.

    The message is one line: ``FILE:LINE: problem`` (``FILE: problem`` when no
    line applies).
    """


def _where(path: str | os.PathLike | None, line: int | None) -> str:
    name = str(path) if path is not None else "<text>"
    return f"{name}:{line}" if line is not None else name


# --------------------------------------------------------------------------
# SLHA param card
# --------------------------------------------------------------------------

_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eEdD][+-]?\d+)?$")
_INT_RE = re.compile(r"^[+-]?\d+$")


def _parse_fortran_float(token: str) -> float:
    """A float in Fortran or Python notation (``1d3``, ``1.5D-2``, ``2e3``)."""
    if not _FLOAT_RE.match(token) and token.lower() not in ("inf", "-inf", "nan"):
        raise ValueError(token)
    return float(token.replace("d", "e").replace("D", "e"))


@dataclass
class ParamCard:
    """An SLHA parameter card (MadGraph's ``param_card.dat``).

    Attributes:
        blocks: lower-case block name -> {integer index tuple -> value}. Block
            ``MASS`` entries are keyed ``(pdg,)``; matrices such as ``YUKAWA``
            or ``CKM`` by ``(i,)`` or ``(i, j)`` as the card writes them.
        widths: PDG id -> total width from the ``DECAY`` lines.
        branchings: PDG id -> list of (branching ratio, daughter PDG ids).
        text: the card's original text.
        path: where it was read from (``None`` for text).

    Particles absent from ``MASS`` are massless and those without ``DECAY`` are
    stable, as in MadGraph's restricted models, which drop zero entries.

    Example:
        >>> pc = ParamCard.from_text("BLOCK MASS\\n  23 9.118800e+01 # MZ\\n"
        ...                          "DECAY 23 2.441404e+00\\n")
        >>> pc.mass(23), pc.width(-23), pc.mass(21)
        (91.188, 2.441404, 0.0)
    """

    blocks: dict[str, dict[tuple[int, ...], float]]
    widths: dict[int, float]
    branchings: dict[int, list[tuple[float, tuple[int, ...]]]] = field(default_factory=dict)
    text: str = ""
    path: str | None = None

    @classmethod
    def from_text(cls, text: str, path: str | os.PathLike | None = None) -> "ParamCard":
        """Parse SLHA text; raise :class:`CardError` naming the line on a bad entry."""
        blocks: dict[str, dict[tuple[int, ...], float]] = {}
        widths: dict[int, float] = {}
        branchings: dict[int, list[tuple[float, tuple[int, ...]]]] = {}
        current: dict[tuple[int, ...], float] | None = None
        current_decay: int | None = None
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            tokens = line.split()
            head = tokens[0].upper()
            if head == "BLOCK":
                if len(tokens) < 2:
                    raise CardError(f"{_where(path, lineno)}: BLOCK without a name")
                # QNUMBERS blocks carry the particle's PDG id in the header.
                name = " ".join(tokens[1:2] + ([tokens[2]] if tokens[1].upper() == "QNUMBERS"
                                                   and len(tokens) > 2 else [])).lower()
                current = blocks.setdefault(name, {})
                current_decay = None
                continue
            if head == "DECAY":
                if len(tokens) < 3 or not _INT_RE.match(tokens[1]):
                    raise CardError(f"{_where(path, lineno)}: malformed DECAY line {raw.strip()!r}")
                try:
                    width = _parse_fortran_float(tokens[2])
                except ValueError:
                    raise CardError(f"{_where(path, lineno)}: width {tokens[2]!r} is not a number") from None
                current_decay = int(tokens[1])
                widths[current_decay] = width
                branchings[current_decay] = []
                current = None
                continue
            if current_decay is not None:
                # Branching-ratio line: BR NDA ID1 ID2 ...
                try:
                    br = _parse_fortran_float(tokens[0])
                    nda = int(tokens[1])
                    ids = tuple(int(t) for t in tokens[2:2 + nda])
                    if len(ids) != nda:
                        raise ValueError
                except (ValueError, IndexError):
                    raise CardError(f"{_where(path, lineno)}: malformed branching-ratio line "
                                    f"{raw.strip()!r}") from None
                branchings[current_decay].append((br, ids))
                continue
            if current is None:
                raise CardError(f"{_where(path, lineno)}: entry {raw.strip()!r} outside any BLOCK or DECAY")
            indices = []
            for tok in tokens[:-1]:
                if not _INT_RE.match(tok):
                    raise CardError(f"{_where(path, lineno)}: index {tok!r} is not an integer in "
                                    f"{raw.strip()!r}")
                indices.append(int(tok))
            try:
                value = _parse_fortran_float(tokens[-1])
            except ValueError:
                raise CardError(f"{_where(path, lineno)}: value {tokens[-1]!r} is not a number") from None
            current[tuple(indices)] = value
        return cls(blocks=blocks, widths=widths, branchings=branchings, text=text,
                   path=None if path is None else str(path))

    def value(self, block: str, *index: int) -> float:
        """The entry ``index`` of ``block`` (case-insensitive); :class:`KeyError` if absent."""
        try:
            return self.blocks[block.lower()][tuple(int(i) for i in index)]
        except KeyError:
            raise KeyError(f"param card has no entry {block.upper()} {' '.join(map(str, index))}") from None

    def mass(self, pdg: int) -> float:
        """Pole mass of particle ``pdg`` (antiparticles share it); 0 if not listed."""
        return self.blocks.get("mass", {}).get((abs(int(pdg)),), 0.0)

    def width(self, pdg: int) -> float:
        """Total width of particle ``pdg`` (antiparticles share it); 0 if not listed."""
        return self.widths.get(abs(int(pdg)), 0.0)

    def write(self, path: str | os.PathLike) -> None:
        """Write the card's text to ``path``."""
        Path(path).write_text(self.text)


def read_param_card(path: str | os.PathLike) -> ParamCard:
    """Read an SLHA ``param_card.dat``; :class:`CardError` if missing or malformed."""
    return ParamCard.from_text(_read_text(path), path=path)


def _read_text(path: str | os.PathLike) -> str:
    try:
        return Path(path).read_text()
    except FileNotFoundError:
        raise CardError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CardError(f"{path}: is a directory, not a card") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CardError(f"{path}: cannot be read ({exc.__class__.__name__})") from None


# --------------------------------------------------------------------------
# run card catalogue
# --------------------------------------------------------------------------

#: MadGraph's LO defaults (those of a p p run card), used for absent keys.
RUN_CARD_DEFAULTS: dict[str, Any] = {
    # beams and PDFs
    "lpp1": 1, "lpp2": 1, "ebeam1": 6500.0, "ebeam2": 6500.0,
    "pdlabel": "nn23lo1", "lhaid": 230000,
    # scales
    "fixed_ren_scale": False, "fixed_fac_scale": False, "scale": 91.188,
    "dsqrt_q2fact1": 91.188, "dsqrt_q2fact2": 91.188, "dynamical_scale_choice": -1,
    "scalefact": 1.0,
    # event generation
    "nevents": 10000, "iseed": 0, "event_norm": "average",
    "zerowidth_tchannel": True, "bwcutoff": 15.0, "cut_decays": False, "maxjetflavor": 4,
    "sde_strategy": 2,
    # generation cuts: minimum, maximum (-1 = none)
    "ptj": 20.0, "ptb": 0.0, "pta": 10.0, "ptl": 10.0, "misset": 0.0,
    "ptjmax": -1.0, "ptbmax": -1.0, "ptamax": -1.0, "ptlmax": -1.0, "missetmax": -1.0,
    "ptheavy": 0.0,
    "ej": 0.0, "eb": 0.0, "ea": 0.0, "el": 0.0,
    "ejmax": -1.0, "ebmax": -1.0, "eamax": -1.0, "elmax": -1.0,
    "etaj": 5.0, "etab": -1.0, "etaa": 2.5, "etal": 2.5,
    "etajmin": 0.0, "etabmin": 0.0, "etaamin": 0.0, "etalmin": 0.0,
    "drjj": 0.4, "drbb": 0.0, "drll": 0.4, "draa": 0.4, "drbj": 0.0, "draj": 0.4,
    "drjl": 0.4, "drab": 0.0, "drbl": 0.0, "dral": 0.4,
    "drjjmax": -1.0, "drbbmax": -1.0, "drllmax": -1.0, "draamax": -1.0, "drbjmax": -1.0,
    "drajmax": -1.0, "drjlmax": -1.0, "drabmax": -1.0, "drblmax": -1.0, "dralmax": -1.0,
    "mmjj": 0.0, "mmbb": 0.0, "mmaa": 0.0, "mmll": 0.0,
    "mmjjmax": -1.0, "mmbbmax": -1.0, "mmaamax": -1.0, "mmllmax": -1.0,
    "mmnl": 0.0, "mmnlmax": -1.0,
    "ptllmin": 0.0, "ptllmax": -1.0,
    "xptj": 0.0, "xptb": 0.0, "xpta": 0.0, "xptl": 0.0,
    "ptj1min": 0.0, "ptj2min": 0.0, "ptj3min": 0.0, "ptj4min": 0.0,
    "ptj1max": -1.0, "ptj2max": -1.0, "ptj3max": -1.0, "ptj4max": -1.0,
    "cutuse": 0,
    "ptl1min": 0.0, "ptl2min": 0.0, "ptl3min": 0.0, "ptl4min": 0.0,
    "ptl1max": -1.0, "ptl2max": -1.0, "ptl3max": -1.0, "ptl4max": -1.0,
    "htjmin": 0.0, "htjmax": -1.0, "ihtmin": 0.0, "ihtmax": -1.0,
    "ht2min": 0.0, "ht3min": 0.0, "ht4min": 0.0,
    "ht2max": -1.0, "ht3max": -1.0, "ht4max": -1.0,
    # physics this tool does not do: accepted only at these inactive values
    "polbeam1": 0.0, "polbeam2": 0.0,
    "ickkw": 0, "xqcut": 0.0, "ktdurham": -1.0, "ptlund": -1.0,
    "ptgmin": 0.0, "xetamin": 0.0, "deltaeta": 0.0,
    "pt_min_pdg": "{}", "pt_max_pdg": "{}", "e_min_pdg": "{}", "e_max_pdg": "{}",
    "eta_min_pdg": "{}", "eta_max_pdg": "{}", "mxx_min_pdg": "{}",
    "fixed_couplings": True, "nhel": 0, "ptonium": 1.0, "etaonium": 0.6,
    "hard_survey": 0, "bias_module": "None",
    "dsqrt_shat": 0.0, "dsqrt_shatmax": -1.0,
    # technical
    "run_tag": "tag_1", "use_syst": True, "gridpack": False, "time_of_flight": -1.0,
    "lhe_version": 3.0, "clusinfo": True, "systematics_program": "systematics",
}

SUPPORTED_CUT_KEYS: frozenset[str] = frozenset("""
    ptj ptb pta ptl misset ptjmax ptbmax ptamax ptlmax missetmax ptheavy
    ej eb ea el ejmax ebmax eamax elmax
    etaj etab etaa etal etajmin etabmin etaamin etalmin
    drjj drbb drll draa drbj draj drjl drab drbl dral
    drjjmax drbbmax drllmax draamax drbjmax drajmax drjlmax drabmax drblmax dralmax
    mmjj mmbb mmaa mmll mmjjmax mmbbmax mmaamax mmllmax mmnl mmnlmax
    ptllmin ptllmax xptj xptb xpta xptl
    ptj1min ptj2min ptj3min ptj4min ptj1max ptj2max ptj3max ptj4max cutuse
    ptl1min ptl2min ptl3min ptl4min ptl1max ptl2max ptl3max ptl4max
    htjmin htjmax ihtmin ihtmax ht2min ht3min ht4min ht2max ht3max ht4max
    dsqrt_shat dsqrt_shatmax
""".split())
"""The generation cuts :mod:`madnis_plugin.cuts` applies."""



#: Keys whose values the integrand honours (beams, PDFs, scales, widths, cuts).
SUPPORTED_PHYSICS_KEYS: frozenset[str] = frozenset({
    "lpp1", "lpp2", "ebeam1", "ebeam2", "pdlabel", "lhaid",
    "fixed_ren_scale", "fixed_fac_scale", "scale", "dsqrt_q2fact1", "dsqrt_q2fact2",
    "dynamical_scale_choice", "scalefact", "event_norm", "zerowidth_tchannel", "bwcutoff",
    "cut_decays", "maxjetflavor", "sde_strategy",
}) | SUPPORTED_CUT_KEYS

#: Keys that do not change the physics (sample size, seeds, output, bookkeeping).
TECHNICAL_KEYS: frozenset[str] = frozenset({
    "nevents", "iseed", "run_tag", "use_syst", "systematics_program", "systematics_arguments",
    "sys_scalefact", "sys_alpsfact", "sys_matchscale", "sys_pdf", "gridpack", "time_of_flight",
    "lhe_version", "clusinfo", "nhel", "hard_survey", "tmin_for_channel",
    "survey_splitting", "survey_nchannel_per_job", "refine_evt_by_job", "small_width_treatment",
    "job_strategy", "mc_grouped_subproc", "global_flag", "aloha_flag", "matrix_flag",
    "vector_size", "nb_warp", "vecsize_memmax", "cudacpp_backend", "floating_type",
    "limhel", "ickkw_survey", "fixed_couplings", "pdfwgt", "asrwgtflavor", "auto_ptj_mjj",
    "highestmult", "ktscheme", "alpsfact", "chcluster", "dparameter", "pdgs_for_merging_cut",
    "r0gamma", "xn", "epsgamma", "isoem", "mxx_only_part_antipart", "use_syst",
    "event_norm_check", "frame_id", "python_seed", "store_rwgt_info", "systematics",
    "dynamical_scale_choice_user", "custom_fcts", "nb_proton1", "nb_proton2", "nb_neutron1",
    "nb_neutron2", "mass_ion1", "mass_ion2", "ptonium", "etaonium", "ptgmin_isolation",
    "gridrun", "keep_log", "analysis", "nevt_job", "maxweight_factor", "bias_parameters",
    "xmtcentral", "issgridfile", "fixed_extra_scale", "mue_ref_fixed", "mue_over_ref",
    "ievo_eva", "eva_scale", "pdlabel1", "pdlabel2",
    "sys_scalecorrelation", "gseed",
})

#: Physics this tool does not do; the value MadGraph uses when it is off.
UNSUPPORTED_PHYSICS_KEYS: dict[str, Any] = {
    "polbeam1": 0.0, "polbeam2": 0.0,
    "ickkw": 0, "xqcut": 0.0, "ktdurham": -1.0, "ptlund": -1.0,
    "ptgmin": 0.0, "xetamin": 0.0, "deltaeta": 0.0,
    "pt_min_pdg": "{}", "pt_max_pdg": "{}", "e_min_pdg": "{}", "e_max_pdg": "{}",
    "eta_min_pdg": "{}", "eta_max_pdg": "{}", "mxx_min_pdg": "{}", "bias_module": "None",
}

_SUPPORTED_LPP = (0, 1, -1)
_SUPPORTED_PDLABELS = ("nn23lo1", "lhapdf")
_LEPTON_PDLABELS = ("none", "nn23lo1", "lhapdf", "")
_SUPPORTED_SCALE_CHOICES = (-1, 1, 2, 3, 4)
_EVENT_NORMS = ("average", "sum", "unity")

_TRUE = {"true", ".true.", "t", "1", "yes", "on"}
_FALSE = {"false", ".false.", "f", "0", "no", "off"}


def _type_of(key: str) -> type:
    default = RUN_CARD_DEFAULTS.get(key)
    if default is None:
        return object
    return type(default)


def _parse_value(token: str, kind: type) -> Any:
    """Convert a run-card value token to ``kind``; :class:`ValueError` if it does not fit."""
    if kind is bool:
        low = token.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError("is not a boolean (True/False, .true./.false., T/F)")
    if kind is int:
        if _INT_RE.match(token):
            return int(token)
        number = _parse_fortran_float(token)  # MadGraph accepts 1d4 for an integer
        if number != int(number):
            raise ValueError("is not an integer")
        return int(number)
    if kind is float:
        try:
            return _parse_fortran_float(token)
        except ValueError:
            raise ValueError("is not a number") from None
    if kind is str:
        return token.strip().strip("'\"")
    # Unknown key: the most specific type the text fits.
    for guess in (int, float, bool):
        try:
            return _parse_value(token, guess)
        except ValueError:
            pass
    return token


def _format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, float):
        return repr(value)
    return str(value)


@dataclass(frozen=True)
class _Entry:
    key: str
    value: Any
    line: int


class RunCard(Mapping[str, Any]):
    """A MadGraph ``run_card.dat``: typed values, MadGraph defaults, original text.

    Read-only mapping from lower-case key to value; keys the card does not set
    give MadGraph's LO default (:data:`RUN_CARD_DEFAULTS`).

    Attributes:
        text: the card's text (with overrides written into it).
        path: the file it was read from, or ``None``.
        overrides: keys changed by :meth:`with_overrides` -> new value.
        unknown_keys: keys the card sets that no catalogue knows (kept, ignored).

    Example:
        >>> rc = RunCard.from_text(" 13000 = ebeam1 ! energy\\n")
        >>> rc["ebeam1"], rc.get("ebeam2"), rc.get("nonsense", 3)
        (13000.0, 6500.0, 3)
    """

    def __init__(self, entries: dict[str, _Entry], text: str, path: str | None = None,
                 overrides: dict[str, Any] | None = None, strict: bool = True) -> None:
        self._entries = dict(entries)
        self.text = text
        self.path = path
        self.overrides: dict[str, Any] = dict(overrides or {})
        self.unknown_keys: list[str] = [
            k for k in self._entries
            if k not in RUN_CARD_DEFAULTS and k not in TECHNICAL_KEYS]
        if strict:
            self.check_supported()

    # -- construction -----------------------------------------------------
    @classmethod
    def from_text(cls, text: str, path: str | os.PathLike | None = None,
                  strict: bool = True) -> "RunCard":
        """Parse run-card text.

        Args:
            text: the card.
            path: file name used in error messages.
            strict: check that every physics-changing key is supported
                (:meth:`check_supported`).
        """
        entries: dict[str, _Entry] = {}
        for lineno, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].split("!", 1)[0].strip()
            if not line:
                continue
            if "=" not in line:
                raise CardError(f"{_where(path, lineno)}: expected 'value = key', got {raw.strip()!r}")
            token, key = (part.strip() for part in line.rsplit("=", 1))
            key = key.lower()
            if not key or not re.match(r"^[a-z_][a-z0-9_]*$", key):
                raise CardError(f"{_where(path, lineno)}: {key!r} is not a run-card key in {raw.strip()!r}")
            if not token:
                raise CardError(f"{_where(path, lineno)}: no value for {key!r}")
            try:
                value = _parse_value(token, _type_of(key))
            except ValueError as exc:
                raise CardError(f"{_where(path, lineno)}: value {token!r} of {key!r} {exc}") from None
            entries[key] = _Entry(key, value, lineno)
        return cls(entries, text, None if path is None else str(path), strict=strict)

    # -- mapping ----------------------------------------------------------
    def __getitem__(self, key: str) -> Any:
        key = key.lower()
        if key in self._entries:
            return self._entries[key].value
        if key in RUN_CARD_DEFAULTS:
            return RUN_CARD_DEFAULTS[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        yield from self._entries
        yield from (k for k in RUN_CARD_DEFAULTS if k not in self._entries)

    def __len__(self) -> int:
        return len(set(self._entries) | set(RUN_CARD_DEFAULTS))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and (key.lower() in self._entries or key.lower() in RUN_CARD_DEFAULTS)

    def is_set(self, key: str) -> bool:
        """Whether the card itself sets ``key`` (rather than taking the default)."""
        return key.lower() in self._entries

    def line_of(self, key: str) -> int | None:
        """Line number where the card sets ``key``, or ``None``."""
        entry = self._entries.get(key.lower())
        return entry.line if entry else None

    def __repr__(self) -> str:
        return f"RunCard(path={self.path!r}, set={len(self._entries)} keys, overrides={self.overrides!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RunCard) and dict(self.items()) == dict(other.items())

    __hash__ = None  # type: ignore[assignment]

    # -- derived ----------------------------------------------------------
    def physics_values(self) -> dict[str, Any]:
        """Every value that changes the physics: all keys except technical ones.

        Unknown keys are included (a change there may matter), so two cards with
        equal ``physics_values()`` describe the same integrand.
        """
        return {k: v for k, v in sorted(self.items()) if k not in TECHNICAL_KEYS}

    def check_supported(self) -> None:
        """Raise :class:`CardError` for physics this tool would not reproduce.

        Checks beams, PDF labels, the scale choice, ``event_norm``, ``sde_strategy`` and every
        unsupported physics key set away from MadGraph's inactive value; warns
        (once) about unknown keys.
        """
        def fail(key: str, problem: str) -> None:
            raise CardError(f"{_where(self.path, self.line_of(key))}: {problem}")

        for beam in ("lpp1", "lpp2"):
            if self[beam] not in _SUPPORTED_LPP:
                fail(beam, f"{beam} = {self[beam]} is not supported (0 lepton, 1 proton, -1 antiproton)")
        hadronic = self["lpp1"] != 0 or self["lpp2"] != 0
        pdlabel = str(self["pdlabel"]).lower()
        if hadronic and pdlabel not in _SUPPORTED_PDLABELS:
            fail("pdlabel", f"pdlabel = {self['pdlabel']} is not supported for hadron beams "
                            f"(use {' or '.join(_SUPPORTED_PDLABELS)})")
        if self["dynamical_scale_choice"] not in _SUPPORTED_SCALE_CHOICES and not (
                self["fixed_ren_scale"] and self["fixed_fac_scale"]):
            fail("dynamical_scale_choice",
                 f"dynamical_scale_choice = {self['dynamical_scale_choice']} is not supported "
                 f"(use one of {', '.join(map(str, _SUPPORTED_SCALE_CHOICES))})")
        if str(self["event_norm"]).lower() not in _EVENT_NORMS:
            fail("event_norm", f"event_norm = {self['event_norm']} is not supported "
                               f"(use {', '.join(_EVENT_NORMS)})")
        if self["maxjetflavor"] not in (4, 5):
            fail("maxjetflavor", f"maxjetflavor = {self['maxjetflavor']} is not supported (use 4 or 5)")
        if self["sde_strategy"] not in (1, 2):
            fail("sde_strategy", f"sde_strategy = {self['sde_strategy']} is not supported "
                                 "(1: diagram amplitudes, 2: propagator denominators)")
        in_use = ["ebeam1", "ebeam2", "bwcutoff"]
        in_use += ["scale"] if self["fixed_ren_scale"] else ["scalefact"]
        in_use += ["dsqrt_q2fact1", "dsqrt_q2fact2"] if self["fixed_fac_scale"] else ["scalefact"]
        for key in dict.fromkeys(in_use):
            if not (math.isfinite(self[key]) and self[key] > 0):
                fail(key, f"{key} = {self[key]} must be a positive number")
        for key, inactive in UNSUPPORTED_PHYSICS_KEYS.items():
            value = self[key]
            if isinstance(inactive, str):
                active = str(value).replace(" ", "").lower() not in ("{}", "", "none")
            else:
                active = value != inactive
            if active:
                fail(key, f"{key} = {value} is not supported: it changes the physics "
                          f"(MadGraph's inactive value is {inactive})")
        if self.unknown_keys:
            warnings.warn(f"{_where(self.path, None)}: unknown run-card keys kept and ignored: "
                          f"{', '.join(self.unknown_keys)}", UserWarning, stacklevel=3)

    # -- edits and output -------------------------------------------------
    def with_overrides(self, overrides: Mapping[str, Any]) -> "RunCard":
        """A new card with ``overrides`` applied (written into :attr:`text`) and recorded.

        Values may be given typed or as card text (``"1d3"``, ``".true."``).
        Raises :class:`CardError` for a value that does not fit its key.
        """
        entries = dict(self._entries)
        lines = self.text.splitlines()
        recorded = dict(self.overrides)
        for key, value in overrides.items():
            key = key.lower()
            if isinstance(value, str):
                try:
                    value = _parse_value(value, _type_of(key))
                except ValueError as exc:
                    raise CardError(f"override {key} = {value!r}: value {exc}") from None
            elif _type_of(key) is float and isinstance(value, (int, float)) and not isinstance(value, bool):
                value = float(value)
            elif _type_of(key) is int and isinstance(value, float) and value == int(value):
                value = int(value)
            new_line = f" {_format_value(value)} = {key} ! override"
            if key in entries:
                lineno = entries[key].line
                old = lines[lineno - 1]
                comment = old.split("!", 1)[1] if "!" in old else " override"
                lines[lineno - 1] = f" {_format_value(value)} = {key} !{comment}"
            else:
                lines.append(new_line)
                lineno = len(lines)
            entries[key] = _Entry(key, value, lineno)
            recorded[key] = value
        text = "\n".join(lines) + "\n"
        return RunCard(entries, text, self.path, recorded, strict=True)

    def write(self, path: str | os.PathLike) -> None:
        """Write the card's text (overrides included) to ``path``."""
        Path(path).write_text(self.text)


def read_run_card(path: str | os.PathLike, strict: bool = True) -> RunCard:
    """Read a MadGraph ``run_card.dat``.

    Raises :class:`CardError` (one line naming file and line) for a missing
    file, a malformed line, a value of the wrong type, or -- with ``strict`` --
    physics this tool does not support.
    """
    return RunCard.from_text(_read_text(path), path=path, strict=strict)
