"""Output arrays of the core functions: new arrays, or arrays the caller hands in (``out``).

Every core function leaves its inputs untouched. Those that transform whole ramps also
take ``out``, a tuple of arrays to write the result into, in the manner of NumPy's
``out`` argument: ``out`` may be the inputs themselves, which is how a step updates its
own copy of an exposure without a second copy of every cube. Without ``out`` the
function returns new arrays.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["output_arrays"]


def output_arrays(
    arrays: Sequence[np.ndarray],
    dtypes: Sequence,
    out: Sequence[np.ndarray] | None,
    names: Sequence[str],
) -> tuple[np.ndarray, ...]:
    """The arrays a core function writes into, holding the input values to start with.

    Parameters
    ----------
    arrays : sequence of ndarray
        The inputs the outputs start from (never modified unless they are in ``out``).
    dtypes : sequence of dtype
        The dtype of each output.
    out : sequence of ndarray or None
        None: new arrays (copies of ``arrays`` in ``dtypes``). Else one array per input,
        of its shape and of the output dtype, C-contiguous; an element that *is* the
        input is updated in place, any other is first filled with the input's values.
    names : sequence of str
        Names of the outputs, for the error message.

    Returns
    -------
    tuple of ndarray

    Raises
    ------
    ValueError
        ``out`` has the wrong length, or an element the wrong shape, dtype or layout
        (the output named).
    """
    if out is None:
        return tuple(np.array(a, dtype=d) for a, d in zip(arrays, dtypes, strict=True))
    if len(out) != len(arrays):
        raise ValueError(f"out must hold {len(arrays)} arrays ({', '.join(names)}), "
                         f"got {len(out)}")
    for array, target, dtype, name in zip(arrays, out, dtypes, names, strict=True):
        expected = (np.shape(array), np.dtype(dtype))
        if not isinstance(target, np.ndarray) or (target.shape, target.dtype) != expected:
            got = (getattr(target, "shape", None), getattr(target, "dtype", type(target)))
            raise ValueError(f"out {name} must be a native {expected[1]} array of shape "
                             f"{expected[0]}, got {got[1]!r} {got[0]}")
        if not target.flags.c_contiguous or not target.flags.writeable:
            raise ValueError(f"out {name} must be a writeable C-contiguous array")
        if target is not array:
            np.copyto(target, array, casting="unsafe")
    return tuple(out)
