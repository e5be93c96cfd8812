"""MadGraph's generation cuts, vectorised over events.

The cuts of a MadGraph LO ``run_card.dat`` with MadEvent's definitions
(``setcuts.f`` and ``cuts.f`` of MadGraph 3.x):

* particle classes by PDG id: ``j`` = quarks up to ``maxjetflavor`` (d u s c in
  the default 4-flavour scheme) and the gluon; ``b`` = quarks above
  ``maxjetflavor`` up to b; ``l`` = e, mu, tau (either charge); ``a`` = photon;
  neutrinos enter the missing transverse energy;
* no pt / E / rapidity / Delta R / pair-mass cuts on particles heavier than
  20 GeV (t, W, Z, H) nor on neutrinos; particles heavier than 10 GeV are the
  "heavy" ones of ``ptheavy``;
* "eta" cuts are on the rapidity ``y = 1/2 ln((E+pz)/(E-pz))`` in the
  collider frame, and Delta R uses rapidity differences, as MadGraph's
  ``rap`` and ``R2``; energy cuts (``ej``, ``el``, ...) apply in the partonic
  centre-of-mass frame;
* a minimum of ``-1`` or ``0`` switches a cut off; a maximum below 0 switches it
  off; pair masses ``mmxx`` act on j j, b b, a a and same-flavour
  opposite-charge l+ l- pairs, and a minimum above the maximum vetoes the window
  between them, as in MadGraph.

Momenta are collider-frame (lab) four-vectors ``(E, px, py, pz)`` in GeV of
shape ``(n_events, n_external, 4)``, incoming legs first.

Decay chains (a process whose metadata lists ``onshell_resonances``, as
MadGraph's ``p p > t t~, (t > b w+, ...)`` syntax): the integrand keeps each
such resonance within ``bwcutoff`` widths of its pole and, with ``cut_decays =
False`` (MadGraph's default), passes its decay products as ``exempt`` legs,
which receive no cut here.

Not reproduced (documented in docs/cards.md): the ``$``-resonance ``cut_bw``
test, and ``eamax`` entering the photon pt minimum.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.cards import RunCard
    >>> from madnis_plugin.cuts import GenerationCuts
    >>> cuts = GenerationCuts.from_run_card(RunCard.from_text(" 25 = ptl\\n"))
    >>> p = np.array([[[50, 0, 0, 50], [50, 0, 0, -50],
    ...                [50, 30, 0, 40], [50, -30, 0, -40]]], dtype=float)
    >>> cuts.passes(p, (1, -1, 11, -11)).tolist()
    [True]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["GenerationCuts", "ParticleClasses", "tau_min", "resonance_mass_floor"]

_LEPTONS = (11, 13, 15)
_NEUTRINOS = (12, 14, 16)
#: MadGraph applies no kinematic cuts to particles heavier than this (GeV).
_UNCUT_MASS = 20.0
#: ``ptheavy`` acts on particles heavier than this (GeV).
_HEAVY_MASS = 10.0
#: MadGraph's acos argument clamp in DELTA_PHI.
_COS_CLAMP = 0.99999999


@dataclass(frozen=True)
class ParticleClasses:
    """Which final-state legs MadGraph counts as j, b, l, a, neutrino, heavy.

    Every attribute is a boolean array over the final-state legs (external
    legs after the incoming ones). ``cut`` marks legs that receive kinematic
    cuts at all (not neutrinos, not heavier than 20 GeV).

    Example:
        >>> c = ParticleClasses.of((21, 21, 5, -5, 1, 11), masses=(0, 0, 4.7, 4.7, 0, 0))
        >>> c.j.tolist(), c.b.tolist(), c.l.tolist()
        ([False, False, True, False], [True, True, False, False], [False, False, False, True])
    """

    pdg: np.ndarray
    j: np.ndarray
    b: np.ndarray
    l: np.ndarray  # noqa: E741 - MadGraph's name for the charged-lepton class
    a: np.ndarray
    nu: np.ndarray
    heavy: np.ndarray
    cut: np.ndarray

    @classmethod
    def of(cls, pdgs: Sequence[int], masses: Sequence[float], maxjetflavor: int = 4,
           n_incoming: int = 2, exempt: Sequence[int] = ()) -> "ParticleClasses":
        """Classes of the final-state legs of a process with these PDG ids and masses.

        ``exempt``: external leg indices (0-based, incoming included) that belong
        to no class and receive no cut: decay-chain products when ``cut_decays = False``.
        """
        pdg = np.asarray(pdgs[n_incoming:], dtype=np.int64)
        mass = np.asarray(masses[n_incoming:], dtype=np.float64)
        apdg = np.abs(pdg)
        keep = ~np.isin(np.arange(n_incoming, n_incoming + pdg.size), list(exempt))
        j = ((apdg >= 1) & (apdg <= min(maxjetflavor, 6))) | (pdg == 21)
        b = (apdg >= maxjetflavor + 1) & (apdg <= 5)
        nu = np.isin(apdg, _NEUTRINOS)
        return cls(pdg=pdg, j=j & keep, b=b & keep, l=np.isin(apdg, _LEPTONS) & keep, a=(pdg == 22) & keep,
                   nu=nu & keep, heavy=(mass > _HEAVY_MASS) & keep, cut=(mass <= _UNCUT_MASS) & ~nu & keep)

    def kind(self, i: int) -> str:
        """The class letter of final-state leg ``i`` (``j b l a`` or ``""``)."""
        for name in "jbla":
            if getattr(self, name)[i]:
                return name
        return ""


# Pair-cut keys by unordered class pair, as setcuts.f assigns them.
_DR_KEYS = {frozenset("j"): "jj", frozenset("b"): "bb", frozenset("l"): "ll", frozenset("a"): "aa",
            frozenset("bj"): "bj", frozenset("aj"): "aj", frozenset("jl"): "jl",
            frozenset("ab"): "ab", frozenset("bl"): "bl", frozenset("al"): "al"}


def _pt(p: np.ndarray) -> np.ndarray:
    return np.hypot(p[..., 1], p[..., 2])


def _rapidity(p: np.ndarray) -> np.ndarray:
    """MadGraph's ``rap``: true rapidity; -1e99 where E <= |pz|."""
    e, pz = p[..., 0], p[..., 3]
    ok = e > np.abs(pz)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = 0.5 * np.log((e + pz) / (e - pz))
    return np.where(ok, y, -1e99)


