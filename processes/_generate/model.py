"""The slice of MadGraph's ``sm`` model the built-in processes need.

Particles carry their spin, colour representation and the C expressions of
their mass and width (fields of ``SmParameters`` in csrc/sm_parameters.h).
Vertices are listed with all legs incoming, as the diagram generator sees them,
together with the C expressions of their couplings in the convention of
csrc/helas.h (FFV vertex ``i gamma^mu (gl P_L + gr P_R)``).

Example:
    >>> from model import PARTICLES, anti, ffv_coupling
    >>> PARTICLES[6].color, anti(24)
    (3, -24)
    >>> ffv_coupling(-2, 2, 21)
    ('gs', 'gs')
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Particle", "PARTICLES", "particle", "anti", "ffv_coupling", "coupling_declarations"]


@dataclass(frozen=True)
class Particle:
    """One particle (pdg > 0 for fermions; W+ is 24, W- is -24)."""

    pdg: int
    name: str
    spin: str        # "F" or "V"
    color: int       # 1, 3 or 8
    mass: str        # C expression, "0.0" if massless
    width: str       # C expression, "0.0" if stable
    self_conjugate: bool


def _fermions() -> list[Particle]:
    masses = {5: ("sm->MB", "0.0"), 6: ("sm->MT", "sm->WT"), 15: ("sm->MTA", "sm->WTA")}
    names = {1: "d", 2: "u", 3: "s", 4: "c", 5: "b", 6: "t", 11: "e-", 12: "ve", 13: "mu-",
             14: "vm", 15: "ta-", 16: "vt"}
    out = []
    for pdg, name in names.items():
        mass, width = masses.get(pdg, ("0.0", "0.0"))
        out.append(Particle(pdg, name, "F", 3 if pdg <= 6 else 1, mass, width, False))
    return out


PARTICLES: dict[int, Particle] = {p.pdg: p for p in _fermions()}
PARTICLES.update({
    21: Particle(21, "g", "V", 8, "0.0", "0.0", True),
    22: Particle(22, "a", "V", 1, "0.0", "0.0", True),
    23: Particle(23, "z", "V", 1, "sm->MZ", "sm->WZ", True),
    24: Particle(24, "w+", "V", 1, "sm->MW", "sm->WW", False),
})


def particle(pdg: int) -> Particle:
    """The particle record of ``pdg`` (antiparticles share their particle's record)."""
    return PARTICLES[abs(pdg)]


def anti(pdg: int) -> int:
    """The antiparticle's pdg id."""
    return pdg if particle(pdg).self_conjugate else -pdg


_UP = {2, 4, 6}
_DOWN = {1, 3, 5}
_CHARGED_LEPTON = {11, 13, 15}
_NEUTRINO = {12, 14, 16}
_W_PARTNER = {2: 1, 4: 3, 6: 5, 12: 11, 14: 13, 16: 15}


def ffv_coupling(fbar: int, f: int, v: int) -> tuple[str, str] | None:
    """C expressions (gl, gr) of the vertex (incoming antifermion ``fbar`` < 0,
    incoming fermion ``f`` > 0, incoming vector ``v``), or None if absent."""
    a, b = -fbar, f
    if a <= 0 or b <= 0:
        return None
    if v == 21:
        return ("gs", "gs") if a == b and a <= 6 else None
    if v == 22:
        return (f"ga_{a}_l", f"ga_{a}_r") if a == b and a not in _NEUTRINO else None
    if v == 23:
        return (f"gz_{a}_l", f"gz_{a}_r") if a == b else None
    # W: incoming fbar_a f_b W(v) conserves charge when Q_v = Q_a - Q_b
    if v == 24 and _W_PARTNER.get(a) == b:
        return ("gw_l", "gw_r")
    if v == -24 and _W_PARTNER.get(b) == a:
        return ("gw_l", "gw_r")
    return None


def coupling_declarations(names: set[str]) -> list[str]:
    """C statements that define the coupling variables in ``names``."""
    lines = []
    done = set()
    for name in sorted(names):
        if name == "gs":
            continue
        stem = name.rsplit("_", 1)[0]
        if stem in done:
            continue
        done.add(stem)
        if stem.startswith("ga_"):
            pdg = int(stem.split("_")[1])
            lines.append(f"double {stem}_l, {stem}_r;")
            lines.append(f"sm_photon_coupling(sm, {pdg}, &{stem}_l, &{stem}_r);")
        elif stem.startswith("gz_"):
            pdg = int(stem.split("_")[1])
            lines.append(f"double {stem}_l, {stem}_r;")
            lines.append(f"sm_z_coupling(sm, {pdg}, &{stem}_l, &{stem}_r);")
        elif stem == "gw":
            lines.append("double gw_l, gw_r;")
            lines.append("sm_w_coupling(sm, &gw_l, &gw_r);")
    return lines
