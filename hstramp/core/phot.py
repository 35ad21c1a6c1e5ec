"""Photometry keywords (calwf3 ``PhotMode`` and ``photcalc``).

PHOTCORR touches no pixel: it builds PHOTMODE, looks the mode up in the
IMPHTTAB (the reference reader's job) and writes the keywords computed here.
"""

from __future__ import annotations

__all__ = [
    "FNU_PER_FLAM_ANGSTROM2",
    "STMAG_ZEROPOINT",
    "obsmode",
    "photmode",
    "photometry_keywords",
]

#: PHOTFNU = FNU_PER_FLAM_ANGSTROM2 * PHOTFLAM * PHOTPLAM^2 (Jy s / e-; c in A/s and 1e23 Jy)
FNU_PER_FLAM_ANGSTROM2 = 3.33564e4
#: the ST magnitude zero point IMPHTTAB files carry as PHOTZPT
STMAG_ZEROPOINT = -21.10


def photmode(filter_name: str, expstart: float) -> str:
    """The PHOTMODE string of a WFC3/IR exposure: ``WFC3 IR <FILTER> MJD#<EXPSTART>``.

    The filter is left out when its name starts with CLEAR; EXPSTART is
    written with four decimals (calwf3 ``" MJD#%0.4f"``).

    Parameters
    ----------
    filter_name : str
        FILTER keyword (e.g. ``F160W``).
    expstart : float
        EXPSTART, MJD.

    Returns
    -------
    str
        e.g. ``WFC3 IR F160W MJD#55000.1235``.
    """
    parts = ["WFC3", "IR"]
    name = str(filter_name).strip().upper()
    if not name.startswith("CLEAR"):
        parts.append(name)
    parts.append(f"MJD#{expstart:0.4f}")
    return " ".join(parts)


def obsmode(mode: str) -> str:
    """The IMPHTTAB OBSMODE of a PHOTMODE: lower case, blanks turned into commas.

    Parameters
    ----------
    mode : str
        PHOTMODE, e.g. ``WFC3 IR F160W MJD#55000.1235``.

    Returns
    -------
    str
        e.g. ``wfc3,ir,f160w,mjd#55000.1235``.
    """
    return mode.lower().replace(" ", ",")


def photometry_keywords(
    filter_name: str,
    expstart: float,
    photflam: float,
    photplam: float,
    photbw: float,
    photzpt: float = STMAG_ZEROPOINT,
) -> dict[str, str | float]:
    """The photometry keywords calwf3 writes in the primary header.

    Parameters
    ----------
    filter_name : str
        FILTER keyword.
    expstart : float
        EXPSTART, MJD.
    photflam : float
        Inverse sensitivity from IMPHTTAB (interpolated to the MJD), erg/cm2/A/e-.
    photplam : float
        Pivot wavelength, A.
    photbw : float
        RMS bandwidth, A.
    photzpt : float, optional
        ST magnitude zero point (the IMPHTTAB primary header's PHOTZPT).

    Returns
    -------
    dict
        PHOTMODE, PHOTFLAM, PHOTFNU, PHOTZPT, PHOTPLAM, PHOTBW. calwf3 stores the
        numbers as float32; these are the full-precision values.
    """
    return {
        "PHOTMODE": photmode(filter_name, expstart),
        "PHOTFLAM": float(photflam),
        "PHOTFNU": FNU_PER_FLAM_ANGSTROM2 * float(photflam) * float(photplam) ** 2,
        "PHOTZPT": float(photzpt),
        "PHOTPLAM": float(photplam),
        "PHOTBW": float(photbw),
    }
