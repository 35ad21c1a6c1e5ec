"""STIS PHOTCORR keywords (calstis ``cs1/photmode.c``, ``cs1/dophot.c``).

1. PHOTMODE (written whatever PHOTCORR says): ``STIS <APERTURE> A2D<CCDGAIN>
   MIRROR|<OPT_ELEM> CCD [<CENWAVE>] MJD#<EXPSTART:.4f>`` (``MIRROR`` for any OPT_ELEM
   starting with MIR; CENWAVE only for spectroscopic data).
2. The IMPHTTAB obsmode is PHOTMODE without the ``A2D<gain>`` word, lower case, commas
   for blanks; PHOTFLAM, PHOTPLAM, PHOTBW come from the IMPHTTAB (interpolated in MJD),
   PHOTZPT from its primary header.
3. Because A2D was in PHOTMODE, PHOTFLAM is multiplied by ATODGAIN (the table is per e-).
4. Temperature part of the time-dependent sensitivity (TDSTAB row for OPT_ELEM):
   PHOTFLAM is divided by ``1 + TEMPSENS(PHOTPLAM) * (T - REFTEMP)`` with TEMPSENS
   interpolated linearly at the pivot wavelength (end values beyond the table) and T
   the housing temperature; no correction when T < 0. calstis cs1 takes the time
   dependence from the IMPHTTAB's MJD parameter, not from the TDS slopes.
5. Values of -9999 (MJD outside the IMPHTTAB, no EXTRAP) or a lookup failure: PHOTCORR
   becomes SKIPPED; calstis writes no PHOTFNU for STIS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "IMPHTTAB_UNDEFINED",
    "STISPhotometry",
    "TDSTemperature",
    "imphttab_obsmode",
    "stis_photcorr",
    "stis_photmode",
    "strip_a2d",
    "tds_temperature_factor",
]

#: calstis treats IMPHTTAB values below this as "outside the table" (-9999)
IMPHTTAB_UNDEFINED = -9990.0
_DETECTOR_WORD = {"CCD": "CCD", "NUV-MAMA": "NUVMAMA", "FUV-MAMA": "FUVMAMA"}


def stis_photmode(*, aperture: str, opt_elem: str, expstart: float, ccdgain: int | None,
                  detector: str = "CCD", obstype: str = "IMAGING",
                  cenwave: int | None = None) -> str:
    """PHOTMODE as calstis ``PhotMode`` builds it.

    Parameters
    ----------
    aperture, opt_elem : str
        APERTURE and OPT_ELEM.
    expstart : float
        EXPSTART of the first good imset, MJD.
    ccdgain : int or None
        CCDGAIN (CCD only).
    detector : str
        DETECTOR.
    obstype : str
        OBSTYPE; CENWAVE is added for SPECTROSCOPIC when positive.
    cenwave : int, optional

    Returns
    -------
    str
        e.g. ``STIS 50CCD A2D1 MIRROR CCD MJD#55000.2500``.
    """
    words = ["STIS", str(aperture).strip()]
    det = str(detector).strip().upper()
    if det == "CCD":
        words.append(f"A2D{int(ccdgain)}")
    elem = str(opt_elem).strip()
    words.append("MIRROR" if elem.startswith("MIR") else elem)
    if det in _DETECTOR_WORD:
        words.append(_DETECTOR_WORD[det])
    if str(obstype).strip().upper() == "SPECTROSCOPIC" and cenwave is not None and cenwave > 0:
        words.append(str(int(cenwave)))
    words.append(f"MJD#{expstart:0.4f}")
    return " ".join(words)


def strip_a2d(photmode: str) -> tuple[str, bool]:
    """PHOTMODE without its ``A2D<gain>`` word, and whether there was one (``removeA2D``)."""
    words = photmode.split(" ")
    kept = [w for w in words if not w.upper().startswith("A2D")]
    return " ".join(kept), len(kept) != len(words)


def imphttab_obsmode(photmode: str) -> str:
    """The IMPHTTAB obsmode: A2D removed, lower case, blanks turned into commas."""
    return strip_a2d(photmode)[0].lower().replace(" ", ",")


@dataclass(frozen=True)
class TDSTemperature:
    """The temperature columns of one TDSTAB row.

    Attributes
    ----------
    wavelength : ndarray
        WAVELENGTH (first NWL values), Angstrom, increasing.
    tempsens : ndarray
        TEMPSENS, fractional sensitivity change per deg C (zeros without the column).
    ref_temp : float
        REFTEMP, deg C (-1 without the column).
    """

    wavelength: np.ndarray
    tempsens: np.ndarray
    ref_temp: float


def tds_temperature_factor(photplam: float, tds: TDSTemperature | None,
                           temperature: float) -> float:
    """``1 + TEMPSENS(PHOTPLAM) * (T - REFTEMP)``; 1 for T < 0 or no TDS (``tempFactor``).

    Parameters
    ----------
    photplam : float
        Pivot wavelength, Angstrom.
    tds : TDSTemperature or None
        The TDSTAB row (None: TDSTAB N/A or DUMMY).
    temperature : float
        Housing temperature (:func:`hstramp.core.stis.darktemp.housing_temperature`).

    Returns
    -------
    float
    """
    if tds is None or not temperature >= 0:
        return 1.0
    sens = float(np.interp(photplam, tds.wavelength, tds.tempsens))
    return 1.0 + sens * (float(temperature) - tds.ref_temp)


@dataclass(frozen=True)
class STISPhotometry:
    """Result of :func:`stis_photcorr`.

    Attributes
    ----------
    keywords : dict
        PHOTMODE and, when the lookup worked, PHOTFLAM, PHOTZPT, PHOTPLAM, PHOTBW.
    status : str
        ``COMPLETE`` or ``SKIPPED`` (the PHOTCORR value calstis writes).
    tds_factor : float
        The temperature factor PHOTFLAM was divided by.
    """

    keywords: dict
    status: str
    tds_factor: float


def stis_photcorr(photmode: str, table_values, *, atodgain: float, temperature: float,
                  tds: TDSTemperature | None) -> STISPhotometry:
    """The PHOTCORR keywords of a STIS image from the IMPHTTAB values (calstis ``doPhot``).

    Parameters
    ----------
    photmode : str
        From :func:`stis_photmode`.
    table_values : tuple of 4 float or None
        ``(PHOTFLAM, PHOTPLAM, PHOTBW, PHOTZPT)`` looked up for :func:`imphttab_obsmode`;
        None when the lookup failed (calstis: "photmode not found", SKIPPED).
    atodgain : float
        CCDTAB ATODGAIN (used when PHOTMODE has A2D).
    temperature : float
        Housing temperature, deg C (-1: unknown).
    tds : TDSTemperature or None
        TDSTAB row for OPT_ELEM (None: no TDS correction).

    Returns
    -------
    STISPhotometry
    """
    keywords = {"PHOTMODE": photmode}
    if table_values is None:
        return STISPhotometry(keywords=keywords, status="SKIPPED", tds_factor=1.0)
    flam, plam, bw, zpt = (float(v) for v in table_values)
    if not all(math.isfinite(v) for v in (flam, plam, bw, zpt)):
        raise ValueError(f"IMPHTTAB values for {photmode!r} are not finite: "
                         f"{(flam, plam, bw, zpt)}")
    undefined = flam < IMPHTTAB_UNDEFINED and plam < IMPHTTAB_UNDEFINED \
        and bw < IMPHTTAB_UNDEFINED
    factor = 1.0
    if not undefined:
        if strip_a2d(photmode)[1]:
            flam *= float(atodgain)
        factor = tds_temperature_factor(plam, tds, temperature)
        flam /= factor
    keywords.update(PHOTFLAM=flam, PHOTZPT=zpt, PHOTPLAM=plam, PHOTBW=bw)
    return STISPhotometry(keywords=keywords, status="SKIPPED" if undefined else "COMPLETE",
                          tds_factor=factor)
