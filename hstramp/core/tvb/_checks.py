"""Checks of the TVB parameters and regions: a clear ``ParameterError`` (a ``ValueError``)
naming the value."""

from __future__ import annotations

import numpy as np

from hstramp.errors import ParameterError


def require(condition, name, allowed, value):
    """Raise ``ParameterError`` naming the parameter and what it must be, unless ``condition``."""
    if not condition:
        raise ParameterError(f"{name} must be {allowed}, got {value!r}")


def is_number(value) -> bool:
    """True for an int or float (Python or numpy), not a bool."""
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_)


def check_region(region):
    """Region as a tuple of 4 ints ``(x1, x2, y1, y2)`` (or None), validated for order."""
    if region is None:
        return None
    try:
        values = tuple(region)
    except TypeError:
        values = ()
    require(len(values) == 4 and all(isinstance(v, int | np.integer) and not isinstance(v, bool)
                                      for v in values),
            "region", "None or four integers (x1, x2, y1, y2)", region)
    x1, x2, y1, y2 = (int(v) for v in values)
    require(0 <= x1 < x2 and 0 <= y1 < y2, "region",
            "0-based half-open bounds with 0 <= x1 < x2 and 0 <= y1 < y2", region)
    return (x1, x2, y1, y2)
