"""Small pull studies: estimates scatter around the exact integral as their errors say.

Over 20 seeds the pulls ``(estimate - exact) / error`` must look like a unit
Gaussian by the issue's criterion: ``|mean| < 3 / sqrt(20)`` and a standard
deviation in [0.6, 1.5].  The full study is ``benchmarks/bench_unbiased.py``.
"""

import math

import numpy as np
import pytest

from madnis_plugin.sampler import MadnisConfig, MadnisSampler, VegasSampler
from madnis_plugin.toys import BreitWignerPeaks, ThinRing

N_SEEDS = 20


def assert_unit_gaussian(pulls):
    pulls = np.asarray(pulls)
    assert abs(pulls.mean()) < 3 / math.sqrt(pulls.size), pulls
    assert 0.6 <= pulls.std(ddof=1) <= 1.5, pulls


@pytest.mark.parametrize("toy", [BreitWignerPeaks(), ThinRing()], ids=["breit_wigner", "ring"])
def test_vegas_pulls_are_unit_gaussian(toy):
    pulls = []
    for seed in range(N_SEEDS):
        sampler = VegasSampler(toy, bins=32, seed=100 + seed)
        sampler.train(iterations=5, points_per_iteration=5000)
        res = sampler.integrate(points=20_000)
        pulls.append((res.cross_section - toy.exact_integral) / res.error)
    assert_unit_gaussian(pulls)


@pytest.mark.slow
@pytest.mark.parametrize("toy", [BreitWignerPeaks(), ThinRing()], ids=["breit_wigner", "ring"])
def test_madnis_pulls_are_unit_gaussian(toy):
    cfg = MadnisConfig(vegas_iterations=4, vegas_points=4000, train_batches=60, batch_size=256,
                       drop_interval=20)
    pulls = []
    for seed in range(N_SEEDS):
        sampler = MadnisSampler(toy, cfg, seed=100 + seed)
        sampler.train()
        res = sampler.integrate(points=20_000)
        pulls.append((res.cross_section - toy.exact_integral) / res.error)
    assert_unit_gaussian(pulls)
