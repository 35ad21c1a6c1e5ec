"""Tests of hstramp.core.phot: PHOTMODE, OBSMODE and PHOTFNU."""

import pytest

from hstramp.core.phot import FNU_PER_FLAM_ANGSTROM2, obsmode, photmode, photometry_keywords


@pytest.mark.parametrize(
    ("filter_name", "expstart", "expected"),
    [
        ("F160W", 56195.57756923, "WFC3 IR F160W MJD#56195.5776"),
        ("G141", 55000.0, "WFC3 IR G141 MJD#55000.0000"),
        ("F126N", 56693.32537294, "WFC3 IR F126N MJD#56693.3254"),
        ("CLEAR", 56000.5, "WFC3 IR MJD#56000.5000"),  # CLEAR is left out
        ("BLANK", 56000.5, "WFC3 IR BLANK MJD#56000.5000"),
    ],
)
def test_photmode(filter_name, expstart, expected):
    assert photmode(filter_name, expstart) == expected


def test_obsmode():
    assert obsmode("WFC3 IR F160W MJD#56195.5776") == "wfc3,ir,f160w,mjd#56195.5776"


def test_photometry_keywords():
    keys = photometry_keywords("F160W", 56195.57756923, 1.9275602e-20, 15369.176, 826.25085)
    assert keys["PHOTMODE"] == "WFC3 IR F160W MJD#56195.5776"
    assert keys["PHOTZPT"] == -21.1
    assert keys["PHOTFNU"] == pytest.approx(1.5187570e-07, rel=1e-6)
    assert keys["PHOTFLAM"] == 1.9275602e-20
    assert (keys["PHOTPLAM"], keys["PHOTBW"]) == (15369.176, 826.25085)
    assert FNU_PER_FLAM_ANGSTROM2 == 3.33564e4


@pytest.mark.parametrize("name", ["iccz11q4q_ima.fits", "ibh726meq_ima.fits"])
def test_photfnu_matches_real_calwf3_headers(real_file, name):
    fits = pytest.importorskip("astropy.io.fits")
    header = fits.getheader(real_file(name))
    keys = photometry_keywords(
        header["FILTER"],
        header["EXPSTART"],
        header["PHOTFLAM"],
        header["PHOTPLAM"],
        header["PHOTBW"],
        header["PHOTZPT"],
    )
    assert keys["PHOTFNU"] == pytest.approx(header["PHOTFNU"], rel=1e-6)
    # calwf3 3.5 wrote PHOTMODE without the MJD that calwf3 appends for IR since April 2024
    assert keys["PHOTMODE"].startswith(header["PHOTMODE"] + " MJD#")
