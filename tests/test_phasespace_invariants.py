"""The one-dimensional invariant maps and the kinematics helpers.

A map's Jacobian must be its derivative (checked against a central finite
difference, which is accurate to ~1e-7 relative at step 1e-6 for these smooth
maps), its inverse must undo it to rounding, and an empty range must give a
zero Jacobian rather than NaN.
"""

from __future__ import annotations

import numpy as np
import pytest

from madnis_plugin.phasespace.invariants import (
    BreitWigner,
    OffShellBreitWigner,
    PowerLaw,
    RamboDiet,
    Resonance,
    TChannel,
    Uniform,
)
from madnis_plugin.phasespace.kinematics import (
    boost_from_rest,
    boost_to_rest,
    dot_on_shell,
    minkowski_square,
    one_minus_cos,
    rotate_from_z,
    rotate_to_z,
    two_body_momentum,
)

SAMPLERS = {
    "uniform": (Uniform(), 10.0, 5000.0),
    "breit_wigner_inside": (BreitWigner(91.1876, 2.4952), 50.0**2, 150.0**2),
    "breit_wigner_below_pole": (BreitWigner(125.0, 0.00407), 0.0, 0.06**2),
    "off_shell_breit_wigner": (OffShellBreitWigner(80.419, 2.0476, 15.0), 0.0, 1000.0**2),
    "off_shell_breit_wigner_inside_core": (OffShellBreitWigner(173.0, 1.4915, 15.0), 160.0**2, 186.0**2),
    "off_shell_breit_wigner_above_core": (OffShellBreitWigner(91.1876, 2.4952, 5.0), 120.0**2, 900.0**2),
    "off_shell_breit_wigner_below_core": (OffShellBreitWigner(125.0, 0.00407, 15.0), 0.0, 0.06**2),
    "resonance_pole_in_range": (Resonance(173.0, 1.4915), 85.0**2, 400.0**2),
    "resonance_with_tails": (Resonance(80.419, 2.0476, core=15.0), 10.0**2, 600.0**2),
    "resonance_at_threshold": (Resonance(173.0, 1.4915), 173.0**2, 600.0**2),
    "power_law_from_zero": (PowerLaw(0.0, 0.8), 0.0, 1e4),
    "power_law_log": (PowerLaw(0.0, 1.0), 100.0, 1e6),
    "t_channel_massless": (TChannel(0.0, 0.8), -2.5e5, 0.0),
    "t_channel_massive": (TChannel(80.4, 0.8), -2.5e5, -30.0),
    "t_channel_above_pole": (TChannel(0.0, 0.8), -1e3, 50.0),
    "rambo_diet_3": (RamboDiet(3), 0.0, 400.0),
    "rambo_diet_0": (RamboDiet(0), 25.0, 400.0),
}


@pytest.mark.parametrize("name", SAMPLERS)
def test_jacobian_is_the_derivative_of_the_map(name):
    sampler, lo, hi = SAMPLERS[name]
    r = np.linspace(0.05, 0.95, 19)
    lo_a, hi_a = np.full_like(r, lo), np.full_like(r, hi)
    h = 1e-6
    s, jac = sampler.map(r, lo_a, hi_a)
    numeric = (sampler.map(r + h, lo_a, hi_a)[0] - sampler.map(r - h, lo_a, hi_a)[0]) / (2 * h)
    np.testing.assert_allclose(jac, np.abs(numeric), rtol=1e-6)  # |ds/dr|: t-channel maps run downwards
    assert np.all((s >= lo) & (s <= hi))


@pytest.mark.parametrize("name", [k for k in SAMPLERS if k != "t_channel_above_pole"])
def test_inverse_undoes_the_map(name):
    # (A t-channel map whose range ends above 0 is inverted in the distance from that
    # end, see the test below; in t itself that distance loses digits near the edge.)
    sampler, lo, hi = SAMPLERS[name]
    r = np.random.default_rng(0).random(10_000)
    lo_a, hi_a = np.full_like(r, lo), np.full_like(r, hi)
    s, jac = sampler.map(r, lo_a, hi_a)
    back, jac_back = sampler.inverse(s, lo_a, hi_a)
    np.testing.assert_allclose(back, r, rtol=0, atol=1e-10)
    np.testing.assert_allclose(jac_back, jac, rtol=1e-9)


