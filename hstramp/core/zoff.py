"""Zeroth-read subtraction (calwf3 ``zoffcorr``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hstramp.core.outputs import output_arrays

__all__ = ["ZeroReadSubtracted", "subtract_zero_read"]


@dataclass(frozen=True)
class ZeroReadSubtracted:
    """Result of :func:`subtract_zero_read`.

    Attributes
    ----------
    data : ndarray, float32 [ngroups, ny, nx]
        Every read minus the zeroth read.
    groupdq : ndarray [ngroups, ny, nx]
        Every read's DQ OR the zeroth read's DQ.
    """

    data: np.ndarray
    groupdq: np.ndarray


def subtract_zero_read(
    data: np.ndarray,
    groupdq: np.ndarray,
    zeroth_read: np.ndarray | None = None,
    zeroth_dq: np.ndarray | None = None,
    *,
    out: tuple[np.ndarray, np.ndarray] | None = None,
) -> ZeroReadSubtracted:
    """Subtract the zeroth read from every read and OR its DQ into every read.

    Over the whole frame, reference pixels included. ERR is not touched (calwf3
    leaves ERR, SAMP unchanged; its TIME arrays become times since the zeroth
    read, which hstramp's ``times`` already are).

    calwf3 subtracts the copy of the zeroth read it saved after DQI and before
    ZSIG (bias-corrected by BLEV like the reads), and ORs *that copy's* DQ.
    Since ZSIG added zsig into read 0 of the ramp, read 0 ends up holding zsig
    (0 where zsig is 0), and the 2048/256 flags ZSIG set on read 0 are not
    spread to the other reads. Pass that copy as ``zeroth_read``/``zeroth_dq``
    to reproduce calwf3; by default read 0 of ``data``/``groupdq`` is used and
    read 0 becomes exactly 0.

    Parameters
    ----------
    data : ndarray [ngroups, ny, nx]
        Reads in time order.
    groupdq : ndarray [ngroups, ny, nx]
        Data quality of every read.
    zeroth_read : ndarray [ny, nx], optional
        The image to subtract; default ``data[0]``.
    zeroth_dq : ndarray [ny, nx], optional
        The DQ to OR in; default ``groupdq[0]``.
    out : tuple of 2 ndarray, optional
        ``(data, groupdq)`` arrays to write the result into (float32 and the DQ dtype);
        they may be the inputs themselves. Default: new arrays.

    Returns
    -------
    ZeroReadSubtracted
        New (or ``out``) data and DQ.
    """
    data = np.asarray(data)
    groupdq = np.asarray(groupdq)
    if data.ndim != 3 or groupdq.shape != data.shape:
        raise ValueError(
            f"data and groupdq must be ramps of one shape, got {data.shape} and {groupdq.shape}"
        )
    # copies of the defaults: read 0 may be overwritten (``out``) before the later reads
    zeroth_read = data[0].copy() if zeroth_read is None else np.asarray(zeroth_read)
    zeroth_dq = groupdq[0].copy() if zeroth_dq is None else np.asarray(zeroth_dq)
    for name, array in (("zeroth_read", zeroth_read), ("zeroth_dq", zeroth_dq)):
        if array.shape != data.shape[1:]:
            raise ValueError(f"{name} has shape {array.shape}, expected {data.shape[1:]}")
    out_data, out_dq = output_arrays((data, groupdq), (np.float32, groupdq.dtype), out,
                                     ("data", "groupdq"))
    np.subtract(out_data, zeroth_read, out=out_data, dtype=np.float32, casting="unsafe")
    out_dq |= zeroth_dq.astype(groupdq.dtype, copy=False)
    return ZeroReadSubtracted(data=out_data, groupdq=out_dq)
