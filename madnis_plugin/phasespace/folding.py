"""Fold channels that are the same up to permutations of identical final-state particles.

Two diagrams whose propagator trees become equal when identical final-state
particles (equal PDG codes) are relabelled give channels that are images of
each other under that permutation; sampling one and symmetrising its events
(permuting the identical particles at random) covers both. A diagram's
canonical form is its :class:`~.topology.Topology` with every external leg
replaced by its PDG code and the two daughters of each decay sorted; the
incoming legs keep their place at the ends of the t-channel chain.

Example:
    >>> from madnis_plugin.phasespace import fold_equivalent_channels
    >>> t = lambda x: {"propagators": [{"id": -1, "type": "t", "daughters": [1, x], "pdg": 11},
    ...                                 {"id": -2, "type": "t", "daughters": [-1, 7 - x], "pdg": 0}]}
    >>> fold_equivalent_channels([t(3), t(4)], [11, -11, 22, 22])   # e+ e- > a a: t and u
    [(0, 2, [0, 1])]
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .topology import Node, parse_diagram

__all__ = ["fold_equivalent_channels", "canonical_form", "identical_particle_permutations"]


def _node_form(node: Node, pdgs: Sequence[int]) -> str:
    if node.is_leg:
        return f"{pdgs[node.legs[0] - 1]}"
    daughters = sorted(_node_form(child, pdgs) for child in node.children)
    return f"({node.pdg}>{daughters[0]},{daughters[1]})"


def canonical_form(diagram: Mapping[str, Any], pdgs: Sequence[int]) -> str:
    """A string equal for two diagrams iff they agree up to identical final-state particles.

    Args:
        diagram: a process.json diagram (``{"propagators": [...]}``).
        pdgs: PDG codes of the external legs, incoming first.
    """
    topology = parse_diagram(diagram, len(pdgs))
    blocks = ";".join(_node_form(block, pdgs) for block in topology.blocks)
    chain = ",".join(str(pdg) for pdg in topology.t_pdgs)
    return f"from{topology.t_from}[{blocks}]t[{chain}]"


def fold_equivalent_channels(
    diagrams: Sequence[Mapping[str, Any]], pdgs: Sequence[int]
) -> list[tuple[int, int, list[int]]]:
    """Group diagrams equal up to permutations of identical final-state particles.

    Diagrams marked ``four_point: true`` get no channel and are left out.

    Args:
        diagrams: process.json diagrams of one subprocess group (dicts, or
            records with ``to_dict()``).
        pdgs: PDG codes of the external legs of that group, incoming first.

    Returns:
        ``(representative_index, multiplicity, members)`` per class, in order of
        first appearance; indices refer to ``diagrams``, the representative is
        the first member, ``multiplicity == len(members)``.
    """
    classes: dict[str, list[int]] = {}
    for index, diagram in enumerate(diagrams):
        if hasattr(diagram, "to_dict"):  # a process.Diagram record
            diagram = diagram.to_dict()
        if diagram.get("four_point", False):
            continue
        classes.setdefault(canonical_form(diagram, pdgs), []).append(index)
    return [(members[0], len(members), members) for members in classes.values()]


def identical_particle_permutations(pdgs: Sequence[int], n: int, rng: np.random.Generator) -> np.ndarray:
    """Per event, a uniformly random permutation of the identical final-state particles.

    Applying it to the momenta of events from a folded channel
    (``momenta[np.arange(n)[:, None], perm]``) symmetrises them, so that each
    member of the class is covered with its share.

    Args:
        pdgs: PDG codes of the external legs, incoming first.
        n: number of events.
        rng: random generator.

    Returns:
        ``(n, n_external)`` integer leg indices (0-based); incoming legs and
        particles without an identical partner stay in place.

    Example:
        >>> import numpy as np
        >>> perm = identical_particle_permutations([21, 21, 21, 21, 6], 4, np.random.default_rng(0))
        >>> perm.shape, bool((perm[:, [0, 1, 4]] == [0, 1, 4]).all())
        ((4, 5), True)
    """
    perm = np.tile(np.arange(len(pdgs)), (n, 1))
    for pdg in set(pdgs[2:]):
        legs = np.array([i for i in range(2, len(pdgs)) if pdgs[i] == pdg])
        if len(legs) < 2:
            continue
        # argsort of i.i.d. uniforms is a uniformly random permutation, row by row
        order = np.argsort(rng.random((n, len(legs))), axis=1)
        perm[:, legs] = legs[order]
    return perm
