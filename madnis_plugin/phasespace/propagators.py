"""Diagram weights from propagator denominators: the channel prior of ``sde_strategy = 2``.

MadGraph's run card chooses how the multi-channel weights ``alpha_c`` are
built: ``sde_strategy = 1`` from the squared amplitude of each diagram,
``2`` from the diagram's propagator denominators alone. This module gives the
second kind. For a diagram whose :class:`~.topology.Topology` has s-channel
propagators ``(s_i, m_i, Gamma_i)`` and t-channel propagators ``(t_j, M_j)``,

    w_d(p) = prod_i 1 / ((s_i - m_i^2)^2 + m_i^2 Gamma_i^2) * prod_j 1 / |t_j - M_j^2|

The s-channel factor is the squared Breit-Wigner (power law ``1/s^2`` when
massless), the peak the channel's Breit-Wigner map samples. The t-channel
factor is a single power. An emission along a t-channel chain makes the squared
amplitude grow like ``1/|t|`` (the collinear limit), not ``1/t^2``, and the
channel maps sample ``t`` with a power law close to it. Widths are always
dropped in t-channel propagators here (the run card's ``zerowidth_tchannel``
applies to the matrix element, not to this weight).

Unlike ``|M_d|^2``, these weights need no matrix element and are positive;
each factor peaks where the diagram's own phase-space map puts its points.

Units: momenta in GeV. An s-channel factor is GeV^-4, a t-channel one GeV^-2,
so between two diagrams of one group with different numbers of s- and
t-channel propagators the ratio of weights depends on the unit: in GeV a
diagram with one s-channel propagator more than another is suppressed by
about ``1 / s``. This is a choice, kept because it measured best: the
unit-free alternatives, ``1/t^2`` per t-channel propagator (MadGraph's own
``sde_strategy = 2`` squares its t-channel denominators) and a single power
``1/|s - m^2 + i m Gamma|`` per s-channel one, both gave broader weights on
``ttbar_jet`` (docs/sampler.md).

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace.topology import parse_diagram
    >>> from madnis_plugin.phasespace.propagators import log_propagator_weight
    >>> z = parse_diagram({"propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23}]}, 4)
    >>> p = np.array([[[45.0, 0, 0, 45.0], [45.0, 0, 0, -45.0], [45.0, 45.0, 0, 0], [45.0, -45.0, 0, 0]]])
    >>> w = np.exp(log_propagator_weight(z, p, lambda pdg: (91.0, 2.5)))
    >>> bool(np.isclose(w[0], 1 / ((90.0**2 - 91.0**2) ** 2 + (91.0 * 2.5) ** 2)))
    True
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .kinematics import minkowski_square
from .topology import Topology

__all__ = ["log_propagator_weight"]

MassWidth = Callable[[int], tuple[float, float]]

_TINY = np.finfo(np.float64).tiny


def log_propagator_weight(topology: Topology, momenta: np.ndarray, mass_width: MassWidth) -> np.ndarray:
    """``log w_d`` ``(n,)`` of the diagram with ``topology`` at ``momenta``.

    Args:
        topology: the diagram's :class:`~.topology.Topology`.
        momenta: ``(n, n_external, 4)`` momenta, the two incoming first (legs are 1-based).
        mass_width: ``|pdg| -> (mass, width)`` in GeV.

    A vanishing denominator (an exactly massless t-channel at ``t = 0``) is
    floored at the smallest positive double: its diagram then takes the whole
    weight instead of producing an infinity.
    """
    momenta = np.asarray(momenta, dtype=np.float64)
    log_w = np.zeros(momenta.shape[0])
    for block in topology.blocks:
        for node in block.internal_nodes():
            if node.flat_power is not None or node.pdg == 0:
                continue
            s = minkowski_square(momenta[:, [leg - 1 for leg in node.legs]].sum(axis=1))
            mass, width = mass_width(node.pdg)
            log_w -= np.log(np.maximum((s - mass**2) ** 2 + (mass * width) ** 2, _TINY))
    if topology.has_t_channel:
        q = momenta[:, topology.t_from - 1].copy()
        for block, pdg in zip(topology.blocks, topology.t_pdgs):
            q -= momenta[:, [leg - 1 for leg in block.legs]].sum(axis=1)
            mass = mass_width(pdg)[0] if pdg else 0.0
            log_w -= np.log(np.maximum(np.abs(minkowski_square(q) - mass**2), _TINY))
    return log_w
