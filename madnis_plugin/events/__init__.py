"""Events: unweighting weighted samples and writing Les Houches event files.

:mod:`~madnis_plugin.events.unweighting` turns weighted points into unweighted
events with bounded overweights, :mod:`~madnis_plugin.events.lhe` writes them
as MadGraph writes LHE 3.0, and :mod:`~madnis_plugin.events.generation` drives
both from a trained sampler.
"""

from .lhe import LHEEventBuilder, LHEWriter, read_lhe_events
from .unweighting import UnweightingResult, unweight

__all__ = ["LHEEventBuilder", "LHEWriter", "read_lhe_events", "UnweightingResult", "unweight"]
