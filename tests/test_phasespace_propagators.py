"""Propagator-denominator diagram weights (``sde_strategy = 2``) and the prior built from them.

* :func:`log_propagator_weight` against the formula written out by hand, on
  random four-vectors (1e-12): a 2 -> 3 diagram with an s-channel resonance
  and a t-channel chain from either incoming leg, a 2 -> 4 chain with two
  t-channel propagators, and two s-channel blocks joined without a chain;
* a vanishing massless t-channel denominator gives a finite weight;
* the integrand's prior with ``sde_strategy = 2`` is ``w_c / sum_d w_d`` over
  the group's diagrams (t t~ + jet, 1e-12), and differs from the
  ``sde_strategy = 1`` prior at the same points while the values agree (the
  prior changes how the integral is split, never the integrand);
* any other ``sde_strategy`` is refused by the run card.
"""

from __future__ import annotations

import numpy as np
import pytest

from madnis_plugin.api import prepare_run
from madnis_plugin.cards import CardError
from madnis_plugin.phasespace import parse_diagram
from madnis_plugin.phasespace.propagators import log_propagator_weight

MZ, WZ, MT = 91.1876, 2.4952, 173.0


def _mass_width(pdg: int) -> tuple[float, float]:
    return {23: (MZ, WZ), 6: (MT, 1.5), 21: (0.0, 0.0)}[abs(pdg)]


def _square(p: np.ndarray) -> np.ndarray:
    return p[:, 0] ** 2 - p[:, 1] ** 2 - p[:, 2] ** 2 - p[:, 3] ** 2


@pytest.mark.parametrize("t_from", [1, 2])
def test_weight_is_the_product_of_propagator_denominators(t_from):
    # legs 3 4 come from a Z; the chain emits (3 4) from leg t_from through a top, then 5.
    diagram = {"propagators": [
        {"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23},
        {"id": -2, "type": "t", "daughters": [t_from, -1], "pdg": 6},
        {"id": -3, "type": "t", "daughters": [-2, 5], "pdg": 21}]}
    topology = parse_diagram(diagram, n_external=5)
    p = np.random.default_rng(1).normal(scale=100.0, size=(50, 5, 4))
    p[:, :, 0] = np.abs(p[:, :, 0]) + 300.0
    s34 = _square(p[:, 2] + p[:, 3])
    t1 = _square(p[:, t_from - 1] - p[:, 2] - p[:, 3])
    expected = 1.0 / ((s34 - MZ**2) ** 2 + (MZ * WZ) ** 2) / np.abs(t1 - MT**2)
    got = np.exp(log_propagator_weight(topology, p, _mass_width))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_two_step_t_channel_chain_accumulates_the_emitted_momenta():
    # 2 -> 4: leg 1 emits 3 (top exchanged), then (4 5) from a Z (gluon exchanged), then 6.
    diagram = {"propagators": [
        {"id": -1, "type": "s", "daughters": [4, 5], "pdg": 23},
        {"id": -2, "type": "t", "daughters": [1, 3], "pdg": 6},
        {"id": -3, "type": "t", "daughters": [-2, -1], "pdg": 21},
        {"id": -4, "type": "t", "daughters": [-3, 6], "pdg": 0}]}
    topology = parse_diagram(diagram, n_external=6)
    p = np.random.default_rng(2).normal(scale=100.0, size=(40, 6, 4))
    s45 = _square(p[:, 3] + p[:, 4])
    t1 = _square(p[:, 0] - p[:, 2])
    t2 = _square(p[:, 0] - p[:, 2] - p[:, 3] - p[:, 4])
    expected = 1.0 / ((s45 - MZ**2) ** 2 + (MZ * WZ) ** 2) / np.abs(t1 - MT**2) / np.abs(t2)
    got = np.exp(log_propagator_weight(topology, p, _mass_width))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_s_channel_tree_without_chain_skips_the_flat_joining_node():
    # Two s-channel blocks, (3 4) from a Z and (5 6) from a top, joined without a t-channel chain.
    diagram = {"propagators": [{"id": -1, "type": "s", "daughters": [3, 4], "pdg": 23},
                               {"id": -2, "type": "s", "daughters": [5, 6], "pdg": 6}]}
    topology = parse_diagram(diagram, n_external=6)
    p = np.random.default_rng(3).normal(scale=100.0, size=(40, 6, 4))
    s34, s56 = _square(p[:, 2] + p[:, 3]), _square(p[:, 4] + p[:, 5])
    expected = 1.0 / ((s34 - MZ**2) ** 2 + (MZ * WZ) ** 2) / ((s56 - MT**2) ** 2 + (MT * 1.5) ** 2)
    got = np.exp(log_propagator_weight(topology, p, _mass_width))
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_vanishing_massless_t_channel_gives_a_finite_weight():
    diagram = {"propagators": [{"id": -1, "type": "t", "daughters": [1, 3], "pdg": 21},
                               {"id": -2, "type": "t", "daughters": [-1, 4], "pdg": 0}]}
    topology = parse_diagram(diagram, n_external=4)
    beam = np.array([50.0, 0.0, 0.0, 50.0])
    p = np.array([[beam, beam * [1, 1, 1, -1], beam, beam * [1, 1, 1, -1]]])  # leg 3 along leg 1: t = 0
    log_w = log_propagator_weight(topology, p, _mass_width)
    assert np.all(np.isfinite(log_w)) and log_w[0] > 700.0


def test_integrand_prior_with_sde_strategy_2_is_the_normalised_propagator_weight():
    strategy = {k: prepare_run("ttbar_jet", seed=3, overrides={"sde_strategy": k}).integrand for k in (1, 2)}
    integrand = strategy[2]
    card = integrand.process.param_card
    channel = 0
    group = integrand.channels[channel].group
    diagrams = [d for d in integrand.groups[group].diagrams if not d.four_point]
    r = np.random.default_rng(3).random((400, integrand.dim))
    batch = integrand(channel, r)
    live = batch.value > 0
    assert live.sum() > 100
    p = batch.payload["momenta"][live]
    weights = np.stack([np.exp(log_propagator_weight(parse_diagram(d.to_dict(), integrand.process.n_external), p,
                                                     lambda pdg: (card.mass(abs(pdg)), card.width(abs(pdg)))))
                        for d in diagrams], axis=1)
    expected = weights / weights.sum(axis=1, keepdims=True)
    columns = [next(c for c, ch in enumerate(integrand.channels) if ch.group == group and ch.diagram is d)
               for d in diagrams]
    np.testing.assert_allclose(batch.channel_prior[live][:, columns], expected, rtol=1e-12, atol=1e-300)

    other = strategy[1](channel, r)
    np.testing.assert_allclose(other.value, batch.value, rtol=1e-12)
    assert np.max(np.abs(other.channel_prior[live] - batch.channel_prior[live])) > 0.1


def test_other_sde_strategies_are_refused():
    with pytest.raises(CardError, match="sde_strategy = 3"):
        prepare_run("ttbar_jet", overrides={"sde_strategy": 3})
