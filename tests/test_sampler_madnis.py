"""The neural sampler (VEGAS layer + spline flow + learned channel weights) on toy integrands."""

import json
import warnings

import numpy as np
import pytest
import torch

from madnis_plugin.interface import IntegrandBatch
from madnis_plugin.sampler import MadnisConfig, MadnisSampler, SampleBatch
from madnis_plugin.sampler.allocation import allocate_points
from madnis_plugin.sampler.buffer import SampleBuffer
from madnis_plugin.sampler.flows import FLOW_VERSION
from madnis_plugin.sampler.losses import channel_means, stratified_variance_loss
from madnis_plugin.sampler.training import Trainer, is_online_step, learning_rate_factor
from madnis_plugin.toys import BreitWignerPeaks, ThinRing

SMALL = MadnisConfig(vegas_iterations=4, vegas_points=4000, train_batches=40, batch_size=256,
                     drop_interval=20)


def trained(integrand, config=SMALL, seed=7):
    sampler = MadnisSampler(integrand, config, seed=seed)
    sampler.train()
    return sampler


def test_untrained_sampler_density_equals_the_vegas_density_in_float64():
    toy = BreitWignerPeaks()
    sampler = MadnisSampler(toy, SMALL.replace(dtype="float64", vegas_layer="exact"), seed=3)
    sampler.train(batches=0)   # VEGAS pretraining only
    r = np.random.default_rng(0).random((2000, toy.dim))
    for c in range(toy.n_channels):
        ratio = sampler.density(c, r) / sampler.vegas.density(c, r)
        assert np.max(np.abs(ratio - 1)) < 1e-6


def test_float32_is_the_default_and_float64_is_available():
    toy = ThinRing()
    assert next(MadnisSampler(toy, SMALL).flow.parameters()).dtype == torch.float32
    assert next(MadnisSampler(toy, SMALL.replace(dtype="float64")).flow.parameters()).dtype == torch.float64


def test_trained_estimate_is_within_five_errors_of_the_exact_integral():
    toy = BreitWignerPeaks()
    res = trained(toy).integrate(points=30_000)
    assert abs(res.cross_section - toy.exact_integral) < 5 * res.error


def test_channel_estimates_are_the_peaks_when_the_weights_stay_at_the_prior():
    # Learned weights move integral between the channels (at seed 7 by 0.1% of
    # the second peak, 6 errors), so each channel equals its peak only at the prior.
    toy = BreitWignerPeaks()
    res = trained(toy, SMALL.replace(learn_channel_weights=False)).integrate(points=30_000)
    for channel, amplitude in zip(res.channels, toy.amplitudes):
        assert abs(channel.cross_section - amplitude) < 5 * channel.error


def test_training_flattens_the_weights_beyond_vegas():
    toy = ThinRing()
    sampler = MadnisSampler(toy, SMALL.replace(train_batches=150), seed=4)
    sampler.train(batches=0)
    vegas_only = sampler.integrate(points=20_000).rel_std
    sampler.train(batches=150)
    assert sampler.integrate(points=20_000).rel_std < vegas_only


def test_channel_weights_start_at_the_prior_and_sum_to_one_over_active_channels():
    toy = BreitWignerPeaks()
    sampler = MadnisSampler(toy, SMALL, seed=1)
    batch = toy(0, np.random.default_rng(1).random((100, toy.dim)))
    alpha = sampler.channel_weights(sampler.tensor(batch.channel_prior), sampler.tensor(batch.features))
    assert np.allclose(alpha.detach().cpu().numpy(), batch.channel_prior, atol=1e-6)
    sampler.channel_weights.active[1] = False
    alpha = sampler.channel_weights(sampler.tensor(batch.channel_prior), sampler.tensor(batch.features))
    assert torch.all(alpha[:, 1] == 0) and torch.allclose(alpha.sum(1).cpu(), torch.ones(100))


def test_negligible_channel_is_dropped_and_the_estimate_stays_unbiased():
    toy = BreitWignerPeaks(amplitudes=(1.0, 0.004))   # channel 1 carries 0.4% < 1%
    sampler = trained(toy)
    assert not sampler.active[1] and sampler.history["drops"][0]["dropped"] == [1]
    res = sampler.integrate(points=30_000)
    assert res.channels[1].n_points == 0 and not res.channels[1].active
    # Channel 0 now carries the whole integral through the renormalised weights.
    assert abs(res.cross_section - toy.exact_integral) < 5 * res.error


