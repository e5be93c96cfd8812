"""Rational-quadratic spline coupling flows on the unit hypercube."""

import itertools
import math

import pytest
import torch

from madnis_plugin.sampler.flows import (INPUT_SCALE, ChannelLinear, ChannelMLP, CouplingFlow, SplineCoupling,
                                          log_masks, rq_spline, softmax_last)

CHANNEL_MODES = ["conditional", "per_channel"]


def random_flow(dim, n_channels, mode, scale=0.1, seed=0, max_edge_slope=0.0):
    """A flow pushed away from the identity by random parameter noise of size ``scale``."""
    torch.manual_seed(seed)
    flow = CouplingFlow(dim, n_channels, channel_mode=mode, max_edge_slope=max_edge_slope).double()
    with torch.no_grad():
        for p in flow.parameters():
            p.add_(scale * torch.randn_like(p))
    return flow


@pytest.mark.parametrize("mode", CHANNEL_MODES)
@pytest.mark.parametrize("max_edge_slope", [0.0, 2.0])
def test_untrained_flow_is_the_identity(mode, max_edge_slope):
    flow = CouplingFlow(5, 3, channel_mode=mode, max_edge_slope=max_edge_slope).double()
    z = torch.rand(500, 5, dtype=torch.float64)
    channel = torch.randint(0, 3, (500,))
    y, log_jac = flow(z, channel)
    # Equal bins and unit slopes give y = x up to float64 rounding.
    assert torch.allclose(y, z, atol=1e-14, rtol=0)
    assert log_jac.abs().max() < 1e-13


@pytest.mark.parametrize("mode", CHANNEL_MODES)
@pytest.mark.parametrize("max_edge_slope", [0.0, 2.0])
def test_inverse_undoes_forward_and_log_jacobians_cancel(mode, max_edge_slope):
    flow = random_flow(5, 3, mode, max_edge_slope=max_edge_slope)
    z = torch.rand(1000, 5, dtype=torch.float64)
    channel = torch.randint(0, 3, (1000,))
    y, log_jac = flow(z, channel)
    z_back, log_jac_inv = flow.inverse(y, channel)
    # A moderately deformed flow (log-Jacobians of order 1) inverts to rounding level.
    assert log_jac.std() > 0.1
    assert torch.allclose(z_back, z, atol=1e-10, rtol=0)
    assert torch.allclose(log_jac + log_jac_inv, torch.zeros(1000, dtype=torch.float64), atol=1e-9)


@pytest.mark.parametrize("mode", CHANNEL_MODES)
@pytest.mark.parametrize("max_edge_slope", [0.0, 2.0])
def test_log_jacobian_equals_autograd_determinant(mode, max_edge_slope):
    flow = random_flow(4, 2, mode, max_edge_slope=max_edge_slope)
    channel = torch.tensor([1])
    z = torch.rand(1, 4, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda t: flow(t, channel)[0], z).reshape(4, 4)
    assert flow(z, channel)[1].item() == pytest.approx(torch.linalg.slogdet(jacobian)[1].item(), abs=1e-9)


def test_flow_maps_the_hypercube_onto_itself_and_density_integrates_to_one():
    # Noise 0.1: far from the identity (density std ~0.6), yet without the
    # extreme peaks that 40k uniform points could not integrate.
    flow = random_flow(2, 1, "conditional", scale=0.1)
    n = 40_000
    y = torch.rand(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    density = flow.log_density(y, torch.zeros(n, dtype=torch.int64)).exp()
    z, _ = flow(torch.rand(1000, 2, dtype=torch.float64), torch.zeros(1000, dtype=torch.int64))
    assert ((z >= 0) & (z <= 1)).all()
    # The mean of q over uniform points estimates its integral, within 5 standard errors.
    assert density.std() > 0.05
    assert density.mean().item() == pytest.approx(1.0, abs=5 * density.std().item() / n ** 0.5)


def test_channels_get_different_maps_once_trained_apart():
    flow = random_flow(2, 2, "per_channel")
    z = torch.rand(10, 2, dtype=torch.float64)
    y0, _ = flow(z, torch.zeros(10, dtype=torch.int64))
    y1, _ = flow(z, torch.ones(10, dtype=torch.int64))
    assert not torch.allclose(y0, y1)


@pytest.mark.parametrize("dim", [2, 3, 5, 8, 11])
def test_every_coordinate_conditions_every_other_within_the_mask_sequence(dim):
    masks = log_masks(dim)
    assert len(masks) <= 2 * (dim - 1).bit_length()
    for i, j in itertools.permutations(range(dim), 2):
        # Some block transforms i while j is among its conditions.
        assert any(m[i] and not m[j] for m in masks), (i, j)


def test_spline_with_equal_bins_and_unit_slopes_is_the_identity():
    x = torch.rand(100, dtype=torch.float64)
    k = 7
    widths = torch.full((100, k), 1 / k, dtype=torch.float64)
    y, log_slope = rq_spline(x, widths, widths, torch.ones(100, k + 1, dtype=torch.float64))
    assert torch.allclose(y, x, atol=1e-15) and log_slope.abs().max() < 1e-14


def test_channel_linear_applies_each_rows_own_channel_weights():
    torch.manual_seed(1)
    layer = ChannelLinear(4, 3, 5).double()
    x = torch.randn(50, 3, dtype=torch.float64)
    channel = torch.randint(0, 4, (50,))
    expected = torch.stack([x[i] @ layer.weight[c] + layer.bias[c] for i, c in enumerate(channel.tolist())])
    assert torch.allclose(layer(x, channel), expected, rtol=1e-13, atol=1e-14)


def test_per_channel_network_gives_each_row_of_a_mixed_batch_its_own_channels_output():
    # The rows are grouped by channel inside; the outputs must come back in
    # the input's order, each as if its channel's network ran alone.
    torch.manual_seed(2)
    net = ChannelMLP(3, 4, n_channels=5, hidden=8, layers=2, channel_mode="per_channel").double()
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0.0, 1.0)
    x = torch.randn(60, 3, dtype=torch.float64)
    channel = torch.randint(0, 5, (60,))
    alone = torch.cat([net(x[i:i + 1], channel[i:i + 1]) for i in range(60)])
    assert torch.allclose(net(x, channel), alone, rtol=1e-13, atol=1e-13)


