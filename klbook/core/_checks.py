"""Small input checks shared by every public function of klbook.

Every public function that takes ``base`` validates it here, and converts a
result in nats to the requested unit here; every array argument that must hold
real numbers is read by :func:`check_array`. So the conventions live in one place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["check_base", "to_base", "check_array"]


def check_base(base: float | None) -> float | None:
    """Validate a logarithm base.

    Parameters
    ----------
    base : float or None
        ``None`` means natural logarithms (nats). Otherwise a finite real
        number ``> 1``; ``2`` gives bits. Bases in (0, 1) are refused: they
        would make every divergence and entropy negative (a unit nobody means).

    Returns
    -------
    float or None
        The base as a float, or ``None``.

    Raises
    ------
    TypeError
        If ``base`` is not a real number (booleans included).
    ValueError
        If ``base`` is not finite or is ``<= 1``.
    """
    if base is None:
        return None
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(f"base must be a real number or None, got {type(base).__name__} {base!r}")
    b = float(base)
    if not math.isfinite(b) or b <= 1.0:
        why = " (a base in (0, 1) would turn every divergence and entropy negative)" if 0.0 < b < 1.0 else ""
        raise ValueError(f"base must be a finite number > 1 (2 gives bits, None gives nats){why}; got {base!r}")
    return b


def to_base(value_nats: float, base: float | None) -> float:
    """Convert a value in nats to the unit of ``base`` (already validated).

    ``value / log(base)``; ``inf`` stays ``inf`` (bases are > 1, see :func:`check_base`).
    """
    if base is None:
        return float(value_nats)
    return float(value_nats) / math.log(base)


def _not_real(v: object) -> bool:
    """An entry numpy would turn into a float although it is not a real number (None becomes NaN)."""
    return v is None or isinstance(v, (str, bytes, bool, np.bool_, complex, np.complexfloating))


def check_array(
    x: object, name: str, ndim: int | None = None, *, finite: bool = True, nonempty: bool = True
) -> np.ndarray:
    """Read an array argument of real numbers: the one array check of klbook's functions.

    Parameters
    ----------
    x : array_like
        The argument.
    name : str
        How errors name it (e.g. ``"weights"``, or ``"log_ratio: x"``).
    ndim : int, optional
        The number of dimensions it must have; None accepts any.
    finite : bool
        Refuse infinite entries too (NaN is always refused).
    nonempty : bool
        Refuse an empty array.

    Returns
    -------
    numpy.ndarray
        ``x`` as a float array (``x`` itself when it already is one).

    Raises
    ------
    TypeError
        ``x`` is None, or holds strings (numpy would read ``"0.5"`` as 0.5), booleans, or anything
        else that is not a real number.
    ValueError
        ``x`` has the wrong number of dimensions, is empty, or holds NaN (or, with ``finite``, an
        infinity).
    """
    raw = None if x is None or isinstance(x, (str, bytes)) else np.asarray(x)
    if raw is None or raw.dtype.kind in "bcUSVmM" or (raw.dtype.kind == "O" and any(map(_not_real, raw.flat))):
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}")
    try:
        arr = raw.astype(float, copy=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers, got {type(x).__name__}") from exc
    if ndim is not None and arr.ndim != ndim:
        want = "be one-dimensional" if ndim == 1 else f"have {ndim} dimensions"
        raise ValueError(f"{name} must {want}, got shape {arr.shape}")
    if nonempty and arr.size == 0:
        raise ValueError(f"{name} must not be empty")
    if finite:
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} must be finite (no NaN or inf)")
    elif np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN")
    return arr
