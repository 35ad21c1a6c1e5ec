"""Temperature scaling of the STIS CCD dark (calstis ``cs1/dodark.c``, ``lib/getdettemp.c``).

Since the move to side-2 electronics (2001) the CCD is not temperature-controlled and its
dark rate follows the housing temperature. calstis multiplies the dark image (already in
e-/s, times EXPTIME / ATODGAIN) by

    factor = 1 + DRK_VS_T * (T - REF_TEMP)

with DRK_VS_T and REF_TEMP from the dark's primary header (defaults 0.07 and 18 C when a
keyword is missing) and T the CCD housing temperature OCCDHTAV of the science imset
(``GetDetTemp``). T is "not known" (-1, factor 1) for data taken before side 2
(EXPSTART < MJD 52091) and when OCCDHTAV is missing; any T <= 0 gives factor 1.
A combined (``_crj``) image carries the exposure-weighted mean OCCDHTAV of its imsets
(calstis ``cs2/crrej_do.c``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "BEGIN_SIDE2",
    "CCD_REF_TEMP",
    "DEFAULT_DRK_VS_T",
    "UNKNOWN_TEMPERATURE",
    "DarkTemperatureParameters",
    "combined_housing_temperature",
    "dark_scale_factors",
    "dark_temperature_factor",
    "dark_temperature_parameters",
    "housing_temperature",
]

#: reference temperature of the dark when its header has no REF_TEMP, deg C
#: (calstis ``stistemperature.h`` CCD_REF_TEMP)
CCD_REF_TEMP = 18.0
#: dark-rate slope per deg C when the dark header has no DRK_VS_T (calstis ``getDarkParam``)
DEFAULT_DRK_VS_T = 0.07
#: MJD after which every STIS exposure used side-2 electronics (calstis BEGIN_SIDE2)
BEGIN_SIDE2 = 52091.0
#: calstis's "temperature not known" value
UNKNOWN_TEMPERATURE = -1.0


def _finite(value, name: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} = {value!r} is not a number") from exc
    if not math.isfinite(number):
        raise ValueError(f"{name} = {value!r} is not a finite number")
    return number


@dataclass(frozen=True)
class DarkTemperatureParameters:
    """REF_TEMP and DRK_VS_T of a dark, and which of them were calstis's defaults.

    Attributes
    ----------
    ref_temp : float
        Reference temperature, deg C.
    drk_vs_t : float
        Fractional change of the dark rate per deg C.
    defaulted : tuple of str
        Keywords missing from the dark header (``'REF_TEMP'``, ``'DRK_VS_T'``), for the
        caller to log.
    """

    ref_temp: float
    drk_vs_t: float
    defaulted: tuple[str, ...] = ()


def dark_temperature_parameters(ref_temp=None, drk_vs_t=None) -> DarkTemperatureParameters:
    """REF_TEMP and DRK_VS_T as calstis ``getDarkParam`` reads them.

    Parameters
    ----------
    ref_temp, drk_vs_t : float or None
        Values of the dark's primary-header keywords; None when absent (calstis then uses
        18.0 and 0.07).

    Returns
    -------
    DarkTemperatureParameters

    Raises
    ------
    ValueError
        A present value that is not a finite number (the message names the keyword;
        calstis stops with HEADER_PROBLEM on an unreadable keyword).
    """
    defaulted = tuple(name for name, v in (("REF_TEMP", ref_temp), ("DRK_VS_T", drk_vs_t))
                      if v is None)
    return DarkTemperatureParameters(
        ref_temp=CCD_REF_TEMP if ref_temp is None else _finite(ref_temp, "REF_TEMP"),
        drk_vs_t=DEFAULT_DRK_VS_T if drk_vs_t is None else _finite(drk_vs_t, "DRK_VS_T"),
        defaulted=defaulted)


def housing_temperature(occdhtav, expstart) -> float:
    """The CCD housing temperature calstis uses for one imset (``GetDetTemp``).

    Parameters
    ----------
    occdhtav : float or None
        OCCDHTAV of the SCI extension; None when the keyword is absent (calstis warns
        "keyword OCCDHTAV not found" and applies no temperature correction).
    expstart : float or None
        EXPSTART of the imset, MJD (None: calstis's default -1, i.e. side 1).

    Returns
    -------
    float
        Degrees C, or :data:`UNKNOWN_TEMPERATURE` (-1) before side 2 or without OCCDHTAV.

    Raises
    ------
    ValueError
        OCCDHTAV present but not a finite number (calstis: HEADER_PROBLEM).
    """
    start = UNKNOWN_TEMPERATURE if expstart is None else _finite(expstart, "EXPSTART")
    if start < BEGIN_SIDE2:
        return UNKNOWN_TEMPERATURE
    if occdhtav is None:
        return UNKNOWN_TEMPERATURE
    return _finite(occdhtav, "OCCDHTAV")


def dark_temperature_factor(temperature: float, params: DarkTemperatureParameters) -> float:
    """``1 + DRK_VS_T * (T - REF_TEMP)``, or 1 when T <= 0 (calstis ``CCDFactor``).

    Parameters
    ----------
    temperature : float
        From :func:`housing_temperature`, deg C (-1: unknown).
    params : DarkTemperatureParameters
        The dark's REF_TEMP and DRK_VS_T.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        A non-finite temperature, or a factor <= 0 (a negative or zero dark: an absurd
        OCCDHTAV or DRK_VS_T, which calstis would apply blindly).
    """
    t = _finite(temperature, "OCCDHTAV")
    if t <= 0.0:
        return 1.0
    factor = 1.0 + params.drk_vs_t * (t - params.ref_temp)
    if factor <= 0.0:
        raise ValueError(
            f"dark temperature factor 1 + DRK_VS_T * (OCCDHTAV - REF_TEMP) = 1 + "
            f"{params.drk_vs_t:g} * ({t:g} - {params.ref_temp:g}) = {factor:g} is not "
            "positive; OCCDHTAV or the dark's DRK_VS_T/REF_TEMP is wrong")
    return factor


def dark_scale_factors(exptimes, atodgain: float, temperatures,
                       params: DarkTemperatureParameters) -> np.ndarray:
    """What calstis multiplies the dark (e-/s) by for each imset: ``factor * EXPTIME / ATODGAIN``.

    Parameters
    ----------
    exptimes : array_like [nimsets]
        EXPTIME of each imset (of the combined image: the sum), s.
    atodgain : float
        CCDTAB ATODGAIN, e-/DN.
    temperatures : array_like [nimsets]
        :func:`housing_temperature` of each imset.
    params : DarkTemperatureParameters

    Returns
    -------
    ndarray, float64 [nimsets]
        Pass as ``factors`` to :func:`hstramp.core.stis.calib.subtract_scaled`; MEANDARK then
        includes the temperature factor, as in calstis.
    """
    gain = _finite(atodgain, "ATODGAIN")
    if gain <= 0:
        raise ValueError(f"ATODGAIN = {atodgain!r} must be positive")
    exptimes = np.atleast_1d(np.asarray(exptimes, np.float64))
    temps = np.broadcast_to(np.asarray(temperatures, np.float64), exptimes.shape)
    factors = np.array([dark_temperature_factor(t, params) for t in temps])
    return factors * exptimes / gain


def combined_housing_temperature(temperatures, exptimes) -> float | None:
    """OCCDHTAV calstis writes on a CR-combined image (``crrej_do``): sum(T t) / sum(t).

    Imsets without OCCDHTAV enter with T = -1, as in calstis; nothing is written (None)
    unless both sums are positive.

    Parameters
    ----------
    temperatures : array_like of float or None
        OCCDHTAV of each combined imset (None: absent).
    exptimes : array_like of float
        Their EXPTIME, s.

    Returns
    -------
    float or None
    """
    temps = np.array([UNKNOWN_TEMPERATURE if t is None else float(t) for t in temperatures])
    times = np.asarray(exptimes, np.float64)
    total = float(times.sum())
    weighted = float(np.sum(temps * times))
    if total > 0 and weighted > 0:
        return weighted / total
    return None