def test_dropping_stops_at_the_total_share_cap():
    # Channel 1 carries 0.4% < drop_threshold; with a cap of 0.2% on the total
    # share handed to other channels it must stay, with 1% it goes.
    toy = BreitWignerPeaks(amplitudes=(1.0, 0.004))
    kept = trained(toy, SMALL.replace(drop_max_total=0.002))
    assert kept.active.all() and kept.history["dropped_share"] == 0.0
    dropped = trained(toy, SMALL.replace(drop_max_total=0.01))
    assert not dropped.active[1] and 0.002 < dropped.history["dropped_share"] < 0.01


def test_same_seed_gives_the_same_result_and_global_torch_state_is_untouched():
    toy = BreitWignerPeaks()
    before = torch.random.get_rng_state().clone()
    a = trained(toy, seed=5).integrate(points=5000)
    b = trained(toy, seed=5).integrate(points=5000)
    c = trained(toy, seed=6).integrate(points=5000)
    assert a.cross_section == b.cross_section and a.error == b.error
    assert a.cross_section != c.cross_section
    assert torch.equal(torch.random.get_rng_state(), before)


class NaNEvery7th:
    """A toy that returns NaN at every 7th point: a misbehaving integrand."""

    def __init__(self):
        self.toy = ThinRing()
        for key in ("dim", "n_channels", "n_features", "channel_names"):
            setattr(self, key, getattr(self.toy, key))

    def __call__(self, channel, r):
        batch = self.toy(channel, r)
        value = batch.value.copy()
        value[::7] = np.nan
        return IntegrandBatch(value, batch.channel_prior, batch.features, batch.payload, channel)


def test_non_finite_integrand_values_are_counted_and_never_reach_the_networks():
    sampler = trained(NaNEvery7th(), SMALL.replace(train_batches=20))
    assert sampler.history["n_nonfinite"] > 0
    assert all(np.isfinite(sampler.history["loss"]))
    assert all(torch.isfinite(p).all() for p in sampler.flow.parameters())
    res = sampler.integrate(points=7000)
    assert res.n_nonfinite == 1000 and np.isfinite(res.cross_section)


def test_a_step_with_non_finite_gradients_is_skipped_counted_and_leaves_the_parameters():
    sampler = MadnisSampler(ThinRing(), SMALL.replace(train_batches=10), seed=7)
    watched = sampler.flow.blocks[0].net.layers[0].weight
    start = [p.detach().clone() for p in sampler.flow.parameters()]
    watched.register_hook(lambda grad: torch.full_like(grad, float("nan")))
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # the skips are reported in history, not as torch's schedule warning
        sampler.train()
    assert sampler.history["skipped_steps"] == 10
    assert all(torch.equal(p, q) for p, q in zip(sampler.flow.parameters(), start))


def test_drawing_all_channels_in_one_flow_pass_gives_each_channels_own_density():
    toy = BreitWignerPeaks()
    sampler = trained(toy, SMALL.replace(dtype="float64", defensive_fraction=0.1))
    drawn = sampler.draw_channels(np.array([300, 0]))
    assert list(drawn) == [0] and drawn[0].r.shape == (300, toy.dim)
    drawn = sampler.draw_channels(np.array([200, 300]))
    for c, n in ((0, 200), (1, 300)):
        assert drawn[c].channel == c and drawn[c].r.shape == (n, toy.dim)
        np.testing.assert_allclose(sampler.density(c, drawn[c].r), drawn[c].density, rtol=1e-9)
        np.testing.assert_allclose(drawn[c].value, toy(c, drawn[c].r).value, rtol=1e-12)


def test_sample_batch_is_consistent_and_weights_estimate_channel_cross_sections():
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    batch = sampler.sample(points=20_000)
    assert isinstance(batch, SampleBatch)
    assert len(batch) == batch.points_per_channel.sum() == batch.payload["x"].shape[0]
    assert np.all((batch.r >= 0) & (batch.r < 1))
    for c, amplitude in enumerate(toy.amplitudes):
        w = batch.weight[batch.channel == c]
        assert abs(w.mean() - amplitude) < 5 * w.std() / np.sqrt(w.size)
    # The recorded density is the sampler's density at the points (float32 network).
    mask = batch.channel == 0
    np.testing.assert_allclose(sampler.density(0, batch.r[mask][:500]), batch.density[mask][:500], rtol=1e-3)


