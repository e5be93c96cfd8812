"""The smooth VEGAS layer: an exact monotone bijection through the VEGAS grid nodes."""

import numpy as np
import pytest
import torch
from scipy.integrate import quad

from madnis_plugin.sampler import MadnisConfig, MadnisSampler
from madnis_plugin.sampler.smooth_grid import SmoothGrids
from madnis_plugin.sampler.vegas_sampler import VegasGrids
from madnis_plugin.toys import BreitWignerPeaks

from test_sampler_madnis import SMALL


def random_nodes(channels: int, dim: int, bins: int, seed: int = 1) -> np.ndarray:
    # Strongly uneven increments (cubes of uniforms), as a grid adapted to a peak at 0.
    inner = np.random.default_rng(seed).random((channels, dim, bins - 1)) ** 3
    ends = np.broadcast_to([0.0, 1.0], (channels, dim, 2))
    return np.sort(np.concatenate([ends[..., :1], inner, ends[..., 1:]], axis=2), axis=2)


def test_map_and_inverse_round_trip_with_the_same_density():
    layer = SmoothGrids(random_nodes(3, 4, 60))   # 1/60 is not a binary fraction
    y = np.random.default_rng(2).random((50_000, 4))
    r, q = layer.map(2, y)
    y_back, q_back = layer.invmap(2, r)
    assert np.max(np.abs(y_back - y)) < 1e-12
    np.testing.assert_allclose(q_back, q, rtol=1e-9)
    np.testing.assert_array_equal(layer.density(2, r), q_back)


def test_density_is_the_inverse_jacobian_of_the_map():
    layer = SmoothGrids(random_nodes(1, 3, 32))
    y = 0.01 + 0.98 * np.random.default_rng(3).random((200, 3))
    h = 1e-6
    jacobian = np.ones(len(y))
    for axis in range(3):
        step = np.zeros(3)
        step[axis] = h
        jacobian *= (layer.map(0, y + step)[0][:, axis] - layer.map(0, y - step)[0][:, axis]) / (2 * h)
    np.testing.assert_allclose(layer.map(0, y)[1] * jacobian, 1.0, rtol=1e-6)


def test_every_vegas_increment_keeps_probability_one_over_bins():
    nodes = random_nodes(1, 1, 16)
    layer = SmoothGrids(nodes)
    knots = np.arange(17)[:16, None] / 16
    np.testing.assert_allclose(layer.map(0, knots)[0][:, 0], nodes[0, 0, :16], rtol=0, atol=1e-15)
    # Adaptive quadrature of the density in r over each increment, where it is smooth.
    density = lambda r: float(layer.density(0, np.array([[r]]))[0])  # noqa: E731
    probability = [quad(density, lo, hi, epsabs=0, epsrel=1e-12, limit=200)[0]
                   for lo, hi in zip(nodes[0, 0, :-1], nodes[0, 0, 1:])]
    np.testing.assert_allclose(probability, 1 / 16, rtol=1e-10)


def test_density_is_continuous_where_vegas_jumps():
    nodes = random_nodes(1, 1, 32)
    smooth, vegas = SmoothGrids(nodes), VegasGrids(1, 1, 32, nodes)
    edges = nodes[0, 0, 1:-1, None]
    below, above = edges * (1 - 1e-9), edges * (1 + 1e-9)
    np.testing.assert_allclose(smooth.density(0, below) / smooth.density(0, above), 1.0, rtol=1e-5)
    assert np.max(np.abs(vegas.density(0, below) / vegas.density(0, above) - 1)) > 0.1
    # At a node the density is the mean of the two neighbouring VEGAS densities.
    mean = 0.5 * (vegas.density(0, below) + vegas.density(0, above))
    np.testing.assert_allclose(smooth.density(0, edges), mean, rtol=1e-6)


def test_a_uniform_grid_is_the_identity():
    layer = SmoothGrids(VegasGrids(2, 1, 10).nodes())
    y = np.random.default_rng(4).random((1000, 2))
    r, q = layer.map(0, y)
    np.testing.assert_allclose(r, y, atol=1e-15)
    np.testing.assert_allclose(q, 1.0, rtol=1e-14)


def test_invalid_nodes_are_refused():
    with pytest.raises(ValueError, match="increasing"):
        SmoothGrids(np.array([[[0.0, 0.5, 0.5, 1.0]]]))


def test_sampler_on_the_smooth_layer_has_the_layers_density_and_integrates_correctly():
    toy = BreitWignerPeaks()
    config = SMALL.replace(dtype="float64", vegas_layer="smooth")
    sampler = MadnisSampler(toy, config, seed=3)
    sampler.train(batches=0)
    layer = SmoothGrids(sampler.vegas.grids.nodes())
    r = np.random.default_rng(0).random((2000, toy.dim))
    for c in range(toy.n_channels):
        np.testing.assert_allclose(sampler.density(c, r), layer.density(c, r), rtol=1e-6)
    sampler.train()
    batch = sampler.sample(points=20_000)
    np.testing.assert_allclose(sampler.density(0, batch.r[batch.channel == 0][:300]),
                               batch.density[batch.channel == 0][:300], rtol=1e-8)
    result = sampler.integrate(points=30_000)
    assert abs(result.cross_section - toy.exact_integral) < 5 * result.error


def test_unknown_vegas_layer_is_refused():
    with pytest.raises(ValueError, match="vegas_layer"):
        MadnisSampler(BreitWignerPeaks(), SMALL.replace(vegas_layer="cubic"))


