"""Checks on the arrays users pass in, shared by every layer."""
from __future__ import annotations

import numpy as np

__all__ = ["not_a_number", "numbers_array", "points_array", "refuse_bools", "refuse_masked"]


def not_a_number(value):
    """Whether ``value`` is text or a bool (float() reads "0.5" as 0.5 and True as 1.0), or,
    for a list, a tuple or an array, holds one: times, intervals and initial values are
    refused then, as a text or a bool given where a point is (:func:`points_array`)."""
    if isinstance(value, (str, bytes, bool, np.bool_)):
        return True
    if isinstance(value, (list, tuple)):   # ([1.0, False] converts to floats: look at each)
        return any(type(v) not in (float, int) and not_a_number(v) for v in value)
    if isinstance(value, np.ndarray):
        if value.dtype != object:
            return value.dtype.kind in "USb"
        return any(not_a_number(v) for v in value.reshape(-1))
    return False


def refuse_masked(value, name):
    """``value``, unless it is a masked array (:mod:`numpy.ma`): then a ``TypeError`` naming
    ``name``.  The conversions (``np.asarray``) drop the mask and keep the values under it,
    which a solve, a mesh or a network would then use as if they were data (a t_eval with a
    masked entry returned the solution at the time under the mask)."""
    if isinstance(value, np.ma.MaskedArray):
        raise TypeError(f"{name} is a masked array (numpy.ma): its mask would be ignored and the "
                        f"values under it used; pass an ordinary array (value.filled(v), or "
                        f"value.compressed() for the entries that are not masked)")
    return value


def points_array(value, name):
    """``value`` (a number or an array of them: where a solution is evaluated) as a float
    array; a ``TypeError`` naming ``name`` and the type for anything else (``None`` became
    nan and was refused as a point outside the interval, a text "0.5" was read as 0.5, and
    ``True`` as 1: a bool is no point either)."""
    arr = np.asarray(refuse_masked(value, name))
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers, got "
                        f"{type(value).__name__}"
                        + (f" of dtype {arr.dtype}" if isinstance(value, np.ndarray) else ""))
    return arr.astype(float, copy=False)


def numbers_array(value, name):
    """``value`` as an array of numbers (a list of Python numbers and NumPy scalars as floats);
    a ``ValueError`` naming ``name`` for text or other objects, as NumPy's own error but saying
    which argument (it was "could not convert string to float: 'abc'")."""
    arr = np.asarray(value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must hold real numbers, got dtype {arr.dtype}") from None
    return arr


def refuse_bools(v, name):
    """A ``TypeError`` naming ``name`` when the array ``v`` holds bools (dtype bool, or an
    object array with a bool in it): a network's inputs and weights are numbers, and a cast
    read ``np.array([True, False])`` (a mask, a comparison's result) as the inputs 1.0, 0.0."""
    if v.dtype == bool or (v.dtype == object and any(isinstance(e, (bool, np.bool_))
                                                     for e in v.reshape(-1))):
        raise TypeError(f"{name} must hold real numbers, got bools (dtype {v.dtype}); "
                        f"convert them if 0 and 1 are meant: np.asarray(value, dtype=float)")
