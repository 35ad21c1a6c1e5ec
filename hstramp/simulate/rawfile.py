"""Write a WFC3/IR MultiAccum ``_raw.fits`` exactly in the STScI layout.

Primary HDU without data and with the full raw keyword set; NSAMP imsets of SCI (uint16
stored as int16 + BZERO 32768), ERR, DQ, SAMP and TIME, the last four as constant
extensions (ERR 0.0, DQ 0, SAMP = reads so far including this one, TIME = SAMPTIME), as in
real raw files; EXTVER 1 is the last read, EXTVER NSAMP the zeroth read.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.io import fits

from hstramp import __version__
from hstramp.core.geometry import ScienceGeometry
from hstramp.datamodels.dqflags import SDQFLAGS_DEFAULT
from hstramp.simulate._fits import (
    constant_extension,
    image_extension,
    primary_header,
    write_hdulist,
)

log = logging.getLogger(__name__)

__all__ = ["CALIBRATION_SWITCHES", "RawExposure", "mjd_to_datetime", "write_raw"]

#: switches written PERFORM (the IR steps); RPTCORR and DRIZCORR are OMIT
CALIBRATION_SWITCHES = ("DQICORR", "ZSIGCORR", "ZOFFCORR", "DARKCORR", "BLEVCORR",
                        "NLINCORR", "FLATCORR", "CRCORR", "UNITCORR", "PHOTCORR")
_REFERENCE_KEYWORDS = ("BPIXTAB", "CCDTAB", "OSCNTAB", "CRREJTAB", "DARKFILE", "NLINFILE",
                       "PFLTFILE", "DFLTFILE", "LFLTFILE", "GRAPHTAB", "COMPTAB", "IMPHTTAB",
                       "IDCTAB", "DGEOFILE", "MDRIZTAB")
#: pixel scale of WFC3/IR, degrees
_PIXEL_SCALE = 0.128 / 3600.0
_SECONDS_PER_DAY = 86400.0


@dataclass(frozen=True, eq=False)
class RawExposure:
    """Everything that goes into a raw file.

    Attributes
    ----------
    reads : numpy.ndarray
        uint16 ``[nsamp, ny, nx]`` in time order (read 0 = zeroth read).
    times : numpy.ndarray
        SAMPTIME of each read, s since the zeroth read.
    intervals : numpy.ndarray
        DELTATIM of each read, s (0 for the zeroth read).
    geometry : ScienceGeometry
        Shape and LTV.
    rootname, filter, samp_seq, subtype, aperture : str
        Header values.
    expstart : float
        EXPSTART, MJD.
    sampzero : float
        SAMPZERO, s.
    references : dict
        Reference keyword -> header value (``iref$name.fits`` or ``N/A``).
    ra, dec : float
        Pointing, degrees.
    seed : int
        Simulation seed (written as HSTRSEED).
    scan_type : str or None
        SCAN_TYP ('C', 'D', 'N'); None writes no SCAN_TYP (as OPUS headers before 2013).
    """

    reads: np.ndarray
    times: np.ndarray
    intervals: np.ndarray
    geometry: ScienceGeometry
    rootname: str
    filter: str
    samp_seq: str
    subtype: str
    aperture: str
    expstart: float
    sampzero: float
    references: dict
    ra: float = 150.1
    dec: float = 2.2
    seed: int = 0
    scan_type: str | None = None

    @property
    def nsamp(self) -> int:
        """Number of reads."""
        return int(self.reads.shape[0])

    @property
    def expend(self) -> float:
        """EXPEND, MJD."""
        return self.expstart + float(self.times[-1]) / _SECONDS_PER_DAY


def mjd_to_datetime(mjd: float) -> dt.datetime:
    """UTC date and time of an MJD.

    Parameters
    ----------
    mjd : float
        Modified Julian Date.

    Returns
    -------
    datetime.datetime
    """
    return dt.datetime(1858, 11, 17) + dt.timedelta(days=float(mjd))


def _primary_cards(raw: RawExposure) -> list:
    start = mjd_to_datetime(raw.expstart)
    subarray = raw.subtype != "FULLIMAG"
    refs = [(k, raw.references.get(k, "N/A"), "reference file") for k in _REFERENCE_KEYWORDS]
    switches = [(k, "PERFORM", "calibration switch") for k in CALIBRATION_SWITCHES]
    switches += [("RPTCORR", "OMIT", "combine repeat observations"),
                 ("DRIZCORR", "OMIT", "drizzle processing")]
    return [
        ("NEXTEND", 5 * raw.nsamp, "Number of standard extensions"),
        ("GROUPS", False, "image is in group format"),
        ("DATE", start.strftime("%Y-%m-%d"), "date this file was written (yyyy-mm-dd)"),
        ("FILENAME", f"{raw.rootname}_raw.fits", "name of file"),
        ("FILETYPE", "SCI", "type of data found in data file"),
        ("TELESCOP", "HST", "telescope used to acquire data"),
        ("INSTRUME", "WFC3", "identifier for instrument used to acquire data"),
        ("EQUINOX", 2000.0, "equinox of celestial coord. system"),
        ("ROOTNAME", raw.rootname, "rootname of the observation set"),
        ("IMAGETYP", "EXT", "type of exposure identifier"),
        ("PRIMESI", "WFC3", "instrument designated as prime"),
        ("TARGNAME", "HSTRAMP-SIMULATION", "proposer's target name"),
        ("RA_TARG", raw.ra, "right ascension of the target (deg) (J2000)"),
        ("DEC_TARG", raw.dec, "declination of the target (deg) (J2000)"),
        ("PROPOSID", 0, "PEP proposal identifier"),
        ("LINENUM", "01.001", "proposal logsheet line number"),
        ("PR_INV_L", "Simulation", "last name of principal investigator"),
        ("PR_INV_F", "hstramp", "first name of principal investigator"),
        ("PR_INV_M", "", "middle name / initial of principal investigator"),
        ("SUNANGLE", 90.0, "angle between sun and V1 axis"),
        ("MOONANGL", 90.0, "angle between moon and V1 axis"),
        ("SUN_ALT", -20.0, "altitude of the sun above Earth's limb"),
        ("FGSLOCK", "FINE", "commanded FGS lock (FINE,COARSE,GYROS,UNKNOWN)"),
        ("GYROMODE", "T", "number of gyros scheduled, T=3+OBAD"),
        ("REFFRAME", "ICRS", "guide star catalog version"),
        ("MTFLAG", "", "moving target flag; T if it is a moving target"),
        ("DATE-OBS", start.strftime("%Y-%m-%d"), "UT date of start of observation"),
        ("TIME-OBS", start.strftime("%H:%M:%S"), "UT time of start of observation"),
        ("EXPSTART", raw.expstart, "exposure start time (Modified Julian Date)"),
        ("EXPEND", raw.expend, "exposure end time (Modified Julian Date)"),
        ("EXPTIME", float(raw.times[-1]), "exposure duration (seconds)--calculated"),
        ("EXPFLAG", "NORMAL", "Exposure interruption indicator"),
        ("QUALCOM1", "", ""), ("QUALCOM2", "", ""), ("QUALCOM3", "", ""), ("QUALITY", "", ""),
        ("PA_V3", 0.0, "position angle of V3-axis of HST (deg)"),
        ("POSTARG1", 0.0, "POSTARG in axis 1 direction"),
        ("POSTARG2", 0.0, "POSTARG in axis 2 direction"),
        ("OPUS_VER", f"hstramp {__version__}", "software that wrote this file"),
        ("CAL_VER", "", "CALWF3 code version"),
        ("PROCTIME", raw.expend, "Pipeline processing time (MJD)"),
        ("OBSTYPE", "IMAGING", "observation type - imaging or spectroscopic"),
        ("OBSMODE", "MULTIACCUM", "operating mode"),
        ("SCLAMP", "NONE", "lamp status, NONE or name of lamp which is on"),
        ("NRPTEXP", 1, "number of repeat exposures in set: default 1"),
        ("SUBARRAY", subarray, "data from a subarray (T) or full frame (F)"),
        ("SUBTYPE", raw.subtype, "Size/type of IR subarray"),
        ("DETECTOR", "IR", "detector in use: UVIS or IR"),
        ("FILTER", raw.filter, "element selected from filter wheel"),
        ("SAMP_SEQ", raw.samp_seq, "MultiAccum exposure time sequence name"),
        ("NSAMP", raw.nsamp, "number of MULTIACCUM samples"),
        ("SAMPZERO", raw.sampzero, "sample time of the zeroth read (sec)"),
        ("APERTURE", raw.aperture, "aperture name"),
        *([("SCAN_TYP", raw.scan_type, "C:bostrophidon; D:C with dwell; N:N/A")]
          if raw.scan_type else []),
        ("PROPAPER", "", "proposed aperture name"),
        ("DIRIMAGE", "NONE", "direct image for grism or prism exposure"),
        ("SAA_EXIT", "", "time of last exit from SAA contour level 23"),
        ("SAA_TIME", 0, "seconds since last exit from SAA contour 23"),
        ("SAA_DARK", "N/A", "association name for post-SAA dark exposures"),
        ("SAACRMAP", "N/A", "SAA cosmic ray map file"),
        *switches,
        *refs,
        ("MEANEXP", 0.0, "reference exposure time for parameters"),
        ("SCALENSE", 0.0, "multiplicative scale factor applied to noise"),
        ("INITGUES", "", "initial guess method (MIN or MED)"),
        ("SKYSUB", "", "sky value subtracted (MODE or NONE)"),
        ("SKYSUM", 0.0, "sky level from the sum of all constituent image"),
        ("CRSIGMAS", "", "statistical rejection criteria"),
        ("CRRADIUS", 0.0, "rejection propagation radius (pixels)"),
        ("CRTHRESH", 0.0, "rejection propagation threshold"),
        ("BADINPDQ", 0, "data quality flag bits to reject"),
        ("REJ_RATE", 0.0, "rate at which pixels are affected by cosmic ray"),
        ("CRMASK", False, "flag CR-rejected pixels in input files (T/F)"),
        ("PHOTMODE", "", "observation con"),
        ("PHOTFLAM", 0.0, "inverse sensitivity, ergs/cm2/Ang/electron"),
        ("PHOTFNU", 0.0, "inverse sensitivity, Jy*sec/electron"),
        ("PHOTZPT", 0.0, "ST magnitude zero point"),
        ("PHOTPLAM", 0.0, "Pivot wavelength (Angstroms)"),
        ("PHOTBW", 0.0, "RMS bandwidth of filter plus detector"),
        ("T_SGSTAR", "", "OMS calculated guide star control"),
        ("PATTERN1", "NONE", "primary pattern type"),
        ("P1_SHAPE", "", "primary pattern shape"),
        ("P1_PURPS", "", "primary pattern purpose"),
        ("P1_NPTS", 0, "number of points in primary pattern"),
        ("P1_PSPAC", 0.0, "point spacing for primary pattern (arc-sec)"),
        ("P1_LSPAC", 0.0, "line spacing for primary pattern (arc-sec)"),
        ("P1_ANGLE", 0.0, "angle between sides of parallelogram patt (deg)"),
        ("P1_FRAME", "", "coordinate frame of primary pattern"),
        ("P1_ORINT", 0.0, "orientation of pattern to coordinate frame (deg"),
        ("P1_CENTR", "", "center pattern relative to pointing (yes/no)"),
        ("PATTSTEP", 0, "position number of this point in the pattern"),
        ("CCDAMP", "ABCD", "CCD Amplifier Readout Configuration"),
        ("CCDGAIN", 2.5, "commanded gain of CCD"),
        ("CCDOFSAB", 190, "commanded CCD bias offset for amps A&B"),
        ("CCDOFSCD", 190, "commanded CCD bias offset for amps C&D"),
        *[(f"ATODGN{a}", 0.0, f"calibrated gain for amplifier {a}") for a in "ABCD"],
        *[(f"READNSE{a}", 0.0, f"calibrated read noise for amplifier {a}") for a in "ABCD"],
        *[(f"BIASLEV{a}", 0.0, f"bias level for amplifier {a}") for a in "ABCD"],
        ("ASN_ID", "NONE", "unique identifier assigned to association"),
        ("ASN_TAB", "", "name of the association table"),
        ("ASN_MTYP", "", "Role of the Member in the Association"),
        ("HSTRSEED", int(raw.seed), "hstramp simulation seed"),
    ]


def _wcs_cards(raw: RawExposure, with_lt: bool) -> list:
    ny, nx = raw.geometry.shape
    cards = [
        ("WCSAXES", 2, "number of World Coordinate System axes"),
        ("CRPIX1", (nx + 1) / 2.0, "x-coordinate of reference pixel"),
        ("CRPIX2", (ny + 1) / 2.0, "y-coordinate of reference pixel"),
        ("CRVAL1", raw.ra, "first axis value at reference pixel"),
        ("CRVAL2", raw.dec, "second axis value at reference pixel"),
        ("CTYPE1", "RA---TAN", "the coordinate type for the first axis"),
        ("CTYPE2", "DEC--TAN", "the coordinate type for the second axis"),
        ("CD1_1", -_PIXEL_SCALE, "partial of first axis coordinate w.r.t. x"),
        ("CD1_2", 0.0, "partial of first axis coordinate w.r.t. y"),
        ("CD2_1", 0.0, "partial of second axis coordinate w.r.t. x"),
        ("CD2_2", _PIXEL_SCALE, "partial of second axis coordinate w.r.t. y"),
    ]
    if with_lt:
        cards += [
            ("LTV1", raw.geometry.ltv[0], "offset in X to subsection start"),
            ("LTV2", raw.geometry.ltv[1], "offset in Y to subsection start"),
            ("LTM1_1", 1.0, "reciprocal of sampling rate in X"),
            ("LTM2_2", 1.0, "reciprocal of sampling rate in Y"),
            ("PA_APER", 0.0, "Position Angle of reference aperture center (de"),
            ("VAFACTOR", 1.0, "velocity aberration plate scale factor"),
        ]
    return cards


def _identity_cards(raw: RawExposure, bunit: str, datamin=0.0, datamax=0.0) -> list:
    return [
        ("ROOTNAME", raw.rootname, "rootname of the observation set"),
        ("EXPNAME", raw.rootname, "exposure identifier"),
        ("DATAMIN", float(datamin), "the minimum value of the data"),
        ("DATAMAX", float(datamax), "the maximum value of the data"),
        ("BUNIT", bunit, "brightness units"),
    ]


def _statistics_cards(ngood=0, good=(0.0, 0.0, 0.0), extra=True) -> list:
    cards = [
        ("NGOODPIX", int(ngood), "number of good pixels"),
        ("SDQFLAGS", SDQFLAGS_DEFAULT, "serious data quality flags"),
        ("GOODMIN", float(good[0]), "minimum value of good pixels"),
        ("GOODMAX", float(good[1]), "maximum value of good pixels"),
        ("GOODMEAN", float(good[2]), "mean value of good pixels"),
    ]
    if extra:
        cards += [
            ("SNRMIN", 0.0, "minimum signal to noise of good pixels"),
            ("SNRMAX", 0.0, "maximum signal to noise of good pixels"),
            ("SNRMEAN", 0.0, "mean value of signal to noise of good pixels"),
            ("SOFTERRS", 0, "number of soft error pixels (DQF=1)"),
            ("MEANDARK", 0.0, "average of the dark values subtracted"),
            ("MEANBLEV", 0.0, "average of all bias levels subtracted"),
        ]
    return cards


def _sci_extension(raw: RawExposure, index: int, extver: int) -> fits.ImageHDU:
    data = raw.reads[index]
    ny, nx = raw.geometry.shape
    lo, hi, mean = float(data.min()), float(data.max()), float(data.mean(dtype=np.float64))
    cards = [
        *_identity_cards(raw, "COUNTS", lo, hi),
        *_wcs_cards(raw, with_lt=True),
        ("ORIENTAT", 0.0, "position angle of image y axis (deg. e of n)"),
        ("RA_APER", raw.ra, "RA of aperture reference position"),
        ("DEC_APER", raw.dec, "Declination of aperture reference position"),
        ("NCOMBINE", 1, "number of image sets combined during CR rejecti"),
        ("CENTERA1", 513, "subarray axis1 center pt in unbinned dect. pix"),
        ("CENTERA2", 513, "subarray axis2 center pt in unbinned dect. pix"),
        ("SIZAXIS1", nx, "subarray axis1 size in unbinned detector pixels"),
        ("SIZAXIS2", ny, "subarray axis2 size in unbinned detector pixels"),
        ("BINAXIS1", 1, "axis1 data bin size in unbinned detector pixels"),
        ("BINAXIS2", 1, "axis2 data bin size in unbinned detector pixels"),
        ("SAMPNUM", index, "MULTIACCUM sample number"),
        ("SAMPTIME", float(raw.times[index]), "total integration time (sec)"),
        ("DELTATIM", float(raw.intervals[index]), "integration time of this sample (sec)"),
        ("ROUTTIME", raw.expstart + float(raw.times[index]) / _SECONDS_PER_DAY,
         "UT time of array readout (MJD)"),
        ("TDFTRANS", 0, "number of TDF transitions during current sample"),
        ("FILLCNT", 0, "number of segments containing fill"),
        ("ERRCNT", 0, "number of segments containing errors"),
        ("PODPSFF", False, "podps fill present (T/F)"),
        ("STDCFFF", False, "science telemetry fill data present (T=1/F=0)"),
        ("STDCFFP", "0x5569", "science telemetry fill pattern (hex)"),
        *_statistics_cards(data.size, (lo, hi, mean)),
    ]
    return image_extension("SCI", extver, data, cards)


def _constant_extensions(raw: RawExposure, index: int, extver: int) -> list:
    shape = raw.geometry.shape
    return [
        constant_extension("ERR", extver, shape, 0.0,
                           [*_identity_cards(raw, "COUNTS"), *_wcs_cards(raw, True),
                            *_statistics_cards(extra=False)]),
        constant_extension("DQ", extver, shape, 0,
                           [*_identity_cards(raw, "UNITLESS"), *_wcs_cards(raw, True)]),
        constant_extension("SAMP", extver, shape, index + 1,
                           [*_identity_cards(raw, "SAMPLES"), *_wcs_cards(raw, False)]),
        constant_extension("TIME", extver, shape, float(raw.times[index]),
                           [*_identity_cards(raw, "SECONDS"), *_wcs_cards(raw, False)]),
    ]


def write_raw(path, raw: RawExposure) -> Path:
    """Write a raw MultiAccum file (newest read first, EXTVER 1 = last read).

    Parameters
    ----------
    path : str or Path
        Destination (``<rootname>_raw.fits``).
    raw : RawExposure
        Reads and header values.

    Returns
    -------
    Path
    """
    if raw.reads.dtype != np.uint16:
        raise ValueError(f"raw reads must be uint16, got {raw.reads.dtype}")
    hdus = [fits.PrimaryHDU(header=primary_header(_primary_cards(raw)))]
    for extver in range(1, raw.nsamp + 1):
        index = raw.nsamp - extver  # EXTVER 1 = last read
        hdus.append(_sci_extension(raw, index, extver))
        hdus.extend(_constant_extensions(raw, index, extver))
    return write_hdulist(fits.HDUList(hdus), path)
