"""Vectorised relativistic kinematics on float64 arrays.

Four-vectors are arrays whose last axis is ``(E, px, py, pz)`` in GeV, metric
``(+, -, -, -)``; every function broadcasts over the leading (batch) axes.

Example:
    >>> import numpy as np
    >>> from madnis_plugin.phasespace.kinematics import two_body_momentum, boost_from_rest
    >>> float(two_body_momentum(np.array(10.0), 0.0, 0.0))
    5.0
    >>> parent = np.array([5.0, 0.0, 0.0, 3.0])            # mass 4, moving along +z
    >>> boost_from_rest(np.array([4.0, 0.0, 0.0, 0.0]), parent)
    array([5., 0., 0., 3.])
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "kallen",
    "two_body_momentum",
    "minkowski_square",
    "invariant_mass",
    "boost_from_rest",
    "boost_to_rest",
    "boost_along_z",
    "rotate_from_z",
    "rotate_to_z",
    "momentum_from_angles",
    "angles_of",
    "one_minus_cos",
    "dot_on_shell",
]


def kallen(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Källén function ``lambda(a, b, c) = a^2 + b^2 + c^2 - 2ab - 2ac - 2bc``.

    Written as ``(a - b - c)^2 - 4bc``, which loses less precision when ``b`` and
    ``c`` are small next to ``a``.
    """
    return (a - b - c) ** 2 - 4.0 * b * c


def two_body_momentum(mass: np.ndarray, m1: np.ndarray, m2: np.ndarray) -> np.ndarray:
    """Momentum ``|p|`` of either daughter in the rest frame of a decay ``mass -> m1 m2``.

    Returns NaN where the decay is closed (``mass < m1 + m2``) or ``mass <= 0``;
    callers mask those points.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = (mass - m1 - m2) * (mass + m1 + m2) * (mass - m1 + m2) * (mass + m1 - m2)
        return np.sqrt(lam) / (2.0 * mass)


def minkowski_square(p: np.ndarray) -> np.ndarray:
    """``p^2 = E^2 - |p|^2`` over the last axis."""
    return p[..., 0] ** 2 - p[..., 1] ** 2 - p[..., 2] ** 2 - p[..., 3] ** 2


def invariant_mass(p: np.ndarray) -> np.ndarray:
    """``sqrt(max(p^2, 0))``: the mass of a (possibly summed) time-like momentum."""
    return np.sqrt(np.maximum(minkowski_square(p), 0.0))


def boost_from_rest(p: np.ndarray, frame: np.ndarray, frame_mass: np.ndarray | None = None) -> np.ndarray:
    """Boost ``p``, given in the rest frame of ``frame``, to the frame where ``frame`` is given.

    A pure boost (no rotation). ``frame_mass`` may be passed when it is known more
    precisely than ``sqrt(frame^2)``.

    Args:
        p: ``(..., 4)`` momentum in the rest frame of ``frame``.
        frame: ``(..., 4)`` the momentum of that frame.
        frame_mass: ``(...)`` its mass, or None to compute it.
    """
    mass = invariant_mass(frame) if frame_mass is None else frame_mass
    e, fx, fy, fz = frame[..., 0], frame[..., 1], frame[..., 2], frame[..., 3]
    px, py, pz = p[..., 1], p[..., 2], p[..., 3]
    with np.errstate(invalid="ignore", divide="ignore"):
        p_dot = fx * px + fy * py + fz * pz
        factor = (p_dot / (e + mass) + p[..., 0]) / mass
        energy = (e * p[..., 0] + p_dot) / mass
        return np.stack([energy, px + factor * fx, py + factor * fy, pz + factor * fz], axis=-1)


def boost_to_rest(p: np.ndarray, frame: np.ndarray, frame_mass: np.ndarray | None = None) -> np.ndarray:
    """Boost ``p`` into the rest frame of ``frame`` (inverse of :func:`boost_from_rest`)."""
    reversed_frame = np.concatenate([frame[..., :1], -frame[..., 1:]], axis=-1)
    return boost_from_rest(p, reversed_frame, frame_mass)


def boost_along_z(p: np.ndarray, rapidity: np.ndarray) -> np.ndarray:
    """Boost ``p`` along +z by ``rapidity`` (shape of the batch axes of ``p`` without the last).

    Args:
        p: ``(n, m, 4)`` or ``(n, 4)`` momenta.
        rapidity: ``(n,)``.
    """
    y = rapidity.reshape(rapidity.shape + (1,) * (p.ndim - 1 - rapidity.ndim))
    ch, sh = np.cosh(y), np.sinh(y)
    out = p.copy()
    out[..., 0] = ch * p[..., 0] + sh * p[..., 3]
    out[..., 3] = sh * p[..., 0] + ch * p[..., 3]
    return out


def _axis_angles(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """cos/sin of the polar and azimuthal angles of ``axis`` (``(..., 3)``, any length)."""
    rho = np.hypot(axis[..., 0], axis[..., 1])
    norm = np.hypot(rho, axis[..., 2])
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_t = np.where(norm > 0, axis[..., 2] / norm, 1.0)
        sin_t = np.where(norm > 0, rho / norm, 0.0)
        cos_p = np.where(rho > 0, axis[..., 0] / rho, 1.0)
        sin_p = np.where(rho > 0, axis[..., 1] / rho, 0.0)
    return cos_t, sin_t, cos_p, sin_p


def rotate_from_z(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Rotate 3-vectors ``v`` (``(..., 3)``) by ``R_z(phi) R_y(theta)``, the angles of ``axis``.

    The rotation takes +z onto the direction of ``axis``; :func:`rotate_to_z` undoes it.
    """
    cos_t, sin_t, cos_p, sin_p = _axis_angles(axis)
    x = v[..., 0] * cos_t + v[..., 2] * sin_t
    z = -v[..., 0] * sin_t + v[..., 2] * cos_t
    y = v[..., 1]
    return np.stack([x * cos_p - y * sin_p, x * sin_p + y * cos_p, z], axis=-1)