def test_saved_sampler_continues_exactly_like_the_original(tmp_path):
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    path = tmp_path / "madnis.pt"
    sampler.save(path, fingerprint={"process": "toy", "sqrt_s": 13000.0})
    loaded = MadnisSampler.load(path, toy)
    assert loaded.fingerprint == {"process": "toy", "sqrt_s": 13000.0}
    assert loaded.config == sampler.config
    assert loaded.integrate(points=4000).cross_section == sampler.integrate(points=4000).cross_section


def test_a_file_with_flows_of_another_version_is_refused(tmp_path):
    toy = BreitWignerPeaks()
    sampler = trained(toy)
    path = tmp_path / "madnis.pt"
    sampler.save(path)
    state = torch.load(path, weights_only=True)
    # Files from before the end-slope bound carry no version: their networks meant another density.
    for saved in (FLOW_VERSION - 1, None):
        if saved is None:
            del state["flow_version"]
        else:
            state["flow_version"] = saved
        torch.save(state, path)
        with pytest.raises(ValueError, match=f"flows of version {saved or 1}, this release reads version"):
            MadnisSampler.load(path, toy)


def test_history_and_result_serialise_to_json():
    sampler = trained(BreitWignerPeaks())
    res = sampler.integrate(points=3000)
    text = json.dumps({"history": sampler.history, "result": res.to_dict()})
    data = json.loads(text)
    assert len(data["history"]["loss"]) == SMALL.train_batches
    assert set(data["result"]["phases"]) >= {"vegas", "training", "integration"}
    assert data["history"]["channel_weight_shares"]["prior"]


def test_allocation_follows_the_std_with_a_floor_and_skips_inactive_channels():
    counts = allocate_points(1000, np.array([3.0, 1.0, 5.0]), floor=0.2, active=np.array([True, True, False]))
    assert counts.sum() == 1000 and counts[2] == 0
    # 80% split 3:1, 20% split evenly: 600 + 100 and 200 + 100.
    assert counts.tolist() == [700, 300, 0]


def test_online_steps_are_the_configured_share():
    assert sum(is_online_step(i, 0.8) for i in range(1000)) == 200
    assert all(is_online_step(i, 0.0) for i in range(10))


def test_learning_rate_rises_over_the_warmup_share_then_follows_the_cosine():
    config = SMALL.replace(lr_warmup=0.25)   # 10 of the 40 steps
    sampler = trained(BreitWignerPeaks(), config)
    lr = np.array(sampler.history["lr"]) / config.learning_rate
    # The history holds the rate after each step's scheduler update, i.e. that of the next step.
    steps = np.arange(1, 41)
    cosine = 0.01 + 0.99 * 0.5 * (1 + np.cos(np.pi * steps / 40))
    expected = np.minimum(1.0, (steps + 1) / 10) * cosine
    np.testing.assert_allclose(lr, expected, rtol=1e-12)
    assert lr[:9].tolist() == sorted(lr[:9]) and lr[-1] < lr[10]
    constant = learning_rate_factor(SMALL.replace(lr_schedule="constant", lr_warmup=0.0), 40)
    assert [constant(k) for k in (0, 39)] == [1.0, 1.0]


@pytest.mark.parametrize("bad", [{"lr_warmup": 1.0}, {"lr_warmup": -0.1}, {"lr_schedule": "linear"}])
def test_a_bad_learning_rate_schedule_is_refused_by_name(bad):
    name = next(iter(bad))
    with pytest.raises(ValueError, match=name):
        MadnisSampler(BreitWignerPeaks(), SMALL.replace(**bad), seed=1).train()


def test_buffer_keeps_the_newest_samples_per_channel():
    buf = SampleBuffer(n_channels=2, capacity=5, dim=1, n_features=1)
    for start in range(0, 12, 3):
        v = torch.arange(start, start + 3, dtype=torch.float32)
        buf.add(1, v[:, None], v, torch.ones(3, 2), v[:, None], v)
    assert buf.size(0) == 0 and buf.size(1) == 5
    assert sorted(buf.data[1]["value"].tolist()) == [7.0, 8.0, 9.0, 10.0, 11.0]


