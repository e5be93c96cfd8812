"""Renormalisation and factorisation scales against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from madnis_plugin.cards import ParamCard, RunCard
from madnis_plugin.scales import ScaleChoice, cluster_scales, to_partonic_frame

# Scales are sums and square roots of a few terms: agreement to a few ulps of
# the largest term is expected; 1e-12 relative leaves room for the boosts.
REL = 1e-12

S_CHANNEL_Z = {"number": 1, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23}]}
GG_TT = [  # gg > t t~ as MadGraph numbers it: t-channel, s-channel gluon, u-channel
    {"number": 1, "propagators": [{"id": -1, "type": "t", "daughters": [1, 4], "pdg": 6},
                                  {"id": -2, "type": "t", "daughters": [-1, 3], "pdg": 0}]},
    {"number": 2, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 21}]},
    {"number": 3, "propagators": [{"id": -1, "type": "t", "daughters": [1, 3], "pdg": -6},
                                  {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": 0}]},
]
UU_UU = [  # u u~ > u u~: s-channel and t-channel gluon
    {"number": 1, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 21}]},
    {"number": 2, "propagators": [{"id": -1, "type": "t", "daughters": [1, 3], "pdg": 21},
                                  {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": -2}]},
]


def choice(text: str) -> ScaleChoice:
    return ScaleChoice.from_run_card(RunCard.from_text(text))


def two_to_two(sqrt_s: float, pt: float, y3: float, m: float = 0.0, y_boost: float = 0.0) -> np.ndarray:
    """A 2 -> 2 event of two equal-mass particles, back to back in the partonic frame, then boosted."""
    mt = math.hypot(m, pt)
    # In the partonic frame the two outgoing particles have rapidities y3 and -y3.
    e = mt * math.cosh(y3)
    assert abs(2 * e - sqrt_s) < 1e-9 * sqrt_s, "choose y3 = acosh(sqrt_s / (2 mT))"
    half = sqrt_s / 2
    p = np.array([[[half, 0, 0, half], [half, 0, 0, -half],
                   [e, pt, 0, mt * math.sinh(y3)], [e, -pt, 0, -mt * math.sinh(y3)]]])
    ch, sh = math.cosh(y_boost), math.sinh(y_boost)
    boosted = p.copy()
    boosted[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    boosted[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return boosted


def rapidity_for(sqrt_s: float, pt: float, m: float = 0.0) -> float:
    return math.acosh(sqrt_s / (2 * math.hypot(m, pt)))


# ------------------------------------------------------------------- fixed
def test_fixed_scales_are_the_card_values_without_scalefact():
    sc = choice(" T = fixed_ren_scale\n T = fixed_fac_scale\n 150 = scale\n"
                " 80 = dsqrt_q2fact1\n 90 = dsqrt_q2fact2\n 2.0 = scalefact\n")
    p = two_to_two(500, 100, rapidity_for(500, 100))
    mu_r, mu_f1, mu_f2 = sc.scales(p, (21, 21, 21, 21), np.zeros(4))
    assert sc.is_fixed
    assert (mu_r[0], mu_f1[0], mu_f2[0]) == (150.0, 80.0, 90.0)


def test_fixed_factorisation_with_dynamical_renormalisation():
    sc = choice(" F = fixed_ren_scale\n T = fixed_fac_scale\n 4 = dynamical_scale_choice\n"
                " 80 = dsqrt_q2fact1\n 90 = dsqrt_q2fact2\n")
    p = two_to_two(500, 100, rapidity_for(500, 100))
    mu_r, mu_f1, mu_f2 = sc.scales(p, (21, 21, 21, 21), np.zeros(4))
    assert mu_r[0] == pytest.approx(500, rel=REL) and (mu_f1[0], mu_f2[0]) == (80.0, 90.0)


# --------------------------------------------------------- choices 1 to 4
def test_choice_1_is_the_transverse_energy_sum_in_the_partonic_frame():
    m, pt = 173.0, 120.0
    y3 = rapidity_for(800, pt, m)
    # E_T = E pT / |p| per particle, in the partonic frame.
    e = math.hypot(m, pt) * math.cosh(y3)
    expected = 2 * e * pt / math.hypot(pt, math.hypot(m, pt) * math.sinh(y3))
    p = two_to_two(800, pt, y3, m, y_boost=0.7)
    mu_r, mu_f1, mu_f2 = choice(" 1 = dynamical_scale_choice\n").scales(p, (21, 21, 6, -6), [0, 0, m, m])
    assert mu_r[0] == pytest.approx(expected, rel=REL)
    assert mu_f1[0] == mu_r[0] and mu_f2[0] == mu_r[0]


@pytest.mark.parametrize("dsc, factor", [(2, 1.0), (3, 0.5)])
def test_choices_2_and_3_are_the_transverse_mass_sum_and_its_half(dsc, factor):
    m, pt = 173.0, 120.0
    p = two_to_two(800, pt, rapidity_for(800, pt, m), m, y_boost=-1.1)
    mu_r, _, _ = choice(f" {dsc} = dynamical_scale_choice\n").scales(p, (21, 21, 6, -6), [0, 0, m, m])
    assert mu_r[0] == pytest.approx(factor * 2 * math.hypot(m, pt), rel=REL)


def test_choice_4_is_sqrt_s_hat_and_scalefact_multiplies_all_dynamical_scales():
    p = two_to_two(640, 100, rapidity_for(640, 100), y_boost=0.4)
    mu_r, mu_f1, mu_f2 = choice(" 4 = dynamical_scale_choice\n 0.5 = scalefact\n").scales(
        p, (21, 21, 21, 21), np.zeros(4))
    assert mu_r[0] == pytest.approx(320, rel=REL)
    assert mu_f1[0] == pytest.approx(320, rel=REL) and mu_f2[0] == pytest.approx(320, rel=REL)


def test_partonic_frame_boost_removes_the_longitudinal_motion():
    p = two_to_two(640, 100, rapidity_for(640, 100), y_boost=1.3)
    q = to_partonic_frame(p)
    assert np.allclose(q[0, 0] + q[0, 1], [640, 0, 0, 0], atol=1e-9)


# ------------------------------------------------------ -1: kT clustering
def test_drell_yan_scale_is_the_dilepton_mass():
    # A colourless s-channel pair clusters to one object: M^2 + pT^2 = s-hat at LO.
    p = two_to_two(91.188 * 2, 30, rapidity_for(91.188 * 2, 30), y_boost=0.3)
    mu = choice("").scales(p, (2, -2, -11, 11), np.zeros(4), S_CHANNEL_Z)
    for value in mu:
        assert value[0] == pytest.approx(2 * 91.188, rel=REL)


def test_lepton_collider_scale_is_the_energy_of_the_core():
    p = two_to_two(1000, 200, rapidity_for(1000, 200))
    mu = choice(" 0 = lpp1\n 0 = lpp2\n").scales(p, (-11, 11, -13, 13), np.zeros(4), S_CHANNEL_Z)
    assert mu[0][0] == pytest.approx(1000, rel=REL)


@pytest.mark.parametrize("diagrams", [GG_TT, [GG_TT[1]]], ids=["all diagrams", "s-channel only"])
def test_top_pair_scale_is_the_top_transverse_mass(diagrams):
    # Either the t-channel clustering (m_T^2 of one top, the other is the core) or the
    # QCD s-channel vertex (geometric mean of both m_T^2): both m_T at 2 -> 2.
    m, pt = 173.0, 150.0
    p = two_to_two(1000, pt, rapidity_for(1000, pt, m), m, y_boost=0.5)
    mu = choice("").scales(p, (21, 21, 6, -6), [0, 0, m, m], GG_TT[1], diagrams)
    for value in mu:
        assert value[0] == pytest.approx(math.hypot(m, pt), rel=1e-9)


def test_massless_qcd_tie_break_matches_madgraph_scalup():
    """u u~ > u u~ at sqrt(s) = 500 with leg 3 at 90 degrees, slightly backward.

    Both beam clusterings are 'crossed' and carry MadGraph's 1 + 1e-6 factor, so
    the scale is 250 sqrt(1 + 1e-6) = 250.000125, the SCALUP MadGraph 3.7.1 is
    reported to print for this configuration (public cluster.f analysis notes of
    the vibegraph project; not re-run here).
    """
    eps = 1e-3
    pt = math.sqrt(250.0**2 - eps**2)
    p = np.array([[[250, 0, 0, 250], [250, 0, 0, -250], [250, pt, 0, -eps], [250, -pt, 0, eps]]])
    mu = cluster_scales(p, (2, -2, 2, -2), np.zeros(4), UU_UU, UU_UU[0])
    for value in mu:
        assert value[0] == pytest.approx(250.0 * math.sqrt(1 + 1e-6), rel=1e-10)


def test_two_to_one_scale_is_the_resonance_mass():
    m_w = 80.419
    p = np.array([[[m_w / 2, 0, 0, m_w / 2], [m_w / 2, 0, 0, -m_w / 2], [m_w, 0, 0, 0]]])
    mu = choice("").scales(p, (2, -1, 24), [0, 0, m_w], {"number": 1, "propagators": []})
    for value in mu:
        assert value[0] == pytest.approx(m_w, rel=REL)


def test_top_pair_with_decays_clusters_back_to_the_top_transverse_mass():
    # gg > t t~ > b e+ ve b~ mu- vm~ along the s-channel gluon diagram: the decays
    # cluster first, the core is the t t~ pair from a QCD vertex, so the scale is the
    # geometric mean of the two tops' m_T (equal in the pair's rest frame).
    card = ParamCard.from_text("BLOCK MASS\n 6 173.0\n 24 80.419\nDECAY 6 1.4915\nDECAY 24 2.0476\n")
    sc = ScaleChoice.from_run_card(RunCard.from_text(""), card)
    diagram = {"number": 1, "propagators": [
        {"id": -1, "type": "s", "daughters": [4, 5], "pdg": 24},
        {"id": -2, "type": "s", "daughters": [3, -1], "pdg": 6},
        {"id": -3, "type": "s", "daughters": [7, 8], "pdg": -24},
        {"id": -4, "type": "s", "daughters": [6, -3], "pdg": -6},
        {"id": -5, "type": "s", "daughters": [-2, -4], "pdg": 21}]}
    rng = np.random.default_rng(3)
    event = _top_pair_decay_event(rng, sqrt_s=900.0, m_t=173.0, m_w=80.419)
    pdgs = (21, 21, 5, -11, 12, -5, 13, -14)
    mu = sc.scales(event, pdgs, np.zeros(8), diagram)
    top = event[0, 2] + event[0, 3] + event[0, 4]
    mt_top = math.sqrt(top[0] ** 2 - top[3] ** 2)  # partonic frame: pair at rest
    for value in mu:
        assert value[0] == pytest.approx(mt_top, rel=1e-9)


def _top_pair_decay_event(rng, sqrt_s: float, m_t: float, m_w: float) -> np.ndarray:
    """gg > t t~ at rest frame, t > b W+ (W+ > e+ ve), t~ > b~ W- (W- > mu- vm~), all on shell."""
    def two_body(parent: np.ndarray, m1: float, m2: float) -> tuple[np.ndarray, np.ndarray]:
        mass = math.sqrt(parent[0] ** 2 - parent[1:] @ parent[1:])
        e1 = (mass**2 + m1**2 - m2**2) / (2 * mass)
        k = math.sqrt(e1**2 - m1**2)
        cos, phi = rng.uniform(-1, 1), rng.uniform(0, 2 * math.pi)
        sin = math.sqrt(1 - cos**2)
        d = np.array([sin * math.cos(phi), sin * math.sin(phi), cos])
        a = np.concatenate([[e1], k * d])
        b = np.concatenate([[mass - e1], -k * d])
        beta = parent[1:] / parent[0]
        return _boost(a, beta), _boost(b, beta)

    p_in = [np.array([sqrt_s / 2, 0, 0, sqrt_s / 2]), np.array([sqrt_s / 2, 0, 0, -sqrt_s / 2])]
    t, tbar = two_body(np.array([sqrt_s, 0, 0, 0]), m_t, m_t)
    b, w_plus = two_body(t, 0.0, m_w)
    e, ve = two_body(w_plus, 0.0, 0.0)
    bbar, w_minus = two_body(tbar, 0.0, m_w)
    mu, vm = two_body(w_minus, 0.0, 0.0)
    return np.array([p_in + [b, e, ve, bbar, mu, vm]])


def _boost(p: np.ndarray, beta: np.ndarray) -> np.ndarray:
    b2 = beta @ beta
    if b2 == 0:
        return p
    gamma = 1 / math.sqrt(1 - b2)
    bp = beta @ p[1:]
    out = np.empty(4)
    out[0] = gamma * (p[0] + bp)
    out[1:] = p[1:] + ((gamma - 1) * bp / b2 + gamma * p[0]) * beta
    return out


def test_batch_clustering_equals_event_by_event_clustering():
    rng = np.random.default_rng(11)
    events = []
    for _ in range(40):
        pt = rng.uniform(20, 200)
        y3 = rapidity_for(1000, pt, 173.0)
        events.append(two_to_two(1000, pt, y3 * rng.choice([-1, 1]), 173.0, y_boost=rng.uniform(-1, 1)))
    p = np.concatenate(events)
    sc = choice("")
    batch = sc.scales(p, (21, 21, 6, -6), [0, 0, 173, 173], GG_TT[0], GG_TT)
    single = [sc.scales(p[k:k + 1], (21, 21, 6, -6), [0, 0, 173, 173], GG_TT[0], GG_TT) for k in range(len(p))]
    for which in range(3):
        assert np.array_equal(batch[which], np.concatenate([s[which] for s in single]))


def test_missing_diagram_falls_back_to_sqrt_s_hat_with_a_warning():
    p = two_to_two(500, 100, rapidity_for(500, 100))
    with pytest.warns(UserWarning, match="NO_DIAGRAM"):
        import madnis_plugin.scales as scales_module
        scales_module._WARNED.clear()
        mu = choice("").scales(p, (21, 21, 21, 21), np.zeros(4))
    assert mu[0][0] == pytest.approx(500, rel=REL)


def test_low_factorisation_scales_are_rejected_for_hadron_beams_only():
    sc = choice("")
    assert sc.valid(np.array([1.9, 2.0]), np.array([3.0, 3.0])).tolist() == [False, True]
    assert sc.valid(np.array([1.0]), np.array([1.0]), lpp=(0, 0)).tolist() == [True]


W_JET = [  # u d~ > e+ ve g: gluon from the u line, or from the d~ line
    {"number": 1, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 24},
                                  {"id": -2, "type": "t", "daughters": [1, 5], "pdg": 2},
                                  {"id": -3, "type": "t", "daughters": [-2, -1], "pdg": 0}]},
    {"number": 2, "propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 24},
                                  {"id": -2, "type": "t", "daughters": [1, -1], "pdg": 1},
                                  {"id": -3, "type": "t", "daughters": [-2, 5], "pdg": 0}]},
]


@pytest.mark.parametrize("diagrams", [W_JET, W_JET[:1]], ids=["both diagrams", "channel only"])
def test_w_plus_soft_jet_scale_is_the_w_transverse_mass(diagrams):
    """The soft gluon clusters to its beam first (with a boost and rotation of the
    remaining lines), the leptons to the W, and the core scale is the W's
    M^2 + pT^2 back in the original frame."""
    m_w, pt = 79.3, 20.0  # an off-shell W: the scale uses the lepton pair's mass
    w = np.array([math.hypot(m_w, pt) * math.cosh(-0.3), pt, 0.0, math.hypot(m_w, pt) * math.sinh(-0.3)])
    gluon = np.array([pt * math.cosh(0.8), -pt, 0.0, pt * math.sinh(0.8)])
    cos, phi = 0.3, 1.1
    k = m_w / 2
    d = np.array([math.sqrt(1 - cos**2) * math.cos(phi), math.sqrt(1 - cos**2) * math.sin(phi), cos])
    positron = _boost(np.concatenate([[k], k * d]), w[1:] / w[0])
    neutrino = _boost(np.concatenate([[k], -k * d]), w[1:] / w[0])
    total = w + gluon
    plus, minus = (total[0] + total[3]) / 2, (total[0] - total[3]) / 2
    p = np.array([[[plus, 0, 0, plus], [minus, 0, 0, -minus], positron, neutrino, gluon]])
    mu = choice("").scales(p, (2, -1, -11, 12, 21), np.zeros(5), W_JET[0], diagrams)
    for value in mu:
        assert value[0] == pytest.approx(math.hypot(m_w, pt), rel=1e-9)
