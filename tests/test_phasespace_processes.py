"""Every channel of every built-in process: exact density, equal dimension, finite weights.

The diagrams come from each process's process.json, masses and widths from the
default param card. At a fixed partonic energy each channel's mean Jacobian
must be the phase-space volume: the closed form for two bodies, the massless
formula or the Dalitz integral for three, and for more bodies the flat channel's
estimate. Monte Carlo comparisons use a 5 sigma band.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import integrate

from madnis_plugin import resources
from madnis_plugin.cards import read_param_card
from madnis_plugin.phasespace import Rambo, build_channel, massless_volume
from madnis_plugin.phasespace.kinematics import kallen

SQRT_S = 1000.0
N_SIGMA = 5.0


def load_groups() -> list[tuple[str, int, dict]]:
    groups = []
    for name in resources.builtin_processes():
        meta = json.loads((resources.builtin_process_dir(name) / "process.json").read_text())
        groups += [(name, g, group) for g, group in enumerate(meta["groups"]) if group["diagrams"]]
    return groups


GROUPS = load_groups()
CARD = read_param_card(resources.default_card("param_card.dat")) if GROUPS else None


def mass_width(pdg: int) -> tuple[float, float]:
    return CARD.mass(abs(pdg)), CARD.width(abs(pdg))


def wide_mass_width(pdg: int) -> tuple[float, float]:
    """The card's masses with widths of at least 30% of the mass.

    A Breit-Wigner map's density is exact for any width; with a flat integrand
    a physical width (Gamma/M ~ 1%) gives weights so heavy-tailed that a
    20000-point mean and its sample error say nothing, a wide one keeps the
    5 sigma check meaningful.
    """
    mass, width = mass_width(pdg)
    return mass, max(width, 0.3 * mass)


def masses_of(group: dict) -> np.ndarray:
    return np.array([CARD.mass(abs(p)) for p in group["subprocesses"][0]["pdg"]])


def channels_of(group: dict) -> list[dict]:
    return [d for d in group["diagrams"] if not d.get("four_point")]


def dalitz_volume(sqrt_s: float, m1: float, m2: float, m3: float) -> float:
    def m23_span(m12_sq: float) -> float:
        m12 = math.sqrt(m12_sq)
        e2 = (m12_sq - m1**2 + m2**2) / (2 * m12)
        e3 = (sqrt_s**2 - m12_sq - m3**2) / (2 * m12)
        return 4 * math.sqrt(max(e2**2 - m2**2, 0.0)) * math.sqrt(max(e3**2 - m3**2, 0.0))

    area, _ = integrate.quad(m23_span, (m1 + m2) ** 2, (sqrt_s - m3) ** 2, epsrel=1e-12, limit=200)
    return area / (16 * (2 * math.pi) ** 3 * sqrt_s**2)


def reference_volume(masses: np.ndarray) -> tuple[float, float]:
    """(volume, its uncertainty) of the final state of ``masses`` at SQRT_S."""
    final = masses[2:]
    if not final.any():
        return massless_volume(len(final), SQRT_S**2), 0.0
    if len(final) == 2:
        return math.sqrt(kallen(SQRT_S**2, final[0] ** 2, final[1] ** 2)) / (8 * math.pi * SQRT_S**2), 0.0
    if len(final) == 3:
        return dalitz_volume(SQRT_S, *final), 0.0
    rambo = Rambo(masses, e_cm=SQRT_S)
    jac = rambo.map(np.random.default_rng(99).random((200_000, rambo.dim))).jacobian
    return jac.mean(), jac.std() / math.sqrt(len(jac))


pytestmark = pytest.mark.skipif(not GROUPS, reason="no built-in process with diagrams")


FEW_BODY = [x for x in GROUPS if len(x[2]["subprocesses"][0]["pdg"]) <= 5]
MANY_BODY = [x for x in GROUPS if len(x[2]["subprocesses"][0]["pdg"]) > 5]


@pytest.mark.parametrize("name,g,group", FEW_BODY, ids=[f"{n}-g{g}" for n, g, _ in FEW_BODY])
def test_every_channel_integrates_the_phase_space_volume(name, g, group):
    masses = masses_of(group)
    expected, expected_error = reference_volume(masses)
    for diagram in channels_of(group):
        cmap = build_channel(diagram, masses, wide_mass_width, e_cm=SQRT_S)
        jac = cmap.map(np.random.default_rng(diagram["number"]).random((20_000, cmap.dim))).jacobian
        error = math.hypot(jac.std() / math.sqrt(len(jac)), expected_error)
        assert abs(jac.mean() - expected) < N_SIGMA * error + 1e-12 * expected, (diagram["number"], jac.mean())


@pytest.mark.parametrize("name,g,group", MANY_BODY, ids=[f"{n}-g{g}" for n, g, _ in MANY_BODY])
def test_channels_of_a_many_body_group_agree_on_a_resonant_integral(name, g, group):
    # Beyond three bodies there is no closed form, and a flat integrand gives the
    # resonance maps far off-shell weights too heavy-tailed for a 5 sigma check;
    # instead every channel integrates the product of the Breit-Wigners its
    # channels share, which each map flattens, and all must agree.
    masses = masses_of(group)
    maps = [build_channel(d, masses, wide_mass_width, e_cm=SQRT_S) for d in channels_of(group)]
    shared = set.intersection(*[{(abs(p), legs) for p, legs in m.s_channel_propagators()} for m in maps])
    shared = {(p, legs) for p, legs in shared if wide_mass_width(p)[0] > 0}
    estimates = []
    for index, cmap in enumerate(maps):
        pt = cmap.map(np.random.default_rng(index).random((50_000, cmap.dim)))
        value = pt.jacobian.copy()
        for pdg, legs in shared:
            q = pt.momenta[:, [leg - 1 for leg in legs]].sum(axis=1)
            s = q[:, 0] ** 2 - (q[:, 1:] ** 2).sum(axis=1)
            mass, width = wide_mass_width(pdg)
            value *= (mass * width) ** 2 / ((s - mass**2) ** 2 + (mass * width) ** 2)
        estimates.append((value.mean(), value.std() / math.sqrt(len(value))))
    assert shared, "the channels share no massive resonance to integrate"
    first = estimates[0]
    for mean, error in estimates[1:]:
        assert abs(mean - first[0]) < N_SIGMA * math.hypot(error, first[1]), (estimates,)


@pytest.mark.parametrize("name,g,group", GROUPS, ids=[f"{n}-g{g}" for n, g, _ in GROUPS])
def test_every_channel_of_a_group_has_the_same_dimension(name, g, group):
    masses = masses_of(group)
    dims = {build_channel(d, masses, mass_width, e_cm=13000.0, hadronic=True).dim for d in channels_of(group)}
    dims.add(build_channel(None, masses, mass_width, e_cm=13000.0, hadronic=True).dim)
    assert dims == {3 * (len(masses) - 2) - 4 + 2}


@pytest.mark.slow
@pytest.mark.parametrize("name,g,group", GROUPS, ids=[f"{n}-g{g}" for n, g, _ in GROUPS])
def test_no_channel_of_a_process_returns_a_non_finite_weight(name, g, group):
    masses = masses_of(group)
    for diagram in channels_of(group):
        cmap = build_channel(diagram, masses, mass_width, e_cm=13000.0, hadronic=True, tau_min=1e-5)
        pt = cmap.map(np.random.default_rng(diagram["number"]).random((100_000, cmap.dim)))
        assert np.all(np.isfinite(pt.jacobian)) and np.all(pt.jacobian >= 0) and np.all(np.isfinite(pt.momenta))
