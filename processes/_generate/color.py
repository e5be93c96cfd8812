"""Colour algebra of tree diagrams, done numerically with explicit SU(3) tensors.

Each diagram piece's colour factor is contracted from generators
``T^a = lambda^a / 2`` and structure constants ``f^{abc}`` into a tensor over
the coloured external legs (all legs incoming: an incoming quark carries a
column index, an incoming antiquark a row index). The colour-flow basis is
MadGraph's: products of generator chains ``(T^{a1} ... T^{ak})_{i j}`` over the
quark lines, or single traces ``Tr(T^{a1} ... T^{an})`` for gluons only. Every
piece is decomposed on that basis (exact small rationals, checked), and the
colour matrix is ``CF_kl = sum conj(B_k) B_l``.

Example:
    >>> import numpy as np
    >>> from color import T, F
    >>> float(np.einsum("aij,bji->", T, T).real)   # Tr(T^a T^a) = 4
    4.0
"""

from __future__ import annotations

from fractions import Fraction
from itertools import permutations, product

import numpy as np

__all__ = ["T", "F", "chain_tensor", "basis", "decompose", "rational"]


def _gell_mann() -> np.ndarray:
    lam = np.zeros((8, 3, 3), dtype=complex)
    lam[0][0, 1] = lam[0][1, 0] = 1
    lam[1][0, 1], lam[1][1, 0] = -1j, 1j
    lam[2][0, 0], lam[2][1, 1] = 1, -1
    lam[3][0, 2] = lam[3][2, 0] = 1
    lam[4][0, 2], lam[4][2, 0] = -1j, 1j
    lam[5][1, 2] = lam[5][2, 1] = 1
    lam[6][1, 2], lam[6][2, 1] = -1j, 1j
    lam[7][0, 0] = lam[7][1, 1] = 1 / np.sqrt(3)
    lam[7][2, 2] = -2 / np.sqrt(3)
    return lam


#: generators T^a_{ij}, shape (8, 3, 3)
T = _gell_mann() / 2
#: structure constants f^{abc} = -2i Tr([T^a, T^b] T^c), shape (8, 8, 8)
F = (-2j * (np.einsum("aij,bjk,cki->abc", T, T, T) - np.einsum("bij,ajk,cki->abc", T, T, T))).real


def chain_tensor(n_gluons: int) -> np.ndarray:
    """(T^{a1} ... T^{ak})_{ij} with axes (a1, ..., ak, i, j)."""
    out = np.eye(3, dtype=complex)
    for _ in range(n_gluons):
        # append one generator on the right: M_{ix} T^a_{xj}
        out = np.einsum("...ix,axj->...aij", out, T)
    return out


def _assemble(factors: list, axes_of: list, legs: list) -> np.ndarray:
    """Outer product of ``factors`` (each with its own leg axes) ordered as ``legs``."""
    operands = []
    for tensor, axes in zip(factors, axes_of):
        operands.extend([tensor, list(axes)])
    return np.einsum(*operands, list(legs))


def basis(quark_cols: list, quark_rows: list, gluons: list) -> list:
    """Candidate colour-flow basis over the coloured legs (sorted).

    Returns a list of (tensor over legs in sorted order, description) where the
    description is ``("chains", [(row, [gluons...], col), ...])`` or
    ``("trace", [gluons...])``."""
    legs = sorted(quark_cols + quark_rows + gluons)
    out = []
    if not quark_cols:
        if not gluons:
            return [(np.ones(()), ("chains", []))]
        first, rest = gluons[0], gluons[1:]
        for order in permutations(rest):
            seq = [first] + list(order)
            tensor = np.einsum("...ii->...", chain_tensor(len(seq)))
            out.append((_assemble([tensor], [seq], legs), ("trace", seq)))
        return out
    for rows in permutations(quark_rows):
        pairs = list(zip(rows, quark_cols))
        # distribute the gluons over the lines, each line an ordered sequence
        for assignment in product(range(len(pairs)), repeat=len(gluons)):
            per_line = [[g for g, a in zip(gluons, assignment) if a == k] for k in range(len(pairs))]
            for orders in product(*[list(permutations(seq)) for seq in per_line]):
                factors, axes, chains = [], [], []
                for (row, col), seq in zip(pairs, orders):
                    factors.append(chain_tensor(len(seq)))
                    axes.append(list(seq) + [row, col])
                    chains.append((row, list(seq), col))
                out.append((_assemble(factors, axes, legs), ("chains", chains)))
    return out


def rational(x: float, tol: float = 1e-9) -> Fraction:
    """The small-denominator rational equal to ``x`` within ``tol``."""
    r = Fraction(x).limit_denominator(1000)
    if abs(float(r) - x) > tol:
        raise ValueError(f"{x} is not a small rational")
    return r


def decompose(pieces: list, candidates: list):
    """Coefficients of each piece tensor on the candidates that any piece uses.

    Returns (kept candidate indices, coefficient rows (complex Fractions as
    (re, im) pairs) per piece, colour matrix as Fractions)."""
    a = np.stack([c.reshape(-1) for c in candidates], axis=1)
    if np.linalg.matrix_rank(a) != a.shape[1]:
        raise ValueError("colour basis candidates are not independent")
    coeffs = []
    for tensor in pieces:
        b = tensor.reshape(-1)
        x, *_ = np.linalg.lstsq(a, b, rcond=None)
        if np.linalg.norm(a @ x - b) > 1e-9 * max(1.0, np.linalg.norm(b)):
            raise ValueError("a diagram's colour factor is outside the basis")
        coeffs.append(x)
    coeffs = np.array(coeffs)
    used = [k for k in range(a.shape[1]) if np.any(np.abs(coeffs[:, k]) > 1e-12)]
    a_used = a[:, used]
    cf = a_used.conj().T @ a_used
    if np.max(np.abs(cf.imag)) > 1e-9:
        raise ValueError("colour matrix is not real")
    cf_rational = [[rational(v) for v in row] for row in cf.real]
    rows = [[(rational(c.real), rational(c.imag)) for c in row[used]] for row in coeffs]
    return used, rows, cf_rational
