"""Training losses of the multi-channel flow, estimated from weighted samples.

Samples of channel ``c`` were drawn from a density ``g_c`` (the flow at the
time they were drawn, for buffered samples an older one); the current flow
has density ``q_c`` and the channel's integrand is ``F_c = alpha_c f``.  With
``a = F^2 / (q g)`` and ``b = F / g`` averaged over channel ``c``'s samples:

* stratified variance (default): ``sum_c sigma_c`` with
  ``sigma_c^2 = <(q / g) (F / q - <b>)^2>``, the variance of the channel's weights under
  ``q_c``.  With points allocated in proportion to ``sigma_c`` the variance of
  the total is ``(sum_c sigma_c)^2 / N``, so this is the quantity to minimise;
  its gradient trains the flows and the channel weights together (MadNIS,
  arXiv:2212.06172, sec. 3).
* KL divergence: ``sum_c <(F / g) (log F - log q)>``, which is
  ``sum_c I_c KL(p_c || q_c)`` up to terms free of the flow, with
  ``p_c = F_c / I_c``.

Integrand values enter divided by ``scale`` (a running estimate of the total
integral), so losses are of order one whatever the units.

Example:
    >>> import torch
    >>> from madnis_plugin.sampler.losses import stratified_variance_loss
    >>> ch = torch.tensor([0, 0, 1, 1]); f = torch.tensor([1.0, 1.0, 2.0, 2.0])
    >>> logq = torch.zeros(4)   # weights constant per channel: zero variance
    >>> round(float(stratified_variance_loss(ch, f, logq, logq, n_channels=2)), 6)
    0.0
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["stratified_variance_loss", "kl_loss", "channel_means"]


def channel_means(channel: torch.Tensor, values: torch.Tensor, n_channels: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean of ``values`` ``(n,)`` and the per-channel counts, both ``(C,)``."""
    return _channel_means(_one_hot(channel, n_channels, values.dtype), values)


def _channel_means(one_hot: torch.Tensor, values: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    counts = one_hot.sum(dim=0)
    return (values @ one_hot) / counts.clamp_min(1.0), counts


def _one_hot(channel: torch.Tensor, n_channels: int, dtype: torch.dtype) -> torch.Tensor:
    # Sums per channel as matrix products rather than index_add / indexing: on
    # CUDA those accumulate with atomics in no fixed order (forward and
    # backward), so a seed would not fix the training to the last bit.
    return F.one_hot(channel, n_channels).to(dtype)


def stratified_variance_loss(channel: torch.Tensor, integrand: torch.Tensor, log_q: torch.Tensor,
                             log_g: torch.Tensor, n_channels: int, scale: float = 1.0) -> torch.Tensor:
    """``sum_c sigma_c`` (see the module docstring).

    Args:
        channel: ``(n,)`` channel of each sample.
        integrand: ``(n,)`` ``F = alpha_c f`` (differentiable in ``alpha``).
        log_q: ``(n,)`` log-density under the current flow (differentiable).
        log_g: ``(n,)`` log-density the samples were drawn from (no gradient).
        n_channels: ``C``.
        scale: divides ``integrand``.
    """
    f = integrand / scale
    log_g = log_g.detach()
    one_hot = _one_hot(channel, n_channels, f.dtype)
    integral, counts = _channel_means(one_hot, f * torch.exp(-log_g))
    # (q/g)(F/q - I)^2 >= 0 term by term: unlike <a> - <b>^2 it cannot turn
    # negative on a small or reweighted batch, and has the same expected gradient.
    ratio = torch.exp(log_q - log_g)
    deviation = f * torch.exp(-log_q) - one_hot @ integral
    variance, _ = _channel_means(one_hot, ratio * deviation * deviation)
    # sqrt has an infinite slope at 0; a tiny offset keeps empty or exact channels finite.
    sigma = torch.sqrt(variance + 1e-20)
    return torch.where(counts > 1, sigma, torch.zeros_like(sigma)).sum()


def kl_loss(channel: torch.Tensor, integrand: torch.Tensor, log_q: torch.Tensor,
            log_g: torch.Tensor, n_channels: int, scale: float = 1.0) -> torch.Tensor:
    """``sum_c <(F / g)(log F - log q)>_c`` over samples with ``F > 0`` (arguments as the variance loss)."""
    f = integrand / scale
    positive = f > 0
    log_f = torch.log(torch.where(positive, f, torch.ones_like(f)))
    terms = torch.where(positive, f * torch.exp(-log_g.detach()) * (log_f - log_q), torch.zeros_like(f))
    means, _ = channel_means(channel, terms, n_channels)
    return means.sum()
