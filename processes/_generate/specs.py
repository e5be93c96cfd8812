"""The generated built-in processes: subprocess groups and allowed vertices.

Each entry: ``description``, ``mg5_process`` (the MadGraph command it
reproduces), ``collider``, ``version`` (part of the UMAMI fingerprint),
``families`` (vertex families: 'qcd', 'a' photon, 'z', 'w'), ``groups`` (lists
of PDG tuples, incoming first, sharing one diagram list; the flavour index
counts through them in order) and optionally ``require_clusters``: (final-state
legs, |pdg|) pairs an s-channel propagator must match, to keep only resonant
diagrams.

Example:
    >>> from specs import PROCESSES
    >>> PROCESSES["ttbar"]["groups"][0]
    [(21, 21, 6, -6)]
"""

from __future__ import annotations

__all__ = ["PROCESSES"]

#: MadGraph's order of the light flavours inside a subprocess group
LIGHT = (2, 4, 1, 3)
_W_PAIRS = ((2, -1), (4, -3))  # (up-type, down-type antiquark) for W+

PROCESSES: dict[str, dict] = {
    "ee_mumu": {
        "description": "e+ e- > mu+ mu- through photon and Z",
        "mg5_process": "e+ e- > mu+ mu-",
        "collider": "lepton",
        "version": "1.0",
        "families": {"a", "z"},
        "groups": [[(-11, 11, -13, 13)]],
    },
    "ee_qqg": {
        "description": "e+ e- > q q~ g (q = u c d s, massless) through photon and Z",
        "mg5_process": "e+ e- > j j j (QCD=1: q q~ g)",
        "collider": "lepton",
        "version": "1.0",
        "families": {"a", "z", "qcd"},
        "groups": [[(-11, 11, q, -q, 21) for q in LIGHT]],
    },
    "drell_yan": {
        "description": "p p > e+ e- through photon and Z (u c d s; q q~ and q~ q)",
        "mg5_process": "p p > e+ e-",
        "collider": "hadron",
        "version": "1.0",
        "families": {"a", "z"},
        "groups": [[(q, -q, -11, 11) for q in LIGHT], [(-q, q, -11, 11) for q in LIGHT]],
    },
    "w_production": {
        "description": "p p > e+ ve through an s-channel W+ (u d~, c s~ and swapped beams)",
        "mg5_process": "p p > e+ ve",
        "collider": "hadron",
        "version": "1.0",
        "families": {"w"},
        "groups": [[(u, d, -11, 12) for u, d in _W_PAIRS], [(d, u, -11, 12) for u, d in _W_PAIRS]],
    },
    "w_jet": {
        "description": "p p > e+ ve j through W+ with one QCD emission, 4 light flavours",
        "mg5_process": "p p > e+ ve j",
        "collider": "hadron",
        "version": "1.0",
        "families": {"w", "qcd"},
        "groups": [
            [(u, d, -11, 12, 21) for u, d in _W_PAIRS],
            [(d, u, -11, 12, 21) for u, d in _W_PAIRS],
            [(u, 21, -11, 12, -d) for u, d in _W_PAIRS],
            [(21, u, -11, 12, -d) for u, d in _W_PAIRS],
            [(d, 21, -11, 12, -u) for u, d in _W_PAIRS],
            [(21, d, -11, 12, -u) for u, d in _W_PAIRS],
        ],
    },
    "ttbar": {
        "description": "p p > t t~ in QCD (g g, q q~, q~ q)",
        "mg5_process": "p p > t t~",
        "collider": "hadron",
        "version": "1.0",
        "families": {"qcd"},
        "groups": [[(21, 21, 6, -6)], [(q, -q, 6, -6) for q in LIGHT], [(-q, q, 6, -6) for q in LIGHT]],
    },
    "ttbar_jet": {
        "description": "p p > t t~ j in QCD",
        "mg5_process": "p p > t t~ j",
        "collider": "hadron",
        "version": "1.0",
        "families": {"qcd"},
        "groups": [
            [(21, 21, 6, -6, 21)],
            [(q, -q, 6, -6, 21) for q in LIGHT],
            [(-q, q, 6, -6, 21) for q in LIGHT],
            [(q, 21, 6, -6, q) for q in LIGHT],
            [(21, q, 6, -6, q) for q in LIGHT],
            [(-q, 21, 6, -6, -q) for q in LIGHT],
            [(21, -q, 6, -6, -q) for q in LIGHT],
        ],
    },
    "gg_ggg": {
        "description": "g g > g g g",
        "mg5_process": "g g > g g g",
        "collider": "hadron",
        "version": "1.0",
        "families": {"qcd"},
        "groups": [[(21, 21, 21, 21, 21)]],
    },
    "ttbar_dilepton": {
        "description": "p p > t t~ > b e+ ve b~ mu- vm~, doubly resonant diagrams, massive b",
        "mg5_process": "p p > t t~, (t > b w+, w+ > e+ ve), (t~ > b~ w-, w- > mu- vm~)",
        "collider": "hadron",
        "version": "1.0",
        "families": {"qcd", "w"},
        "groups": [
            [(21, 21, 5, -11, 12, -5, 13, -14)],
            [(q, -q, 5, -11, 12, -5, 13, -14) for q in LIGHT],
            [(-q, q, 5, -11, 12, -5, 13, -14) for q in LIGHT],
        ],
        # legs 0-based: 2 b, 3 e+, 4 ve, 5 b~, 6 mu-, 7 vm~
        "require_clusters": [((2, 3, 4), 6), ((5, 6, 7), 6), ((3, 4), 24), ((6, 7), 24)],
        # Decay-chain syntax: MadGraph keeps these within bwcutoff widths of their poles.
        "onshell_resonances": [6, -6, 24, -24],
    },
}