def rotate_to_z(v: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rotate_from_z`: the rotation taking ``axis`` onto +z."""
    cos_t, sin_t, cos_p, sin_p = _axis_angles(axis)
    x = v[..., 0] * cos_p + v[..., 1] * sin_p
    y = -v[..., 0] * sin_p + v[..., 1] * cos_p
    z = v[..., 2]
    return np.stack([x * cos_t - z * sin_t, y, x * sin_t + z * cos_t], axis=-1)


def momentum_from_angles(
    energy: np.ndarray, p_abs: np.ndarray, cos_theta: np.ndarray, phi: np.ndarray, sin_theta: np.ndarray | None = None
) -> np.ndarray:
    """The four-vector ``(E, |p| sin(theta) cos(phi), |p| sin(theta) sin(phi), |p| cos(theta))``.

    ``sin_theta`` may be passed when it is known more precisely than ``sqrt(1 - cos^2)``.
    """
    if sin_theta is None:
        sin_theta = np.sqrt(np.clip(1.0 - cos_theta**2, 0.0, None))
    return np.stack(
        [energy, p_abs * sin_theta * np.cos(phi), p_abs * sin_theta * np.sin(phi), p_abs * cos_theta], axis=-1
    )


def one_minus_cos(p: np.ndarray) -> np.ndarray:
    """``1 - cos(theta)`` of the 3-momentum of ``p`` (``(..., 4)``), without cancellation near 0."""
    p_abs = np.sqrt(p[..., 1] ** 2 + p[..., 2] ** 2 + p[..., 3] ** 2)
    rho2 = p[..., 1] ** 2 + p[..., 2] ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        forward = rho2 / (p_abs * (p_abs + p[..., 3]))
        backward = 1.0 - p[..., 3] / p_abs
    return np.where(p_abs > 0, np.where(p[..., 3] >= 0, forward, backward), 0.0)


def dot_on_shell(p: np.ndarray, q: np.ndarray, m_p: float, m_q: float) -> np.ndarray:
    """``p.q`` of two on-shell momenta of masses ``m_p``, ``m_q``, without cancellation.

    Writes ``p.q = (E_p E_q - |p||q|) + (|p||q| - p.q)``, both terms non-negative and
    each computed from a product form, so nearly collinear pairs keep their
    relative precision (``2 p.q`` is then the pair's invariant mass squared
    minus the masses squared).
    """
    ep, eq = p[..., 0], q[..., 0]
    pa = np.sqrt(p[..., 1] ** 2 + p[..., 2] ** 2 + p[..., 3] ** 2)
    qa = np.sqrt(q[..., 1] ** 2 + q[..., 2] ** 2 + q[..., 3] ** 2)
    dot3 = p[..., 1] * q[..., 1] + p[..., 2] * q[..., 2] + p[..., 3] * q[..., 3]
    cross2 = (
        (p[..., 2] * q[..., 3] - p[..., 3] * q[..., 2]) ** 2
        + (p[..., 3] * q[..., 1] - p[..., 1] * q[..., 3]) ** 2
        + (p[..., 1] * q[..., 2] - p[..., 2] * q[..., 1]) ** 2
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        energy_term = (m_p**2 * eq**2 + m_q**2 * ep**2 - m_p**2 * m_q**2) / (ep * eq + pa * qa)
        angle_term = np.where(dot3 > 0, cross2 / (pa * qa + dot3), pa * qa - dot3)
    return np.where(ep * eq > 0, energy_term, 0.0) + np.where(np.isfinite(angle_term), angle_term, 0.0)


def angles_of(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(cos(theta), phi)`` of the 3-momentum of ``p`` (``(..., 4)``), ``phi`` in ``[0, 2 pi)``."""
    p_abs = np.sqrt(p[..., 1] ** 2 + p[..., 2] ** 2 + p[..., 3] ** 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        cos_theta = np.where(p_abs > 0, p[..., 3] / p_abs, 1.0)
    phi = np.mod(np.arctan2(p[..., 2], p[..., 1]), 2.0 * np.pi)
    return np.clip(cos_theta, -1.0, 1.0), phi
