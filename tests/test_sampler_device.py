"""The neural sampler on a CUDA device, against the same sampler on the CPU.

Skipped where torch sees no GPU (CI); run on a GPU machine with
``pytest tests/test_sampler_device.py``. The networks are initialised on the
CPU from the sampler's seed and then moved, and latent points are drawn on
the CPU, so a CUDA sampler and a CPU sampler with the same seed start from the
same parameters and the same points.
"""

import numpy as np
import pytest
import torch

from madnis_plugin.sampler import MadnisConfig, MadnisSampler
from madnis_plugin.toys import BreitWignerPeaks

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")

SMALL = MadnisConfig(vegas_iterations=4, vegas_points=4000, train_batches=40, batch_size=256,
                     drop_interval=20)


def pretrained(device: str, dtype: str = "float32", seed: int = 3, **changes) -> MadnisSampler:
    sampler = MadnisSampler(BreitWignerPeaks(), SMALL.replace(device=device, dtype=dtype, **changes), seed=seed)
    sampler.train(batches=0)   # VEGAS pretraining only
    return sampler


def test_auto_selects_cuda_and_the_networks_live_there():
    sampler = MadnisSampler(BreitWignerPeaks(), SMALL, seed=1)
    assert sampler.device.type == "cuda"
    assert all(p.device.type == "cuda" for p in sampler.flow.parameters())
    assert all(p.device.type == "cuda" for p in sampler.channel_weights.parameters())


def test_untrained_cuda_sampler_density_equals_the_vegas_density_in_float64():
    sampler = pretrained("cuda", "float64", vegas_layer="exact")
    r = np.random.default_rng(0).random((2000, sampler.integrand.dim))
    for c in range(sampler.integrand.n_channels):
        ratio = sampler.density(c, r) / sampler.vegas.density(c, r)
        assert np.max(np.abs(ratio - 1)) < 1e-6


def test_cuda_and_cpu_samplers_with_one_seed_draw_the_same_points():
    cpu, cuda = pretrained("cpu", "float64"), pretrained("cuda", "float64")
    a, b = cpu.draw_channel(0, 3000), cuda.draw_channel(0, 3000)
    np.testing.assert_allclose(b.r, a.r, rtol=0, atol=1e-12)
    np.testing.assert_allclose(cuda.weights(b), cpu.weights(a), rtol=1e-10)


def test_trained_cuda_estimate_is_within_five_errors_of_the_exact_integral():
    sampler = MadnisSampler(BreitWignerPeaks(), SMALL.replace(device="cuda"), seed=7)
    sampler.train()
    res = sampler.integrate(points=30_000)
    assert sampler.history["n_nonfinite"] == 0 and np.all(np.isfinite(sampler.history["loss"]))
    assert abs(res.cross_section - sampler.integrand.exact_integral) < 5 * res.error


def test_sampler_trained_on_cuda_loads_on_the_cpu_with_the_same_density(tmp_path):
    trained = MadnisSampler(BreitWignerPeaks(), SMALL.replace(device="cuda", dtype="float64"), seed=5)
    trained.train(batches=20)
    trained.save(tmp_path / "s.pt")
    loaded = MadnisSampler.load(tmp_path / "s.pt", BreitWignerPeaks(), device="cpu")
    assert loaded.device.type == "cpu"
    r = np.random.default_rng(2).random((2000, trained.integrand.dim))
    for c in range(trained.integrand.n_channels):
        np.testing.assert_allclose(loaded.density(c, r), trained.density(c, r), rtol=1e-10)


def test_trainable_layer_trains_on_cuda_with_the_grid_on_the_cpu():
    sampler = MadnisSampler(BreitWignerPeaks(), SMALL.replace(device="cuda", vegas_layer="trainable"), seed=2)
    sampler.train()
    res = sampler.integrate(points=20_000)
    assert np.all(np.isfinite(sampler.history["loss"]))
    assert abs(res.cross_section - sampler.integrand.exact_integral) < 5 * res.error


def test_same_seed_gives_the_same_result_on_cuda():
    def run(seed):
        sampler = MadnisSampler(BreitWignerPeaks(), SMALL.replace(device="cuda"), seed=seed)
        sampler.train()
        return sampler.integrate(points=5000)

    a, b = run(5), run(5)
    assert a.cross_section == b.cross_section and a.error == b.error


def test_a_saved_auto_sampler_loads_back_on_cuda_with_the_same_float32_bits(tmp_path):
    # What keeps a resumed event generation byte-identical on a GPU machine.
    trained = MadnisSampler(BreitWignerPeaks(), SMALL, seed=4)   # device auto, float32
    trained.train(batches=20)
    trained.save(tmp_path / "s.pt")
    loaded = MadnisSampler.load(tmp_path / "s.pt", BreitWignerPeaks())
    assert loaded.device.type == "cuda"
    r = np.random.default_rng(3).random((2000, trained.integrand.dim))
    for c in range(trained.integrand.n_channels):
        np.testing.assert_array_equal(loaded.density(c, r), trained.density(c, r))
