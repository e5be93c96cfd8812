"""Samplers of multi-channel integrands: the VEGAS baseline and the neural sampler.

The sampler sees only :class:`madnis_plugin.interface.MultiChannelIntegrand`.
Every sampler offers ``train``, ``integrate`` (an :class:`IntegrationResult`
from fresh points), ``sample`` (a :class:`SampleBatch`), ``save`` and ``load``.

Example:
    >>> from madnis_plugin.toys import ThinRing
    >>> from madnis_plugin.sampler import VegasSampler
    >>> s = VegasSampler(ThinRing(), bins=32, seed=3)
    >>> s.train(iterations=2, points_per_iteration=5000)
    >>> s.integrate(points=20000).n_calls
    20000
"""

from madnis_plugin.sampler.results import ChannelResult, IntegrationResult, PhaseCost, SampleBatch
from madnis_plugin.sampler.vegas_sampler import VegasSampler
from madnis_plugin.sampler.config import MadnisConfig, UnknownCardKeys, read_madnis_card
from madnis_plugin.sampler.madnis_sampler import MadnisSampler

__all__ = ["VegasSampler", "MadnisSampler", "MadnisConfig", "UnknownCardKeys", "read_madnis_card",
           "IntegrationResult", "ChannelResult", "SampleBatch", "PhaseCost"]