def _delta_phi(p1: np.ndarray, p2: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = (p1[..., 1] * p2[..., 1] + p1[..., 2] * p2[..., 2]) / (_pt(p1) * _pt(p2))
    return np.arccos(np.clip(np.nan_to_num(cos, nan=1.0), -_COS_CLAMP, _COS_CLAMP))


def _mass2(p: np.ndarray) -> np.ndarray:
    return p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2 - p[..., 3] ** 2


def _window(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """MadGraph's min/max test: fail below ``low`` or (``high >= 0``) above ``high``."""
    bad = x < low
    if high >= 0:
        bad |= x > high
    return ~bad


@dataclass(frozen=True)
class GenerationCuts:
    """The generation cuts of a run card (see the module docstring for definitions).

    Attributes:
        values: run-card value of every cut key (GeV, or rapidity / Delta R).
        maxjetflavor: heaviest quark counted as a jet (4 or 5).

    Example:
        >>> from madnis_plugin.cards import RunCard
        >>> cuts = GenerationCuts.from_run_card(RunCard.from_text(" 0 = lpp1\\n"))
        >>> cuts["ptj"], cuts.maxjetflavor
        (20.0, 4)
    """

    values: Mapping[str, float]
    maxjetflavor: int = 4

    @classmethod
    def from_run_card(cls, rc: Any) -> "GenerationCuts":
        """Cuts from a :class:`~madnis_plugin.cards.RunCard` (defaults for absent keys)."""
        from .cards import SUPPORTED_CUT_KEYS

        values = {key: float(rc[key]) for key in sorted(SUPPORTED_CUT_KEYS)}
        return cls(values=values, maxjetflavor=int(rc["maxjetflavor"]))

    def __getitem__(self, key: str) -> float:
        return self.values[key]

    def classes(self, pdgs: Sequence[int], masses: Sequence[float] | None,
                momenta: np.ndarray | None = None, n_incoming: int = 2,
                exempt: Sequence[int] = ()) -> ParticleClasses:
        """:class:`ParticleClasses` of a subprocess (masses from momenta if not given)."""
        if masses is None:
            if momenta is None:
                raise ValueError("need masses or momenta to classify particles")
            masses = np.sqrt(np.maximum(_mass2(momenta[0]), 0.0))
        return ParticleClasses.of(pdgs, masses, self.maxjetflavor, n_incoming, exempt)

    def leg_limits(self, pdgs: Sequence[int], masses: Sequence[float], n_incoming: int = 2,
                   exempt: Sequence[int] = ()) -> dict[str, np.ndarray]:
        """Per final-state leg, the single-particle windows the cuts impose (setcuts.f).

        Keys ``ptmin``, ``ptmax``, ``emin``, ``emax``, ``ymax``, ``ymin``; a
        maximum of -1 is off, a minimum of 0 is none. Every event with a leg
        outside its window fails the cuts, so a phase-space map may stay inside.

        Example:
            >>> from madnis_plugin.cards import RunCard
            >>> cuts = GenerationCuts.from_run_card(RunCard.from_text(" 0 = lpp1\\n 25 = ptj\\n 4.5 = etaj\\n"))
            >>> lim = cuts.leg_limits((21, 21, 6, -6, 21), (0, 0, 173, 173, 0))
            >>> lim["ptmin"].tolist(), lim["ymax"].tolist()
            ([0.0, 0.0, 25.0], [-1.0, -1.0, 4.5])
        """
        return self._per_particle_limits(self.classes(pdgs, masses, n_incoming=n_incoming, exempt=exempt))

    def delta_r_floors(self, pdgs: Sequence[int], masses: Sequence[float], n_incoming: int = 2,
                       exempt: Sequence[int] = ()) -> np.ndarray:
        """Per pair of final-state legs, the Delta R below which every event fails the cuts (0: none).

        The ``drXX`` minima of :meth:`passes` (``drjj``, ``drjl``, ...), as a
        symmetric ``(n_final, n_final)`` array, so that a phase-space map may
        stay outside.

        Example:
            >>> from madnis_plugin.cards import RunCard
            >>> cuts = GenerationCuts.from_run_card(RunCard.from_text(" 0.4 = drjl\\n"))
            >>> cuts.delta_r_floors((2, 21, -11, 12, 2), (0, 0, 0, 0, 0)).tolist()
            [[0.0, 0.0, 0.4], [0.0, 0.0, 0.0], [0.4, 0.0, 0.0]]
        """
        c = self.classes(pdgs, masses, n_incoming=n_incoming, exempt=exempt)
        n = c.pdg.size
        floors = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                ki, kj = c.kind(i), c.kind(j)
                if i != j and c.cut[i] and c.cut[j] and ki and kj:
                    floors[i, j] = max(self.values["dr" + _DR_KEYS[frozenset(ki + kj)]], 0.0)
        return floors

    def _per_particle_limits(self, c: ParticleClasses) -> dict[str, np.ndarray]:
        """Per final-state leg: pt, energy and rapidity windows (setcuts.f)."""
        v = self.values
        n = c.pdg.size
        lim = {"ptmin": np.zeros(n), "ptmax": np.full(n, -1.0), "emin": np.zeros(n),
               "emax": np.full(n, -1.0), "ymax": np.full(n, -1.0), "ymin": np.zeros(n)}
        for i in range(n):
            k = c.kind(i)
            if not c.cut[i] or not k:
                continue
            lim["ptmin"][i] = v["pt" + k]
            lim["ptmax"][i] = v[f"pt{k}max"]
            lim["emin"][i] = v["e" + k]
            lim["emax"][i] = v[f"e{k}max"]
            lim["ymax"][i] = v["eta" + k]
            lim["ymin"][i] = v[f"eta{k}min"]
        return lim

    def passes(self, momenta: np.ndarray, pdgs: Sequence[int], masses: Sequence[float] | None = None,
               n_incoming: int = 2, exempt: Sequence[int] = ()) -> np.ndarray:
        """Whether each event passes every cut.

        Args:
            momenta: ``(n, n_external, 4)`` collider-frame momenta, incoming first.
            pdgs: PDG ids of the external legs in the same order.
            masses: ``(n_external,)`` pole masses deciding the uncut (> 20 GeV)
                and heavy (> 10 GeV) classes; default: the momenta's own masses.
            n_incoming: incoming legs (2 for collisions).
            exempt: external legs that receive no cut (see :meth:`ParticleClasses.of`).

        Returns:
            ``(n,)`` boolean mask.
        """
        p = np.asarray(momenta, dtype=np.float64)
        n_events = p.shape[0]
        if n_events == 0:
            return np.zeros(0, dtype=bool)
        v = self.values
        c = self.classes(pdgs, masses, p, n_incoming, exempt)
        fs = p[:, n_incoming:, :]
        ok = np.ones(n_events, dtype=bool)

        if n_incoming == 2:
            p_in = p[:, 0, :] + p[:, 1, :]
            ok &= _window(_mass2(p_in), v["dsqrt_shat"] * abs(v["dsqrt_shat"]),
                          v["dsqrt_shatmax"] * abs(v["dsqrt_shatmax"]))
            # Energy cuts live in the partonic rest frame: boost along z.
            y_cm = 0.5 * np.log(p_in[:, 0] + p_in[:, 3]) - 0.5 * np.log(p_in[:, 0] - p_in[:, 3])
            energy = fs[..., 0] * np.cosh(y_cm)[:, None] - fs[..., 3] * np.sinh(y_cm)[:, None]
        else:
            energy = fs[..., 0]

        pt = _pt(fs)
        y = _rapidity(fs)
        lim = self._per_particle_limits(c)
        for i in range(c.pdg.size):
            if lim["ptmin"][i] > 0 or lim["ptmax"][i] >= 0:
                ok &= _window(pt[:, i], lim["ptmin"][i], lim["ptmax"][i])
            if lim["emin"][i] > 0 or lim["emax"][i] >= 0:
                ok &= energy[:, i] > lim["emin"][i]
                if lim["emax"][i] >= 0:
                    ok &= energy[:, i] <= lim["emax"][i]
            if lim["ymax"][i] >= 0:
                ok &= np.abs(y[:, i]) <= lim["ymax"][i]
            if lim["ymin"][i] > 0:
                ok &= np.abs(y[:, i]) >= lim["ymin"][i]

        # Missing E_T: vector sum of the neutrinos, only when there are some.
        if c.nu.any():
            ok &= _window(_pt(fs[:, c.nu, :].sum(axis=1)), v["misset"], v["missetmax"])
        if v["mmnl"] > 0 or v["mmnlmax"] >= 0:
            leptonic = fs[:, c.nu | c.l, :].sum(axis=1)
            ok &= _window(np.sqrt(np.maximum(_mass2(leptonic), 0.0)), v["mmnl"], v["mmnlmax"])
        if v["ptheavy"] > 0 and c.heavy.any():
            ok &= (pt[:, c.heavy] > v["ptheavy"]).any(axis=1)

        ok &= self._pair_cuts(fs, c, y)
        ok &= self._jet_and_lepton_cuts(pt, c)
        return ok

    def _pair_cuts(self, fs: np.ndarray, c: ParticleClasses, y: np.ndarray) -> np.ndarray:
        v = self.values
        ok = np.ones(fs.shape[0], dtype=bool)
        n = c.pdg.size
        for i in range(n - 1):
            for j in range(i + 1, n):
                ki, kj = c.kind(i), c.kind(j)
                both_cut = bool(c.cut[i] and c.cut[j])
                if both_cut and ki and kj:
                    key = _DR_KEYS[frozenset(ki + kj)]
                    rmin, rmax = v["dr" + key], v[f"dr{key}max"]
                    r2min, r2max = rmin * abs(rmin), rmax * abs(rmax)
                    if r2min > 0 or r2max >= 0:
                        r2 = _delta_phi(fs[:, i], fs[:, j]) ** 2 + (y[:, i] - y[:, j]) ** 2
                        ok &= _window(r2, r2min, r2max)
                same_flavour_leptons = bool(c.l[i] and c.l[j] and abs(c.pdg[i]) == abs(c.pdg[j])
                                            and c.pdg[i] * c.pdg[j] < 0)
                if same_flavour_leptons or (c.nu[i] and c.l[j]) or (c.l[i] and c.nu[j]) or \
                        (c.nu[i] and c.nu[j]):
                    lo = v["ptllmin"] * abs(v["ptllmin"])
                    hi = v["ptllmax"] * abs(v["ptllmax"])
                    if lo > 0 or hi >= 0:
                        pair = fs[:, i] + fs[:, j]
                        ok &= _window(pair[:, 1] ** 2 + pair[:, 2] ** 2, lo, hi)
                if not both_cut:
                    continue
                key = None
                if ki and ki == kj and ki in "jab":
                    key = ki * 2
                elif same_flavour_leptons:
                    key = "ll"
                if key is None:
                    continue
                lo = v["mm" + key] * abs(v["mm" + key])
                hi = v[f"mm{key}max"] * abs(v[f"mm{key}max"])
                if not (lo > 0 or hi >= 0):
                    continue
                s = _mass2(fs[:, i] + fs[:, j])
                if lo <= hi or hi < 0:
                    ok &= _window(s, lo, hi)
                else:
                    ok &= ~((s < lo) & (s > hi))  # vetoed window between max and min
        return ok

    def _jet_and_lepton_cuts(self, pt: np.ndarray, c: ParticleClasses) -> np.ndarray:
        v = self.values
        n_events = pt.shape[0]
        ok = np.ones(n_events, dtype=bool)
        jets = -np.sort(-pt[:, c.j], axis=1)  # descending pt
        njets = jets.shape[1]
        ptjmin = [v[f"ptj{k}min"] for k in range(1, 5)]
        ptjmax = [v[f"ptj{k}max"] for k in range(1, 5)]
        if (njets < 1 and (v["htjmin"] > 0 or ptjmin[0] > 0)) or any(
                njets < k + 1 and ptjmin[k] > 0 for k in range(1, 4)):
            return np.zeros(n_events, dtype=bool)
        inclusive_ht = np.zeros(n_events)
        if njets > 0:
            jet_or = v["cutuse"] == 0
            notgood = np.full(n_events, not jet_or)
            for k in range(min(njets, 4)):
                fails = jets[:, k] < ptjmin[k]
                if ptjmax[k] >= 0:
                    fails |= jets[:, k] > ptjmax[k]
                notgood = (notgood | fails) if jet_or else (notgood & fails)
            ok &= ~notgood
            ht = np.cumsum(jets, axis=1)
            for k in range(2, min(njets, 4) + 1):
                ok &= _window(ht[:, k - 1], v[f"ht{k}min"], v[f"ht{k}max"])
            ok &= _window(ht[:, -1], v["htjmin"], v["htjmax"])
            inclusive_ht = ht[:, -1]
        if c.b.any():
            inclusive_ht = inclusive_ht + pt[:, c.b].sum(axis=1)
        ok &= _window(inclusive_ht, v["ihtmin"], v["ihtmax"])

        ptlmin = [v[f"ptl{k}min"] for k in range(1, 5)]
        ptlmax = [v[f"ptl{k}max"] for k in range(1, 5)]
        if any(x > 0 for x in ptlmin) or any(x >= 0 for x in ptlmax):
            leptons = -np.sort(-pt[:, c.l], axis=1)
            nleptons = leptons.shape[1]
            if any(nleptons < k + 1 and ptlmin[k] > 0 for k in range(4)):
                return np.zeros(n_events, dtype=bool)
            for k in range(min(nleptons, 4)):
                ok &= _window(leptons[:, k], ptlmin[k], ptlmax[k])

        # "At least one X above xptX"; MadGraph drops the cut when the process has no X.
        for key, mask in (("xptj", c.j), ("xpta", c.a), ("xptb", c.b), ("xptl", c.l)):
            if v[key] > 0 and mask.any():
                ok &= pt[:, mask].max(axis=1) >= v[key]
        return ok


def tau_min(rc: Any, pdgs: Sequence[int], masses: Sequence[float], n_incoming: int = 2,
            exempt: Sequence[int] = ()) -> float:
    """A lower bound on ``tau = s-hat / s`` implied by the cuts (conservative).

    In the partonic rest frame ``sqrt(s-hat)`` is the sum of the final-state
    energies, and each energy is at least ``max(sqrt(m^2 + ptmin^2), emin)``; a
    pair-mass minimum ``M`` bounds the pair's energy by ``M`` and an
    ``mmnl`` minimum the leptons' and neutrinos' together; ``dsqrt_shat`` and
    the scalar jet ``htjmin`` / ``ihtmin`` sums bound it directly. The largest
    of these bounds is returned, divided by the collider's ``s = 4 E1 E2``.

    Args:
        rc: the run card.
        pdgs: external PDG ids, incoming first.
        masses: ``(n_external,)`` pole masses (GeV).

    Returns:
        ``tau_min`` in [0, 1].

    Example:
        >>> from madnis_plugin.cards import RunCard
        >>> rc = RunCard.from_text(" 50 = mmll\\n 0 = ptl\\n 3500 = ebeam1\\n 3500 = ebeam2\\n")
        >>> round(tau_min(rc, (2, -2, 11, -11), (0, 0, 0, 0)) * 7000**2, 6)
        2500.0
    """
    cuts = GenerationCuts.from_run_card(rc)
    v = cuts.values
    c = cuts.classes(pdgs, masses, n_incoming=n_incoming, exempt=exempt)
    fs_masses = np.asarray(masses[n_incoming:], dtype=np.float64)
    lim = cuts._per_particle_limits(c)
    energy_floor = np.maximum.reduce([np.hypot(fs_masses, np.maximum(lim["ptmin"], 0.0)),
                                      lim["emin"], fs_masses])
    total = float(energy_floor.sum())
    bounds = [total, max(v["dsqrt_shat"], 0.0)]
    n = c.pdg.size
    for i in range(n - 1):
        for j in range(i + 1, n):
            if not (c.cut[i] and c.cut[j]):
                continue
            ki, kj = c.kind(i), c.kind(j)
            sfos = bool(c.l[i] and c.l[j] and abs(c.pdg[i]) == abs(c.pdg[j]) and c.pdg[i] * c.pdg[j] < 0)
            key = ki * 2 if (ki and ki == kj and ki in "jab") else ("ll" if sfos else None)
            if key is None:
                continue
            lo, hi = v["mm" + key], v[f"mm{key}max"]
            if lo > 0 and (hi < 0 or lo <= hi):
                bounds.append(lo + total - energy_floor[i] - energy_floor[j])
    leptonic = c.l | c.nu
    if v["mmnl"] > 0 and leptonic.any():
        bounds.append(v["mmnl"] + float(energy_floor[~leptonic].sum()))
    for key, mask in (("htjmin", c.j), ("ihtmin", c.j | c.b)):
        if v[key] > 0 and mask.any():
            bounds.append(max(v[key], float(energy_floor[mask].sum()))
                          + float(energy_floor[~mask].sum()))
    s_collider = 4.0 * float(rc["ebeam1"]) * float(rc["ebeam2"])
    return float(min(1.0, max(bounds) ** 2 / s_collider)) if s_collider > 0 else 0.0


def resonance_mass_floor(windows: Sequence[tuple[Sequence[int], float, float]], masses: Sequence[float],
                         bwcutoff: float, n_incoming: int = 2) -> float:
    """A lower bound on ``sqrt(s-hat)`` from resonances kept within ``bwcutoff`` widths of their poles.

    The invariant mass of a set of momenta is at least the sum of the
    invariant masses of disjoint subsets of it. A resonance window ``(legs,
    M, Gamma)`` keeps the mass of ``legs`` above ``M - bwcutoff Gamma``, so
    ``sqrt(s-hat)`` is at least the sum, over the outermost windows, of
    their lower edges (or of the bounds of the windows and legs inside them,
    whichever is larger), plus the masses of the legs in no window. Below it
    every point fails a window. Windows that overlap without nesting give
    no bound beyond the legs' masses.

    Args:
        windows: ``(legs, mass, width)`` per resonance; ``legs`` are 0-based
            external indices.
        masses: ``(n_external,)`` masses (GeV), incoming first.

    Example:
        >>> mt, wt, mw, ww = 173.0, 1.5, 80.4, 2.0
        >>> windows = [((2, 3, 4), mt, wt), ((5, 6, 7), mt, wt), ((3, 4), mw, ww), ((6, 7), mw, ww)]
        >>> resonance_mass_floor(windows, [0, 0, 4.7, 0, 0, 4.7, 0, 0], bwcutoff=15.0)
        301.0
    """
    edges: dict[frozenset, float] = {}
    for legs, mass, width in windows:
        key = frozenset(int(leg) for leg in legs)
        edges[key] = max(edges.get(key, 0.0), float(mass) - bwcutoff * float(width))

    def floor(legs: frozenset) -> float:
        inner = [w for w in edges if w < legs]
        outer = [w for w in inner if not any(w < v for v in inner)]
        if any(a & b for i, a in enumerate(outer) for b in outer[i + 1:]):
            outer = []
        covered = frozenset().union(*outer)
        bound = sum(floor(w) for w in outer) + sum(float(masses[leg]) for leg in legs - covered)
        return max(bound, edges.get(legs, 0.0))

    return floor(frozenset(range(n_incoming, len(masses))))
