"""Independent |M|^2 from the `ufoamp` package with the `ufo-sm` Standard Model UFO.

The test suite's numerical cross-check of the built-in matrix elements: ufoamp
evaluates tree-level helicity amplitudes straight from the UFO model by
Berends-Giele recursion (pure numpy, no generated code), here in unitary gauge
with fixed widths in every massive propagator, t-channel included, and the
model's default restriction (diagonal CKM, massless u d s c e mu), as
MadGraph5_aMC@NLO standalone output computes them.

Convention difference handled here: ufoamp sums over final-state and averages
over initial-state helicities and colours but does NOT divide by the
identical-final-state-particle factor; :func:`ufoamp_me2` divides by
``prod_k n_k!`` so that its result is MadGraph's SMATRIX.

Coupling orders as MadGraph chooses them by default: of all diagrams, only
those of the lowest QED order that gives a non-zero amplitude (``p p > t t~``
is pure QCD, ``e+ e- > j j j`` is QED=2 QCD=1).

Example:
    >>> import numpy as np
    >>> p = np.array([[[500, 0, 0, 500], [500, 0, 0, -500],
    ...                [500, 300, 0, 400], [500, -300, 0, -400]]], dtype=float)
    >>> ufoamp_me2((-11, 11, -13, 13), p, MADGRAPH_SM_DEFAULTS).shape
    (1,)
"""

from __future__ import annotations

import os
from collections import Counter
from math import factorial
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

__all__ = ["MADGRAPH_SM_DEFAULTS", "ufoamp_me2", "ufoamp_matrix_element", "identical_particle_factor",
           "reference_params_to_ufo", "ufo_sm_path", "lowest_qed_order"]

#: The default `sm` param card of MadGraph5_aMC@NLO as UFO external parameters.
MADGRAPH_SM_DEFAULTS: dict[str, float] = {
    "aEWM1": 132.507, "Gf": 1.16639e-5, "aS": 0.118,
    "MZ": 91.188, "MT": 173.0, "MB": 4.7, "MH": 125.0, "MTA": 1.777,
    "WZ": 2.441404, "WW": 2.0476, "WT": 1.4915, "WH": 6.382339e-3,
    "ymb": 4.7, "ymt": 173.0, "ymtau": 1.777,
}

# Names in the reference files' "params" (shared/reference/me) -> UFO names.
_REFERENCE_NAMES = {
    "MZ": "MZ", "MT": "MT", "MB": "MB", "MH": "MH", "MTA": "MTA", "WZ": "WZ", "WW": "WW",
    "WT": "WT", "WH": "WH", "ymt": "ymt", "ymb": "ymb", "aEWM1": "aEWM1", "Gf": "Gf", "alpha_s": "aS",
}


def ufo_sm_path() -> str:
    """Folder of the `ufo-sm` UFO model (the installed ``ufo_sm`` package)."""
    import ufo_sm

    return os.path.dirname(ufo_sm.__file__)


def reference_params_to_ufo(params: Mapping[str, object]) -> dict[str, float]:
    """The numeric ``params`` of a reference file as UFO external parameters."""
    return {ufo: float(params[name]) for name, ufo in _REFERENCE_NAMES.items() if name in params}


def identical_particle_factor(pdgs: Sequence[int], n_incoming: int = 2) -> int:
    """``prod_k n_k!`` over the final-state particle species."""
    result = 1
    for count in Counter(int(p) for p in pdgs[n_incoming:]).values():
        result *= factorial(count)
    return result


_CACHE: dict[tuple, object] = {}


def ufoamp_matrix_element(pdgs: Sequence[int], params: Mapping[str, float] | str | os.PathLike,
                          n_incoming: int = 2, max_qed: int | None = None):
    """A cached ``ufoamp.analysis.MatrixElement`` for one PDG tuple.

    Args:
        pdgs: incoming then outgoing PDG ids.
        params: UFO external parameters (e.g. :data:`MADGRAPH_SM_DEFAULTS`), or
            the path of an SLHA param card.
        max_qed: keep only diagrams up to this QED order (None: all).
    """
    from ufoamp.analysis import MatrixElement

    pdgs = tuple(int(p) for p in pdgs)
    if isinstance(params, (str, os.PathLike)):
        key_params: tuple = ("card", str(Path(params).resolve()))
        kwargs: dict = {"param_card": str(params)}
    else:
        key_params = tuple(sorted((k, float(v)) for k, v in params.items()))
        kwargs = {"couplings": dict(params)}
    key = (pdgs, n_incoming, key_params, max_qed)
    if key not in _CACHE:
        orders = None if max_qed is None else {"QED": max_qed}
        _CACHE[key] = MatrixElement(ufo_sm_path(), (list(pdgs[:n_incoming]), list(pdgs[n_incoming:])),
                                    gauge="unitary", zerowidth_tchannel=False, max_orders=orders, **kwargs)
    return _CACHE[key]


def lowest_qed_order(pdgs: Sequence[int], momenta: np.ndarray,
                     params: Mapping[str, float] | str | os.PathLike, n_incoming: int = 2) -> int:
    """The lowest QED order with a non-zero |M|^2 at ``momenta[0]`` (MadGraph's default choice)."""
    return _lowest_order_values(pdgs, np.asarray(momenta[:1], dtype=np.float64), params, n_incoming)[0]


def _lowest_order_values(pdgs: Sequence[int], momenta: np.ndarray,
                         params: Mapping[str, float] | str | os.PathLike, n_incoming: int):
    """(QED order, raw ufoamp |M|^2 at ``momenta``) at the lowest order non-zero at ``momenta[0]``.

    The probe of each order is the first point itself (``m2``, which copes
    with an order that has no diagrams), so only the rest is evaluated again.
    """
    first = list(momenta[0])
    for order in range(len(pdgs) - 1):
        me = ufoamp_matrix_element(pdgs, params, n_incoming, max_qed=order)
        value = me.m2(first)
        if value != 0.0:
            rest = me.m2_events(momenta[1:]) if len(momenta) > 1 else []
            return order, np.concatenate([[value], np.asarray(rest, dtype=np.float64)])
    raise ValueError(f"no tree-level amplitude for {tuple(pdgs)}")


def ufoamp_me2(pdgs: Sequence[int], momenta: np.ndarray,
               params: Mapping[str, float] | str | os.PathLike = MADGRAPH_SM_DEFAULTS,
               n_incoming: int = 2) -> np.ndarray:
    """MadGraph-convention |M|^2 from ufoamp.

    Args:
        pdgs: incoming then outgoing PDG ids, in the order of ``momenta``.
        momenta: ``(n, len(pdgs), 4)`` float64, (E, px, py, pz) in GeV.
        params: UFO external parameters or an SLHA param card path.
        n_incoming: number of incoming particles.

    Returns:
        ``(n,)`` |M|^2 summed over final and averaged over initial helicities
        and colours, divided by the identical-particle factor.
    """
    _, values = _lowest_order_values(pdgs, np.asarray(momenta, dtype=np.float64), params, n_incoming)
    return values / identical_particle_factor(pdgs, n_incoming)