@pytest.mark.parametrize("mass,t_hi", [(0.0, 0.0), (0.0, 50.0), (80.4, -30.0)])
def test_t_channel_distance_map_round_trips_near_the_forward_edge(mass, t_hi):
    sampler = TChannel(mass, 0.8)
    r = np.random.default_rng(4).random(10_000) ** 3  # crowd the forward edge
    t_hi_a, width = np.full_like(r, t_hi), np.full_like(r, 2.5e5)
    v, jac = sampler.map_distance(r, t_hi_a, width)
    back, jac_back = sampler.inverse_distance(v, t_hi_a, width)
    np.testing.assert_allclose(back, r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(jac_back, jac, rtol=1e-9)


@pytest.mark.parametrize("name", SAMPLERS)
def test_empty_range_gives_zero_jacobian_not_nan(name):
    sampler, lo, hi = SAMPLERS[name]
    r = np.array([0.0, 0.5, np.nextafter(1.0, 0.0)])
    s, jac = sampler.map(r, np.full(3, hi), np.full(3, lo))
    assert np.all(jac == 0.0) and np.all(np.isfinite(s))


def test_breit_wigner_weight_is_flat_on_its_resonance():
    bw = BreitWigner(91.1876, 2.4952)
    r = np.random.default_rng(1).random(1000)
    s, jac = bw.map(r, np.full_like(r, 0.0), np.full_like(r, 1e6))
    flattened = jac / ((s - 91.1876**2) ** 2 + (91.1876 * 2.4952) ** 2)
    np.testing.assert_allclose(flattened, flattened[0], rtol=1e-10)


def test_rest_frame_boost_round_trips_and_keeps_the_mass():
    rng = np.random.default_rng(2)
    p = np.concatenate([np.full((100, 1), 10.0), rng.normal(size=(100, 3))], axis=1)
    frame = np.concatenate([np.full((100, 1), 50.0), 10 * rng.normal(size=(100, 3))], axis=1)
    lab = boost_from_rest(p, frame)
    np.testing.assert_allclose(minkowski_square(lab), minkowski_square(p), rtol=1e-12)
    np.testing.assert_allclose(boost_to_rest(lab, frame), p, rtol=1e-12, atol=1e-12)


def test_rotation_takes_z_onto_the_axis_and_back():
    rng = np.random.default_rng(3)
    axis = rng.normal(size=(50, 3))
    z = np.tile([0.0, 0.0, 1.0], (50, 1))
    np.testing.assert_allclose(rotate_from_z(z, axis), axis / np.linalg.norm(axis, axis=1, keepdims=True), atol=1e-14)
    v = rng.normal(size=(50, 3))
    np.testing.assert_allclose(rotate_to_z(rotate_from_z(v, axis), axis), v, atol=1e-14)


def test_stable_products_keep_precision_for_collinear_massless_pairs():
    theta = 1e-9
    p = np.array([100.0, 0.0, 0.0, 100.0])
    q = np.array([50.0, 50.0 * np.sin(theta), 0.0, 50.0 * np.cos(theta)])
    exact = 100.0 * 50.0 * 2.0 * np.sin(theta / 2) ** 2  # E_p E_q (1 - cos theta), no cancellation
    assert dot_on_shell(p, q, 0.0, 0.0) == pytest.approx(exact, rel=1e-9)
    assert one_minus_cos(q) == pytest.approx(2.0 * np.sin(theta / 2) ** 2, rel=1e-9)


def test_two_body_momentum_matches_the_kallen_function():
    assert two_body_momentum(np.array(10.0), 3.0, 4.0) == pytest.approx(np.sqrt((100 - 49) * (100 - 1)) / 20)


def test_resonance_is_a_breit_wigner_around_a_reachable_pole_and_a_power_law_above_threshold():
    # t -> b W can reach the top pole: Breit-Wigner. t* -> t g starts at M^2: the
    # propagator is 1 / (s - M^2) there, and the density follows (s - M^2)^-nu.
    top = Resonance(173.0, 1.4915, nu=0.5)
    r = np.random.default_rng(6).random(1000)
    lo, hi = np.full_like(r, 85.0**2), np.full_like(r, 400.0**2)
    np.testing.assert_array_equal(top.map(r, lo, hi)[1], BreitWigner(173.0, 1.4915).map(r, lo, hi)[1])
    lo = np.full_like(r, 173.0**2)
    s, jac = top.map(r, lo, hi)
    tail = PowerLaw(173.0**2, 0.5)
    np.testing.assert_array_equal(jac, tail.map(r, lo, hi)[1])
    # density 1/jac proportional to (s - M^2)^-0.5
    ratio = jac / (s - 173.0**2) ** 0.5
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
