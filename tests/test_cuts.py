"""Generation cuts against hand-built kinematics (MadGraph's definitions)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from madnis_plugin.cards import RunCard
from madnis_plugin.cuts import GenerationCuts, ParticleClasses, tau_min

#: Every default cut switched off, so a test turns on only what it checks.
NO_CUTS = """
 0 = ptj
 0 = pta
 0 = ptl
 -1 = etaj
 -1 = etaa
 -1 = etal
 0 = drjj
 0 = drll
 0 = draa
 0 = draj
 0 = drjl
 0 = dral
"""


def cuts_with(extra: str = "") -> GenerationCuts:
    return GenerationCuts.from_run_card(RunCard.from_text(NO_CUTS + extra))


def leg(pt: float, y: float, phi: float = 0.0, m: float = 0.0) -> np.ndarray:
    """A four-momentum from transverse momentum, rapidity, azimuth and mass."""
    mt = math.hypot(m, pt)
    return np.array([mt * math.cosh(y), pt * math.cos(phi), pt * math.sin(phi), mt * math.sinh(y)])


def event(*legs: np.ndarray) -> np.ndarray:
    """One event: massless incoming partons along z carrying the final state's E and pz."""
    total = np.sum(legs, axis=0)
    plus, minus = (total[0] + total[3]) / 2, (total[0] - total[3]) / 2
    incoming = [np.array([plus, 0, 0, plus]), np.array([minus, 0, 0, -minus])]
    return np.array([incoming + list(legs)])


