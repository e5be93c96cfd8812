"""A phase-space channel: unit hypercube -> lab-frame momenta with an exact density.

:func:`build_channel` turns one diagram (a process.json propagator tree, or
None for a flat channel) into a :class:`ChannelMap`: at hadron colliders two
random numbers give the momentum fractions (:mod:`.luminosity`), the remaining
``3 n - 4`` the partonic final state (:mod:`.tree`), which is then boosted to the
lab frame along z.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace import build_channel
    >>> z_to_mumu = {"propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23}]}
    >>> cmap = build_channel(z_to_mumu, np.zeros(4), lambda pdg: (91.1876, 2.4952), e_cm=13000.0,
    ...                      hadronic=True, tau_min=(50.0 / 13000.0) ** 2)
    >>> pt = cmap.map(np.random.default_rng(1).random((5, cmap.dim)))
    >>> cmap.dim, pt.momenta.shape, bool(pt.valid.all())
    (4, (5, 4, 4), True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from .kinematics import boost_along_z
from .luminosity import MomentumFractions
from .topology import Topology, parse_diagram
from .tree import MASSLESS_POWER, MassWidth, TreeMap

__all__ = ["MAPS_VERSION", "PhaseSpacePoint", "ChannelMap", "build_channel"]

MAPS_VERSION = 4
"""Raised whenever the same random numbers map to other momenta: a sampler
trained on the maps of another version (saved files carry it) is refused.
Version 2: decay angles about the helicity axis, mass windows, decay
daughters drawn inside their cuts, Breit-Wigner cores with ``1/s`` tails.
Version 3: in hadronic channels the windowed resonances at the top of the
tree are drawn before ``s-hat``, and ``s-hat`` starts at the tree's floor
(a pT cut on a t-channel chain's first leg raises it: w_jet, t t~ + jet).
Version 4: Breit-Wigner blocks at the top of the tree (the W of w_jet) are
drawn before ``s-hat`` too, and a Delta R cut between a decay daughter and
its parent's only sibling (``drjl`` in w_jet, ``drjj`` in gg_ggg) cuts the
cap about the sibling from the daughter's polar range; a top decay ``t -> b
W, W -> l nu`` is drawn from the lepton's direction (t t~ dilepton)."""


@dataclass(slots=True)
class PhaseSpacePoint:
    """A batch of ``n`` phase-space points.

    Attributes:
        momenta: ``(n, n_external, 4)`` lab-frame momenta ``(E, px, py, pz)``;
            incoming leg 1 along +z, leg 2 along -z; all zero where invalid.
        x1: ``(n,)`` momentum fraction of beam 1 (1 for lepton beams).
        x2: ``(n,)`` momentum fraction of beam 2.
        jacobian: ``(n,)`` ``d(x1) d(x2) dPhi_n / dr`` (just ``dPhi_n / dr`` for
            lepton beams); exactly 0 where invalid, never NaN or inf.
        valid: ``(n,)`` False outside the physical region.
    """

    momenta: np.ndarray
    x1: np.ndarray
    x2: np.ndarray
    jacobian: np.ndarray
    valid: np.ndarray


class ChannelMap:
    """The map of one channel: ``r in [0,1)^dim -> (x1, x2, momenta)`` with its Jacobian.

    Build it with :func:`build_channel`.

    Args:
        topology: the channel's :class:`~.topology.Topology`.
        masses: ``(n_external,)`` external masses, the two incoming first.
        mass_width: ``|pdg| -> (mass, width)`` (GeV) for the propagators.
        e_cm: collider energy ``sqrt(s)`` of the beams (GeV).
        hadronic: sample ``x1, x2`` too (incoming partons must be massless).
        tau_min: smallest ``s-hat / s`` to sample (cuts); the final-state masses
            raise it where they demand more.
        t_power: exponent of the t-channel power-law maps.
        pt_min: ``(n_external,)`` smallest transverse momentum of each leg
            that the cuts let through (0: none; see :class:`~.tree.TreeMap`).
        y_max: ``(n_external,)`` largest lab-frame ``|rapidity|`` of each leg
            that the cuts let through (negative: none).
        mass_windows: ``{legs: (low, high)}`` invariant-mass windows of sets of
            final-state legs (1-based) outside which the integrand vanishes
            (see :class:`~.tree.TreeMap`).
        dr_min: ``(n_external, n_external)`` smallest Delta R of each pair of
            legs that the cuts let through (0: none; see :class:`~.tree.TreeMap`).

    Attributes:
        dim: ``3 n_final - 4`` (``+ 2`` if hadronic).
        tree: the partonic :class:`~.tree.TreeMap`.
        luminosity: the :class:`~.luminosity.MomentumFractions` map or None.
    """

    def __init__(
        self,
        topology: Topology,
        masses: np.ndarray,
        mass_width: MassWidth,
        e_cm: float,
        hadronic: bool = False,
        tau_min: float = 0.0,
        t_power: float = MASSLESS_POWER,
        pt_min: np.ndarray | None = None,
        y_max: np.ndarray | None = None,
        mass_windows: Mapping[tuple[int, ...], tuple[float, float]] | None = None,
        dr_min: np.ndarray | None = None,
    ):
        self.masses = np.asarray(masses, dtype=np.float64)
        self.n_external = len(self.masses)
        self.e_cm = float(e_cm)
        self.hadronic = bool(hadronic)
        # pT is invariant under the boost along z from the partonic to the lab frame.
        self.tree = TreeMap(topology, self.masses, mass_width, t_power=t_power, pt_min=pt_min, y_max=y_max,
                            mass_windows=mass_windows, dr_min=dr_min)
        self.topology = topology
        self.luminosity: MomentumFractions | None = None
        if self.hadronic:
            if np.any(self.masses[:2] != 0.0):
                raise ValueError("hadronic channels need massless incoming partons")
            # Below the tree's floor (the legs' masses, windows, a pT cut on the
            # chain's first leg) no point is valid (w_jet: 4.5% of uniform points of
            # the q g channels had s-hat below the 40 GeV a 20 GeV jet needs).
            shat_min = max(float(tau_min) * self.e_cm**2, float(self.tree.sqrt_s_floor()) ** 2)
            shat_max = self.e_cm**2
            if self.tree.root_window is not None:
                shat_min = max(shat_min, self.tree.root_window[0] ** 2)
                shat_max = min(shat_max, self.tree.root_window[1] ** 2)
            self.luminosity = MomentumFractions(self.e_cm, shat_min, resonance=self.tree.root_sampler,
                                                shat_max=shat_max)
        self.dim = self.tree.dim + (2 if self.hadronic else 0)

    def s_channel_propagators(self) -> list[tuple[int, tuple[int, ...]]]:
        """The channel's s-channel propagators as ``(pdg, legs)``, parents before daughters.

        ``legs`` are the 1-based final-state legs whose momenta sum to the
        propagator's; flat-chain nodes (no particle) are left out. An event
        writer marks these as intermediate resonances.
        """
        return [
            (node.pdg, node.legs)
            for block in self.topology.blocks
            for node in block.internal_nodes()
            if node.flat_power is None and node.pdg != 0
        ]

    def map(self, r: np.ndarray) -> PhaseSpacePoint:
        """Map ``r`` (``(n, dim)``, float64 in [0, 1)) to a :class:`PhaseSpacePoint`."""
        r = np.asarray(r, dtype=np.float64)
        if r.ndim != 2 or r.shape[1] != self.dim:
            raise ValueError(f"r must have shape (n, {self.dim}), got {r.shape}")
        n = r.shape[0]
        if self.luminosity is not None:
            early_masses, shat_min, jac_early = None, None, 1.0
            if self.tree.early:
                # Resonances at the top first, then s-hat above their threshold:
                # the threshold is then a face of the cube, not a corner.
                early_masses, jac_early = self.tree.draw_early_masses(r[:, 2:2 + len(self.tree.early)],
                                                                      math.sqrt(self.luminosity.shat_max))
                shat_min = self.tree.sqrt_s_floor(early_masses) ** 2
            x1, x2, shat, y, jac = self.luminosity.map(r[:, :2], shat_min)
            momenta, jac_tree = self.tree.map(r[:, 2:], np.sqrt(shat), y, early_masses)
            with np.errstate(all="ignore"):
                momenta = boost_along_z(momenta, y)
                jac = jac * jac_early * jac_tree
        else:
            x1 = x2 = np.ones(n)
            momenta, jac = self.tree.map(r, np.full(n, self.e_cm))
        valid = np.isfinite(jac) & (jac > 0) & np.all(np.isfinite(momenta), axis=(1, 2))
        return PhaseSpacePoint(
            momenta=np.where(valid[:, None, None], momenta, 0.0),
            x1=x1.copy(),
            x2=x2.copy(),
            jacobian=np.where(valid, jac, 0.0),
            valid=valid,
        )

    def inverse(self, momenta: np.ndarray, x1: np.ndarray | None = None, x2: np.ndarray | None = None) -> np.ndarray:
        """The ``r`` (``(n, dim)``) that :meth:`map` sends to these lab-frame momenta.

        Args:
            momenta: ``(n, n_external, 4)`` lab-frame momenta inside the phase space.
            x1, x2: ``(n,)`` momentum fractions (needed if hadronic).
        """
        momenta = np.asarray(momenta, dtype=np.float64)
        n = momenta.shape[0]
        if self.luminosity is None:
            return self.tree.inverse(momenta, np.full(n, self.e_cm))
        if x1 is None or x2 is None:
            raise ValueError("a hadronic channel needs x1 and x2 to invert")
        x1, x2 = np.asarray(x1, dtype=np.float64), np.asarray(x2, dtype=np.float64)
        early_masses, shat_min = None, None
        if self.tree.early:
            early_masses = self.tree.early_masses_of(momenta)   # invariant: lab momenta will do
            shat_min = self.tree.sqrt_s_floor(early_masses) ** 2
        r_lum = self.luminosity.inverse(x1, x2, shat_min)
        y = 0.5 * np.log(x1 / x2)
        partonic = boost_along_z(momenta, -y)
        r_tree = self.tree.inverse(partonic, np.sqrt(x1 * x2) * self.e_cm, y, early_masses)
        if early_masses is not None:
            sqrt_s_max = math.sqrt(self.luminosity.shat_max)
            r_tree[:, :len(early_masses)] = self.tree.undraw_early_masses(early_masses, sqrt_s_max)
        return np.concatenate([r_lum, r_tree], axis=-1)


def build_channel(
    diagram: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    external_masses: Sequence[float] | np.ndarray,
    mass_width: MassWidth,
    e_cm: float,
    hadronic: bool = False,
    tau_min: float = 0.0,
    pt_min: Sequence[float] | np.ndarray | None = None,
    y_max: Sequence[float] | np.ndarray | None = None,
    mass_windows: Mapping[tuple[int, ...], tuple[float, float]] | None = None,
    dr_min: np.ndarray | None = None,
) -> ChannelMap:
    """The :class:`ChannelMap` of one diagram.

    Args:
        diagram: a process.json diagram (``{"propagators": [...]}``), its
            propagator list, or None for the flat (RAMBO-on-diet) channel.
        external_masses: ``(n_external,)`` masses, the two incoming first.
        mass_width: ``|pdg| -> (mass, width)`` in GeV.
        e_cm: collider ``sqrt(s)`` (GeV).
        hadronic: also sample ``x1, x2``.
        tau_min: smallest ``s-hat / s``.
        pt_min: ``(n_external,)`` smallest transverse momentum per leg (cuts).
        y_max: ``(n_external,)`` largest ``|rapidity|`` per leg (cuts; negative: none).
        mass_windows: ``{legs: (low, high)}`` invariant-mass windows of sets of
            final-state legs (1-based; a decay chain's on-shell resonances).
        dr_min: ``(n_external, n_external)`` smallest Delta R per pair of legs (cuts; 0: none).
    """
    masses = np.asarray(external_masses, dtype=np.float64)
    topology = parse_diagram(diagram, len(masses))
    return ChannelMap(topology, masses, mass_width, e_cm, hadronic=hadronic, tau_min=tau_min, pt_min=pt_min,
                      y_max=y_max, mass_windows=mass_windows, dr_min=dr_min)
