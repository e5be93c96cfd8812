"""The physics integrand: a process, its phase-space channels, beams, PDFs, cuts and scales.

For channel ``c`` (a subprocess group ``g`` and one of its diagrams) and a batch
``r`` of unit-hypercube points, :class:`CollisionIntegrand` returns

    value = sum_{s in g} f_a(x1, muF1) f_b(x2, muF2) |M_s|^2 / (2 s_hat)
            * jacobian_c(r) * GeV^-2->pb * cuts

(``f = 1`` for lepton beams) and the diagram prior of every channel of the
group, alpha_d = w_d / sum_e w_e (zero for the other groups' channels, so the
priors of a point form a partition of unity over its group). The run card's
``sde_strategy`` chooses ``w_d``: 2 (default) the diagram's propagator
denominators (:mod:`~madnis_plugin.phasespace.propagators`), 1 its squared
amplitude summed over the group's subprocesses,
``w_d = sum_s L_s |M_s|^2 amp2_s[d]``. Per event it also chooses the flavour combination with
probability proportional to its contribution, a colour flow and helicities
(for LHE), and records x1, x2, scales and alpha_s in the payload.

Example:
    >>> import numpy as np
    >>> from madnis_plugin import load_process
    >>> from madnis_plugin.cards import read_run_card
    >>> from madnis_plugin.resources import default_card
    >>> from madnis_plugin.integrand import CollisionIntegrand
    >>> f = CollisionIntegrand(load_process("ee_mumu"), read_run_card(default_card("run_card.dat")))
    >>> f.dim, f.n_channels
    (2, 2)
    >>> f(0, np.full((3, 2), 0.5)).value.shape
    (3,)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .cards import RunCard
from .interface import IntegrandBatch
from .phasespace import build_channel, fold_equivalent_channels, parse_diagram
from .phasespace.folding import identical_particle_permutations
from .phasespace.kinematics import invariant_mass
from .phasespace.propagators import log_propagator_weight
from .process import Diagram, Process

__all__ = ["GEV2_TO_PB", "Channel", "CollisionIntegrand", "IntegrandError"]

#: hbar^2 c^2 in GeV^2 pb, the conversion MadGraph uses.
GEV2_TO_PB = 0.38937966e9


class IntegrandError(ValueError):
    """Run settings the integrand cannot honour (one-line message)."""


@dataclass(frozen=True, slots=True)
class Channel:
    """One integration channel: a subprocess group and a diagram of it.

    Attributes:
        group: index of the subprocess group.
        diagram: the diagram (None: one flat channel for the whole group).
        name: label for tables, e.g. ``"g0.d2"``.
        multiplicity: diagrams folded into this channel (equal up to permutations
            of identical final-state particles); its events are symmetrised.
    """

    group: int
    diagram: Diagram | None
    name: str
    multiplicity: int = 1


class CollisionIntegrand:
    """A :class:`~madnis_plugin.interface.MultiChannelIntegrand` for one process and run card.

    Args:
        process: the loaded process.
        run_card: the run card (beams, PDFs, scales, cuts).
        seed: seed of the generator used for flavour, colour and helicity choices.
        single_channel: one flat channel per group instead of one per diagram
            (the fallback for processes without topologies, and the baseline).
    """

    def __init__(self, process: Process, run_card: RunCard, seed: int = 0, single_channel: bool = False):
        self.process = process
        self.run_card = run_card
        self.rng = np.random.default_rng(seed)
        lpp = (int(run_card["lpp1"]), int(run_card["lpp2"]))
        self.hadronic = lpp != (0, 0)
        if self.hadronic and 0 in lpp:
            raise IntegrandError("lepton-hadron collisions (lpp1 != lpp2 type) are not supported")
        self.beam_pdgs = _beam_pdgs(lpp, process)
        self.ebeam = (float(run_card["ebeam1"]), float(run_card["ebeam2"]))
        self.e_cm = 2.0 * math.sqrt(self.ebeam[0] * self.ebeam[1])
        self.groups = process.metadata.groups
        masses = process.masses
        card = process.param_card

        def mass_width(pdg: int) -> tuple[float, float]:
            return card.mass(abs(pdg)), card.width(abs(pdg))

        self.channels: list[Channel] = []
        for g, group in enumerate(self.groups):
            diagrams = [d for d in group.diagrams if not d.four_point]
            if single_channel or not diagrams:
                self.channels.append(Channel(g, None, f"g{g}.flat"))
                continue
            classes = fold_equivalent_channels([d.to_dict() for d in group.diagrams],
                                               group.subprocesses[0].pdg)
            for representative, multiplicity, _ in classes:
                d = group.diagrams[representative]
                label = f"g{g}.d{d.number}" + (f"x{multiplicity}" if multiplicity > 1 else "")
                self.channels.append(Channel(g, d, label, multiplicity))
        if not any(group.diagrams for group in self.groups) and not single_channel:
            warnings.warn(f"{process.name}: no channel topologies; integrating with one flat channel per group")

        from .cuts import GenerationCuts
        from .scales import ScaleChoice

        # Decay chains: per group, the (legs, mass, width) of every resonance
        # forced on shell, and the legs exempt from cuts (cut_decays = False).
        self._onshell_windows = [self._decay_chain(group, process, mass_width) for group in self.groups]
        self._bwcutoff = float(run_card.get("bwcutoff", 15.0))
        self._exempt_legs = [() if bool(run_card.get("cut_decays", False))
                             else tuple(sorted({leg for legs, _, _ in windows for leg in legs}))
                             for windows in self._onshell_windows]
        self.cuts = GenerationCuts.from_run_card(run_card)
        self.scales = ScaleChoice.from_run_card(run_card, process.param_card)
        self._lpp = lpp
        self._tau_min = 0.0
        if self.hadronic:
            from .cuts import resonance_mass_floor, tau_min

            # A bound valid for every subprocess: the smallest of theirs. Each
            # is the larger of the cuts' bound and that of the decay-chain
            # windows: below it the integrand vanishes, and a map that starts
            # lower wastes its s-hat axis there (t t~ dilepton: the axis began
            # at 9.4 GeV, the windows at 301 GeV, and the largest weights came
            # from the coarse VEGAS increments just below the t t~ threshold).
            floors = [resonance_mass_floor(w, masses, self._bwcutoff) ** 2 / self.e_cm**2
                      for w in self._onshell_windows]
            self._tau_min = min(max(tau_min(run_card, s.pdg, masses, exempt=self._exempt_legs[k]), floors[k])
                                for k, g in enumerate(self.groups) for s in g.subprocesses)
        # Per group and leg, the pT below and the |rapidity| above which every
        # subprocess's event fails the cuts: the loosest over the subprocesses
        # (no rapidity bound where one subprocess has none).
        n_in = process.n_incoming
        pt_floors, y_ceilings, dr_floors = [], [], []
        for g, group in enumerate(self.groups):
            limits = [self.cuts.leg_limits(s.pdg, masses, n_in, self._exempt_legs[g]) for s in group.subprocesses]
            pt_min = np.min([np.maximum(lim["ptmin"], 0.0) for lim in limits], axis=0)
            y_max = np.array([lim["ymax"] for lim in limits])
            pt_floors.append(np.r_[np.zeros(n_in), pt_min])
            y_ceilings.append(np.r_[np.full(n_in, -1.0), np.where((y_max < 0).any(axis=0), -1.0, y_max.max(axis=0))])
            dr_min = np.zeros((len(masses), len(masses)))
            dr_min[n_in:, n_in:] = np.min([self.cuts.delta_r_floors(s.pdg, masses, n_in, self._exempt_legs[g])
                                           for s in group.subprocesses], axis=0)
            dr_floors.append(dr_min)
        # The maps never draw a decay chain's resonance outside its window
        # (t t~ dilepton: 2.7% of the trained g g channels' points fell outside).
        windows = [{tuple(leg + 1 for leg in legs): (max(mass - self._bwcutoff * width, 0.0),
                                                     mass + self._bwcutoff * width)
                    for legs, mass, width in group_windows} for group_windows in self._onshell_windows]
        self.maps = [
            build_channel(None if ch.diagram is None else ch.diagram.to_dict(), masses, mass_width, self.e_cm,
                          hadronic=self.hadronic, tau_min=self._tau_min, pt_min=pt_floors[ch.group],
                          y_max=y_ceilings[ch.group], mass_windows=windows[ch.group], dr_min=dr_floors[ch.group])
            for ch in self.channels
        ]
        dims = {m.dim for m in self.maps}
        if len(dims) != 1:
            raise IntegrandError(f"channels of {process.name} have different dimensions {dims}")
        self.dim = dims.pop()
        self.n_channels = len(self.channels)
        self.channel_names = [ch.name for ch in self.channels]
        self.n_final = process.n_external - process.n_incoming
        self.n_features = 4 * self.n_final + 2
        # Diagram slot -> channel index, per group, for the prior; and every
        # channel-carrying slot of a group, for its normalisation.
        self._slot_to_channel: list[dict[int, int]] = [{} for _ in self.groups]
        for c, ch in enumerate(self.channels):
            if ch.diagram is not None:
                self._slot_to_channel[ch.group][ch.diagram.number - 1] = c
        self._group_slots = [np.array([d.number - 1 for d in group.diagrams if not d.four_point], dtype=int)
                             for group in self.groups]
        self.sde_strategy = int(run_card["sde_strategy"])  # 1 or 2, checked by the run card
        self._mass_width = mass_width
        # sde_strategy 2: every channel-carrying diagram's topology, by slot, per group.
        self._slot_topologies = [{d.number - 1: parse_diagram(d.to_dict(), process.n_external)
                                  for d in group.diagrams if not d.four_point}
                                 if self.sde_strategy == 2 and self._slot_to_channel[g] else {}
                                 for g, group in enumerate(self.groups)]
        self._pdf = None
        self._alpha_s = None
        if self.hadronic:
            from .pdf import mkPDF
            from .alphas import alpha_s_for_run

            self._pdf = _run_pdf(run_card, mkPDF)
            self._alpha_s = alpha_s_for_run(str(run_card["pdlabel"]), self._pdf, card.value("SMINPUTS", 3))
        else:
            from .alphas import alpha_s_for_run

            self._alpha_s = alpha_s_for_run("none", None, card.value("SMINPUTS", 3))

    @staticmethod
    def _decay_chain(group, process: Process, mass_width) -> list[tuple[tuple[int, ...], float, float]]:
        """``(legs, mass, width)`` of each resonance the process forces on shell, for one group."""
        windows = []
        diagrams = [d for d in group.diagrams if not d.four_point]
        for pdg in process.metadata.onshell_resonances:
            legs = next((found for d in diagrams if (found := d.s_channel_legs(pdg)) is not None), None)
            if legs is None:
                raise IntegrandError(f"{process.name}: no s-channel {pdg} in the diagrams of subprocess "
                                     f"{group.subprocesses[0].pdg}, but the metadata forces it on shell")
            windows.append((legs, *mass_width(pdg)))
        return windows

    # -- the integrand ---------------------------------------------------------------------

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        r = np.asarray(r, dtype=np.float64)
        n = r.shape[0]
        ch = self.channels[channel]
        group = self.groups[ch.group]
        point = self.maps[channel].map(r)
        momenta, x1, x2, jac = point.momenta, point.x1, point.x2, point.jacobian
        ok = point.valid & (jac > 0) & np.isfinite(jac)

        flavors = [s.flavor_index for s in group.subprocesses]
        pdgs = [s.pdg for s in group.subprocesses]
        # Cuts are flavour-blind only up to the j/b/l classes; a point passes
        # for a subprocess if its own flavours pass.
        passes = np.zeros((n, len(pdgs)), dtype=bool)
        physical = np.flatnonzero(ok)  # invalid points carry all-zero momenta: keep them out of the cuts
        if physical.size:
            p_physical = momenta[physical]
            passes[physical] = np.stack(
                [self.cuts.passes(p_physical, pdg, masses=self.process.masses,
                                  exempt=self._exempt_legs[ch.group]) for pdg in pdgs], axis=1)
            for legs, mass, width in self._onshell_windows[ch.group]:
                m = invariant_mass(p_physical[:, list(legs), :].sum(axis=1))
                passes[physical] &= (np.abs(m - mass) < self._bwcutoff * width)[:, None]
        live = passes.any(axis=1)

        value = np.zeros(n)
        prior = np.zeros((n, self.n_channels))
        payload = {
            "momenta": momenta,
            "x1": x1,
            "x2": x2,
            "flavor_index": np.full(n, flavors[0], dtype=np.int32),
            "mu_r": np.zeros(n),
            "mu_f1": np.zeros(n),
            "mu_f2": np.zeros(n),
            "alpha_s": np.zeros(n),
            "color_index": np.zeros(n, dtype=np.int32),
            "helicity_index": np.zeros(n, dtype=np.int32),
            "channel": np.full(n, channel, dtype=np.int32),
            "permutation": np.broadcast_to(np.arange(self.process.n_external, dtype=np.int32),
                                           (n, self.process.n_external)).copy(),
        }
        features = np.zeros((n, self.n_features))
        features[:, : 4 * self.n_final] = (momenta[:, self.process.n_incoming:, :] / self.e_cm).reshape(n, 4 * self.n_final)
        features[:, -2] = x1
        features[:, -1] = x2
        idx = np.flatnonzero(live)
        if idx.size == 0:
            return IntegrandBatch(value, prior, features, payload, channel)

        p = momenta[idx]
        # MadGraph clusters along any diagram of the group, starting from the channel's.
        mu_r, mu_f1, mu_f2 = self.scales.scales(
            p, pdgs[0], self.process.masses, ch.diagram,
            diagrams=[d for d in group.diagrams if not d.four_point])
        # MadGraph drops events whose factorisation scale is unusable (below 2 GeV on a proton beam).
        usable = self.scales.valid(mu_f1, mu_f2, self._lpp)
        a_s = self._alpha_s(mu_r)
        s_hat = x1[idx] * x2[idx] * self.e_cm**2
        flux = 1.0 / (2.0 * s_hat)
        common = jac[idx] * flux * GEV2_TO_PB

        r_color = self.rng.random(idx.size)
        r_helicity = self.rng.random(idx.size)
        contributions = np.zeros((idx.size, len(flavors)))
        amp2_sum = np.zeros((idx.size, max(self.process.diagram_count, 1)))
        colors = np.zeros((idx.size, len(flavors)), dtype=np.int32)
        helicities = np.zeros((idx.size, len(flavors)), dtype=np.int32)
        densities: dict[tuple[int, int], np.ndarray] = {}  # subprocesses share parton densities
        for k, (flavor, pdg) in enumerate(zip(flavors, pdgs)):
            lumi = self._luminosity(pdg, x1[idx], x2[idx], mu_f1, mu_f2, densities)
            # Per-diagram amplitudes are only needed for the amplitude prior (sde_strategy 1).
            result = self.process.evaluate(p, flavor_index=flavor, alpha_s=a_s,
                                           random_color=r_color, random_helicity=r_helicity,
                                           amp2=self.sde_strategy == 1)
            contribution = np.where(passes[idx, k] & usable, lumi * result.me2, 0.0)
            contribution = np.where(np.isfinite(contribution), contribution, 0.0)
            contributions[:, k] = contribution
            if result.amp2 is not None:
                amp2_sum += contribution[:, None] * result.amp2
            if result.color_index is not None:
                colors[:, k] = result.color_index
            if result.helicity_index is not None:
                helicities[:, k] = result.helicity_index
        # A point whose contributions do not sum to a positive number contributes nothing:
        # rounding where |M|^2 vanishes (q q~ -> l+ l-), or the slightly negative parton
        # densities of the PDF grid at x > 0.98 (nn23lo1, t t~). With sde_strategy 1 the
        # prior's normalisation zeroed these points too.
        total = contributions.sum(axis=1)
        total = np.where(total > 0, total, 0.0)
        value[idx] = total * common

        # The diagram prior alpha_c = m_c w_c / sum_d w_d over this group's diagrams
        # (a partition of unity when no channels are folded, m_c = 1), with
        # w_d = |M_d|^2 (sde_strategy 1) or its propagator denominators (2).
        slots = self._slot_to_channel[ch.group]
        if slots:
            weight = amp2_sum if self.sde_strategy == 1 else self._propagator_weights(ch.group, p)
            norm = weight[:, self._group_slots[ch.group]].sum(axis=1)
            good = norm > 0
            for slot, c in slots.items():
                prior[idx[good], c] = (self.channels[c].multiplicity * weight[good, slot] / norm[good])
            # With amplitude weights (1), a point whose channel diagrams all vanish keeps no
            # weight, as in MadEvent; propagator weights (2) never all vanish.
            value[idx[~good]] = 0.0
        else:
            prior[idx, channel] = 1.0

        # The flavour combination, chosen with probability proportional to its contribution.
        cumulative = np.cumsum(contributions, axis=1)
        pick = (self.rng.random(idx.size) * total)[:, None] < cumulative
        choice = np.where(total > 0, pick.argmax(axis=1), 0)
        rows = np.arange(idx.size)
        payload["flavor_index"][idx] = np.asarray(flavors)[choice]
        payload["color_index"][idx] = colors[rows, choice]
        payload["helicity_index"][idx] = helicities[rows, choice]
        payload["mu_r"][idx] = mu_r
        payload["mu_f1"][idx] = mu_f1
        payload["mu_f2"][idx] = mu_f2
        payload["alpha_s"][idx] = a_s
        if ch.multiplicity > 1:
            # Events of a folded channel: permute the identical final-state
            # particles at random so that every member diagram is covered.
            permutation = identical_particle_permutations(pdgs[0], n, self.rng)
            payload["momenta"] = momenta[np.arange(n)[:, None], permutation]
            payload["permutation"] = permutation.astype(np.int32)
        value = np.where(np.isfinite(value), value, 0.0)
        return IntegrandBatch(value, prior, features, payload, channel)

    def _propagator_weights(self, group: int, momenta: np.ndarray) -> np.ndarray:
        """``(n, diagrams)`` propagator weights of the group's diagrams, scaled so each row's largest is 1."""
        topologies = self._slot_topologies[group]
        log_w = np.full((momenta.shape[0], max(self.process.diagram_count, 1)), -np.inf)
        for slot, topology in topologies.items():
            log_w[:, slot] = log_propagator_weight(topology, momenta, self._mass_width)
        return np.exp(log_w - log_w.max(axis=1, keepdims=True))

    def _luminosity(self, pdg: Sequence[int], x1: np.ndarray, x2: np.ndarray, mu_f1: np.ndarray,
                    mu_f2: np.ndarray, cache: dict[tuple[int, int], np.ndarray]) -> np.ndarray:
        """f_a(x1) f_b(x2) for the subprocess's incoming flavours (1 for lepton beams)."""
        if not self.hadronic:
            return np.ones_like(x1)
        for beam, parton, x, mu in ((0, pdg[0], x1, mu_f1), (1, pdg[1], x2, mu_f2)):
            if (beam, parton) not in cache:
                cache[beam, parton] = self._parton_density(beam, parton, x, mu)
        return cache[0, pdg[0]] * cache[1, pdg[1]]

    def _parton_density(self, beam: int, parton: int, x: np.ndarray, mu_f: np.ndarray) -> np.ndarray:
        # An antiproton beam (lpp = -1) holds the charge conjugates of the proton's partons.
        sign = 1 if self.beam_pdgs[beam] > 0 else -1
        pid = parton * sign if parton != 21 else 21
        return self._pdf.xfxQ(pid, x, mu_f) / x


def _beam_pdgs(lpp: tuple[int, int], process: Process) -> tuple[int, int]:
    """PDG ids of the beams: protons for lpp = 1, antiprotons for -1, the incoming leptons for 0."""
    first = process.subprocesses[0]
    pdgs = []
    for beam, kind in enumerate(lpp):
        if kind == 1:
            pdgs.append(2212)
        elif kind == -1:
            pdgs.append(-2212)
        elif kind == 0:
            pdgs.append(first[beam])
        else:
            raise IntegrandError(f"lpp{beam + 1} = {kind} is not supported (0, 1 or -1)")
    return pdgs[0], pdgs[1]


def _run_pdf(run_card: RunCard, mkPDF):
    """The PDF set the run card asks for: nn23lo1 (shipped) or lhapdf with lhaid."""
    label = str(run_card["pdlabel"]).lower()
    if label == "nn23lo1":
        return mkPDF("NNPDF23_lo_as_0130_qed", 0)
    if label == "lhapdf":
        return mkPDF(int(run_card["lhaid"]), 0)
    raise IntegrandError(f"pdlabel = {label} is not supported (nn23lo1 or lhapdf)")