def test_trainable_layer_starts_as_the_fixed_one_and_its_batched_inverse_agrees():
    nodes = random_nodes(3, 4, 64)
    fixed, trainable = SmoothGrids(nodes), SmoothGrids(nodes, trainable=True)
    y = np.random.default_rng(5).random((5000, 4))
    for c in range(3):
        r, q = fixed.map(c, y)
        r_t, q_t = trainable.map(c, y)
        np.testing.assert_allclose(r_t, r, rtol=0, atol=1e-13)
        np.testing.assert_allclose(q_t, q, rtol=1e-10)
    np.testing.assert_allclose(trainable.nodes(), nodes, rtol=0, atol=1e-15)
    # The differentiable inverse of a mixed batch equals the per-channel one.
    channel = np.random.default_rng(6).integers(0, 3, 5000)
    r, expected = np.empty_like(y), np.empty(len(y))
    for c in range(3):
        mine = channel == c
        r[mine] = fixed.map(c, y[mine])[0]
        expected[mine] = fixed.invmap(c, r[mine])[1]
    y_back, log_dy_dr = trainable.inverse(torch.as_tensor(channel), torch.as_tensor(r))
    assert np.max(np.abs(y_back.detach().numpy() - y)) < 1e-11
    np.testing.assert_allclose(torch.exp(log_dy_dr).detach().numpy(), expected, rtol=1e-9)


def test_trainable_layer_gradient_matches_finite_differences():
    layer = SmoothGrids(random_nodes(2, 2, 8), trainable=True)
    channel = torch.tensor([0, 1, 1, 0, 1])
    r = torch.as_tensor(np.random.default_rng(7).random((5, 2)))
    objective = lambda: (layer.inverse(channel, r)[0].sum() + layer.inverse(channel, r)[1].sum())  # noqa: E731
    objective().backward()
    grad = layer.log_heights.grad.clone()
    assert torch.count_nonzero(grad) > 0
    h = 1e-6
    with torch.no_grad():
        for index in [(0, 0, 3), (1, 1, 0), (1, 0, 7)]:
            layer.log_heights[index] += h
            up = float(objective())
            layer.log_heights[index] -= 2 * h
            down = float(objective())
            layer.log_heights[index] += h
            assert abs((up - down) / (2 * h) - float(grad[index])) < 1e-6 * max(1.0, abs(float(grad[index])))


def test_trained_layer_moves_the_nodes_stays_consistent_and_survives_save_and_load(tmp_path):
    toy = BreitWignerPeaks()
    sampler = MadnisSampler(toy, SMALL.replace(dtype="float64", vegas_layer="trainable"), seed=3)
    sampler.train(batches=0)
    vegas_nodes = sampler.vegas.grids.nodes()
    sampler.train()
    moved = np.max(np.abs(sampler.grid_layer.nodes() - vegas_nodes))
    assert moved > 1e-4
    batch = sampler.sample(points=20_000)
    for c in range(toy.n_channels):
        mine = batch.channel == c
        np.testing.assert_allclose(sampler.density(c, batch.r[mine][:300]), batch.density[mine][:300], rtol=1e-8)
    result = sampler.integrate(points=30_000)
    assert abs(result.cross_section - toy.exact_integral) < 5 * result.error
    path = tmp_path / "madnis.pt"
    sampler.save(path)
    loaded = MadnisSampler.load(path, toy)
    np.testing.assert_array_equal(loaded.grid_layer.nodes(), sampler.grid_layer.nodes())
    assert loaded.integrate(points=4000).cross_section == sampler.integrate(points=4000).cross_section


def test_trainable_layer_flattens_the_separable_peaks_beyond_the_fixed_one():
    # The Breit-Wigner toy is separable: after VEGAS what is left is on the scale of
    # single increments, which only moving the nodes can fix (measured 9x at 300 steps).
    toy = BreitWignerPeaks()
    config = MadnisConfig(vegas_iterations=6, vegas_points=6000, train_batches=150, batch_size=512)
    samplers = {layer: MadnisSampler(toy, config.replace(vegas_layer=layer), seed=5)
                for layer in ("smooth", "trainable")}
    for sampler in samplers.values():
        sampler.train()
    rel_std = {layer: s.integrate(points=20_000).rel_std for layer, s in samplers.items()}
    assert rel_std["trainable"] < rel_std["smooth"] / 2, rel_std


def test_loss_at_fixed_r_equals_the_loss_at_fixed_y_while_the_layer_is_at_its_start():
    # Training works in r under a trainable layer and in y under a fixed one; with the
    # layer's nodes where VEGAS put them both are the same loss with the same flow gradient.
    from madnis_plugin.sampler.training import Trainer

    toy = BreitWignerPeaks()
    losses, grads = {}, {}
    for layer in ("smooth", "trainable"):
        sampler = MadnisSampler(toy, SMALL.replace(dtype="float64", vegas_layer=layer), seed=3)
        sampler.train(batches=0)
        with torch.no_grad():   # a flow away from the identity
            for p in sampler.flow.parameters():
                p.add_(0.05 * torch.randn(p.shape, generator=torch.Generator().manual_seed(p.numel())).to(p))
        trainer = Trainer(sampler)
        batch, _ = trainer._online_batch(2000)
        sampler.flow.zero_grad()
        loss = trainer._loss(batch)
        loss.backward()
        losses[layer] = float(loss.detach())
        grads[layer] = torch.cat([p.grad.flatten() for p in sampler.flow.parameters()])
    assert losses["smooth"] > 0
    assert abs(losses["trainable"] / losses["smooth"] - 1) < 1e-9
    torch.testing.assert_close(grads["trainable"], grads["smooth"], rtol=1e-7, atol=1e-12)