def boost_z(p: np.ndarray, rapidity: float) -> np.ndarray:
    out = p.copy()
    ch, sh = math.cosh(rapidity), math.sinh(rapidity)
    out[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    out[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return out


def passes(cuts: GenerationCuts, p: np.ndarray, pdgs, masses=None) -> bool:
    return bool(cuts.passes(p, pdgs, masses)[0])


# ------------------------------------------------------------------ classes
def test_four_flavour_jets_are_light_quarks_and_gluons_and_b_is_separate():
    c = ParticleClasses.of((21, 21, 1, -2, 3, -4, 21, 5, -5), [0.0] * 7 + [4.7, 4.7])
    assert c.j.tolist() == [True] * 5 + [False, False]
    assert c.b.tolist() == [False] * 5 + [True, True]


def test_five_flavour_scheme_counts_b_as_jet():
    c = ParticleClasses.of((21, 21, 5, -5), [0, 0, 0, 0], maxjetflavor=5)
    assert c.j.all() and not c.b.any()


def test_particles_above_20_gev_and_neutrinos_get_no_kinematic_cuts():
    c = ParticleClasses.of((21, 21, 6, -6, 12, 11, 23), [0, 0, 173, 173, 0, 0, 91.188])
    assert c.cut.tolist() == [False, False, False, True, False]
    assert c.heavy.tolist() == [True, True, False, False, True]


# ------------------------------------------------------------- single legs
@pytest.mark.parametrize("pt, expected", [(19.9, False), (20.1, True)])
def test_jet_pt_minimum(pt, expected):
    p = event(leg(pt, 0.3), leg(pt, -0.3, math.pi))
    assert passes(cuts_with(" 20 = ptj\n"), p, (21, 21, 21, 21)) is expected


def test_b_quarks_escape_the_jet_pt_cut_in_the_four_flavour_scheme():
    p = event(leg(5.0, 0.3, m=4.7), leg(5.0, -0.3, math.pi, m=4.7))
    assert passes(cuts_with(" 20 = ptj\n"), p, (21, 21, 5, -5))
    assert not passes(cuts_with(" 20 = ptj\n 5 = maxjetflavor\n"), p, (21, 21, 5, -5))


def test_eta_cut_is_on_rapidity_not_pseudorapidity():
    # A b with rapidity 2.4 has pseudorapidity asinh(sqrt(m^2+pt^2) sinh(y) / pt) > 2.5.
    pt, m, y = 3.0, 4.7, 2.4
    eta = math.asinh(math.hypot(m, pt) * math.sinh(y) / pt)
    assert eta > 2.5
    p = event(leg(pt, y, m=m), leg(pt, -y, math.pi, m=m))
    assert passes(cuts_with(" 2.5 = etab\n"), p, (21, 21, 5, -5))
    assert not passes(cuts_with(" 2.3 = etab\n"), p, (21, 21, 5, -5))


def test_rapidity_cuts_are_in_the_collider_frame():
    p = event(leg(30, 0.5), leg(30, 0.5, math.pi))
    assert passes(cuts_with(" 2.5 = etaj\n"), p, (21, 21, 21, 21))
    assert not passes(cuts_with(" 2.5 = etaj\n"), boost_z(p, 2.1), (21, 21, 21, 21))


def test_energy_cut_is_in_the_partonic_rest_frame():
    # Back-to-back leptons of energy 120 in the partonic frame, boosted along z.
    p = boost_z(event(leg(100, 0.6), leg(100, -0.6, math.pi)), 1.3)
    energy_cm = 100 * math.cosh(0.6)
    assert passes(cuts_with(f" {energy_cm - 0.1} = el\n"), p, (11, -11, 13, -13))
    assert not passes(cuts_with(f" {energy_cm + 0.1} = el\n"), p, (11, -11, 13, -13))


def test_uncut_heavy_particles_ignore_jet_cuts_but_ptheavy_needs_one_above():
    top = dict(m=173.0)
    p = event(leg(40, 0.2, **top), leg(60, -0.2, math.pi, **top))
    pdgs, masses = (21, 21, 6, -6), (0, 0, 173.0, 173.0)
    assert passes(cuts_with(" 100 = ptj\n 0.1 = etaj\n"), p, pdgs, masses)
    assert passes(cuts_with(" 50 = ptheavy\n"), p, pdgs, masses)
    assert not passes(cuts_with(" 70 = ptheavy\n"), p, pdgs, masses)


def test_missing_et_is_the_vector_sum_of_neutrinos():
    p = event(leg(30, 0.0), leg(40, 0.5, math.pi / 2))  # |pt sum| = 50
    pdgs = (2, -1, -11, 12)
    assert passes(cuts_with(" 39 = misset\n"), p, pdgs)  # only the neutrino's 40 counts
    assert not passes(cuts_with(" 41 = misset\n"), p, pdgs)


# ---------------------------------------------------------------- pairs
@pytest.mark.parametrize("dphi, expected", [(0.2, False), (0.3, True)])
def test_delta_r_between_jets_uses_rapidity_and_azimuth(dphi, expected):
    # Delta R = sqrt(0.3^2 + dphi^2): 0.36 and 0.42 against 0.4.
    p = event(leg(30, 0.1), leg(30, 0.4, dphi), leg(10, 0, math.pi))
    assert passes(cuts_with(" 0.4 = drjj\n"), p, (21, 21, 21, 21, 22)) is expected


def test_delta_r_is_invariant_under_longitudinal_boosts():
    p = event(leg(30, 0.1, m=4.7), leg(30, 0.45, 0.2, m=4.7))
    cuts = cuts_with(" 0.4 = drbb\n")
    for rapidity in (-2.0, 0.0, 1.7):
        assert passes(cuts, boost_z(p, rapidity), (21, 21, 5, -5))
    assert not passes(cuts_with(" 0.45 = drbb\n"), p, (21, 21, 5, -5))


def test_jet_pair_mass_cut(mass=100.0):
    # Two massless jets back to back at equal rapidity: m = 2 pt.
    p = event(leg(mass / 2, 0.0), leg(mass / 2, 0.0, math.pi))
    assert passes(cuts_with(f" {mass - 1} = mmjj\n"), p, (21, 21, 21, 21))
    assert not passes(cuts_with(f" {mass + 1} = mmjj\n"), p, (21, 21, 21, 21))


def test_lepton_pair_mass_cut_applies_to_same_flavour_opposite_charge_only():
    p = event(leg(20, 0.0), leg(20, 0.0, math.pi))  # m = 40
    cuts = cuts_with(" 50 = mmll\n")
    assert not passes(cuts, p, (1, -1, 11, -11))
    assert passes(cuts, p, (1, -1, 11, -13))
    assert passes(cuts, p, (1, -1, 11, 11))


@pytest.mark.parametrize("mass, expected", [(70, True), (90, False), (110, True)])
def test_minimum_above_maximum_vetoes_the_window_between(mass, expected):
    p = event(leg(mass / 2, 0.0), leg(mass / 2, 0.0, math.pi))
    cuts = cuts_with(" 100 = mmll\n 80 = mmllmax\n")
    assert passes(cuts, p, (1, -1, 13, -13)) is expected


def test_ptll_acts_on_lepton_neutrino_pairs():
    p = event(leg(30, 0.0), leg(30, 0.0, math.pi / 2))  # pair pt = 30 sqrt 2
    assert passes(cuts_with(" 42 = ptllmin\n"), p, (2, -1, -11, 12))
    assert not passes(cuts_with(" 43 = ptllmin\n"), p, (2, -1, -11, 12))


def test_lepton_neutrino_mass_mmnl():
    p = event(leg(30, 0.0), leg(30, 0.0, math.pi))  # m = 60
    assert passes(cuts_with(" 59 = mmnl\n"), p, (2, -1, -11, 12))
    assert not passes(cuts_with(" 61 = mmnl\n"), p, (2, -1, -11, 12))


# ------------------------------------------------------- ordered and sums
def test_ordered_jet_pt_cuts_and_the_cutuse_switch():
    p = event(leg(80, 0.0), leg(30, 1.0, 2.0), leg(50, -1.0, 4.0))
    pdgs = (21, 21, 21, 21, 21)
    assert passes(cuts_with(" 75 = ptj1min\n 45 = ptj2min\n"), p, pdgs)
    assert not passes(cuts_with(" 75 = ptj1min\n 55 = ptj2min\n"), p, pdgs)
    # cutuse = 1: reject only if the cuts on every one of the (up to 4) leading jets fail.
    two = event(leg(80, 0.0), leg(50, -1.0, 4.0))
    assert passes(cuts_with(" 75 = ptj1min\n 55 = ptj2min\n 1 = cutuse\n"), two, pdgs[:4])
    assert not passes(cuts_with(" 85 = ptj1min\n 55 = ptj2min\n 1 = cutuse\n"), two, pdgs[:4])
    # ... so a third jet without a cut of its own saves the event, as in MadGraph.
    assert passes(cuts_with(" 85 = ptj1min\n 55 = ptj2min\n 1 = cutuse\n"), p, pdgs)


def test_too_few_jets_for_an_ordered_cut_fail():
    p = event(leg(80, 0.0), leg(80, 0.0, math.pi))
    assert not passes(cuts_with(" 10 = ptj3min\n"), p, (21, 21, 21, 21))


def test_ht_cuts_and_inclusive_ht_with_b_quarks():
    p = event(leg(80, 0.0), leg(30, 1.0, 2.0), leg(50, -1.0, 4.0, m=4.7))
    pdgs = (21, 21, 21, 21, 5)
    assert passes(cuts_with(" 109 = htjmin\n"), p, pdgs)
    assert not passes(cuts_with(" 111 = htjmin\n"), p, pdgs)
    assert passes(cuts_with(" 159 = ihtmin\n"), p, pdgs)
    assert not passes(cuts_with(" 161 = ihtmin\n"), p, pdgs)
    assert not passes(cuts_with(" 105 = ht2max\n"), p, pdgs)


def test_xptj_needs_one_jet_above_and_is_dropped_without_jets():
    p = event(leg(40, 0.0), leg(40, 0.0, math.pi))
    assert passes(cuts_with(" 39 = xptj\n"), p, (21, 21, 21, 21))
    assert not passes(cuts_with(" 41 = xptj\n"), p, (21, 21, 21, 21))
    assert passes(cuts_with(" 41 = xptj\n"), p, (1, -1, 11, -11))


def test_default_pp_cuts_accept_a_central_hard_dijet():
    cuts = GenerationCuts.from_run_card(RunCard.from_text(""))
    p = event(leg(100, 0.5), leg(100, -0.5, math.pi))
    assert passes(cuts, p, (21, 21, 21, 21))


def test_passes_is_vectorised_over_events():
    p = np.concatenate([event(leg(pt, 0.0), leg(pt, 0.0, math.pi)) for pt in (10, 30, 19, 21)])
    mask = cuts_with(" 20 = ptj\n").passes(p, (21, 21, 21, 21))
    assert mask.tolist() == [False, True, False, True]


# ------------------------------------------------------------------ tau_min
def test_tau_min_of_pt_cuts_is_the_sum_of_minimal_energies():
    rc = RunCard.from_text(NO_CUTS + " 20 = ptj\n 6500 = ebeam1\n 6500 = ebeam2\n")
    assert tau_min(rc, (21, 21, 21, 21), (0, 0, 0, 0)) == pytest.approx(40.0**2 / 13000.0**2, rel=1e-14)


def test_tau_min_is_conservative_for_random_events():
    """Every event passing the cuts has s-hat >= tau_min * s (fixed seed, 20000 events)."""
    rc = RunCard.from_text(" 500 = ebeam1\n 500 = ebeam2\n 30 = mmll\n 25 = ptj\n")
    pdgs, masses = (2, -2, 21, 11, -11), (0, 0, 0, 0, 0)
    rng = np.random.default_rng(7)
    n = 20000
    legs = []
    for _ in range(3):
        legs.append(np.stack([leg(pt, y, phi) for pt, y, phi in zip(
            rng.uniform(0, 80, n), rng.uniform(-3, 3, n), rng.uniform(0, 2 * np.pi, n))]))
    final = np.stack(legs, axis=1)
    total = final.sum(axis=1)
    plus, minus = (total[:, 0] + total[:, 3]) / 2, (total[:, 0] - total[:, 3]) / 2
    zeros = np.zeros(n)
    incoming = np.stack([np.stack([plus, zeros, zeros, plus], 1),
                         np.stack([minus, zeros, zeros, -minus], 1)], axis=1)
    p = np.concatenate([incoming, final], axis=1)
    ok = GenerationCuts.from_run_card(rc).passes(p, pdgs)
    s_hat = 4 * plus * minus
    assert ok.sum() > 100  # the check has events to bite on
    assert s_hat[ok].min() >= tau_min(rc, pdgs, masses) * 1000.0**2


def test_delta_r_floors_are_the_pair_minima_that_passes_applies():
    # Every pair's floor is the Delta R below which passes() rejects the
    # event, and above which the pair cut lets it through.
    cuts = cuts_with(" 0.4 = drjl\n 0.7 = drjj\n 0.3 = drll\n")
    pdgs, masses = (21, 21, 21, 1, -11, 13, 12, 6), (0, 0, 0, 0, 0, 0, 0, 173)
    floors = cuts.delta_r_floors(pdgs, masses)
    expected = np.zeros((6, 6))
    expected[0, 1] = expected[1, 0] = 0.7          # g d: drjj
    expected[[0, 0, 1, 1], [2, 3, 2, 3]] = 0.4     # jets with leptons: drjl
    expected[[2, 3, 2, 3], [0, 0, 1, 1]] = 0.4
    expected[2, 3] = expected[3, 2] = 0.3          # e+ mu-: drll
    np.testing.assert_array_equal(floors, expected)  # neutrino and top: none
    for i, j in zip(*np.nonzero(np.triu(floors))):
        for dy, ok in ((0.99 * floors[i, j], False), (1.01 * floors[i, j], True)):
            legs = [leg(50, 2.0 * k - 3.0, 1.5 * k) for k in range(4)]   # far apart
            legs[j] = leg(50, 2.0 * i - 3.0 + dy, 1.5 * i)
            p = event(*legs, leg(50, 0.5, 2.0), leg(50, 0.0, 4.0, m=173))
            assert passes(cuts, p, pdgs, masses) is ok, (i, j, dy)


def test_particles_outside_every_class_get_no_pair_cuts():
    # Two light particles of no class (here a BSM scalar given as massless) pass
    # untouched, whatever the pair cuts.
    p = event(leg(1.0, 0.0), leg(1.0, 0.0, 0.01))
    cuts = cuts_with(" 100 = mmjj\n 100 = mmll\n 1 = drjj\n")
    assert passes(cuts, p, (21, 21, 9000005, 9000005))


def test_exempt_legs_belong_to_no_class_and_escape_every_cut():
    cuts = cuts_with(" 30 = ptl\n 2.5 = etal\n 0.4 = drll\n")
    soft = np.array([[[50, 0, 0, 50], [50, 0, 0, -50], [50, 5, 0, 49.75], [50, -5, 0, -49.75]]], dtype=float)
    assert not cuts.passes(soft, (1, -1, 11, -11))[0]
    assert cuts.passes(soft, (1, -1, 11, -11), exempt=(2, 3))[0]
    assert not cuts.passes(soft, (1, -1, 11, -11), exempt=(2,))[0]
    c = ParticleClasses.of((21, 21, 5, -11, 12), (0, 0, 4.7, 0, 0), exempt=(2, 3, 4))
    assert not (c.b.any() or c.l.any() or c.nu.any() or c.cut.any())


def _ttbar_dilepton_points(cut_decays: bool, n: int = 20_000):
    from madnis_plugin.api import prepare_run

    setup = prepare_run("ttbar_dilepton", seed=3, overrides={"cut_decays": cut_decays, "ptl": 25.0, "bwcutoff": 5.0})
    integrand = setup.integrand
    batch = integrand(0, np.random.default_rng(4).random((n, integrand.dim)))
    live = batch.value > 0
    return integrand, batch.payload["momenta"][live]


def _mass(q: np.ndarray) -> np.ndarray:
    return np.sqrt(np.maximum(q[..., 0] ** 2 - (q[..., 1:] ** 2).sum(-1), 0.0))


def test_decay_chain_resonances_stay_within_bwcutoff_and_their_products_escape_cuts():
    # MadGraph's p p > t t~, (t > b w+, w+ > e+ ve), (t~ > ...): tops and Ws within
    # bwcutoff widths of their poles; with cut_decays = False (its default) no cut
    # acts on the decay products, with True they are cut as usual.
    integrand, p = _ttbar_dilepton_points(cut_decays=False)
    card = integrand.process.param_card
    assert len(p) > 1000
    for legs, pdg in (((2, 3, 4), 6), ((5, 6, 7), 6), ((3, 4), 24), ((6, 7), 24)):
        m = _mass(p[:, list(legs)].sum(axis=1))
        deviation = np.abs(m - card.mass(pdg)) / card.width(pdg)
        assert deviation.max() < 5.0
        assert deviation.max() > 3.0     # the window is used, not a narrower one
    lepton_pt = np.hypot(p[:, 3, 1], p[:, 3, 2])
    assert (lepton_pt < 25.0).mean() > 0.05
    _, p_cut = _ttbar_dilepton_points(cut_decays=True)
    assert np.hypot(p_cut[:, 3, 1], p_cut[:, 3, 2]).min() > 25.0


def test_resonance_mass_floor_by_hand_nested_and_overlapping_windows():
    from madnis_plugin.cuts import resonance_mass_floor

    masses = [0, 0, 4.7, 0, 0, 4.7, 0, 0]
    tops = [((2, 3, 4), 173.0, 1.5), ((5, 6, 7), 173.0, 1.5)]
    ws = [((3, 4), 80.4, 2.0), ((6, 7), 80.4, 2.0)]
    assert resonance_mass_floor(tops + ws, masses, 15.0) == pytest.approx(2 * (173.0 - 22.5), rel=1e-14)
    # W windows alone: each W's lower edge plus the b masses.
    assert resonance_mass_floor(ws, masses, 15.0) == pytest.approx(2 * (80.4 - 30.0) + 2 * 4.7, rel=1e-14)
    # A window whose lower edge lies below its content's bound: the content decides.
    assert resonance_mass_floor([((2, 3, 4), 60.0, 5.0)] + ws, masses, 15.0) == pytest.approx(
        (80.4 - 30.0 + 4.7) + (80.4 - 30.0) + 4.7, rel=1e-14)
    # Windows that overlap without nesting give only the legs' masses.
    assert resonance_mass_floor([((2, 3), 80.0, 1.0), ((3, 4), 80.0, 1.0)], masses, 15.0) == pytest.approx(9.4)


def test_ttbar_dilepton_map_starts_at_the_window_floor_and_nothing_below_passes_the_windows():
    from madnis_plugin.api import prepare_run
    from madnis_plugin.cuts import resonance_mass_floor
    from madnis_plugin.phasespace import build_channel
    from madnis_plugin.phasespace.kinematics import invariant_mass

    integrand = prepare_run("ttbar_dilepton", seed=1).integrand
    windows = integrand._onshell_windows[0]
    floor = resonance_mass_floor(windows, integrand.process.masses, integrand._bwcutoff)
    assert floor > 300.0
    for m in integrand.maps:
        assert m.luminosity.shat_min == pytest.approx(floor**2, rel=1e-12)
    # The same channel's map without the floor, s-hat drawn first (the tops'
    # Breit-Wigners drawn before it would keep s-hat above their sum): every
    # point below the floor fails a window.
    ch = integrand.channels[0]
    free = build_channel(ch.diagram.to_dict(), integrand.process.masses, integrand._mass_width,
                         integrand.e_cm, hadronic=True, tau_min=0.0)
    free.tree.early = []
    point = free.map(np.random.default_rng(3).random((200_000, free.dim)))
    sqrt_shat = np.sqrt(point.x1 * point.x2) * integrand.e_cm
    below = point.valid & (sqrt_shat < floor)
    assert below.sum() > 10_000
    inside = np.ones(below.sum(), dtype=bool)
    for legs, mass, width in windows:
        m = invariant_mass(point.momenta[below][:, list(legs), :].sum(axis=1))
        inside &= np.abs(m - mass) < integrand._bwcutoff * width
    assert not inside.any()
