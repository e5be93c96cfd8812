"""Renormalisation and factorisation scales as MadEvent sets them.

The run card's scale settings (``fixed_ren_scale``, ``fixed_fac_scale``,
``scale``, ``dsqrt_q2fact1/2``, ``scalefact``, ``dynamical_scale_choice``)
mean, per event (MadGraph 3.x ``setscales.f`` and ``reweight.f``):

* fixed: ``mu_R = scale``, ``mu_F1,2 = dsqrt_q2fact1,2`` (no ``scalefact``);
* ``1``: the total transverse energy ``sum_i E_i pT_i / |p_i|`` of the final state;
* ``2``: the sum of transverse masses ``sum_i sqrt((E_i + pz_i)(E_i - pz_i))``;
* ``3``: half of it;
* ``4``: ``sqrt(s-hat)``;
* ``-1`` (MadGraph's default): kT-clustering of the event, guided by the
  Feynman diagrams, back to a 2 -> 2 core; the central scale is the core's
  m_T^2 (``M^2 + pT^2`` of a single heavy object, the geometric mean
  ``sqrt(mT1^2 mT2^2)`` of a pair of QCD particles from a QCD vertex, the kT
  of the last massless pair), and the factorisation scale of each beam is the
  geometric mean of that beam's last QCD clustering scale and the central one.

Dynamical scales are multiplied by ``scalefact`` (factorisation scales by
``scalefact`` as well). Transverse quantities are taken in the partonic rest
frame, as MadEvent's momenta are.

The ``-1`` clustering follows MadGraph's ``cluster.f`` / ``setclscales`` for
``ickkw = 0``: kT measures ``djb`` (one leg against the beams: ``m^2 + pT^2``
with PDFs, ``E^2`` without) and ``dj`` (two final-state legs: Durham without
PDFs, the hadronic kT measure with ``D = 1`` otherwise), the ``1 + 1e-6``
preference for clustering a leg to the beam it moves along, invariant mass for
on-shell resonances, the boost and rotation after initial-state clusterings,
and the jfirst / jlast / jcentral walk. Approximations, by name:

* ``BW_TAGGING``: a resonance of the event's channel counts as on shell when
  ``|sqrt(s_ij) - M| < bwcutoff * Gamma`` (needs masses and widths: pass a
  param card); MadGraph's graph filter by tagged resonances is not applied;
* ``QCD_BY_PDG``: coloured particles are the SM quarks and the gluon;
* ``NO_DIAGRAM``: without a diagram the whole final state is one s-channel
  object, so the scale is ``sqrt(s-hat)`` (MadEvent has no such case);
* ``FIXED_FAC_KEPT``: with a fixed factorisation scale and ``-1`` for the
  renormalisation scale the fixed value is kept where MadGraph's walk would
  overwrite it for a colourless beam line;
* ``ROTATION``: the rotation after a boosted initial-state clustering is the
  minimal one taking the new beam line onto +z (MadGraph's ``constr`` /
  ``rotate``, taken to be the same rotation).

MadGraph 3.x releases differ in details of this code (the on-shell refresh, the
place where ``scalefact`` enters); the sources followed are those of the
3.x ``Template/LO/SubProcesses`` tree.

MadGraph rejects events whose hadronic factorisation scale is below 2 GeV;
:meth:`ScaleChoice.valid` gives that mask.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.cards import RunCard
    >>> rc = RunCard.from_text(" 4 = dynamical_scale_choice\\n")
    >>> p = np.array([[[50, 0, 0, 50], [50, 0, 0, -50], [50, 30, 0, 40], [50, -30, 0, -40]]], float)
    >>> [float(x[0]) for x in ScaleChoice.from_run_card(rc).scales(p, (2, -2, 11, -11), np.zeros(4))]
    [100.0, 100.0, 100.0]
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

__all__ = ["ScaleChoice", "cluster_scales"]

#: kT-distance parameter of MadGraph's ``dj`` (hidden run-card value ``d``).
_D = 1.0
#: Preference factor for clustering a leg to the beam it moves along.
_BEAM_SIDE_PREFERENCE = 1.0 + 1e-6
#: MadGraph boosts after an initial-state clustering only above this pcms^2 (GeV^2).
_BOOST_THRESHOLD = 100.0
#: Lowest hadronic factorisation scale MadGraph accepts (GeV).
MIN_FACTORISATION_SCALE = 2.0


# ---------------------------------------------------------------- kinematics
def _dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a[..., 0] * b[..., 0] - a[..., 1] * b[..., 1] - a[..., 2] * b[..., 2] - a[..., 3] * b[..., 3]


def _boost_z(p: np.ndarray, rapidity: np.ndarray) -> np.ndarray:
    """Boost ``p`` (..., 4) along z by ``rapidity`` (broadcast over leading axes)."""
    ch, sh = np.cosh(rapidity), np.sinh(rapidity)
    out = p.copy()
    out[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    out[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return out


def to_partonic_frame(momenta: np.ndarray) -> np.ndarray:
    """Boost collider-frame momenta ``(n, n_ext, 4)`` along z to the rest frame of legs 1 + 2."""
    p_in = momenta[:, 0, :] + momenta[:, 1, :]
    y = 0.5 * np.log((p_in[:, 0] + p_in[:, 3]) / (p_in[:, 0] - p_in[:, 3]))
    return _boost_z(momenta, -y[:, None])


def _djb(p: np.ndarray, hadronic: bool) -> np.ndarray:
    """MadGraph's ``djb``: ``m^2 + pT^2`` with PDFs, ``E^2`` without."""
    if hadronic:
        return (p[..., 0] - p[..., 3]) * (p[..., 0] + p[..., 3])
    return np.maximum(p[..., 0], 0.0) ** 2


