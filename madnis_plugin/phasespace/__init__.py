"""Phase-space maps: the unit hypercube onto momenta, one channel per diagram.

* :func:`build_channel` / :class:`ChannelMap` -- a channel built from one diagram's
  propagator tree (Breit-Wigner, power-law and t-channel maps, two-body decays,
  momentum fractions); :class:`PhaseSpacePoint` its output.
* :class:`Rambo` -- the flat channel; :func:`massless_volume` the n-body volume.
* :func:`fold_equivalent_channels` -- diagrams equal up to permutations of
  identical final-state particles; :func:`identical_particle_permutations`
  symmetrises the events of a folded channel.
* :func:`parse_diagram` / :class:`Topology` -- a propagator list as a tree.

Modules, one concept each: ``kinematics`` (boosts, rotations, two-body
momenta), ``invariants`` (1-D maps of invariants), ``topology`` (diagram ->
tree), ``tree`` (the partonic map of a tree), ``luminosity`` (x1, x2),
``channel`` (the whole channel), ``rambo`` (flat channel), ``folding``,
``propagators`` (diagram weights from propagator denominators, the channel
prior of ``sde_strategy = 2``).

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace import build_channel
    >>> cmap = build_channel(None, np.zeros(4), lambda pdg: (0.0, 0.0), e_cm=91.0)
    >>> pt = cmap.map(np.full((1, cmap.dim), 0.5))
    >>> bool(np.isclose(pt.jacobian[0], 1 / (8 * np.pi)))
    True
"""

from .channel import MAPS_VERSION, ChannelMap, PhaseSpacePoint, build_channel
from .folding import fold_equivalent_channels, identical_particle_permutations
from .rambo import Rambo, massless_volume
from .topology import Node, Topology, parse_diagram

__all__ = [
    "MAPS_VERSION",
    "ChannelMap",
    "PhaseSpacePoint",
    "build_channel",
    "Rambo",
    "massless_volume",
    "fold_equivalent_channels",
    "identical_particle_permutations",
    "Node",
    "Topology",
    "parse_diagram",
]
