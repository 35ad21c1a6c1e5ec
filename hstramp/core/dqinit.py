"""Data-quality initialisation (calwf3 ``dqicorr``): OR the bad-pixel mask into every read."""

from __future__ import annotations

import numpy as np

from hstramp.core.outputs import output_arrays

__all__ = ["dq_init"]


def dq_init(groupdq: np.ndarray, mask: np.ndarray, *, out: np.ndarray | None = None
            ) -> np.ndarray:
    """OR a static bad-pixel mask into the data quality of every read.

    calwf3 builds the mask once from the BPIXTAB rows (VALUE OR-ed along each
    run) and ORs it into the whole DQ array of each read, reference pixels
    included.

    Parameters
    ----------
    groupdq : ndarray [ngroups, ny, nx] or [ny, nx], unsigned int
        Data quality of every read (or of one image).
    mask : ndarray [ny, nx], unsigned int
        The bad-pixel mask.
    out : ndarray, optional
        Array of ``groupdq``'s shape and dtype to write the result into; it may be
        ``groupdq`` itself. Default: a new array.

    Returns
    -------
    ndarray
        New (or ``out``) data-quality array, same shape and dtype as ``groupdq``.

    Raises
    ------
    ValueError
        If the mask does not match the frame shape or is not an integer array.
    """
    groupdq = np.asarray(groupdq)
    mask = np.asarray(mask)
    if mask.shape != groupdq.shape[-2:]:
        raise ValueError(f"mask has shape {mask.shape}, expected {groupdq.shape[-2:]}")
    if not (np.issubdtype(mask.dtype, np.integer) and np.issubdtype(groupdq.dtype, np.integer)):
        raise ValueError("groupdq and mask must be integer arrays")
    (result,) = output_arrays((groupdq,), (groupdq.dtype,), None if out is None else (out,),
                              ("groupdq",))
    result |= mask.astype(groupdq.dtype, copy=False)
    return result
