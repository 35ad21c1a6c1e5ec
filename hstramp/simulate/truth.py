"""The truth file of a simulated exposure (``<rootname>_truth.fits``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp.simulate._fits import image_extension, primary_header, write_hdulist

log = logging.getLogger(__name__)

__all__ = ["TRUTH_EXTENSIONS", "Truth", "write_truth"]

#: image extensions of the truth file and what they hold
TRUTH_EXTENSIONS = {
    "RATE_E": "sky + sources, e-/s, no dark (what FLATCORR-calibrated data should give)",
    "RATE_DN": "sky + sources, DN/s before the flat: RATE_E * FLAT / mean gain",
    "DARK_E": "dark current, e-/s",
    "DARK_DN": "dark current, DN/s (DARK_E / amplifier gain)",
    "FLAT": "combined flat P*D*L under the image (what FLATCORR divides by)",
    "GAIN": "gain of each pixel's amplifier, e-/DN",
    "BIAS": "bias of each pixel at the zeroth read (raw DN without signal or noise)",
    "ZEROSIG": "linear charge in the zeroth read, DN (collected during T_RESET)",
    "FIRSTSAT": "first saturated read (time order), -1 if never",
    "BADPIX": "BPIXTAB flags applied to this image (uint16)",
}


@dataclass(frozen=True, eq=False)
class Truth:
    """Arrays and tables describing what a simulated exposure contains.

    Attributes
    ----------
    images : dict
        EXTNAME -> ``[ny, nx]`` array for each of :data:`TRUTH_EXTENSIONS`.
    times : numpy.ndarray
        Read times, s since the zeroth read.
    drift : numpy.ndarray
        Per-read bias drift, DN (0 for the zeroth read).
    tvb_rate : numpy.ndarray
        Extra background rate at each read, e-/s (zeros without TVB).
    tvb_charge : numpy.ndarray
        Extra background collected up to each read since the zeroth read, e-.
    cosmic_rays : dict
        ``X, Y, READ, TIME, AMPLITUDE`` columns.
    stars : dict
        ``X, Y, FLUX, SIGMA`` columns.
    keywords : list
        ``(keyword, value, comment)`` for the primary header (T_RESET, SEED ...).
    """

    images: dict
    times: np.ndarray
    drift: np.ndarray
    tvb_rate: np.ndarray
    tvb_charge: np.ndarray
    cosmic_rays: dict
    stars: dict
    keywords: list


def _table(name: str, columns: dict) -> fits.BinTableHDU:
    cols = []
    for key, values in columns.items():
        values = np.asarray(values)
        fmt = "K" if values.dtype.kind in "iu" else "D"
        cols.append(fits.Column(name=key, format=fmt, array=values))
    return fits.BinTableHDU.from_columns(cols, name=name)


def write_truth(path, truth: Truth) -> Path:
    """Write the truth file.

    Extensions: the images of :data:`TRUTH_EXTENSIONS`; READS (READ, SAMPTIME, DRIFT,
    TVB_RATE, TVB_E); CRS (X, Y, READ, TIME, AMPLITUDE); STARS (X, Y, FLUX, SIGMA).
    Positions are 0-indexed array indices of the raw image; READ is the time-order index.

    Parameters
    ----------
    path : str or Path
        Destination.
    truth : Truth
        Contents.

    Returns
    -------
    Path
    """
    hdus = [fits.PrimaryHDU(header=primary_header(truth.keywords))]
    for name, comment in TRUTH_EXTENSIONS.items():
        hdus.append(image_extension(name, 1, truth.images[name],
                                    [("COMMENT", comment)]))
    hdus.append(_table("READS", {
        "READ": np.arange(truth.times.size), "SAMPTIME": truth.times, "DRIFT": truth.drift,
        "TVB_RATE": truth.tvb_rate, "TVB_E": truth.tvb_charge}))
    hdus.append(_table("CRS", truth.cosmic_rays))
    hdus.append(_table("STARS", truth.stars))
    return write_hdulist(fits.HDUList(hdus), path)
