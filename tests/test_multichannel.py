"""The multi-channel decomposition of every built-in process.

For each process in :func:`madnis_plugin.resources.builtin_processes` (new
processes are covered without editing this file), with its default run card
(the lepton card for lepton beams, ``run_card_pp.dat`` for hadron beams):

* the multi-channel VEGAS cross section (one channel per (subprocess group,
  diagram), diagram priors of the default ``sde_strategy = 2``) agrees within 3 standard errors
  with a single-channel flat estimate (one channel per group) at equal
  statistics: the channel decomposition neither loses nor double counts;
* no channel returns a non-finite value or weight, and the value is never
  negative;
* the channel priors of a point vanish outside its group and, where no
  channels are folded, sum to 1 over the group's channels wherever the value
  is positive; where channels are folded, they average to 1 over the
  permutations of identical final-state particles, with either
  ``sde_strategy`` (1: diagram amplitudes, 2: propagator denominators).

Budgets are small; processes whose matrix elements are expensive run their
VEGAS comparison in the slow suite. The non-finite check uses 2,000 points per
channel in the fast suite and 10^5 per channel in the slow one.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from madnis_plugin.api import prepare_run
from madnis_plugin.interface import IntegrandBatch
from madnis_plugin.phasespace import parse_diagram
from madnis_plugin.phasespace.kinematics import invariant_mass
from madnis_plugin.phasespace.propagators import log_propagator_weight
from madnis_plugin.resources import builtin_processes
from madnis_plugin.sampler import VegasSampler

PROCESSES = builtin_processes()
#: Cheap enough (a few seconds for both estimates) for the fast suite; any other process is slow.
FAST_COMPARISON = {"ee_mumu", "drell_yan", "w_production", "ttbar", "ee_qqg"}


def _vegas_estimate(name: str, single_channel: bool, seed: int, iterations: int,
                    training_points: int, points: int) -> tuple[float, float]:
    setup = prepare_run(name, seed=seed, single_channel=single_channel)
    sampler = VegasSampler(setup.integrand, bins=32, seed=seed)
    sampler.train(iterations=iterations, points_per_iteration=training_points)
    result = sampler.integrate(points=points)
    return result.cross_section, result.error


#: Where one flat channel per group cannot resolve the process at this budget, its
#: estimate and error are meaningless; such a process is checked another way.
FLAT_UNRESOLVED = {
    "ttbar_dilepton": "four narrow resonances: flat gives 0.92 +- 0.82 pb against 5.69 +- 0.03 pb; checked "
                      "against one diagram map per group in test_ttbar_dilepton_multichannel_agrees_with_...",
}


def _comparison_params() -> list:
    return [pytest.param(name, marks=(pytest.mark.skip(reason=FLAT_UNRESOLVED[name]),) if name in FLAT_UNRESOLVED
                         else () if name in FAST_COMPARISON else (pytest.mark.slow,)) for name in PROCESSES]


@pytest.mark.parametrize("name", _comparison_params())
def test_multichannel_cross_section_agrees_with_single_channel_within_3_sigma(name):
    """Same training and estimate budget for both; 3 sigma of the combined error.

    A fixed seed makes the test deterministic; the probability that a correct
    decomposition fails at 3 sigma is 0.3% per process. Where the flat channel
    cannot resolve the process (t t~ dilepton: four narrow resonances) its error
    is large and the comparison weak; see docs/validation.md.
    """
    budget = {"iterations": 4, "training_points": 10_000, "points": 40_000}
    multi, multi_error = _vegas_estimate(name, single_channel=False, seed=7, **budget)
    flat, flat_error = _vegas_estimate(name, single_channel=True, seed=8, **budget)
    assert multi > 0 and flat > 0
    assert abs(multi - flat) <= 3.0 * np.hypot(multi_error, flat_error)


class _OneDiagramChannelPerGroup:
    """Each group integrated along the map of one of its diagram channels alone, with weight 1.

    For t t~ dilepton every diagram shares the four narrow resonances, so any
    one diagram's map resolves them: an estimate that uses no channel weights
    at all, against which the multi-channel decomposition can be checked.
    """

    def __init__(self, integrand):
        self.base = integrand
        self.picked = [next(c for c, ch in enumerate(integrand.channels) if ch.group == g)
                       for g in range(len(integrand.groups))]
        self.dim, self.n_features = integrand.dim, integrand.n_features
        self.n_channels = len(self.picked)
        self.channel_names = [integrand.channel_names[c] + ".alone" for c in self.picked]

    def __call__(self, channel: int, r: np.ndarray) -> IntegrandBatch:
        batch = self.base(self.picked[channel], r)
        prior = np.zeros((len(r), self.n_channels))
        prior[:, channel] = 1.0
        return IntegrandBatch(batch.value, prior, batch.features, batch.payload, channel)


def test_ttbar_dilepton_multichannel_agrees_with_one_diagram_map_per_group_without_channel_weights():
    """The flat comparison above cannot resolve the narrow resonances (docs/validation.md); this one can.

    Independent seeds and budgets alike; 3 sigma of the combined error.
    """
    budget = {"iterations": 4, "points_per_iteration": 10_000}
    multi = VegasSampler(prepare_run("ttbar_dilepton", seed=7).integrand, bins=32, seed=7)
    alone = VegasSampler(_OneDiagramChannelPerGroup(prepare_run("ttbar_dilepton", seed=8).integrand),
                         bins=32, seed=8)
    results = []
    for sampler in (multi, alone):
        sampler.train(**budget)
        results.append(sampler.integrate(points=40_000))
    (m, a) = results
    assert a.relative_error < 0.02, "the single-diagram maps must resolve the resonances"
    assert abs(m.cross_section - a.cross_section) <= 3.0 * np.hypot(m.error, a.error)


def _check_channels(name: str, points_per_channel: int, seed: int) -> None:
    integrand = prepare_run(name, seed=seed).integrand
    rng = np.random.default_rng(seed)
    groups = np.array([ch.group for ch in integrand.channels])
    for c, channel in enumerate(integrand.channels):
        r = rng.random((points_per_channel, integrand.dim))
        batch = integrand(c, r)
        assert np.all(np.isfinite(batch.value)), f"{integrand.channel_names[c]}: non-finite value"
        assert np.all(np.isfinite(batch.weight)), f"{integrand.channel_names[c]}: non-finite weight"
        assert np.all(batch.value >= 0.0)
        assert np.all(np.isfinite(batch.channel_prior))
        live = batch.value > 0
        prior = batch.channel_prior[live]
        in_group = groups == channel.group
        assert np.all(prior[:, ~in_group] == 0.0), "prior leaks into another group's channels"
        if all(integrand.channels[k].multiplicity == 1 for k in np.flatnonzero(in_group)):
            np.testing.assert_allclose(prior[:, in_group].sum(axis=1), 1.0, rtol=1e-12, atol=0)
        else:
            # Folded channels carry m_c w_c / sum_d w_d: a row sums to a symmetric
            # function that is 1 only after averaging over identical-particle permutations.
            assert np.all(prior[:, in_group].sum(axis=1) > 0.0)


@pytest.mark.parametrize("name", PROCESSES)
def test_no_channel_returns_non_finite_values_and_priors_partition_unity(name):
    _check_channels(name, points_per_channel=2_000, seed=5)


@pytest.mark.slow
@pytest.mark.parametrize("name", PROCESSES)
def test_no_channel_returns_non_finite_values_at_1e5_points_per_channel(name):
    _check_channels(name, points_per_channel=100_000, seed=6)


def _identical_final_state_permutations(pdg: tuple[int, ...], n_incoming: int) -> list[list[int]]:
    """Every permutation of the legs that only exchanges identical final-state particles."""
    legs = list(range(len(pdg)))
    classes = [[i for i in legs[n_incoming:] if pdg[i] == code] for code in dict.fromkeys(pdg[n_incoming:])]
    permutations = []
    for choice in itertools.product(*(itertools.permutations(c) for c in classes)):
        order = legs.copy()
        for members, image in zip(classes, choice):
            for leg, new in zip(members, image):
                order[leg] = new
        permutations.append(order)
    return permutations


def _folded_single_subprocess_groups() -> list:
    params = []
    for name in PROCESSES:
        integrand = prepare_run(name, seed=0).integrand
        for g, group in enumerate(integrand.groups):
            folded = any(ch.multiplicity > 1 for ch in integrand.channels if ch.group == g)
            if folded and len(group.subprocesses) == 1:
                params.append(pytest.param(name, g, id=f"{name}-g{g}"))
    return params or [pytest.param(None, None, marks=pytest.mark.skip(reason="no folded channels"))]


@pytest.mark.parametrize("sde_strategy", [1, 2])
@pytest.mark.parametrize("name,group", _folded_single_subprocess_groups())
def test_folded_priors_average_to_one_over_identical_particle_permutations(name, group, sde_strategy):
    """With folding, a prior row sums to S(p) = sum_c m_c w_c / sum_d w_d (c over the
    folded classes, d over all diagrams); averaged over the permutations of identical
    final-state particles S is exactly 1 (each class's orbit holds m_c diagrams), which
    is what keeps the multi-channel sum unbiased. Checked with the process's own
    DIAGRAM_AMP2 (sde_strategy 1) or every diagram's propagator weight (2) at the
    permuted momenta of live points, and S(p) itself against the integrand's row sums
    (1e-12).
    """
    integrand = prepare_run(name, seed=4, overrides={"sde_strategy": sde_strategy}).integrand
    process = integrand.process
    subprocess = integrand.groups[group].subprocesses[0]
    channels = [(c, ch) for c, ch in enumerate(integrand.channels) if ch.group == group]
    slots = np.array([d.number - 1 for d in integrand.groups[group].diagrams if not d.four_point])
    c0 = channels[0][0]
    batch = integrand(c0, np.random.default_rng(4).random((1_000, integrand.dim)))
    live = batch.value > 0
    assert live.sum() > 100
    # The prior was computed at the unpermuted momenta; the payload holds them permuted.
    inverse = np.argsort(batch.payload["permutation"][live], axis=1)
    momenta = np.take_along_axis(batch.payload["momenta"][live], inverse[:, :, None], axis=1)
    alpha_s = batch.payload["alpha_s"][live]

    topologies = {d.number - 1: parse_diagram(d.to_dict(), process.n_external)
                  for d in integrand.groups[group].diagrams if not d.four_point}
    card = process.param_card

    def diagram_weights(p: np.ndarray) -> np.ndarray:
        if sde_strategy == 1:
            return process.evaluate(p, flavor_index=subprocess.flavor_index, alpha_s=alpha_s).amp2
        weights = np.zeros((p.shape[0], process.diagram_count))
        for slot, topology in topologies.items():
            weights[:, slot] = np.exp(log_propagator_weight(
                topology, p, lambda pdg: (card.mass(abs(pdg)), card.width(abs(pdg)))))
        return weights

    def row_sum(p: np.ndarray) -> np.ndarray:
        weights = diagram_weights(p)
        norm = weights[:, slots].sum(axis=1)
        return sum(ch.multiplicity * weights[:, ch.diagram.number - 1] for _, ch in channels) / norm

    integrand_sum = batch.channel_prior[live][:, [c for c, _ in channels]].sum(axis=1)
    np.testing.assert_allclose(row_sum(momenta), integrand_sum, rtol=1e-12)
    permutations = _identical_final_state_permutations(tuple(subprocess.pdg), process.n_incoming)
    average = np.mean([row_sum(momenta[:, order]) for order in permutations], axis=0)
    np.testing.assert_allclose(average, 1.0, rtol=1e-10)


@pytest.mark.parametrize("name", ["w_jet", "ttbar_jet", "gg_ggg"])
def test_chains_with_a_jet_at_an_end_start_there_and_never_draw_it_outside_ptj_and_etaj(name):
    integrand = prepare_run(name, seed=1).integrand
    ptj = integrand.cuts["ptj"]
    bounded = 0
    for c, cmap in enumerate(integrand.maps):
        pdg = integrand.groups[integrand.channels[c].group].subprocesses[0].pdg
        is_jet = lambda block: block.is_leg and (abs(pdg[block.legs[0] - 1]) <= 4 or pdg[block.legs[0] - 1] == 21)  # noqa: E731
        if not cmap.topology.has_t_channel or not (is_jet(cmap.topology.blocks[0]) or is_jet(cmap.topology.blocks[-1])):
            continue
        first = cmap.tree.topology.blocks[0]
        assert is_jet(first)
        bounded += 1
        point = cmap.map(np.random.default_rng(c).random((2000, cmap.dim)))
        leg = point.momenta[point.valid, first.legs[0] - 1]
        assert point.valid.mean() > 0.5
        assert np.hypot(leg[:, 1], leg[:, 2]).min() >= ptj * (1 - 1e-9)
        rapidity = 0.5 * np.log((leg[:, 0] + leg[:, 3]) / (leg[:, 0] - leg[:, 3]))
        assert np.abs(rapidity).max() <= integrand.cuts["etaj"] + 1e-9
    assert bounded > 0


def test_w_jet_channels_never_draw_the_charged_lepton_outside_ptl_and_etal():
    # The W's decay angles are drawn inside the lepton's cuts (of uniform
    # points, 58-63% gave a non-zero integrand before, 75-85% now).
    integrand = prepare_run("w_jet", seed=1).integrand
    for c, cmap in enumerate(integrand.maps):
        pdg = integrand.groups[integrand.channels[c].group].subprocesses[0].pdg
        point = cmap.map(np.random.default_rng(c).random((4000, cmap.dim)))
        lepton = point.momenta[point.valid, list(pdg).index(-11)]
        pt = np.hypot(lepton[:, 1], lepton[:, 2])
        assert point.valid.mean() > 0.7, integrand.channel_names[c]
        assert pt.min() >= integrand.cuts["ptl"] * (1 - 1e-9)
        assert np.abs(np.arcsinh(lepton[:, 3] / pt)).max() <= integrand.cuts["etal"] + 1e-9


def test_ttbar_dilepton_channels_never_draw_a_resonance_outside_its_bwcutoff_window():
    # The integrand vanishes outside M +- bwcutoff * Gamma of each top and W;
    # every channel's map keeps all four inside (2.7% of the points of the
    # trained g g channels fell outside before the maps knew the windows).
    integrand = prepare_run("ttbar_dilepton", seed=1).integrand
    assert all(len(w) == 4 for w in integrand._onshell_windows)
    for c, cmap in enumerate(integrand.maps):
        point = cmap.map(np.random.default_rng(c).random((4000, cmap.dim)))
        assert point.valid.mean() > 0.99, integrand.channel_names[c]
        momenta = point.momenta[point.valid]
        for legs, mass, width in integrand._onshell_windows[integrand.channels[c].group]:
            m = invariant_mass(momenta[:, list(legs)].sum(axis=1))
            assert np.abs(m - mass).max() <= integrand._bwcutoff * width * (1 + 1e-9), (c, legs)
