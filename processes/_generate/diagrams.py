"""Tree-level Feynman diagrams of a fixed list of external particles.

Every leg is treated as incoming (an outgoing particle becomes its incoming
antiparticle). Off-shell currents ``J(S)`` are built recursively from every
unordered split of the leg set ``S`` into two (three-point vertex) or three
(four-gluon vertex) blocks; a diagram is a split of all legs but the last into
blocks whose currents meet the last leg at one vertex. The vertex next to the
last leg is unique in every tree, so each Feynman diagram appears exactly once.
A four-gluon vertex is split into its three colour structures (``term``), so a
diagram with one such vertex appears as three *pieces* sharing one ``key``.

Example:
    >>> from diagrams import generate
    >>> pieces = generate((21, 21, 6, -6), incoming=2, families={"qcd"})
    >>> len({p.key for p in pieces})
    3
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations

from model import PARTICLES, anti, ffv_coupling, particle

__all__ = ["Current", "Piece", "generate", "incoming_pdgs"]

_VECTORS = (21, 22, 23, 24, -24)
_FAMILY_OF_VECTOR = {21: "qcd", 22: "a", 23: "z", 24: "w", -24: "w"}
_FERMIONS = tuple(p for p in PARTICLES if PARTICLES[p].spin == "F")

#: the three colour structures f^{abe} f^{cde} of the four-gluon vertex, as
#: orderings (a, b, c, d) of its legs x0..x3
VVVV_TERMS = ((0, 1, 2, 3), (0, 2, 1, 3), (0, 3, 1, 2))


@dataclass(frozen=True)
class Current:
    """An external leg or an off-shell line: ``legs`` it contains, the particle
    ``pdg`` it carries into its consuming vertex, the vertex ``kind`` that made
    it ('ext', 'ffv', 'vvv', 'vvvv'), its inputs and, for 'vvvv', the term."""

    legs: frozenset
    pdg: int
    kind: str
    children: tuple = ()
    term: int = -1
    couplings: tuple = ()

    @property
    def leg(self) -> int:
        """The external leg (0-based) of an 'ext' current."""
        return next(iter(self.legs))

    def key(self) -> tuple:
        """Identity of the Feynman sub-diagram, ignoring four-gluon terms."""
        return (self.kind, self.pdg, tuple(sorted(self.legs)), tuple(c.key() for c in self.children))

    def has_four_point(self) -> bool:
        return self.kind == "vvvv" or any(c.has_four_point() for c in self.children)


@dataclass(frozen=True)
class Piece:
    """One colour structure of one diagram: the currents meeting the last leg."""

    root_leg: Current
    children: tuple
    kind: str
    term: int = -1
    couplings: tuple = ()
    key: tuple = field(default=(), compare=False)

    def has_four_point(self) -> bool:
        return self.kind == "vvvv" or any(c.has_four_point() for c in self.children)


def incoming_pdgs(pdgs: tuple, incoming: int) -> tuple:
    """The pdg ids with the outgoing legs crossed to incoming antiparticles."""
    return tuple(p if i < incoming else anti(p) for i, p in enumerate(pdgs))


def _vertex3(x: int, y: int, z: int, families: frozenset):
    """(kind, couplings, ordered legs) of an all-incoming three-point vertex, or None.

    For 'ffv' the order is (fbar, f, V) as indices into (x, y, z)."""
    pdgs = (x, y, z)
    spins = [particle(p).spin for p in pdgs]
    if spins.count("F") == 2 and spins.count("V") == 1:
        v = spins.index("V")
        f1, f2 = [i for i in range(3) if i != v]
        if pdgs[f1] > 0 > pdgs[f2]:
            f1, f2 = f2, f1
        fbar, f = f1, f2
        if not (pdgs[fbar] < 0 < pdgs[f]):
            return None
        if _FAMILY_OF_VECTOR.get(pdgs[v]) not in families:
            return None
        coupling = ffv_coupling(pdgs[fbar], pdgs[f], pdgs[v])
        return None if coupling is None else ("ffv", coupling, (fbar, f, v))
    if pdgs == (21, 21, 21) and "qcd" in families:
        return ("vvv", ("gs",), (0, 1, 2))
    return None


def _splits(items: tuple, parts: int):
    """Unordered splits of ``items`` into ``parts`` non-empty blocks (tuples)."""
    if parts == 1:
        yield (items,)
        return
    first, rest = items[0], items[1:]
    # the block holding the first item, then splits of the remainder
    for size in range(0, len(rest) + 1):
        for chosen in combinations(rest, size):
            block = (first,) + chosen
            remainder = tuple(x for x in rest if x not in chosen)
            if len(remainder) < parts - 1:
                continue
            for tail in _splits(remainder, parts - 1):
                yield (block,) + tail


def generate(pdgs: tuple, incoming: int, families: set) -> list[Piece]:
    """All diagram pieces of the process ``pdgs`` (physical ids, incoming first)
    built from vertices of the given ``families`` ('qcd', 'a', 'z', 'w')."""
    families = frozenset(families)
    ext = incoming_pdgs(tuple(pdgs), incoming)
    n = len(ext)

    @lru_cache(maxsize=None)
    def currents(legs: tuple) -> tuple:
        if len(legs) == 1:
            return (Current(frozenset(legs), ext[legs[0]], "ext"),)
        out = []
        for a, b in _splits(legs, 2):
            for ca in currents(a):
                for cb in currents(b):
                    for p in _outputs3(ca.pdg, cb.pdg):
                        vertex = _vertex3(ca.pdg, cb.pdg, anti(p), families)
                        out.append(Current(frozenset(legs), p, vertex[0], (ca, cb), -1, vertex[1]))
        if "qcd" in families and len(legs) >= 3:
            for blocks in _splits(legs, 3):
                for cs in _products([currents(b) for b in blocks]):
                    if all(c.pdg == 21 for c in cs):
                        for term in range(3):
                            out.append(Current(frozenset(legs), 21, "vvvv", tuple(cs), term, ("gs",)))
        return tuple(out)

    def _outputs3(x: int, y: int):
        found = []
        for p in _VECTORS + _FERMIONS + tuple(-f for f in _FERMIONS):
            if _vertex3(x, y, anti(p), families) is not None:
                found.append(p)
        return found

    root = Current(frozenset((n - 1,)), ext[n - 1], "ext")
    others = tuple(range(n - 1))
    pieces = []
    for a, b in _splits(others, 2):
        for ca in currents(a):
            for cb in currents(b):
                vertex = _vertex3(ca.pdg, cb.pdg, root.pdg, families)
                if vertex is not None:
                    key = ("root", tuple(sorted((ca.key(), cb.key()))))
                    pieces.append(Piece(root, (ca, cb), vertex[0], -1, vertex[1], key))
    if "qcd" in families and root.pdg == 21:
        for blocks in _splits(others, 3):
            for cs in _products([currents(b) for b in blocks]):
                if all(c.pdg == 21 for c in cs):
                    key = ("root4", tuple(sorted(c.key() for c in cs)))
                    for term in range(3):
                        pieces.append(Piece(root, tuple(cs), "vvvv", term, ("gs",), key))
    return pieces


def _products(lists):
    if not lists:
        yield ()
        return
    for head in lists[0]:
        for tail in _products(lists[1:]):
            yield (head,) + tail
