"""Naming how a wrong value relates to the expected one, for ``assert_close``'s messages.

``diagnose(actual, expected, rtol=..., atol=...)`` looks for the relations a typical bug
leaves between the two (the sign flipped, the transpose, a constant factor or shift, all
zeros, the right values in another order) and says the first that holds, in words that name
no value of ``expected``. Each relation must hold within the same tolerance as the comparison
itself, on an ``expected`` for which it says something: never the shift of a constant array,
the transpose of a symmetric matrix, or a factor between two single numbers that is not a
whole number.
"""

from __future__ import annotations

import numpy as np

__all__ = ["diagnose"]

#: how close c (or 1/c) must be to a whole number for a factor to read as "a missing 1/k"
_WHOLE_NUMBER_RTOL = 1e-3


def diagnose(actual: np.ndarray, expected: np.ndarray, *, rtol: float, atol: float) -> str | None:
    """The relation between ``actual`` and ``expected`` that explains their difference, or None.

    Args:
        actual, expected: real arrays of one shape (any), compared as float64; called when
            they differ, so a relation that makes them equal is never reported.
        rtol, atol: ``assert_close``'s tolerance, |x - y| <= atol + rtol * |y|, which each
            relation must meet with ``y`` the transformed ``expected``.

    Returns:
        A phrase such as ``"the sign is flipped (actual = -expected)"``; None when no relation
        holds, the arrays are not real numbers of one shape, or any value is not finite.
        Never raises; O(n) apart from the sorts of the reordering checks.
    """
    try:
        a = np.asarray(actual)
        e = np.asarray(expected)
        if a.shape != e.shape or a.size == 0 or a.dtype.kind not in "biuf" \
                or e.dtype.kind not in "biuf":
            return None
        a = a.astype(np.float64)
        e = e.astype(np.float64)
        if not (np.isfinite(a).all() and np.isfinite(e).all()):
            return None
        with np.errstate(all="ignore"):
            return _first_relation(a, e, rtol, atol)
    except (ValueError, TypeError, ArithmeticError, MemoryError):
        return None


def _first_relation(a: np.ndarray, e: np.ndarray, rtol: float, atol: float) -> str | None:
    def close(x: np.ndarray, y: np.ndarray) -> bool:
        return bool(np.all(np.abs(x - y) <= atol + rtol * np.abs(y)))

    significant = np.abs(e) > atol
    if not significant.any():
        return None
    if not a.any():
        return "every value is 0 (nothing computed, or an array returned before it was filled?)"
    if close(a, -e):
        return "the sign is flipped (actual = -expected)"
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and not close(e, e.T) and close(a, e.T):
        return "it is the transpose of the expected value (actual = expected.T)"
    varies = a.size > 1 and np.ptp(e) > 2 * (atol + rtol * float(np.abs(e).max()))
    factor = _factor(a, e, informative=varies and int(significant.sum()) >= 2, close=close)
    if factor is not None:
        return factor
    if varies:
        shift = float(np.mean(a - e))
        if close(a, e + shift):
            return f"every value is off by the same constant (actual = expected {shift:+.3g})"
    return _reordered(a, e, close)


def _factor(a: np.ndarray, e: np.ndarray, *, informative: bool, close) -> str | None:
    """``actual = c * expected`` for one c (least squares), said with a hint when c or 1/c is
    a whole number k > 1. Between two single numbers (or two constant arrays) any c fits, so
    unless ``informative`` (``expected`` varies over two significant values) only a whole k
    counts."""
    c = float(np.sum(a * e) / np.sum(e * e))
    if not np.isfinite(c) or c == 0 or not close(a, c * e):
        return None
    hint = _whole_number_hint(c)
    if hint is None and not informative:
        return None
    return f"actual = {_factor_text(c)} * expected{hint or ''}"


def _factor_text(c: float) -> str:
    """``c`` in 4 significant digits, or as ``(1 + d)`` when those would read as 1."""
    if abs(c - 1) < 5e-4:
        return f"(1 {'+' if c > 1 else '-'} {abs(c - 1):.2g})"
    return f"{c:.4g}"


def _whole_number_hint(c: float) -> str | None:
    """A missing 1/k (c = k) or an extra one (c = 1/k) when k > 1 is whole; the batch size
    is named as the likely k from 3 on (a factor of 2 is as often a 1/2 in a formula)."""
    for value, kind, where in ((c, "missing", "a sum where a mean over {k} items was meant, "
                                              "such as the batch"),
                               (1.0 / c, "extra", "divided by {k}, such as the batch size, "
                                                  "once too often")):
        k = round(abs(value))
        if k > 1 and abs(abs(value) - k) <= _WHOLE_NUMBER_RTOL * k:
            return f" (a{'n' if kind == 'extra' else ''} {kind} 1/{k}?" + (
                f" {where.format(k=k)}?)" if k > 2 else ")")
    return None


def _reordered(a: np.ndarray, e: np.ndarray, close) -> str | None:
    """The right values in other places: along the last axis (a permutation of each row),
    else anywhere in the array (a reshape where a transpose was meant?). Only for an
    ``expected`` with mostly distinct values: among few distinct values (labels, masks,
    one-hot rows) any wrong answer with the same counts would read as a reordering."""
    if a.ndim == 0 or a.shape[-1] < 2 or 2 * np.unique(e).size <= e.size:
        return None
    sorted_e = np.sort(e, axis=-1)
    if close(np.sort(a, axis=-1), sorted_e):
        return ("the right values in another order along the last axis "
                "(columns or classes permuted?)")
    if a.ndim > 1 and close(np.sort(a, axis=None), np.sort(e, axis=None)):
        return "the right values in other positions (a reshape where a transpose was meant?)"
    return None