@pytest.mark.parametrize("layer", ["exact", "smooth", "trainable"])
def test_the_buffer_starts_with_the_last_vegas_iterations_points_at_their_drawing_density(layer):
    toy = BreitWignerPeaks()
    config = SMALL.replace(dtype="float64", vegas_layer=layer, vegas_iterations=4, vegas_buffer_iterations=2)
    trainer = Trainer(MadnisSampler(toy, config, seed=5))
    trainer.run(batches=0, batch_size=256)
    s, buf = trainer.s, trainer.buffer
    kept = np.sum([it["points_per_channel"] for it in s.vegas.history[-2:]], axis=0)
    assert buf.count.tolist() == kept.tolist()
    for c, amplitude in enumerate(toy.amplitudes):
        data = {k: v[:buf.size(c)].cpu().numpy() for k, v in buf.data[c].items()}
        r = data["point"] if layer == "trainable" else s.grid_layer.map(c, data["point"])[0]
        value = toy(c, r).value
        if layer != "trainable":   # flow space: value |dr/dy| under the final grid
            value = value / s.grid_layer.map(c, data["point"])[1]
        np.testing.assert_allclose(data["value"], value, rtol=1e-10, atol=1e-300)
        # value / g is the VEGAS weight the points had when drawn: its mean is
        # the channel's integral (prior weight applied as in the estimate).
        w = data["prior"][:, c] * data["value"] * np.exp(-data["log_g"])
        assert abs(w.mean() - amplitude) < 5 * w.std() / np.sqrt(w.size)


def test_no_vegas_points_in_the_buffer_when_switched_off():
    trainer = Trainer(MadnisSampler(BreitWignerPeaks(), SMALL.replace(vegas_buffer_iterations=0), seed=5))
    trainer.run(batches=0, batch_size=256)
    assert trainer.buffer.count.sum() == 0


def test_channel_means_and_counts_per_channel_with_an_empty_channel():
    values = torch.as_tensor(np.random.default_rng(4).normal(size=30))
    channel = torch.as_tensor(np.r_[np.zeros(10, int), np.full(20, 2)])
    means, counts = channel_means(channel, values, n_channels=3)
    assert counts.tolist() == [10.0, 0.0, 20.0]
    expected = [values[:10].mean().item(), 0.0, values[10:].mean().item()]
    np.testing.assert_allclose(means.numpy(), expected, rtol=1e-14, atol=1e-16)


def test_variance_loss_on_fresh_samples_is_the_sum_of_channel_standard_deviations():
    rng = np.random.default_rng(3)
    w = rng.exponential(size=400)
    channel = torch.as_tensor(np.repeat([0, 1], 200))
    log_q = torch.as_tensor(rng.normal(size=400))
    f = torch.as_tensor(w) * log_q.exp()          # so that f / q = w
    loss = stratified_variance_loss(channel, f, log_q, log_q, n_channels=2)
    expected = w[:200].std() + w[200:].std()
    assert loss.item() == pytest.approx(expected, rel=1e-9)


def test_defensive_mixture_density_is_consistent_and_the_estimate_unbiased():
    # A share of the points skips the flow (uniform y into the VEGAS layer); the
    # recorded density is the mixture's, equal to density() at the points, and
    # no weight exceeds the VEGAS-layer weight divided by the share.
    toy = BreitWignerPeaks()
    sampler = MadnisSampler(toy, SMALL.replace(dtype="float64", defensive_fraction=0.2), seed=5)
    sampler.train()
    batch = sampler.sample(points=20_000)
    for c in range(toy.n_channels):
        mask = batch.channel == c
        np.testing.assert_allclose(sampler.density(c, batch.r[mask][:400]), batch.density[mask][:400], rtol=1e-9)
        layer_weight = toy(c, batch.r[mask]).value / sampler.grid_layer.density(c, batch.r[mask])
        assert np.all(batch.weight[mask] <= layer_weight / 0.2 * (1 + 1e-9))
    result = sampler.integrate(points=30_000)
    assert abs(result.cross_section - toy.exact_integral) < 5 * result.error
    with pytest.raises(ValueError, match="defensive_fraction"):
        MadnisSampler(toy, SMALL.replace(defensive_fraction=1.0))


@pytest.mark.parametrize("bound", [1.0, 0.5, -2.0])
def test_an_edge_slope_bound_of_one_or_less_is_refused_by_name(bound):
    with pytest.raises(ValueError, match="flow_edge_slope"):
        MadnisSampler(BreitWignerPeaks(), SMALL.replace(flow_edge_slope=bound))
