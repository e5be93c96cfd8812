"""The VEGAS baseline sampler on toy integrands with known integrals."""

import json

import numpy as np
import pytest

from madnis_plugin.sampler import IntegrationResult, SampleBatch, VegasSampler
from madnis_plugin.toys import BreitWignerPeaks, GaussianPeaks, ThinRing


def trained(integrand, seed=1234, iterations=5, points=5000):
    sampler = VegasSampler(integrand, bins=32, seed=seed)
    sampler.train(iterations=iterations, points_per_iteration=points)
    return sampler


def test_estimate_is_within_five_errors_of_the_exact_integral():
    toy = BreitWignerPeaks()
    res = trained(toy).integrate(points=40_000)
    # A fixed seed; five standard errors make a false failure practically impossible.
    assert abs(res.cross_section - toy.exact_integral) < 5 * res.error


def test_channel_contributions_match_the_analytic_amplitudes():
    toy = BreitWignerPeaks()
    res = trained(toy).integrate(points=40_000)
    for channel, amplitude in zip(res.channels, toy.amplitudes):
        # With the prior alpha_c = |term_c| / sum, channel c integrates term c exactly.
        assert abs(channel.cross_section - amplitude) < 5 * channel.error


def test_training_flattens_the_weights():
    toy = ThinRing()
    untrained = VegasSampler(toy, bins=32, seed=5).integrate(points=20_000)
    after = trained(toy, seed=5).integrate(points=20_000)
    assert after.rel_std < untrained.rel_std


def test_same_seed_gives_the_same_result_and_other_seeds_differ():
    toy = GaussianPeaks(dim=3)
    a = trained(toy, seed=11).integrate(points=5000)
    b = trained(toy, seed=11).integrate(points=5000)
    c = trained(toy, seed=12).integrate(points=5000)
    assert a.cross_section == b.cross_section and a.error == b.error
    assert a.cross_section != c.cross_section


def test_global_numpy_random_state_is_untouched():
    before = np.random.get_state()[1].copy()
    trained(GaussianPeaks(dim=2), iterations=2, points=1000).integrate(points=1000)
    assert np.array_equal(np.random.get_state()[1], before)


def test_sample_weights_average_to_channel_cross_sections():
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    batch = sampler.sample(points=30_000)
    assert isinstance(batch, SampleBatch)
    assert len(batch) == batch.points_per_channel.sum() == batch.r.shape[0] == batch.payload["x"].shape[0]
    assert np.array_equal(np.bincount(batch.channel, minlength=2), batch.points_per_channel)
    assert np.all((batch.r >= 0) & (batch.r < 1))
    sigma_c = batch.channel_cross_sections()
    for c, amplitude in enumerate(toy.amplitudes):
        w = batch.weight[batch.channel == c]
        assert abs(sigma_c[c] - amplitude) < 5 * w.std() / np.sqrt(w.size)


def test_sample_density_is_the_grid_density_at_the_points():
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    batch = sampler.sample(points=2000)
    for c in range(toy.n_channels):
        mask = batch.channel == c
        # Forward map and inverse map agree up to floating-point rounding.
        np.testing.assert_allclose(sampler.density(c, batch.r[mask]), batch.density[mask], rtol=1e-9)


def test_result_records_calls_and_phases_and_serialises_to_json():
    sampler = trained(ThinRing(), iterations=3, points=2000)
    res = sampler.integrate(points=7000)
    assert isinstance(res, IntegrationResult)
    assert res.n_calls == 7000 == sum(c.n_points for c in res.channels)
    assert res.phases["vegas"].n_calls == 6000 and res.phases["vegas"].wall_s > 0
    assert res.phases["integration"].n_calls == 7000
    data = json.loads(json.dumps(res.to_dict()))
    assert data["cross_section"] == res.cross_section
    assert data["channels"][0]["name"] == "ring"


def test_saved_sampler_continues_exactly_like_the_original(tmp_path):
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    path = tmp_path / "vegas.npz"
    sampler.save(path, fingerprint={"process": "toy", "bins": 32})
    loaded = VegasSampler.load(path, toy)
    assert loaded.fingerprint == {"process": "toy", "bins": 32}
    assert loaded.integrate(points=5000).cross_section == sampler.integrate(points=5000).cross_section


def test_loading_onto_an_integrand_of_other_dimension_is_refused(tmp_path):
    path = tmp_path / "vegas.npz"
    trained(ThinRing(), iterations=1, points=500).save(path)
    with pytest.raises(ValueError, match="dim"):
        VegasSampler.load(path, GaussianPeaks(dim=3))