def edge_log_slopes(max_edge_slope):
    """log dy/dz of one coupling with large random parameters, its moved coordinate on a face."""
    mask = torch.tensor([True, False, False])
    torch.manual_seed(3)
    block = SplineCoupling(mask, 2, bins=6, hidden=16, layers=2, max_edge_slope=max_edge_slope).double()
    with torch.no_grad():
        for p in block.parameters():
            p.normal_(0.0, 1.0)
    n = 2000
    z = torch.rand(n, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    z[:, 0] = torch.tensor([0.0, 1.0], dtype=torch.float64).repeat(n // 2)
    y, log_slope = block(z, torch.randint(0, 2, (n,), generator=torch.Generator().manual_seed(5)))
    assert torch.allclose(y[:, 0], z[:, 0], atol=1e-12, rtol=0)
    return log_slope


def test_end_slopes_stay_within_the_bound_and_reach_it():
    # The same network outputs: unbounded end slopes go far past 2, bounded ones
    # never do (so a face's density is thinned by at most 2) but come close.
    assert edge_log_slopes(0.0).max() > math.log(4.0)
    bounded = edge_log_slopes(2.0)
    assert bounded.max() <= math.log(2.0) + 1e-9  # the spline formula rounds at 1e-10
    assert bounded.max() > math.log(1.9)


def test_an_edge_bound_of_one_or_less_is_refused():
    with pytest.raises(ValueError, match="max_edge_slope"):
        CouplingFlow(3, 1, max_edge_slope=1.0)


def test_written_out_softmax_equals_torchs_including_its_gradient():
    torch.manual_seed(3)
    # Logits of very different sizes: the max shift must keep exp finite.
    x = (torch.randn(64, 3, 10, dtype=torch.float64) * torch.tensor([1.0, 30.0, 300.0])[None, :, None])
    x.requires_grad_(True)
    weights = torch.randn(64, 3, 10, dtype=torch.float64)
    mine = softmax_last(x)
    theirs = torch.softmax(x, dim=-1)
    assert torch.allclose(mine, theirs, rtol=1e-13, atol=1e-300)
    (g_mine,) = torch.autograd.grad((mine * weights).sum(), x)
    (g_theirs,) = torch.autograd.grad((theirs * weights).sum(), x)
    assert torch.allclose(g_mine, g_theirs, rtol=1e-12, atol=1e-15)
    # A strided slice, as the couplings pass it.
    raw = torch.randn(8, 2, 31, dtype=torch.float64)
    assert torch.allclose(softmax_last(raw[..., 10:20]), torch.softmax(raw[..., 10:20], dim=-1), rtol=1e-13)


@pytest.mark.parametrize("mode", CHANNEL_MODES)
def test_coupling_networks_see_standardised_conditioning_coordinates(mode):
    block = SplineCoupling(torch.tensor([True, False, False]), 2, channel_mode=mode).double()
    seen = []
    block.net.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    y = torch.rand(200_000, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    block(y, torch.randint(0, 2, (200_000,), generator=torch.Generator().manual_seed(7)))
    assert torch.allclose(seen[0], INPUT_SCALE * (y[:, 1:] - 0.5), rtol=0, atol=1e-15)
    # Uniform coordinates become mean 0 and variance 1 (to 3 sigma of 200k points).
    assert seen[0].mean(dim=0).abs().max() < 3 / math.sqrt(200_000)
    assert (seen[0].var(dim=0) - 1).abs().max() < 3 * math.sqrt(0.8 / 200_000)
