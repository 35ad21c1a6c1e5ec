"""Sorting each pixel's few difference rates fast: a sorting network of plane-wide
min/max operations on keys that carry the difference index in their lowest bits.

``np.sort`` along the short, strided read axis is several times slower than a network
for the 2 to 40 values of a ramp; the keys give the sorting order without a second sort.
"""

from __future__ import annotations

import functools

import numpy as np

#: Sort key of unusable differences (finite, above any rate).
_LAST = np.float32(3e38)

#: From this many values :func:`sorted_along_axis0` uses ``np.sort``, not a network.
NETWORK_LIMIT = 40


@functools.cache
def sorting_network(size: int) -> tuple[tuple[int, int], ...]:
    """Comparator pairs of Batcher's odd-even merge sort for ``size`` elements.

    Built for the next power of two; comparators touching an index >= ``size`` are
    dropped, which is exact when the missing elements are taken as +inf.
    """
    padded = 1 << max(0, (size - 1).bit_length())
    pairs = []
    p = 1
    while p < padded:
        k = p
        while k >= 1:
            for j in range(k % p, padded - k, 2 * k):
                for i in range(min(k, padded - j - k)):
                    low, high = i + j, i + j + k
                    if low // (2 * p) == high // (2 * p) and high < size:
                        pairs.append((low, high))
            k //= 2
        p *= 2
    return tuple(pairs)


def sorted_along_axis0(values: np.ndarray) -> np.ndarray:
    """Each column of ``values`` (no NaN) sorted, with a network of plane-wide
    min/max operations.

    For the few values of a ramp this is several times faster than ``np.sort``
    along a strided axis; from :data:`NETWORK_LIMIT` values, whose network grows as
    ``n log^2 n``, ``np.sort`` is used (the same result when no two values are equal).
    The rows are never copied inside the network: each comparator writes its minimum
    into a spare row and the rows are renamed.

    Parameters
    ----------
    values : ndarray [nvalues, npix]
        Used as scratch space (overwritten).

    Returns
    -------
    ndarray [nvalues, npix]
    """
    if values.shape[0] >= NETWORK_LIMIT and not np.isnan(values).any():
        return np.sort(values, axis=0)
    rows = list(values)
    spare = np.empty_like(values[0])
    for i, j in sorting_network(values.shape[0]):
        np.minimum(rows[i], rows[j], out=spare)
        np.maximum(rows[i], rows[j], out=rows[j])
        rows[i], spare = spare, rows[i]
    return np.stack(rows)


def sorted_order(rates: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """Indices that sort each pixel's rates, unusable ones last.

    The difference index is written into the lowest mantissa bits of each rate and
    the keys are sorted with a sorting network; only rates equal to within a few
    units in the last place can change places.

    Parameters
    ----------
    rates : ndarray float32 [ndiff, npix]
    usable : ndarray bool [ndiff, npix]

    Returns
    -------
    ndarray intp [ndiff, npix]
    """
    ndiff = rates.shape[0]
    mask = np.int32((1 << max(1, (ndiff - 1).bit_length())) - 1)
    if (rates > _LAST).any():
        keys = np.where(usable, rates, _LAST).view(np.int32)
    else:  # the same keys: _LAST in place of NaN (unusable), without a masked copy
        keys = np.fmin(rates, _LAST).view(np.int32)
    keys &= ~mask
    keys |= np.arange(ndiff, dtype=np.int32)[:, None]
    keys = sorted_along_axis0(keys.view(np.float32)).view(np.int32)
    return np.bitwise_and(keys, mask, dtype=np.intp)
