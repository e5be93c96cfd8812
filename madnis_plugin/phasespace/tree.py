"""The partonic phase-space map of one :class:`~madnis_plugin.phasespace.topology.Topology`.

:class:`TreeMap` maps ``3 n - 4`` random numbers and the partonic energy
``sqrt(s-hat)`` onto the momenta of ``n`` final-state particles in the partonic
centre-of-mass frame, the way MadEvent's ``genps`` builds a channel:

1. the masses of the final-state blocks (s-channel subtrees) are drawn one after
   the other, each within what the energy and the other blocks leave;
2. with a t-channel chain, the blocks are emitted one by one from the incoming
   leg the chain starts at: for step ``j`` the invariant mass of the remaining
   system (flat), the exchanged ``t_j`` (:class:`~.invariants.TChannel`) and an
   azimuth; without a chain the whole final state is one block at rest;
3. every block decays through its tree of two-body decays, each daughter mass
   drawn with its propagator's sampler (Breit-Wigner for massive, power law for
   massless, RAMBO-on-diet for flat chains; never outside a decay chain's mass
   window), the angles flat in the rest frame of the parent reached by a pure
   boost from the partonic frame, about the parent's helicity axis (its flight
   direction seen from its own mother).

The Jacobian is exact: ``dPhi_n / dr`` with ``dPhi_n = prod d^3p/((2 pi)^3 2E)
(2 pi)^4 delta^4``, built from ``dPhi_2 = |p| / (16 pi^2 M) dOmega`` and
``ds / (2 pi)`` per intermediate invariant.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace.topology import flat_topology
    >>> from madnis_plugin.phasespace.tree import TreeMap
    >>> tm = TreeMap(flat_topology(4), masses=np.zeros(4), mass_width=lambda pdg: (0.0, 0.0))
    >>> p, jac = tm.map(np.full((1, tm.dim), 0.3), np.array([100.0]))
    >>> p.shape, bool(np.isclose(jac[0], 1 / (8 * np.pi)))
    ((1, 4, 4), True)
"""

from __future__ import annotations

import math
from typing import Callable, Mapping

import numpy as np

from .invariants import InvariantSampler, PowerLaw, RamboDiet, Resonance, TChannel, Uniform
from .kinematics import (
    angles_of,
    boost_from_rest,
    boost_to_rest,
    kallen,
    dot_on_shell,
    momentum_from_angles,
    one_minus_cos,
    rotate_from_z,
    rotate_to_z,
    two_body_momentum,
)
from .topology import Node, Topology

__all__ = ["TreeMap", "MassWidth", "propagator_sampler", "incoming_momenta", "MASSLESS_POWER", "ZERO_WIDTH_FRACTION"]

MassWidth = Callable[[int], tuple[float, float]]

#: Exponent of the power-law maps of massless s- and t-channel propagators: just
#: below 1 so that ranges reaching the pole stay integrable.
MASSLESS_POWER = 0.8
#: Exponent of the power law of a massive s-channel propagator above a threshold at
#: its pole (``t* -> t g``): flatter than the ``1 / (s - M^2)`` it follows, and with
#: ``s - M^2 ~ r^2`` near the pole, ``s`` keeps the digits its inverse needs.
ABOVE_THRESHOLD_POWER = 0.5
#: A massive propagator without a width is flattened with this fraction of its
#: mass as width (any width gives an exact density; this one keeps the map smooth).
ZERO_WIDTH_FRACTION = 1e-2
#: Half-width, in widths, of the Breit-Wigner core of a massive propagator's map;
#: beyond it the density falls like ``1 / s`` (:class:`~.invariants.OffShellBreitWigner`).
BREIT_WIGNER_CORE = 15.0

_TWO_PI = 2.0 * np.pi


def propagator_sampler(pdg: int, mass_width: MassWidth) -> InvariantSampler:
    """The invariant sampler flattening an s-channel propagator of particle ``pdg``."""
    if pdg == 0:
        return PowerLaw(pole=0.0, nu=MASSLESS_POWER)
    mass, width = mass_width(abs(pdg))
    if mass > 0:
        return Resonance(mass=mass, width=width if width > 0 else ZERO_WIDTH_FRACTION * mass,
                         nu=ABOVE_THRESHOLD_POWER, core=BREIT_WIGNER_CORE)
    return PowerLaw(pole=0.0, nu=MASSLESS_POWER)


def incoming_momenta(sqrt_s: np.ndarray, m1: float, m2: float) -> tuple[np.ndarray, np.ndarray]:
    """Incoming momenta in their centre-of-mass frame: leg 1 along +z, leg 2 along -z.

    Returns two ``(n, 4)`` arrays for ``sqrt_s`` of shape ``(n,)``.
    """
    s = sqrt_s**2
    pz = np.sqrt(np.maximum(kallen(s, m1**2, m2**2), 0.0)) / (2.0 * sqrt_s)
    zero = np.zeros_like(sqrt_s)
    p1 = np.stack([(s + m1**2 - m2**2) / (2.0 * sqrt_s), zero, zero, pz], axis=-1)
    p2 = np.stack([(s + m2**2 - m1**2) / (2.0 * sqrt_s), zero, zero, -pz], axis=-1)
    return p1, p2


