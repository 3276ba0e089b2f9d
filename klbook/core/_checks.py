"""Small input checks shared by every public function of klbook.

Every public function that takes ``base`` validates it here, and converts a
result in nats to the requested unit here, so the conventions live in one place.
"""

from __future__ import annotations

import math
import numbers

__all__ = ["check_base", "to_base"]


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
