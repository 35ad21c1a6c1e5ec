"""Bad imsets of a STIS CCD exposure (calstis ``cs1/getgrpinfo1.c``, ``cs1/do2d.c``,
``cs2/crrej_check.c``, ``cs2/cr_scaling.c``, ``cs0/getsciinfo.c``).

* EXPTIME < 0 on an imset: calstis stops ("Exposure time is invalid").
* EXPTIME == 0, or every SCI value equal: the imset is *bad* (except for a BIAS exposure,
  TARGNAME = BIAS, which may have zero exposure time): calstis writes it uncalibrated with
  ``IMSET_OK = F`` in its SCI header and goes on; no imset good means no output.
* CR rejection combines only imsets with IMSET_OK not F; it needs at least two, and
  refuses a mix of zero and non-zero exposure times.
* TEXPTIME <= 0 in the primary header of a non-BIAS exposure: cs0 has nothing to do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ImsetCheck", "check_imset", "crreject_imsets"]


@dataclass(frozen=True)
class ImsetCheck:
    """Verdict on one imset.

    Attributes
    ----------
    ok : bool
        Calibrate it (IMSET_OK stays T).
    reason : str
        Why it is bad (empty when ok), as calstis's warning.
    """

    ok: bool
    reason: str = ""


def check_imset(sci: np.ndarray, exptime: float, *, bias_exposure: bool = False,
                wavecal: bool = False, extver: int = 1) -> ImsetCheck:
    """Whether calstis calibrates an imset or writes it with IMSET_OK = F (``Do2D``).

    Parameters
    ----------
    sci : ndarray [ny, nx]
        The raw SCI data.
    exptime : float
        EXPTIME of the imset.
    bias_exposure : bool
        TARGNAME is BIAS (zero exposure time allowed, constant data allowed).
    wavecal : bool
        A wavecal (checked even when it is a bias).
    extver : int
        Imset number, for the message.

    Returns
    -------
    ImsetCheck

    Raises
    ------
    ValueError
        EXPTIME < 0 or not a number (calstis stops: "Exposure time is invalid").
    """
    t = float(exptime)
    if not t >= 0:
        raise ValueError(f"imset {extver}: EXPTIME = {exptime!r} is invalid (negative)")
    if bias_exposure and not wavecal:
        return ImsetCheck(ok=True)
    if t <= 0:
        return ImsetCheck(ok=False, reason=f"imset {extver} flagged as bad because "
                                           f"exptime = {t:.6g}")
    values = np.asarray(sci)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return ImsetCheck(ok=False, reason=f"imset {extver} flagged as bad because all "
                                           f"values = {high:.6g}")
    return ImsetCheck(ok=True)


def crreject_imsets(imset_ok, exptimes) -> np.ndarray:
    """Indices of the imsets CR rejection combines (``crrej_check``, ``cr_scaling``).

    Parameters
    ----------
    imset_ok : array_like of bool
        IMSET_OK of each imset (True when absent).
    exptimes : array_like of float
        Their EXPTIME.

    Returns
    -------
    ndarray of int

    Raises
    ------
    ValueError
        Fewer than two good imsets ("Needs more than one input images"), a negative
        exposure time, or some but not all good imsets with zero exposure time.
    """
    good = np.flatnonzero(np.asarray(imset_ok, bool))
    if good.size < 2:
        raise ValueError(f"CR rejection needs more than one good imset; {good.size} of "
                         f"{len(imset_ok)} have IMSET_OK = T")
    times = np.asarray(exptimes, np.float64)[good]
    if np.any(times < 0):
        raise ValueError(f"EXPTIME of imset {int(good[np.argmax(times < 0)]) + 1} is negative")
    zero = times == 0
    if zero.any() and not zero.all():
        raise ValueError("some (but not all) imsets to combine have zero EXPTIME")
    return good