def _squared_range(lo_mass: np.ndarray, hi_mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo^2, hi^2)`` of a mass range; an empty range (``hi < lo``) stays empty (``hi^2 = -1``)."""
    return lo_mass**2, np.where(hi_mass >= lo_mass, hi_mass**2, -1.0)


def _rest_frame_momentum(pa, pb, parent, mass, m_a, m_b):
    """Daughter ``a`` of ``parent -> a b`` in the parent's rest frame (pure boost), ``(n, 4)``.

    A fast parent (Lorentz factor ``gamma``) loses ``gamma^2`` digits in a direct
    boost; here the component along the flight direction comes from the energy
    difference ``E_a - E_b = gamma (E_a* - E_b*) + 2 gamma beta p_par*`` and the
    transverse part, which a boost keeps, from ``P x (p_a x p_b) / |P|^2``, so
    only ``gamma`` digits are lost, as many as the lab momenta hold.
    """
    direct = boost_to_rest(pa, parent, mass)
    p_vec = parent[:, 1:]
    p_abs = np.linalg.norm(p_vec, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        unit = p_vec / p_abs[:, None]
        energy_gap = (m_a**2 - m_b**2) / mass
        parallel = ((pa[:, 0] - pb[:, 0]) - parent[:, 0] / mass * energy_gap) * mass / (2.0 * p_abs)
        transverse = np.cross(unit, np.cross(pa[:, 1:], pb[:, 1:])) / p_abs[:, None]
        stable = np.concatenate([direct[:, :1], parallel[:, None] * unit + transverse], axis=-1)
    fast = p_abs > mass
    return np.where(fast[:, None] & np.isfinite(stable), stable, direct)


def _helicity_axis(p, mass, mother):
    """The polar axis of a decay in the rest frame of ``p``: opposite to where ``mother`` is seen.

    Angles about this axis (the helicity frame) are the ones the decay's matrix
    element depends on alone (the W helicity fractions, a top's spin analysers),
    so the map's decay angles carry structure one coordinate at a time, which
    VEGAS and the flows learn, instead of through the correlation of the
    daughter's angle with the parent's direction that a fixed axis gives. A
    parent at rest in its mother's frame (an s-channel root) gets the z axis.
    """
    return -boost_to_rest(mother, p, mass)[:, 1:]


#: Taken from a Delta R cut's radius before it bounds a map, so that the cap
#: the map leaves out lies inside the cut despite rounding; at radii below
#: 0.01, more (:func:`cone_cap`).
CONE_MARGIN = 1e-6
#: MadGraph's Delta phi is never below acos(0.99999999): this is its square.
_DPHI_FLOOR2 = 2e-8


def cone_cap(theta: np.ndarray, radius: float) -> np.ndarray:
    """The angle about a direction at polar angle ``theta`` within which ``Delta R < radius``.

    ``Delta R^2 = Delta y^2 + Delta phi^2`` for massless directions; the disc's
    boundary is nearest the centre in the rapidity direction towards the
    nearer beam, at ``theta_b - 2 atan(tan(theta_b / 2) exp(-R))``,
    ``theta_b = min(theta, pi - theta)``. ``R`` is ``radius`` less a margin:
    ``CONE_MARGIN``, or where larger ``_DPHI_FLOOR2 / radius``, so that an
    event in the cap fails MadGraph's cut even with its Delta phi raised to
    its floor (``(R + margin)^2 > R^2 + _DPHI_FLOOR2``); 0 where nothing is left.

    Example:
        >>> import numpy as np
        >>> round(float(cone_cap(np.array(np.pi / 2), 0.4)), 4)   # at y = 0: 2 atan(tanh(R / 2))
        0.3897
    """
    inner = radius - max(CONE_MARGIN, _DPHI_FLOOR2 / radius)
    if inner <= 0:
        return np.zeros_like(theta)
    near = np.minimum(theta, np.pi - theta)
    return near - 2.0 * np.arctan(np.tan(0.5 * near) * math.exp(-inner))


class _CutWindow:
    """Where a massless daughter ``leg`` of ``p -> leg X`` passes its pT and lab-rapidity cuts.

    The parent's mother is at rest in the partonic frame (:meth:`TreeMap._find_cut_daughters`).
    With ``cos_star`` the daughter's polar angle about the parent's flight
    direction ``n`` (at ``theta_n`` to the beam) in the parent's rest frame, it
    flies at ``cos(alpha) = (cos_star + beta) / (1 + beta cos_star)`` to ``n``
    with energy ``E = |p*| / (gamma (1 - beta cos(alpha)))``, and at
    ``cos(theta) = cos(alpha) cos(theta_n) - sin(alpha) cos(phi) sin(theta_n)``
    to the beam. The lab rapidity window bounds ``cos(theta)`` to
    ``[u_lo, u_hi]``, ``pT >= pt_min`` to ``|cos(theta)| <= sqrt(1 - (pt_min / E)^2)``.

    A Delta R cut to the parent's only sibling (the jet of ``p p > W j``, which
    flies opposite the parent) removes a disc about that sibling. The disc
    holds the cap of directions within ``psi = theta_b - 2 atan(tan(theta_b / 2)
    exp(-R))`` of the sibling, ``theta_b`` its angle to the nearer beam: the
    boundary of ``Delta y^2 + Delta phi^2 < R^2`` comes nearest the sibling in
    the rapidity direction, towards the beam (a check over rapidities and
    radii in the tests). So ``alpha <= pi - psi``: the excluded cap is cut
    from the polar range, and the rest of the disc is left to the integrand.
    """

    def __init__(self, tree: "TreeMap", leg: int, p, mass, p_abs, y_boost):
        e, p_vec = p[:, 0], p[:, 1:]
        p_norm = np.linalg.norm(p_vec, axis=-1)
        self.beta, self.gamma, self.p_abs = p_norm / e, e / mass, p_abs
        self.theta_n = np.arctan2(np.hypot(p_vec[:, 0], p_vec[:, 1]), p_vec[:, 2])
        self.pt_min, y_max = float(tree._pt_min[leg - 1]), float(tree._y_max[leg - 1])
        self.cone = tree._cones.get(leg, 0.0)
        self.u_lo, self.u_hi = -np.ones_like(e), np.ones_like(e)
        if y_max >= 0:
            self.u_lo, self.u_hi = np.tanh(-y_max - y_boost), np.tanh(y_max - y_boost)

    def polar(self) -> tuple[np.ndarray, np.ndarray]:
        """``(low, high)`` of ``cos_star`` where some azimuth may pass (empty: ``high < low``).

        The directions at ``alpha`` to ``n`` reach ``cos(theta)`` from
        ``cos(theta_n + alpha)`` to ``cos(theta_n - alpha)``; that range meets
        the rapidity window for ``alpha`` in an interval, which ``E >= pt_min``
        (``cos(alpha) >= (1 - |p*| / (gamma pt_min)) / beta``) shortens.
        """
        a_hi, a_lo = np.arccos(self.u_hi), np.arccos(self.u_lo)
        alpha_lo = np.maximum.reduce([np.zeros_like(a_hi), a_hi - self.theta_n, self.theta_n - a_lo])
        alpha_hi = np.minimum.reduce([np.full_like(a_hi, np.pi), self.theta_n + a_lo, _TWO_PI - a_hi - self.theta_n])
        if self.pt_min > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                bound = (1.0 - self.p_abs / (self.gamma * self.pt_min)) / self.beta
            bound = np.where(self.beta > 0, bound, np.where(self.p_abs >= self.pt_min, -np.inf, np.inf))
            alpha_hi = np.where(bound > 1.0, -1.0, np.minimum(alpha_hi, np.arccos(np.clip(bound, -1.0, 1.0))))
        if self.cone > 0:
            alpha_hi = np.minimum(alpha_hi, np.pi - cone_cap(self.theta_n, self.cone))

        def cos_star(alpha):
            c = np.cos(alpha)
            return (c - self.beta) / (1.0 - self.beta * c)

        return cos_star(np.clip(alpha_hi, 0.0, np.pi)), cos_star(alpha_lo)

    def azimuth(self, cos_star) -> tuple[np.ndarray, np.ndarray]:
        """``(low, width)``: the azimuths in ``[low, low + width]`` and its mirror
        ``[2 pi - low - width, 2 pi - low]`` pass both cuts."""
        one_plus = 1.0 + self.beta * cos_star
        cos_alpha = (cos_star + self.beta) / one_plus
        sin_alpha = np.sqrt(np.clip(1.0 - cos_star**2, 0.0, None)) / (self.gamma * one_plus)
        u_lo, u_hi = self.u_lo, self.u_hi
        if self.pt_min > 0:
            energy = self.gamma * self.p_abs * one_plus
            u_pt = np.where(energy >= self.pt_min, np.sqrt(np.clip(1.0 - (self.pt_min / energy) ** 2, 0.0, None)),
                            -np.inf)
            u_lo, u_hi = np.maximum(u_lo, -u_pt), np.minimum(u_hi, u_pt)
        centre = cos_alpha * np.cos(self.theta_n)
        spread = sin_alpha * np.sin(self.theta_n)
        inside = (u_lo <= centre) & (centre <= u_hi)
        fixed = spread <= 0.0   # the daughter's angle to the beam does not depend on phi
        with np.errstate(divide="ignore", invalid="ignore"):
            c_lo = np.where(fixed, np.where(inside, -1.0, 1.0), np.clip((centre - u_hi) / spread, -1.0, 1.0))
            c_hi = np.where(fixed, np.where(inside, 1.0, -1.0), np.clip((centre - u_lo) / spread, -1.0, 1.0))
        low = np.arccos(c_hi)
        return low, np.where(u_lo <= u_hi, np.maximum(np.arccos(c_lo) - low, 0.0), 0.0)


class _Columns:
    """Hands out the columns of ``r`` in the order a traversal consumes them."""

    def __init__(self, first: int = 0) -> None:
        self.next = first

    def take(self) -> int:
        self.next += 1
        return self.next - 1


class TreeMap:
    """Partonic phase-space map ``r in [0,1)^(3n-4) -> n final-state momenta`` of one topology.

    Args:
        topology: the channel's :class:`~.topology.Topology`.
        masses: ``(n_external,)`` masses of all external legs, the two incoming first.
        mass_width: ``|pdg| -> (mass, width)`` in GeV, for the propagators.
        t_power: exponent of the t-channel power-law maps.
        pt_min: ``(n_external,)`` smallest transverse momentum each leg has
            after the cuts (0: none); the chain starts where such a leg is
            emitted and never draws it below.
        y_max: ``(n_external,)`` largest lab-frame ``|rapidity|`` of each leg
            after the cuts (negative: none); the chain's first leg is never
            drawn beyond it (the lab frame is given to :meth:`map` by ``y_boost``).
        mass_windows: ``{legs: (low, high)}``, the invariant-mass window of a
            set of final-state legs (1-based) outside which the integrand
            vanishes (a decay chain's resonance within ``bwcutoff`` widths of
            its pole); a node of the topology holding exactly those legs is
            never drawn outside it.
        dr_min: ``(n_external, n_external)`` smallest Delta R of each pair of
            legs after the cuts (0: none); used where a massless daughter's
            parent and a massless leg are the two halves of the final state.

    Attributes:
        dim: ``3 n - 4``.
        n_final: ``n``.
        root_sampler: the sampler a luminosity map may use for ``s-hat`` when the
            whole final state is one s-channel block (None otherwise).
        root_window: the mass window of that block, which only the luminosity
            map can keep (None: none, or a t-channel chain).
        early: the resonances at the top of the tree (blocks of a t-channel
            chain, daughters of an s-channel root) with a mass window or a
            Breit-Wigner peak in range, whose masses a luminosity map may draw
            before ``s-hat`` (:meth:`draw_early_masses`).
    """

    def __init__(self, topology: Topology, masses: np.ndarray, mass_width: MassWidth, t_power: float = MASSLESS_POWER,
                 pt_min: np.ndarray | None = None, y_max: np.ndarray | None = None,
                 mass_windows: Mapping[tuple[int, ...], tuple[float, float]] | None = None,
                 dr_min: np.ndarray | None = None):
        self.masses = np.asarray(masses, dtype=np.float64)
        self._windows = {tuple(sorted(legs)): (float(lo), float(hi)) for legs, (lo, hi) in (mass_windows or {}).items()}
        pt_min = np.zeros(len(self.masses)) if pt_min is None else np.asarray(pt_min, dtype=np.float64)
        # The first emission of a chain is the one whose angle to the beam the
        # map controls (its step runs in the partonic frame): start the chain
        # at the end where a leg with a pT cut is emitted, so that the map never
        # draws that leg below its cut (t t~ + jet: 10% of the points of the
        # trained g g channels fell below ptj and weighed 0).
        leg_cut = lambda block: float(pt_min[block.legs[0] - 1]) if block.is_leg else 0.0  # noqa: E731
        if topology.has_t_channel and leg_cut(topology.blocks[-1]) > leg_cut(topology.blocks[0]):
            topology = topology.reversed()
        self.topology = topology
        self._first_pt_min = leg_cut(topology.blocks[0]) if topology.has_t_channel else 0.0
        self._pt_min = pt_min
        self._y_max = np.full(len(self.masses), -1.0) if y_max is None else np.asarray(y_max, dtype=np.float64)
        first = topology.blocks[0]
        self._first_y_max = float(self._y_max[first.legs[0] - 1]) if topology.has_t_channel and first.is_leg else -1.0
        # The nodes whose masses add up to at most sqrt(s-hat).
        self._tops = list(topology.blocks) if topology.has_t_channel else list(topology.blocks[0].children or ())
        self._cones = self._find_cones(dr_min)
        self._cut_daughters = self._find_cut_daughters(topology)
        self.n_external = len(self.masses)
        self.n_final = self.n_external - 2
        if self.n_final < 2:
            raise ValueError("a phase-space map needs at least two final-state particles")
        self.dim = 3 * self.n_final - 4
        self._samplers: dict[tuple[int, ...], InvariantSampler] = {}
        for block in topology.blocks:
            for node in block.internal_nodes():
                if node.flat_power is not None:
                    self._samplers[node.legs] = RamboDiet(power=max(node.flat_power, 0))
                else:
                    self._samplers[node.legs] = propagator_sampler(node.pdg, mass_width)
        self._t_samplers = [
            TChannel(mass=mass_width(abs(pdg))[0] if pdg else 0.0, nu=t_power) for pdg in topology.t_pdgs
        ]
        self.root_sampler: InvariantSampler | None = None
        self.root_window: tuple[float, float] | None = None
        if not topology.has_t_channel:
            self.root_sampler = self._samplers.get(topology.blocks[0].legs)
            self.root_window = self._windows.get(topology.blocks[0].legs)
        self._t_from, self._t_to = (0, 1) if topology.t_from == 1 else (1, 0)
        peaks = {node.legs for node in self._tops if not node.is_leg and self._peaks_inside(node)}
        if isinstance(self.root_sampler, Resonance):
            # A root below its daughters' poles (H -> W W*): one of them must be
            # off shell, and drawing both on their peaks first would hold s-hat
            # above them, far from the root's own peak.
            poles = sum(self._samplers[node.legs].mass if node.legs in peaks else self.min_mass(node)
                        for node in self._tops)
            if self.root_sampler.mass < poles:
                peaks = set()
        self._analysers = self._find_analysers(topology)
        self.early = [node for node in self._tops
                      if not node.is_leg and (node.legs in self._windows or node.legs in peaks)]

    def min_mass(self, node: Node) -> float:
        """The smallest invariant mass of ``node``: its legs' masses, raised by mass windows in it."""
        if node.is_leg:
            return float(self.masses[node.legs[0] - 1])
        low = self._windows.get(node.legs, (0.0, math.inf))[0]
        return max(low, self.min_mass(node.children[0]) + self.min_mass(node.children[1]))

    def _peaks_inside(self, node: Node) -> bool:
        """Whether ``node`` is a resonance whose pole lies above its smallest mass (a Breit-Wigner peak)."""
        sampler = self._samplers.get(node.legs)
        if not isinstance(sampler, Resonance):
            return False
        return sampler.mass**2 > self.min_mass(node) ** 2 + sampler.mass * sampler.width

    def max_mass(self, node: Node) -> float:
        """The largest invariant mass of ``node`` its mass window allows (inf without one)."""
        return self._windows.get(node.legs, (0.0, math.inf))[1]

    # ------------------------------------------------------------------ early masses
    def draw_early_masses(self, r: np.ndarray, sqrt_s_max: float = math.inf) -> tuple[list[np.ndarray], np.ndarray]:
        """Masses of the :attr:`early` resonances, from ``r`` ``(n, len(early))``, before ``s-hat``.

        Each is drawn over its window, or where it has none up to the mass
        that still fits below ``sqrt_s_max`` with the ones drawn before it and
        the other top-level nodes at their smallest masses. Returns the masses
        and their Jacobian. Drawn before ``s-hat``, they make the threshold
        ``sqrt(s-hat) >= sum of masses`` (:meth:`sqrt_s_floor`) a face of the
        unit cube instead of a corner where one resonance is squeezed into
        what s-hat and the others leave.
        """
        jac = np.ones(r.shape[0])
        masses: list[np.ndarray] = []
        for k, node in enumerate(self.early):
            lo, hi = self._early_range(node, masses, sqrt_s_max, r.shape[0])
            m, jac = self._sample(self._samplers[node.legs], r[:, k], lo, hi, jac)
            masses.append(m)
        return masses, jac

    def early_masses_of(self, momenta: np.ndarray) -> list[np.ndarray]:
        """The masses of the :attr:`early` resonances in ``momenta`` ``(n, n_external, 4)``."""
        return [self._stable_mass(momenta, node.legs) for node in self.early]

    def undraw_early_masses(self, masses: list[np.ndarray], sqrt_s_max: float = math.inf) -> np.ndarray:
        """The ``r`` ``(n, len(early))`` that :meth:`draw_early_masses` sends to ``masses``."""
        columns = []
        for k, (node, m) in enumerate(zip(self.early, masses)):
            lo, hi = self._early_range(node, masses[:k], sqrt_s_max, len(m))
            columns.append(self._unsample(self._samplers[node.legs], m, lo, hi))
        return np.stack(columns, axis=-1)

    def _early_range(self, node: Node, drawn: list[np.ndarray], sqrt_s_max: float, n: int):
        """``node``'s mass range, ``(n,)`` each: its window, capped by what ``drawn`` and the other tops leave."""
        fixed = self._fixed(drawn)
        others = sum(self._mass_floor(other, fixed) for other in self._tops if other is not node)
        budget = self._chain_budget(np.full(n, float(sqrt_s_max))) if self.topology.has_t_channel else sqrt_s_max
        return np.full(n, self.min_mass(node)), np.minimum(self.max_mass(node), budget - others)

    def sqrt_s_floor(self, masses: list[np.ndarray] | None = None) -> np.ndarray | float:
        """The smallest ``sqrt(s-hat)`` at which the :attr:`early` resonances of ``masses`` fit.

        The other top-level nodes at their smallest masses (all of them
        without ``masses``); in a chain whose first leg has a pT cut, that leg
        must also reach it (the inverse of :meth:`_chain_budget`).
        """
        fixed = self._fixed(masses)
        total = sum(self._mass_floor(node, fixed) for node in self._tops)
        if self.topology.has_t_channel and self._first_pt_min > 0:
            m_0, pt = self.min_mass(self.topology.blocks[0]), self._first_pt_min
            return math.hypot(m_0, pt) + np.hypot(total - m_0, pt)
        return total

    def _fixed(self, masses: list[np.ndarray] | None) -> dict[tuple[int, ...], np.ndarray]:
        return {} if masses is None else {node.legs: m for node, m in zip(self.early, masses)}

    def _mass_floor(self, node: Node, fixed: dict[tuple[int, ...], np.ndarray]):
        """``node``'s mass if drawn early (in ``fixed``), else its smallest mass."""
        return fixed.get(node.legs, self.min_mass(node))

    # ------------------------------------------------------------------ forward
    def map(self, r: np.ndarray, sqrt_s: np.ndarray, y_boost: np.ndarray | None = None,
            early_masses: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Momenta and Jacobian for ``r`` (``(n, dim)``) at partonic energies ``sqrt_s`` (``(n,)``).

        ``y_boost`` (``(n,)``, default 0) is the rapidity of the partonic frame
        in the lab, where a rapidity cut on the chain's first leg applies.
        ``early_masses`` (from :meth:`draw_early_masses`, whose columns are the
        first of ``r``): the :attr:`early` resonances take these masses, and
        their Jacobian is the caller's.

        Returns:
            ``(momenta, jacobian)``: ``(n, n_external, 4)`` momenta in the partonic
            centre-of-mass frame (incoming legs first) and ``dPhi_n/dr`` (``(n,)``);
            outside the physical region the Jacobian is 0 (momenta may then be
            anything finite or not; :class:`~.channel.ChannelMap` cleans them).
        """
        r = np.asarray(r, dtype=np.float64)
        n = r.shape[0]
        fixed = self._fixed(early_masses)
        cols = _Columns(len(fixed))
        jac = np.ones(n)
        out = np.zeros((n, self.n_external, 4))
        p_in = incoming_momenta(sqrt_s, self.masses[0], self.masses[1])
        out[:, 0], out[:, 1] = p_in
        centre = np.stack([sqrt_s, *np.zeros((3, n))], axis=-1)
        y_boost = np.zeros(n) if y_boost is None else y_boost
        with np.errstate(all="ignore"):
            blocks = self.topology.blocks
            if self.topology.has_t_channel:
                budget = self._chain_budget(sqrt_s)
                block_mass, jac = self._block_masses(r, sqrt_s, budget, cols, jac, fixed)
                block_p, jac = self._t_chain(r, sqrt_s, p_in, block_mass, budget, cols, jac, y_boost)
            else:
                block_mass = [sqrt_s]
                block_p = [centre]
            for block, p, m in zip(blocks, block_p, block_mass):
                jac = self._decay(block, p, m, r, cols, jac, out, centre, y_boost, fixed)
        return out, jac

    def _sample(self, sampler: InvariantSampler, r, lo_mass, hi_mass, jac):
        s, ds = sampler.map(r, *_squared_range(lo_mass, hi_mass))
        return np.sqrt(s), jac * ds / _TWO_PI

    def _chain_budget(self, sqrt_s):
        """The largest sum of the block masses: ``sqrt(s-hat)``, or less where the first leg has a pT cut.

        That leg's momentum must reach ``pt_min``, so the system recoiling
        against it has at most ``sqrt((sqrt(s) - m_T)^2 - pt_min^2)``, with
        ``m_T = sqrt(m^2 + pt_min^2)``; an empty range gives an empty budget.
        """
        if self._first_pt_min <= 0:
            return sqrt_s
        m_0 = self.min_mass(self.topology.blocks[0])
        pt = self._first_pt_min
        left = (sqrt_s - math.hypot(m_0, pt)) ** 2 - pt**2
        return m_0 + np.where(left >= 0, np.sqrt(np.maximum(left, 0.0)), -np.inf)

    def _block_masses(self, r, sqrt_s, budget, cols, jac, fixed):
        blocks = self.topology.blocks
        mins = [self._mass_floor(b, fixed) for b in blocks]
        masses: list[np.ndarray] = []
        for i, block in enumerate(blocks):
            if block.is_leg or block.legs in fixed:
                masses.append(np.broadcast_to(mins[i], sqrt_s.shape).astype(np.float64))
                continue
            hi = np.minimum(budget - sum(masses) - sum(mins[i + 1 :]), self.max_mass(block))
            m, jac = self._sample(self._samplers[block.legs], r[:, cols.take()], np.full_like(sqrt_s, mins[i]), hi, jac)
            masses.append(m)
        return masses, jac

    def _chain_frame(self, p_b, rest, rest_mass, q2):
        """Incoming virtual momentum ``q`` seen in the rest frame of ``rest = q + p_b``."""
        m_b2 = self.masses[self._t_to] ** 2
        q0 = (rest_mass**2 + q2 - m_b2) / (2.0 * rest_mass)
        q_abs = np.sqrt(np.maximum(kallen(rest_mass**2, q2, m_b2), 0.0)) / (2.0 * rest_mass)
        axis = -boost_to_rest(p_b, rest, rest_mass)[:, 1:]
        return q0, q_abs, axis

    def _t_step_kinematics(self, rest_mass, m_x, m_rest, q2, q0, q_abs):
        """``(|p|, E_x, t_hi, t_hi - t_lo)`` of ``q + p_b -> X + rest'`` in the rest frame of ``q + p_b``.

        ``t = q2 + m_x^2 - 2 (q0 E_x - |q||p| cos)`` spans ``[t_lo, t_hi]``. The forward
        edge ``t_hi`` cancels for massless legs, so it is taken from the product
        ``t_hi t_lo``, a polynomial in the invariants that vanishes exactly with
        the masses (the power-law maps are sensitive to a spurious pole offset).
        """
        p_abs = two_body_momentum(rest_mass, m_x, m_rest)
        e_x = (rest_mass**2 + m_x**2 - m_rest**2) / (2.0 * rest_mass)
        s, a, b = rest_mass**2, q2, self.masses[self._t_to] ** 2
        c, d = m_x**2, m_rest**2
        product = (
            a * a * d - a * b * c - a * b * d + a * b * s - a * c * d + a * d * d - a * d * s
            + b * b * c + b * c * c - b * c * d - b * c * s + c * d * s
        ) / s
        t_lo = q2 + m_x**2 - 2.0 * (q0 * e_x + q_abs * p_abs)
        direct = q2 + m_x**2 - 2.0 * (q0 * e_x - q_abs * p_abs)
        with np.errstate(invalid="ignore", divide="ignore"):
            t_hi = np.where(np.abs(t_lo) >= np.abs(direct), product / t_lo, direct)
        return p_abs, e_x, t_hi, 4.0 * q_abs * p_abs

    def _first_step_range(self, q_abs, p_abs, e_x, y_boost):
        """The range ``[lo, hi]`` of ``v = 2 |q| |p| (1 - cos(theta))`` the first leg's cuts allow.

        The first step runs in the partonic frame with the beam as axis
        (``+z`` from leg 1, ``-z`` from leg 2). ``pT = |p| sin(theta) >= pt_min``
        leaves ``1 - cos(theta)`` in ``[g, 2 - g]``, ``g = 1 - sqrt(1 - (pt_min/|p|)^2)``
        (written without cancellation); ``|y_lab| <= y_max`` bounds the
        partonic rapidity to ``[-y_max - y_boost, y_max - y_boost]``, that is
        ``cos`` (about ``+z``) to ``tanh(y) E / |p|`` at its ends. An empty
        range (``hi < lo``) gives weight 0.
        """
        scale = 2.0 * q_abs * p_abs
        lo, hi = np.zeros_like(scale), 2.0 * scale
        if self._first_pt_min > 0:
            ratio2 = (self._first_pt_min / p_abs) ** 2
            gap = np.where(ratio2 <= 1.0, ratio2 / (1.0 + np.sqrt(np.maximum(1.0 - ratio2, 0.0))), np.inf)
            lo, hi = scale * gap, scale * (2.0 - gap)
        if self._first_y_max >= 0:
            # cos about +z at the two rapidity edges, then about the chain's axis.
            cos_lo = np.clip(np.tanh(-self._first_y_max - y_boost) * e_x / p_abs, -1.0, 1.0)
            cos_hi = np.clip(np.tanh(self._first_y_max - y_boost) * e_x / p_abs, -1.0, 1.0)
            if self._t_from == 1:   # the chain starts at leg 2: its axis is -z
                cos_lo, cos_hi = -cos_hi, -cos_lo
            lo = np.maximum(lo, scale * (1.0 - cos_hi))
            hi = np.minimum(hi, scale * (1.0 - cos_lo))
        return lo, hi

    def _t_chain(self, r, sqrt_s, p_in, block_mass, budget, cols, jac, y_boost):
        k = len(block_mass)
        p_b = p_in[self._t_to]
        rest = np.stack([sqrt_s, *np.zeros((3, len(sqrt_s)))], axis=-1)
        rest_mass = sqrt_s
        q2 = np.full_like(sqrt_s, self.masses[self._t_from] ** 2)
        emitted = []
        for j in range(k - 1):
            m_x = block_mass[j]
            if j < k - 2:
                lo = sum(block_mass[j + 1 :])
                hi = (budget if j == 0 else rest_mass) - m_x
                m_rest, jac = self._sample(Uniform(), r[:, cols.take()], lo, hi, jac)
            else:
                m_rest = block_mass[k - 1]
            q0, q_abs, axis = self._chain_frame(p_b, rest, rest_mass, q2)
            p_abs, e_x, t_hi, width = self._t_step_kinematics(rest_mass, m_x, m_rest, q2, q0, q_abs)
            # Sample the distance v = t_hi - t from the forward edge: 1 - cos(theta) = v / (2 |q| |p|).
            lo, hi = self._first_step_range(q_abs, p_abs, e_x, y_boost) if j == 0 else (0.0, width)
            v, dt = self._t_samplers[j].map_distance(r[:, cols.take()], t_hi - lo, hi - lo)
            v = v + lo
            t = t_hi - v
            gap_forward = np.clip(v / (2.0 * q_abs * p_abs), 0.0, 2.0)
            gap_backward = np.clip((width - v) / (2.0 * q_abs * p_abs), 0.0, 2.0)
            phi = _TWO_PI * r[:, cols.take()]
            x_rest = momentum_from_angles(
                e_x, p_abs, 1.0 - gap_forward, phi, sin_theta=np.sqrt(gap_forward * gap_backward)
            )
            x_rest[:, 1:] = rotate_from_z(x_rest[:, 1:], axis)
            remainder_rest = np.concatenate([(rest_mass - e_x)[:, None], -x_rest[:, 1:]], axis=-1)
            jac = jac * dt / (16.0 * np.pi * rest_mass * q_abs)
            emitted.append(boost_from_rest(x_rest, rest, rest_mass))
            rest = boost_from_rest(remainder_rest, rest, rest_mass)
            rest_mass, q2 = m_rest, t
        emitted.append(rest)
        return emitted, jac

    def _daughter_masses(self, node, mass, r, cols, jac, fixed):
        a, b = node.children
        min_a, min_b = self._mass_floor(a, fixed), self._mass_floor(b, fixed)
        if a.is_leg or a.legs in fixed:
            m_a = np.broadcast_to(min_a, mass.shape).astype(np.float64)
        else:
            m_a, jac = self._sample(self._samplers[a.legs], r[:, cols.take()], np.full_like(mass, min_a),
                                    np.minimum(mass - min_b, self.max_mass(a)), jac)
        if b.is_leg or b.legs in fixed:
            m_b = np.broadcast_to(min_b, mass.shape).astype(np.float64)
        else:
            m_b, jac = self._sample(self._samplers[b.legs], r[:, cols.take()], np.full_like(mass, min_b),
                                    np.minimum(mass - m_a, self.max_mass(b)), jac)
        return m_a, m_b, jac

    def _decay(self, node, p, mass, r, cols, jac, out, mother, y_boost, fixed):
        """Decay ``node`` (momentum ``p``, partonic frame) into its legs; ``mother`` is its mother's momentum."""
        if node.is_leg:
            out[:, node.legs[0] - 1] = p
            return jac
        m_a, m_b, jac = self._daughter_masses(node, mass, r, cols, jac, fixed)
        p_abs = two_body_momentum(mass, m_a, m_b)
        if node.legs in self._analysers:
            return self._decay_analyser_first(node, p, mass, m_a, m_b, p_abs, r, cols, jac, out, mother)
        # The angles are those of daughter ``d``: the one with cuts, if any.
        d = self._cut_daughters.get(node.legs)
        r_cos, r_phi = r[:, cols.take()], r[:, cols.take()]
        if d is None:
            d, cos_theta, phi = 0, 2.0 * r_cos - 1.0, _TWO_PI * r_phi
        else:
            window = _CutWindow(self, node.children[d].legs[0], p, mass, p_abs, y_boost)
            cos_lo, cos_hi = window.polar()
            cos_theta = cos_lo + (cos_hi - cos_lo) * r_cos
            low, width = window.azimuth(cos_theta)
            phi = np.where(r_phi >= 0.5, low + width * (2.0 * r_phi - 1.0), _TWO_PI - low + width * (2.0 * r_phi - 1.0))
            jac = jac * np.maximum(cos_hi - cos_lo, 0.0) / 2.0 * width / np.pi
        m_d, m_other = (m_a, m_b) if d == 0 else (m_b, m_a)
        pd_rest = momentum_from_angles(np.sqrt(p_abs**2 + m_d**2), p_abs, cos_theta, phi)
        pd_rest[:, 1:] = rotate_from_z(pd_rest[:, 1:], _helicity_axis(p, mass, mother))
        other_rest = np.concatenate([np.sqrt(p_abs**2 + m_other**2)[:, None], -pd_rest[:, 1:]], axis=-1)
        pa_rest, pb_rest = (pd_rest, other_rest) if d == 0 else (other_rest, pd_rest)
        jac = jac * p_abs / (4.0 * np.pi * mass)
        jac = self._decay(node.children[0], boost_from_rest(pa_rest, p, mass), m_a, r, cols, jac, out, p, y_boost,
                          fixed)
        return self._decay(node.children[1], boost_from_rest(pb_rest, p, mass), m_b, r, cols, jac, out, p, y_boost,
                           fixed)

    def _decay_analyser_first(self, node, p, mass, m_a, m_b, p_abs, r, cols, jac, out, mother):
        """``node -> X R``, ``R -> l Y`` drawn from the direction of ``l`` (:meth:`_find_analysers`).

        In ``node``'s rest frame, about its helicity axis: ``l``'s direction,
        then ``R``'s helicity angle ``cos*`` (``l`` about ``R``'s flight
        direction, in ``R``'s rest frame), which fixes the angle ``alpha``
        between ``l`` and ``R``, then ``R``'s azimuth about ``l``. For each
        ``cos*`` both ``(R's direction, l's azimuth about it)`` and ``(l's
        direction, R's azimuth about it)`` cover the rotations once with the
        same measure, so the Jacobian is that of the two decays.
        """
        k, j = self._analysers[node.legs]
        res = node.children[k]
        m_res = m_b if k else m_a
        m_lep, m_rest = (self.masses[leg.legs[0] - 1] for leg in (res.children[j], res.children[1 - j]))
        cos_l, phi_l = 2.0 * r[:, cols.take()] - 1.0, _TWO_PI * r[:, cols.take()]
        cos_star, psi = 2.0 * r[:, cols.take()] - 1.0, _TWO_PI * r[:, cols.take()]
        q_abs = two_body_momentum(m_res, m_lep, m_rest)
        e_res = np.sqrt(p_abs**2 + m_res**2)
        beta, gamma = p_abs / e_res, e_res / m_res
        # The lepton (massless) in node's frame: energy and angle to R's direction.
        one_plus = 1.0 + beta * cos_star
        e_lep = gamma * q_abs * one_plus
        cos_alpha = (cos_star + beta) / one_plus
        sin_alpha = np.sqrt(np.clip(1.0 - cos_star**2, 0.0, None)) / (gamma * one_plus)
        lep = momentum_from_angles(e_lep, e_lep, cos_l, phi_l)
        res_dir = rotate_from_z(momentum_from_angles(np.ones_like(psi), 1.0, cos_alpha, psi, sin_alpha)[:, 1:],
                                lep[:, 1:])
        axis = _helicity_axis(p, mass, mother)
        lep[:, 1:] = rotate_from_z(lep[:, 1:], axis)
        res_p = np.concatenate([e_res[:, None], p_abs[:, None] * rotate_from_z(res_dir, axis)], axis=-1)
        other = np.concatenate([np.sqrt(p_abs**2 + (m_a if k else m_b) ** 2)[:, None], -res_p[:, 1:]], axis=-1)
        jac = jac * p_abs / (4.0 * np.pi * mass) * q_abs / (4.0 * np.pi * m_res)
        out[:, res.children[j].legs[0] - 1] = boost_from_rest(lep, p, mass)
        out[:, res.children[1 - j].legs[0] - 1] = boost_from_rest(res_p - lep, p, mass)
        out[:, node.children[1 - k].legs[0] - 1] = boost_from_rest(other, p, mass)
        return jac

    def _find_analysers(self, topology: Topology) -> dict[tuple[int, ...], tuple[int, int]]:
        """Per decaying node, ``(k, j)``: its child ``k`` is a resonance ``R`` whose child ``j`` is a massless leg.

        For ``t -> b W+, W+ -> e+ ve`` inside a larger process: the top's decay
        is drawn from the lepton's direction in the top's rest frame (the
        top's spin analyser; :meth:`_decay_analyser_first`). The spin
        correlation of a t t~ pair is then a function of the two leptons'
        angles alone (four coordinates instead of eight); near threshold,
        where g g -> t t~ is mostly a spin singlet, the trained samplers had
        missed it (t t~ dilepton, docs/sampler.md). Only with the other child
        a leg, ``R``'s children legs, and no cut daughter at ``node`` or ``R``
        (whose angles :class:`_CutWindow` draws).
        """
        found = {}
        for block in topology.blocks:
            for node in block.internal_nodes():
                if node.legs in self._cut_daughters:
                    continue
                for k, child in enumerate(node.children):
                    if (child.is_leg or not node.children[1 - k].is_leg or child.legs in self._cut_daughters
                            or not self._peaks_inside(child)
                            or not all(leg.is_leg for leg in child.children)):
                        continue
                    massless = [i for i, leg in enumerate(child.children) if self.masses[leg.legs[0] - 1] == 0.0]
                    if massless:
                        found[node.legs] = (k, massless[0])
                        break
        return found

    def _find_cones(self, dr_min: np.ndarray | None) -> dict[int, float]:
        """Per leg (1-based), the Delta R cut to the massless leg flying opposite its parent.

        Only where the final state splits in two at the top (two chain
        blocks, or an s-channel root's two daughters): that parent and a
        massless leg, which then flies opposite the parent in the partonic frame.
        """
        if dr_min is None:
            return {}
        cones = {}
        tops = self._tops
        for parent, sibling in (tops, tops[::-1]) if len(tops) == 2 else ():
            if parent.is_leg or not sibling.is_leg or self.masses[sibling.legs[0] - 1] != 0.0:
                continue
            for child in parent.children:
                if child.is_leg and dr_min[child.legs[0] - 1, sibling.legs[0] - 1] > 0:
                    cones[child.legs[0]] = float(dr_min[child.legs[0] - 1, sibling.legs[0] - 1])
        return cones

    def _find_cut_daughters(self, topology: Topology) -> dict[tuple[int, ...], int]:
        """Per decaying node (by legs), the daughter (0 or 1) whose cuts its decay angles keep.

        A massless leg with a pT cut, a lab rapidity window or a Delta R cone
        (:meth:`_find_cones`), from a parent
        whose mother is at rest in the partonic frame (a block of the chain, or
        a daughter of an s-channel root): then the cuts bound the leg's partonic
        direction to a window of polar angles about the parent's flight
        direction and, at each, of azimuths (:class:`_CutWindow`).
        """
        parents = list(topology.blocks)
        if not topology.has_t_channel and not topology.blocks[0].is_leg:
            parents += list(topology.blocks[0].children)
        found = {}
        for node in parents:
            for i, child in enumerate(node.children or ()):
                leg = child.legs[0] - 1
                if child.is_leg and self.masses[leg] == 0.0 and (self._pt_min[leg] > 0.0 or self._y_max[leg] >= 0.0
                                                                 or leg + 1 in self._cones):
                    found[node.legs] = i
                    break
        return found

    # ------------------------------------------------------------------ inverse
    def inverse(self, momenta: np.ndarray, sqrt_s: np.ndarray, y_boost: np.ndarray | None = None,
                early_masses: list[np.ndarray] | None = None) -> np.ndarray:
        """The ``r`` (``(n, dim)``) that :meth:`map` sends to ``momenta`` (partonic frame).

        Args:
            momenta: ``(n, n_external, 4)`` in the partonic centre-of-mass frame.
            sqrt_s: ``(n,)`` partonic energies.
            early_masses: as given to :meth:`map` (:meth:`early_masses_of`
                the momenta); their columns, the first, are left to the caller
                (:meth:`undraw_early_masses`).
        """
        momenta = np.asarray(momenta, dtype=np.float64)
        n = momenta.shape[0]
        r = np.zeros((n, self.dim))
        fixed = self._fixed(early_masses)
        cols = _Columns(len(fixed))
        p_in = incoming_momenta(sqrt_s, self.masses[0], self.masses[1])

        def momentum(node: Node) -> np.ndarray:
            return momenta[:, [leg - 1 for leg in node.legs]].sum(axis=1)

        def mass_of(node: Node) -> np.ndarray:
            return self._stable_mass(momenta, node.legs)

        centre = np.stack([sqrt_s, *np.zeros((3, n))], axis=-1)
        y_boost = np.zeros(n) if y_boost is None else y_boost
        with np.errstate(all="ignore"):
            blocks = self.topology.blocks
            if self.topology.has_t_channel:
                mins = [self._mass_floor(b, fixed) for b in blocks]
                block_mass = [mass_of(b) for b in blocks]
                budget = self._chain_budget(sqrt_s)
                for i, block in enumerate(blocks):
                    if not block.is_leg and block.legs not in fixed:
                        hi = np.minimum(budget - sum(block_mass[:i]) - sum(mins[i + 1 :]), self.max_mass(block))
                        r[:, cols.take()] = self._unsample(self._samplers[block.legs], block_mass[i], mins[i], hi)
                self._t_chain_inverse(momenta, r, sqrt_s, p_in, [momentum(b) for b in blocks], block_mass, budget,
                                      cols, y_boost)
                block_p = [momentum(b) for b in blocks]
            else:
                block_mass = [sqrt_s]
                block_p = [centre]
            for block, p, m in zip(blocks, block_p, block_mass):
                self._decay_inverse(block, p, m, momentum, mass_of, r, cols, centre, y_boost, fixed)
        return r

    def _stable_mass(self, momenta: np.ndarray, legs) -> np.ndarray:
        """Invariant mass of a set of on-shell legs, ``sum m_i^2 + 2 sum_{i<j} p_i.p_j``.

        Summed from pairwise products without cancellation, so that the masses
        of nearly collinear systems (where the power-law maps put many points)
        are recovered to full relative precision.
        """
        legs = list(legs)
        m = [float(self.masses[leg - 1]) for leg in legs]
        s = np.full(momenta.shape[0], sum(x**2 for x in m))
        for i in range(len(legs)):
            for j in range(i + 1, len(legs)):
                s = s + 2.0 * dot_on_shell(momenta[:, legs[i] - 1], momenta[:, legs[j] - 1], m[i], m[j])
        return np.sqrt(s)

    @staticmethod
    def _unsample(sampler, mass, lo_mass, hi_mass):
        return sampler.inverse(mass**2, *_squared_range(np.broadcast_to(lo_mass, mass.shape), hi_mass))[0]

    def _t_chain_inverse(self, momenta, r, sqrt_s, p_in, block_p, block_mass, budget, cols, y_boost):
        k = len(block_p)
        p_b = p_in[self._t_to]
        rest = np.stack([sqrt_s, *np.zeros((3, len(sqrt_s)))], axis=-1)
        rest_mass = sqrt_s
        q2 = np.full_like(sqrt_s, self.masses[self._t_from] ** 2)
        for j in range(k - 1):
            m_x = block_mass[j]
            remainder = sum(block_p[j + 1 :])
            if j < k - 2:
                m_rest = self._stable_mass(momenta, [leg for b in self.topology.blocks[j + 1 :] for leg in b.legs])
                hi = (budget if j == 0 else rest_mass) - m_x
                r[:, cols.take()] = self._unsample(Uniform(), m_rest, sum(block_mass[j + 1 :]), hi)
            else:
                m_rest = block_mass[k - 1]
            q0, q_abs, axis = self._chain_frame(p_b, rest, rest_mass, q2)
            p_abs, e_x, t_hi, width = self._t_step_kinematics(rest_mass, m_x, m_rest, q2, q0, q_abs)
            x_rest = boost_to_rest(block_p[j], rest, rest_mass)
            direction = np.concatenate([x_rest[:, :1], rotate_to_z(x_rest[:, 1:], axis)], axis=-1)
            _, phi = angles_of(direction)
            v = 2.0 * q_abs * p_abs * one_minus_cos(direction)
            t = t_hi - v
            lo, hi = self._first_step_range(q_abs, p_abs, e_x, y_boost) if j == 0 else (0.0, width)
            r[:, cols.take()] = self._t_samplers[j].inverse_distance(v - lo, t_hi - lo, hi - lo)[0]
            r[:, cols.take()] = phi / _TWO_PI
            rest, rest_mass, q2 = remainder, m_rest, t

    def _analyser_first_inverse(self, node, p, mass, momentum, mass_of, r, cols, mother):
        """The four angle columns :meth:`_decay_analyser_first` drew."""
        k, j = self._analysers[node.legs]
        res = node.children[k]
        lep, rest = res.children[j], res.children[1 - j]
        m_res = mass_of(res)
        p_lep, p_res = momentum(lep), momentum(res)
        axis = _helicity_axis(p, mass, mother)
        lep_dir = rotate_to_z(boost_to_rest(p_lep, p, mass)[:, 1:], axis)
        res_dir = rotate_to_z(boost_to_rest(p_res, p, mass)[:, 1:], axis)
        cos_l, phi_l = angles_of(np.concatenate([np.ones((len(p), 1)), lep_dir], axis=-1))
        in_res = _rest_frame_momentum(p_lep, momentum(rest), p_res, m_res, mass_of(lep), mass_of(rest))
        cos_star, _ = angles_of(np.concatenate([in_res[:, :1], rotate_to_z(in_res[:, 1:], _helicity_axis(
            p_res, m_res, p))], axis=-1))
        about_lep = rotate_to_z(res_dir, lep_dir)
        psi = np.mod(np.arctan2(about_lep[:, 1], about_lep[:, 0]), _TWO_PI)
        for column in (0.5 * (cos_l + 1.0), phi_l / _TWO_PI, 0.5 * (cos_star + 1.0), psi / _TWO_PI):
            r[:, cols.take()] = column

    def _decay_inverse(self, node, p, mass, momentum, mass_of, r, cols, mother, y_boost, fixed):
        if node.is_leg:
            return
        a, b = node.children
        m_a, m_b = mass_of(a), mass_of(b)
        if not a.is_leg and a.legs not in fixed:
            r[:, cols.take()] = self._unsample(self._samplers[a.legs], m_a, self.min_mass(a),
                                               np.minimum(mass - self._mass_floor(b, fixed), self.max_mass(a)))
        if not b.is_leg and b.legs not in fixed:
            r[:, cols.take()] = self._unsample(self._samplers[b.legs], m_b, self.min_mass(b),
                                               np.minimum(mass - m_a, self.max_mass(b)))
        if node.legs in self._analysers:
            self._analyser_first_inverse(node, p, mass, momentum, mass_of, r, cols, mother)
            return
        d = self._cut_daughters.get(node.legs)
        if d == 1:
            pd_rest = _rest_frame_momentum(momentum(b), momentum(a), p, mass, m_b, m_a)
        else:
            pd_rest = _rest_frame_momentum(momentum(a), momentum(b), p, mass, m_a, m_b)
        pd_rest[:, 1:] = rotate_to_z(pd_rest[:, 1:], _helicity_axis(p, mass, mother))
        cos_theta, phi = angles_of(pd_rest)
        if d is None:
            r[:, cols.take()] = 0.5 * (cos_theta + 1.0)
            r[:, cols.take()] = phi / _TWO_PI
        else:
            window = _CutWindow(self, node.children[d].legs[0], p, mass, two_body_momentum(mass, m_a, m_b), y_boost)
            cos_lo, cos_hi = window.polar()
            r[:, cols.take()] = (cos_theta - cos_lo) / (cos_hi - cos_lo)
            low, width = window.azimuth(cos_theta)
            s = np.where(phi <= np.pi, (phi - low) / width, (phi - _TWO_PI + low) / width)
            r[:, cols.take()] = 0.5 * (s + 1.0)
        self._decay_inverse(a, momentum(a), m_a, momentum, mass_of, r, cols, p, y_boost, fixed)
        self._decay_inverse(b, momentum(b), m_b, momentum, mass_of, r, cols, p, y_boost, fixed)
