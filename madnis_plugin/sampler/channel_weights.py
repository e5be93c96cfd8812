"""Learned multi-channel weights ``alpha_c(x) = prior_c(x) exp(NN_c(x)) / sum_d prior_d(x) exp(NN_d(x))``.

The network sees the integrand's features (standardised with a fixed mean and
scale taken from the first training batch); its last layer starts at zero,
so the untrained weights equal the prior.  Dropped channels get weight 0 and
the others are renormalised, so the weights of the active channels always sum
to the prior's row sum (1, or for folded channels a function integrating like
1; see :mod:`madnis_plugin.interface`) and the multi-channel sum stays unbiased.  Where every active channel's
prior is 0 but the integrand is not, the weight is shared evenly among active
channels (still unbiased: every channel's sampler covers the hypercube).

Example:
    >>> import torch
    >>> from madnis_plugin.sampler.channel_weights import ChannelWeightNet
    >>> net = ChannelWeightNet(n_features=2, n_channels=3)
    >>> prior = torch.tensor([[0.2, 0.3, 0.5]])
    >>> [round(a, 6) for a in net(prior, torch.zeros(1, 2))[0].tolist()]   # the prior at initialisation
    [0.2, 0.3, 0.5]
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ChannelWeightNet"]


class ChannelWeightNet(nn.Module):
    """Channel weights from prior and features, trainable, the prior at initialisation.

    Args:
        n_features: width of the features.
        n_channels: number of channels.
        hidden: hidden width.
        layers: hidden layers.
        learn: False makes the net return the (active-renormalised) prior.

    ``forward(prior (n, C), features (n, F)) -> alpha (n, C)``.
    """

    def __init__(self, n_features: int, n_channels: int, hidden: int = 32, layers: int = 2,
                 learn: bool = True):
        super().__init__()
        self.learn = learn and n_channels > 1
        widths = [n_features] + [hidden] * layers + [n_channels]
        modules: list[nn.Module] = []
        for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
            modules.append(nn.Linear(a, b))
            if i < len(widths) - 2:
                modules.append(nn.LeakyReLU())
        self.net = nn.Sequential(*modules)
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.register_buffer("active", torch.ones(n_channels, dtype=torch.bool))
        self.register_buffer("feature_mean", torch.zeros(n_features))
        self.register_buffer("feature_scale", torch.ones(n_features))

    def fit_standardisation(self, features: torch.Tensor) -> None:
        """Fix the feature mean and scale from ``features`` ``(n, F)`` (finite rows only)."""
        finite = torch.isfinite(features).all(dim=1)
        if finite.sum() > 1:
            sample = features[finite]
            self.feature_mean.copy_(sample.mean(dim=0))
            self.feature_scale.copy_(sample.std(dim=0).clamp_min(1e-12))

    def forward(self, prior: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        allowed = (prior > 0) & self.active
        log_prior = torch.where(allowed, torch.log(prior.clamp_min(1e-300)), torch.full_like(prior, -torch.inf))
        if self.learn:
            scaled = torch.nan_to_num((features - self.feature_mean) / self.feature_scale)
            log_prior = log_prior + self.net(scaled)
        none_allowed = ~allowed.any(dim=1, keepdim=True)
        even = torch.where(self.active, 0.0, -torch.inf).to(prior.dtype).expand_as(prior)
        logits = torch.where(none_allowed, even, log_prior)
        # Keep each row's sum: it is 1, except for folded channels (identical
        # particles), whose prior rows sum to a function integrating like 1.
        row_sum = prior.sum(dim=1, keepdim=True)
        return torch.softmax(logits, dim=1) * torch.where(row_sum > 0, row_sum, torch.ones_like(row_sum))
