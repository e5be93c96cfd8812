"""The DESIGN.md metrics: relative std, unweighting efficiency with 0.1% overweights, channel combination."""

import numpy as np
import pytest

from madnis_plugin import metrics


def test_relative_std_of_two_point_sample_is_analytic():
    # weights {1, 3}: mean 2, population std 1.
    assert metrics.relative_std(np.array([1.0, 3.0])) == pytest.approx(0.5, rel=1e-15)


def test_constant_weights_unweight_with_efficiency_one():
    result = metrics.unweighting_efficiency(np.full(1000, 2.5))
    assert result.efficiency == pytest.approx(1.0, rel=1e-12)
    assert result.overweight_fraction <= metrics.DEFAULT_MAX_OVERWEIGHT + 1e-15


@pytest.mark.parametrize("max_overweight", [1e-3, 1e-2])
def test_threshold_puts_exactly_the_allowed_share_above_w_max(max_overweight):
    w = np.random.default_rng(7).lognormal(sigma=2.0, size=20_000)
    w_max = metrics.overweight_threshold(w, max_overweight)
    share = np.clip(w - w_max, 0, None).sum() / w.sum()
    # The threshold solves a piecewise-linear equation exactly: only rounding remains.
    assert share == pytest.approx(max_overweight, rel=1e-9)
    # ...and it is the smallest such threshold: 0.1% lower already overshoots.
    lower = w_max * (1 - 1e-3)
    assert np.clip(w - lower, 0, None).sum() / w.sum() > max_overweight


def test_efficiency_is_mean_over_w_max():
    w = np.random.default_rng(8).exponential(size=10_000)
    result = metrics.unweighting_efficiency(w)
    assert result.efficiency == pytest.approx(w.mean() / result.w_max, rel=1e-12)


def test_all_zero_weights_have_zero_efficiency():
    assert metrics.unweighting_efficiency(np.zeros(10)).efficiency == 0.0


def test_channels_combine_as_sigma_over_sum_of_sigma_over_eps():
    # Channel 0: sigma 3, eps 0.5 -> 6 weighted events per unweighted; channel 1: 1/0.25 = 4.
    assert metrics.combined_unweighting_efficiency([3.0, 1.0], [0.5, 0.25]) == pytest.approx(4.0 / 10.0)


def test_channel_without_cross_section_does_not_count():
    assert metrics.combined_unweighting_efficiency([2.0, 0.0], [0.5, 0.0]) == pytest.approx(0.5)


def test_combined_relative_std_matches_single_channel_relative_std():
    w = np.random.default_rng(9).exponential(size=5000)
    error = w.std(ddof=1) / np.sqrt(w.size)
    # The sample std with ddof=1 differs from the population one by sqrt(n/(n-1)).
    expected = metrics.relative_std(w) * np.sqrt(w.size / (w.size - 1))
    assert metrics.combined_relative_std(w.mean(), error, w.size) == pytest.approx(expected, rel=1e-12)