def _dj(p1: np.ndarray, m1: np.ndarray, p2: np.ndarray, m2: np.ndarray, hadronic: bool,
        maxjetflavor: int) -> np.ndarray:
    """MadGraph's ``dj``: the kT distance of two final-state objects (mass^2 ``m1``, ``m2``)."""
    if not hadronic:
        a1 = np.linalg.norm(p1[..., 1:], axis=-1)
        a2 = np.linalg.norm(p2[..., 1:], axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cos = np.einsum("...i,...i->...", p1[..., 1:], p2[..., 1:]) / (a1 * a2)
        value = 2.0 * np.minimum(p1[..., 0] ** 2, p2[..., 0] ** 2) * (1.0 - cos)
        return np.where(a1 * a2 != 0, value, 0.0)
    pt1 = p1[..., 1] ** 2 + p1[..., 2] ** 2
    pt2 = p2[..., 1] ** 2 + p2[..., 2] ** 2
    a1 = np.sqrt(pt1 + p1[..., 3] ** 2)
    a2 = np.sqrt(pt2 + p2[..., 3] ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        eta1 = 0.5 * np.log((a1 + p1[..., 3]) / (a1 - p1[..., 3]))
        eta2 = 0.5 * np.log((a2 + p2[..., 3]) / (a2 - p2[..., 3]))
        cos_phi = (p1[..., 1] * p2[..., 1] + p1[..., 2] * p2[..., 2]) / np.sqrt(pt1 * pt2)
        generic = np.maximum(m1, m2) + np.minimum(pt1, pt2) * 2.0 * (np.cosh(eta1 - eta2) - cos_phi) / _D**2

    def heavy(m: np.ndarray) -> np.ndarray:
        return ((m >= 3.0) & (maxjetflavor > 4)) | ((m >= 1.0) & (maxjetflavor > 3))

    # Massless-massive pair: the massless leg's distance to the beam, as MadGraph does.
    first = (m1 < 1.0) & heavy(m2)
    second = ~first & (m2 < 1.0) & heavy(m1)
    value = np.where(first, _djb(p1, True) * _BEAM_SIDE_PREFERENCE, generic)
    return np.where(second, _djb(p2, True) * _BEAM_SIDE_PREFERENCE, value)


def _general_boost(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """HELAS ``boostx``: ``p`` from the rest frame of ``q`` to the frame where ``q`` has its momentum."""
    qq = np.linalg.norm(q[..., 1:], axis=-1)
    m = np.sqrt(np.maximum(q[..., 0] ** 2 - qq**2, 0.0))
    safe = (qq > 0) & (m > 0)
    qq_s, m_s = np.where(safe, qq, 1.0), np.where(safe, m, 1.0)
    pq = np.einsum("...i,...i->...", p[..., 1:], q[..., 1:]) / qq_s
    lf = ((q[..., 0] - m_s) * pq + qq_s * p[..., 0]) / m_s
    out = p.copy()
    out[..., 0] = np.where(safe, (p[..., 0] * q[..., 0] + qq_s * pq) / m_s, p[..., 0])
    out[..., 1:] = np.where(safe[..., None], p[..., 1:] + q[..., 1:] * (lf / qq_s)[..., None], p[..., 1:])
    return out


def _rotation_to_z(v: np.ndarray) -> np.ndarray:
    """Rotation matrices (n, 3, 3) turning the 3-vectors ``v`` (n, 3) onto +z (Rodrigues)."""
    n = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-300)
    axis = np.cross(n, np.array([0.0, 0.0, 1.0]))
    s = np.linalg.norm(axis, axis=-1)
    c = n[:, 2]
    k = axis / np.where(s > 0, s, 1.0)[:, None]
    kx = np.zeros((len(v), 3, 3))
    kx[:, 0, 1], kx[:, 0, 2], kx[:, 1, 2] = -k[:, 2], k[:, 1], -k[:, 0]
    kx[:, 1, 0], kx[:, 2, 0], kx[:, 2, 1] = k[:, 2], -k[:, 1], k[:, 0]
    eye = np.broadcast_to(np.eye(3), kx.shape)
    rot = eye + s[:, None, None] * kx + (1 - c)[:, None, None] * (kx @ kx)
    flip = (s == 0) & (c < 0)  # antiparallel: turn by pi about x
    rot[flip] = np.diag([1.0, -1.0, -1.0])
    return rot


# ------------------------------------------------------------------ diagrams
def _is_qcd(pdg: int) -> bool:
    return 1 <= abs(pdg) <= 6 or abs(pdg) == 21


def _propagators(diagram: Any) -> list[tuple[int, str, tuple[int, int], int]]:
    props = diagram["propagators"] if isinstance(diagram, Mapping) else diagram.propagators
    out = []
    for p in props:
        if isinstance(p, Mapping):
            out.append((int(p["id"]), str(p["type"]), tuple(p["daughters"]), int(p["pdg"])))
        else:
            out.append((int(p.id), str(p.type), tuple(p.daughters), int(p.pdg)))
    return out


def _number(diagram: Any) -> int:
    return int(diagram["number"] if isinstance(diagram, Mapping) else diagram.number)


@dataclass(frozen=True)
class _Graph:
    """A diagram as MadGraph's cluster map: internal-line masks (and complements) -> PDG."""

    number: int
    lines: dict[int, int]
    s_channel: dict[int, int]  # mask of an s-channel line -> PDG

    @classmethod
    def of(cls, diagram: Any, n_external: int) -> "_Graph":
        full = (1 << n_external) - 1
        masks: dict[int, int] = {}
        lines: dict[int, int] = {}
        s_channel: dict[int, int] = {}
        for pid, kind, daughters, pdg in _propagators(diagram):
            mask = 0
            for d in daughters:
                mask |= (1 << (d - 1)) if d > 0 else masks[d]
            masks[pid] = mask
            lines.setdefault(mask, pdg)
            lines.setdefault(full ^ mask, pdg)
            if kind == "s":
                s_channel[mask] = pdg
        return cls(_number(diagram), lines, s_channel)


@dataclass
class _History:
    """The merge sequence shared by a group of events (MadGraph's idacl / imocl)."""

    daughters: list[tuple[int, int]] = field(default_factory=list)
    mothers: list[int] = field(default_factory=list)
    initial_state: list[bool] = field(default_factory=list)


# ----------------------------------------------------------------- clustering
class _Clusterer:
    """Vectorised MadGraph clustering: events that pick the same merges move together."""

    def __init__(self, pdgs: Sequence[int], graphs: list[_Graph], channel: _Graph, hadronic: bool,
                 maxjetflavor: int, resonance: Callable[[int], tuple[float, float]] | None,
                 bwcutoff: float) -> None:
        self.pdgs = [int(x) for x in pdgs]
        self.n = len(self.pdgs)
        self.graphs = graphs
        self.channel = channel
        self.hadronic = hadronic
        self.maxjetflavor = maxjetflavor
        self.resonance = resonance
        self.bwcutoff = bwcutoff
        self.results: list[tuple[np.ndarray, _History, _Graph, dict[str, np.ndarray]]] = []

    def _on_shell(self, mask: int, s: np.ndarray) -> np.ndarray:
        """BW_TAGGING: the channel's s-channel line ``mask`` lies within bwcutoff widths of its pole."""
        if self.resonance is None or mask not in self.channel.s_channel:
            return np.zeros(s.shape, dtype=bool)
        mass, width = self.resonance(self.channel.s_channel[mask])
        if width <= 0:
            return np.zeros(s.shape, dtype=bool)
        return np.abs(np.sqrt(np.maximum(s, 0.0)) - mass) < self.bwcutoff * width

    def run(self, p: np.ndarray, m2: np.ndarray) -> None:
        masks = [1 << i for i in range(self.n)]
        n_ev = p.shape[0]
        state = {"pt2": np.zeros((n_ev, self.n - 2)), "mt2": np.zeros((n_ev, self.n - 2)),
                 "mt2last": np.zeros(n_ev), "pcms": np.zeros((n_ev, 4)),
                 "rot": np.broadcast_to(np.eye(3), (n_ev, 3, 3)).copy()}
        if self.n == 3:
            state["pt2"][:, 0] = m2[:, 2]
            history = _History([(1, 2)], [4], [False])
            self.results.append((np.arange(n_ev), history, self.channel, state))
            return
        self._step(np.arange(n_ev), masks, p, m2, [g for g in self.graphs], _History(), state)

    def _candidates(self, masks: list[int], p: np.ndarray, m2: np.ndarray, graphs: list[_Graph]):
        """Admissible pairs in MadGraph's visiting order, with their measures (n, n_pairs)."""
        pairs, values = [], []
        for i in range(2, len(masks)):
            for j in range(i):
                mask = masks[i] | masks[j]
                if not any(mask in g.lines for g in graphs):
                    continue
                if j >= 2:
                    s = _dot(p[:, i] + p[:, j], p[:, i] + p[:, j])
                    value = np.where(self._on_shell(mask, s), s,
                                     _dj(p[:, i], m2[:, i], p[:, j], m2[:, j], self.hadronic,
                                         self.maxjetflavor))
                else:
                    value = _djb(p[:, i], self.hadronic)
                    crossed = np.copysign(1.0, p[:, i, 3]) != np.copysign(1.0, p[:, j, 3])
                    value = np.where(crossed, value * _BEAM_SIDE_PREFERENCE, value)
                pairs.append((i, j))
                values.append(value)
        return pairs, values

    def _step(self, idx: np.ndarray, masks: list[int], p: np.ndarray, m2: np.ndarray,
              graphs: list[_Graph], history: _History, state: dict[str, np.ndarray]) -> None:
        pairs, values = self._candidates(masks, p, m2, graphs)
        if not pairs:
            raise ValueError(f"cannot cluster legs {masks} of {self.pdgs} along the given diagrams")
        table = np.stack(values, axis=1)
        # Strict '<' in visiting order: argmin returns the first minimum, as MadGraph.
        table = np.where(np.isfinite(table) & (table < 1e37), table, np.inf)
        winner = np.argmin(table, axis=1)
        for w in np.unique(winner):
            sel = winner == w
            self._merge(idx[sel], masks, p[sel], m2[sel], graphs, history, pairs[w],
                        table[sel, w], {k: v[sel] for k, v in state.items()})

    def _merge(self, idx, masks, p, m2, graphs, history, pair, pt2, state) -> None:
        i, j = pair
        n_step = len(history.mothers)
        mother = masks[i] | masks[j]
        graphs = [g for g in graphs if mother in g.lines]
        state = {k: v.copy() for k, v in state.items()}
        state["pt2"][:, n_step] = pt2
        history = _History(history.daughters + [(masks[j], masks[i])], history.mothers + [mother],
                           history.initial_state + [j < 2])
        p = p.copy()
        m2 = m2.copy()
        nleft = len(masks)
        if j < 2:
            state["mt2"][:, n_step] = _djb(p[:, i], self.hadronic)
            new = p[:, j] - p[:, i]
            partner = p[:, 1 - j]
            pcms = -(new + partner)
            pcms[:, 0] = -pcms[:, 0]
            state["pcms"] = pcms
            new_m2 = np.maximum(m2[:, i], m2[:, j])
            boost = (_dot(pcms, pcms) > _BOOST_THRESHOLD) & (nleft > 4)
            if boost.any():
                boosted = _general_boost(p[boost], pcms[boost, None, :])
                new_b = _general_boost(new[boost], pcms[boost])
                rot = _rotation_to_z(new_b[:, 1:])
                boosted[..., 1:] = np.einsum("nab,nkb->nka", rot, boosted[..., 1:])
                new_b[:, 1:] = np.einsum("nab,nb->na", rot, new_b[:, 1:])
                p[boost] = boosted
                new[boost] = new_b
                state["rot"][boost] = rot
        else:
            new = p[:, i] + p[:, j]
            new_m2 = np.maximum(m2[:, i], m2[:, j])
            new_m2 = np.where(self._on_shell(mother, pt2), pt2, new_m2)
        keep = [k for k in range(nleft) if k != i]
        new_masks = [mother if k == j else masks[k] for k in keep]
        p_new = p[:, keep]
        m2_new = m2[:, keep]
        p_new[:, keep.index(j)] = new
        m2_new[:, keep.index(j)] = new_m2
        if len(new_masks) > 3:
            self._step(idx, new_masks, p_new, m2_new, graphs, history, state)
            return
        # Three lines left: the 2 -> 1 core vertex.
        blob = p_new[:, 2].copy()
        if j >= 2:
            state["mt2last"] = np.sqrt(_djb(p[:, i], self.hadronic) * _djb(p[:, j], self.hadronic))
            undo = _dot(state["pcms"], state["pcms"]) > _BOOST_THRESHOLD
            if undo.any():
                back = blob[undo].copy()
                back[:, 1:] = np.einsum("nba,nb->na", state["rot"][undo], back[:, 1:])
                q = state["pcms"][undo].copy()
                q[:, 1:] = -q[:, 1:]
                blob[undo] = _general_boost(back, q)
        state["pt2"][:, n_step + 1] = _djb(blob, self.hadronic)
        history.daughters.append((new_masks[0], new_masks[1]))
        history.mothers.append(new_masks[2])
        history.initial_state.append(False)
        chosen = self.channel if self.channel in graphs else min(graphs, key=lambda g: g.number)
        self.results.append((idx, history, chosen, state))


def _line_pdgs(history: _History, graph: _Graph, pdgs: Sequence[int], maxjetflavor: int) -> dict[int, int]:
    """MadGraph's ``ipdgcl`` along the history, with ipartupdate's jet-flavour transmission."""
    ids = {1 << k: int(pdg) for k, pdg in enumerate(pdgs)}
    for mask, pdg in graph.lines.items():
        if bin(mask).count("1") > 1:
            ids.setdefault(mask, pdg)

    def isjet(x: int) -> bool:
        return abs(x) <= maxjetflavor or abs(x) == 21

    for n, ((d1, d2), mo) in enumerate(zip(history.daughters[:-1], history.mothers[:-1])):
        idmo, id1, id2 = ids.get(mo, 0), ids[d1], ids[d2]
        if not isjet(idmo):
            continue
        if history.initial_state[n]:
            # d1 is the beam-side line, d2 the emitted final-state object.
            if id2 < 21 and isjet(id2) and id1 in (21, 22):
                ids[mo] = -id2
            if id1 < 21 and isjet(id1) and id2 in (21, 22):
                ids[mo] = id1
        else:
            if id1 < 21 and isjet(id1) and id2 in (21, 22):
                ids[mo] = id1
            if id2 < 21 and isjet(id2) and id1 in (21, 22):
                ids[mo] = id2
    return ids


def _walk(history: _History, ids: dict[int, int], n_external: int, maxjetflavor: int):
    """setclscales' jfirst / jlast / jcentral walk (1-based merge numbers, 0 = none)."""
    def isjet(x: int) -> bool:
        return abs(x) <= maxjetflavor or abs(x) == 21

    nc = n_external - 2
    beam = [1, 2]
    jfirst, jlast, jcentral = [0, 0], [0, 0], [0, 0]
    qcdline = [_is_qcd(ids[1]), _is_qcd(ids[2])]
    partonline = list(qcdline)
    goodjet = {1: partonline[0], 2: partonline[1]}
    for k in range(2, n_external):
        goodjet[1 << k] = isjet(ids[1 << k])
    for n in range(1, nc + 1):
        d = history.daughters[n - 1]
        mo = history.mothers[n - 1]
        for i in range(2):
            for j in range(2):
                if d[i] != beam[j]:
                    continue
                beam[j] = mo
                if n < nc:
                    other, imo = d[1 - i], mo
                else:
                    other, imo = mo, d[1 - i]
                if partonline[j]:
                    if jfirst[j] == 0:
                        jfirst[j] = n
                    jlast[j] = n
                    partonline[j] = goodjet.get(other, False) and isjet(ids.get(imo, 0))
                else:
                    if jfirst[j] == 0:
                        jfirst[j] = n
                    goodjet[imo] = False
                if qcdline[j]:
                    jcentral[j] = n
                    qcdline[j] = _is_qcd(ids.get(imo, 0))
        if mo not in beam:
            idmo, id1, id2 = ids.get(mo, 0), ids[d[0]], ids[d[1]]
            last = n == nc
            jet_vertex = (not last and _is_qcd(idmo) and _is_qcd(id1) and _is_qcd(id2)
                          and ((isjet(id1) and (isjet(idmo) or idmo == id2))
                               or (isjet(id2) and (isjet(idmo) or idmo == id1))))
            goodjet[mo] = jet_vertex and isjet(idmo) and goodjet.get(d[0], False) \
                and goodjet.get(d[1], False)
    for j in range(2):
        if jfirst[j] <= 0:
            jfirst[j] = jlast[j]
    return jfirst, jlast, jcentral


def cluster_scales(momenta: np.ndarray, pdgs: Sequence[int], masses: Sequence[float],
                   diagrams: Sequence[Any], channel: Any = None, *, hadronic: bool = True,
                   maxjetflavor: int = 4, scalefact: float = 1.0,
                   resonance: Callable[[int], tuple[float, float]] | None = None,
                   bwcutoff: float = 15.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MadGraph's ``dynamical_scale_choice = -1`` scales (mu_R, mu_F1, mu_F2), each ``(n,)``.

    Args:
        momenta: ``(n, n_external, 4)`` momenta in the partonic rest frame.
        pdgs: external PDG ids, incoming first.
        masses: ``(n_external,)`` pole masses (unused: MadGraph takes each leg's mass^2
            from its momentum; kept so every scale function has one signature).
        diagrams: the subprocess group's diagrams without four-point vertices
            (objects with ``.number`` and ``.propagators``, or their dicts).
        channel: the event's channel diagram (default: the first).
        hadronic: whether the beams carry PDFs (decides ``djb`` and ``dj``).
        resonance: PDG -> (mass, width) for the on-shell test; ``None``: no test.

    Example:
        >>> import numpy as np
        >>> p = np.array([[[250, 0, 0, 250], [250, 0, 0, -250],
        ...                [250, 0, 150, 200], [250, 0, -150, -200]]], float)
        >>> d = {"number": 1, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23}]}
        >>> [round(float(x[0]), 9) for x in cluster_scales(p, (2, -2, 11, -11), (0,) * 4, [d])]
        [500.0, 500.0, 500.0]
    """
    p = np.asarray(momenta, dtype=np.float64)
    n_ext = p.shape[1]
    graphs = [_Graph.of(d, n_ext) for d in diagrams]
    chosen = _Graph.of(channel, n_ext) if channel is not None else graphs[0]
    if channel is not None:
        chosen = next((g for g in graphs if g.number == chosen.number), chosen)
        if chosen not in graphs:
            graphs.append(chosen)
    # MadGraph gives each leg the mass^2 of its momentum, zeroed below 1e-6 GeV^2.
    m2 = _dot(p, p)
    m2 = np.where(np.abs(m2) < 1e-6, 0.0, np.maximum(m2, 0.0))
    clusterer = _Clusterer(pdgs, graphs, chosen, hadronic, maxjetflavor, resonance, bwcutoff)
    clusterer.run(p, m2)

    mu_r = np.zeros(p.shape[0])
    q2 = np.zeros((p.shape[0], 2))
    nc = n_ext - 2
    for idx, history, graph, state in clusterer.results:
        ids = _line_pdgs(history, graph, pdgs, maxjetflavor)
        jfirst, jlast, jcentral = _walk(history, ids, n_ext, maxjetflavor)
        pt2 = np.concatenate([np.zeros((len(idx), 1)), state["pt2"]], axis=1)  # 1-based
        mt2 = np.concatenate([np.zeros((len(idx), 1)), state["mt2"]], axis=1)
        if n_ext > 3 and jlast[0] == nc and jlast[1] == nc:
            d1, d2 = history.daughters[nc - 2]
            mo = history.mothers[nc - 2]
            if _is_qcd(ids[d1]) and _is_qcd(ids[d2]) and _is_qcd(ids.get(mo, 0)):
                last = state["mt2last"] > 4.0
                mt2[last, nc] = state["mt2last"][last]
                mt2[last, nc - 1] = state["mt2last"][last]
        for j in range(2):
            c = jcentral[j]
            if c > 0:
                pt2[:, c] = np.where(mt2[:, c] > 0, mt2[:, c], pt2[:, c])
        for j in range(2):
            if jlast[j] > 0:
                pt2[:, jlast[j]] = np.maximum(pt2[:, jlast[j]], pt2[:, jfirst[j]])
        q2f = np.zeros((len(idx), 2))
        if n_ext == 3:
            q2f[:] = pt2[:, nc, None]
        else:
            for j in range(2):
                if jlast[j] > 0:
                    q2f[:, j] = np.sqrt(pt2[:, jlast[j]] * pt2[:, jcentral[j]])
            if jcentral[0] > 0 and jcentral[0] == jcentral[1]:
                q2f[:] = q2f.max(axis=1, keepdims=True)
        q2f *= scalefact**2
        if jlast[0] > 0 and jlast[1] > 0:
            scale = (pt2[:, jlast[0]] * pt2[:, jcentral[0]] * pt2[:, jlast[1]] * pt2[:, jcentral[1]]) ** 0.125
        elif jlast[0] > 0:
            scale = (pt2[:, jlast[0]] * pt2[:, jcentral[0]]) ** 0.25
        elif jlast[1] > 0:
            scale = (pt2[:, jlast[1]] * pt2[:, jcentral[1]]) ** 0.25
        elif jcentral[0] > 0 and jcentral[1] > 0:
            scale = (pt2[:, jcentral[0]] * pt2[:, jcentral[1]]) ** 0.25
        elif jcentral[0] > 0:
            scale = np.sqrt(pt2[:, jcentral[0]])
        elif jcentral[1] > 0:
            scale = np.sqrt(pt2[:, jcentral[1]])
        else:
            scale = np.sqrt(pt2[:, nc])
        mu_r[idx] = scalefact * scale
        if jcentral[0] == 0 and jcentral[1] == 0:
            unset = ~(q2f[:, 0] > 0)
            q2f[unset, 0] = scalefact**2 * pt2[unset, nc]
            q2f[unset, 1] = scalefact**2 * q2f[unset, 0]  # MadGraph applies scalefact twice here
        elif jcentral[0] == 0:
            q2f[:, 0] = scalefact**2 * pt2[:, jfirst[0]]
        elif jcentral[1] == 0:
            q2f[:, 1] = scalefact**2 * pt2[:, jfirst[1]]
        q2[idx] = q2f
    return mu_r, np.sqrt(q2[:, 0]), np.sqrt(q2[:, 1])


# -------------------------------------------------------------- the choice
@dataclass(frozen=True)
class ScaleChoice:
    """The scale settings of a run card and their per-event values.

    Attributes:
        fixed_ren: ``fixed_ren_scale``.
        fixed_fac: ``fixed_fac_scale``.
        scale: the fixed renormalisation scale (GeV).
        fac_scales: the fixed factorisation scales of beams 1 and 2 (GeV).
        dynamical: ``dynamical_scale_choice`` (-1, 1, 2, 3, 4).
        scalefact: factor on dynamical scales.
        hadronic: whether any beam carries PDFs (MadGraph's kT measures switch on both).
        maxjetflavor: heaviest quark counted as a jet.
        bwcutoff: on-shell window in widths.
        resonance: PDG -> (mass, width) for the on-shell test of ``-1`` (``None``: no test).

    Example:
        >>> from madnis_plugin.cards import RunCard
        >>> sc = ScaleChoice.from_run_card(RunCard.from_text(" T = fixed_ren_scale\\n T = fixed_fac_scale\\n"))
        >>> sc.is_fixed, sc.scale
        (True, 91.188)
    """

    fixed_ren: bool
    fixed_fac: bool
    scale: float
    fac_scales: tuple[float, float]
    dynamical: int = -1
    scalefact: float = 1.0
    hadronic: bool = True
    maxjetflavor: int = 4
    bwcutoff: float = 15.0
    resonance: Callable[[int], tuple[float, float]] | None = None

    @classmethod
    def from_run_card(cls, rc: Any, param_card: Any = None) -> "ScaleChoice":
        """Scales of a run card; ``param_card`` supplies resonance masses and widths for ``-1``."""
        resonance = None if param_card is None else _card_resonance(param_card)
        return cls(fixed_ren=bool(rc["fixed_ren_scale"]), fixed_fac=bool(rc["fixed_fac_scale"]),
                   scale=float(rc["scale"]),
                   fac_scales=(float(rc["dsqrt_q2fact1"]), float(rc["dsqrt_q2fact2"])),
                   dynamical=int(rc["dynamical_scale_choice"]), scalefact=float(rc["scalefact"]),
                   hadronic=not (rc["lpp1"] == 0 and rc["lpp2"] == 0),
                   maxjetflavor=int(rc["maxjetflavor"]), bwcutoff=float(rc["bwcutoff"]),
                   resonance=resonance)

    @property
    def is_fixed(self) -> bool:
        """Whether every scale is fixed (alpha_s can be evaluated once)."""
        return self.fixed_ren and self.fixed_fac

    def scales(self, momenta: np.ndarray, pdgs: Sequence[int], masses: Sequence[float],
               diagram: Any = None, diagrams: Iterable[Any] | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-event ``(mu_R, mu_F1, mu_F2)`` in GeV, each of shape ``(n,)``.

        Args:
            momenta: ``(n, n_external, 4)`` collider-frame momenta, incoming first.
            pdgs: external PDG ids in the same order.
            masses: ``(n_external,)`` pole masses (GeV).
            diagram: the event's channel diagram (for ``-1``).
            diagrams: all diagrams of the subprocess group without four-point
                vertices (for ``-1``; MadGraph clusters along any of them);
                default: the channel's diagram alone.
        """
        p = np.asarray(momenta, dtype=np.float64)
        n = p.shape[0]
        if self.is_fixed or n == 0:
            return (np.full(n, self.scale), np.full(n, self.fac_scales[0]), np.full(n, self.fac_scales[1]))
        partonic = to_partonic_frame(p)
        if self.dynamical == -1:
            mu_r, mu_f1, mu_f2 = self._clustered(partonic, pdgs, masses, diagram, diagrams)
        else:
            mu_r = self.scalefact * self._simple(partonic)
            mu_f1 = mu_f2 = mu_r
        if self.fixed_ren:
            mu_r = np.full(n, self.scale)
        if self.fixed_fac:
            mu_f1, mu_f2 = np.full(n, self.fac_scales[0]), np.full(n, self.fac_scales[1])
        return mu_r, np.asarray(mu_f1, dtype=np.float64), np.asarray(mu_f2, dtype=np.float64)

    def valid(self, mu_f1: np.ndarray, mu_f2: np.ndarray, lpp: tuple[int, int] = (1, 1)) -> np.ndarray:
        """MadGraph's acceptance: factorisation scales of PDF beams at least 2 GeV."""
        ok = np.ones(np.shape(mu_f1), dtype=bool)
        if lpp[0] != 0:
            ok &= np.asarray(mu_f1) >= MIN_FACTORISATION_SCALE
        if lpp[1] != 0:
            ok &= np.asarray(mu_f2) >= MIN_FACTORISATION_SCALE
        return ok

    def _simple(self, p: np.ndarray) -> np.ndarray:
        fs = p[:, 2:, :]
        if self.dynamical == 1:
            pt = np.hypot(fs[..., 1], fs[..., 2])
            with np.errstate(divide="ignore", invalid="ignore"):
                et = np.where(pt > 0, fs[..., 0] * pt / np.sqrt(pt**2 + fs[..., 3] ** 2), 0.0)
            return et.sum(axis=1)
        if self.dynamical in (2, 3):
            mt = np.sqrt(np.maximum((fs[..., 0] + fs[..., 3]) * (fs[..., 0] - fs[..., 3]), 0.0)).sum(axis=1)
            return mt if self.dynamical == 2 else mt / 2.0
        if self.dynamical == 4:
            total = p[:, 0] + p[:, 1]
            return np.sqrt(np.maximum(_dot(total, total), 0.0))
        raise ValueError(f"dynamical_scale_choice = {self.dynamical} is not supported")

    def _clustered(self, p, pdgs, masses, diagram, diagrams):
        if diagram is None and not diagrams:
            _warn_once("dynamical_scale_choice = -1 without a diagram: using sqrt(s-hat) (NO_DIAGRAM)")
            total = p[:, 0] + p[:, 1]
            shat = np.sqrt(np.maximum(_dot(total, total), 0.0))
            mu = self.scalefact * shat
            return mu, mu, mu
        group = list(diagrams) if diagrams else [diagram]
        return cluster_scales(p, pdgs, masses, group, diagram, hadronic=self.hadronic,
                              maxjetflavor=self.maxjetflavor, scalefact=self.scalefact,
                              resonance=self.resonance, bwcutoff=self.bwcutoff)


def _card_resonance(card: Any) -> Callable[[int], tuple[float, float]]:
    """PDG -> (mass, width) from a :class:`~madnis_plugin.cards.ParamCard`."""
    def resonance(pdg: int) -> tuple[float, float]:
        return float(card.mass(pdg)), float(card.width(pdg))
    return resonance


_WARNED: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(message, UserWarning, stacklevel=4)
