"""Unweighting with bounded overweights keeps the sample unbiased."""

from __future__ import annotations

import numpy as np
import pytest

from madnis_plugin.events.unweighting import generation_allocation, unweight


def test_unweighted_sum_estimates_the_weighted_sum():
    # Exponential weights with a threshold below the tail: many overweights.
    rng = np.random.default_rng(5)
    weights = rng.exponential(1.0, 400_000)
    w_max = 2.0
    res = unweight(weights, w_max, rng)
    # The kept events, each counted with its factor, times w_max estimate sum(w).
    estimate = w_max * res.factor[res.accepted].sum()
    # Binomial accept/reject noise: std of the estimate is below w_max * sqrt(n_accepted).
    tolerance = 5 * w_max * np.sqrt(res.accepted.sum())
    assert abs(estimate - weights.sum()) < tolerance


def test_accepted_overweights_carry_their_excess():
    rng = np.random.default_rng(1)
    res = unweight(np.array([0.5, 3.0, 10.0]), 2.0, rng)
    assert res.accepted[1] and res.accepted[2]
    np.testing.assert_allclose(res.factor, [1.0, 1.5, 5.0])
    assert res.overweight_sum == pytest.approx(0.5 + 4.0 + (0.0 if not res.accepted[0] else 0.0))


def test_acceptance_probability_is_w_over_w_max():
    rng = np.random.default_rng(2)
    n = 200_000
    res = unweight(np.full(n, 0.3), 1.0, rng)
    # Binomial(n, 0.3): 5 standard deviations.
    assert abs(res.accepted.mean() - 0.3) < 5 * np.sqrt(0.3 * 0.7 / n)


def test_non_positive_threshold_is_refused():
    with pytest.raises(ValueError):
        unweight(np.ones(3), 0.0, np.random.default_rng(0))


def test_channel_probabilities_follow_the_thresholds():
    np.testing.assert_allclose(generation_allocation(np.array([1.0, 3.0, 0.0])), [0.25, 0.75, 0.0])
    with pytest.raises(ValueError):
        generation_allocation(np.zeros(2))
