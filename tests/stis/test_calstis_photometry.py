"""PHOTCORR as calstis cs1/photmode.c and cs1/dophot.c (A2D removal, ATODGAIN, TDS temperature)."""

import numpy as np
import pytest

from hstramp.core.stis.photometry import (
    TDSTemperature,
    imphttab_obsmode,
    stis_photcorr,
    stis_photmode,
    strip_a2d,
    tds_temperature_factor,
)
from hstramp.reference.common import ReferenceFileError
from hstramp.reference.stis.photometry import read_stis_imphttab, read_stis_tdstab
from hstramp.simulate.stis.calibration import derive_fits, write_stis_imphttab, write_tdstab


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({"aperture": "50CCD", "opt_elem": "MIRROR", "expstart": 55000.25, "ccdgain": 1},
     "STIS 50CCD A2D1 MIRROR CCD MJD#55000.2500"),
    ({"aperture": "F28X50LP", "opt_elem": "MIRVIS", "expstart": 52000.123456, "ccdgain": 4},
     "STIS F28X50LP A2D4 MIRROR CCD MJD#52000.1235"),
    ({"aperture": "52X2", "opt_elem": "G430L", "expstart": 55000.0, "ccdgain": 1,
      "obstype": "SPECTROSCOPIC", "cenwave": 4300},
     "STIS 52X2 A2D1 G430L CCD 4300 MJD#55000.0000"),
    ({"aperture": "25MAMA", "opt_elem": "F25SRF2", "expstart": 55000.0, "ccdgain": None,
      "detector": "FUV-MAMA"}, "STIS 25MAMA F25SRF2 FUVMAMA MJD#55000.0000"),
])
def test_photmode(kwargs, expected):
    assert stis_photmode(**kwargs) == expected


@pytest.mark.parametrize(("photmode", "stripped", "found", "obsmode"), [
    ("STIS 50CCD A2D1 MIRROR CCD MJD#55000.2500", "STIS 50CCD MIRROR CCD MJD#55000.2500", True,
     "stis,50ccd,mirror,ccd,mjd#55000.2500"),
    ("STIS 25MAMA F25SRF2 FUVMAMA MJD#5.0", "STIS 25MAMA F25SRF2 FUVMAMA MJD#5.0", False,
     "stis,25mama,f25srf2,fuvmama,mjd#5.0"),
])
def test_a2d_removed_for_the_lookup(photmode, stripped, found, obsmode):
    assert strip_a2d(photmode) == (stripped, found)
    assert imphttab_obsmode(photmode) == obsmode


TDS = TDSTemperature(wavelength=np.array([2000.0, 6000.0, 10000.0]),
                     tempsens=np.array([0.001, 0.003, 0.005]), ref_temp=18.0)


@pytest.mark.parametrize(("plam", "temp", "expected"), [
    (6000.0, 20.0, 1.006),          # 1 + 0.003 * 2
    (4000.0, 20.0, 1.004),          # TEMPSENS interpolated: 0.002
    (12000.0, 19.0, 1.005),         # beyond the table: end value
    (6000.0, -1.0, 1.0),            # unknown temperature
    (6000.0, 0.0, 0.946),           # calstis: T >= 0 counts
])
def test_tds_temperature_factor(plam, temp, expected):
    assert tds_temperature_factor(plam, TDS, temp) == pytest.approx(expected)


def test_photcorr_keywords():
    mode = "STIS 50CCD A2D4 MIRROR CCD MJD#55000.2500"
    got = stis_photcorr(mode, (2e-19, 6000.0, 1500.0, -21.1), atodgain=4.0, temperature=20.0,
                        tds=TDS)
    assert got.status == "COMPLETE"
    assert got.keywords["PHOTFLAM"] == pytest.approx(2e-19 * 4.0 / 1.006)
    assert got.keywords["PHOTPLAM"] == 6000.0 and got.keywords["PHOTBW"] == 1500.0
    assert got.keywords["PHOTZPT"] == -21.1 and "PHOTFNU" not in got.keywords
    assert got.keywords["PHOTMODE"] == mode


def test_photcorr_skipped_cases():
    mode = "STIS 50CCD A2D1 MIRROR CCD MJD#1.0"
    assert stis_photcorr(mode, None, atodgain=1.0, temperature=20, tds=TDS).status == "SKIPPED"
    undefined = stis_photcorr(mode, (-9999.0, -9999.0, -9999.0, -21.1), atodgain=4.0,
                              temperature=20.0, tds=TDS)
    assert undefined.status == "SKIPPED" and undefined.keywords["PHOTFLAM"] == -9999.0


MODES = {"stis,50ccd,mirror,ccd,mjd#": ([52000.0, 58000.0], [2.0e-19, 2.6e-19], 5800.0, 2000.0)}


def test_imphttab_lookup_interpolates_in_mjd(tmp_path):
    path = write_stis_imphttab(tmp_path / "x_imp.fits", MODES)
    got = read_stis_imphttab(path, "STIS 50CCD A2D1 MIRROR CCD MJD#55000.0000")
    assert got == pytest.approx((2.3e-19, 5800.0, 2000.0, -21.1))


def test_imphttab_failures_skip_like_calstis(tmp_path, caplog):
    path = write_stis_imphttab(tmp_path / "x_imp.fits", MODES)
    assert read_stis_imphttab(path, "STIS 50CCD A2D1 MIRROR CCD MJD#60000.0") is None
    assert read_stis_imphttab(path, "STIS 52X2 A2D1 MIRROR CCD MJD#55000.0") is None
    assert "PHOTCORR will be SKIPPED" in caplog.text
    with pytest.raises(ReferenceFileError, match="IMPHTTAB"):
        read_stis_imphttab(tmp_path / "missing_imp.fits", "STIS 50CCD MJD#1")


def test_tdstab_reader(tmp_path):
    path = write_tdstab(tmp_path / "x_tds.fits", {
        "MIRROR": ([2000.0, 6000.0, 10000.0], [0.001, 0.003, 0.005], 18.0),
        "G430L": ([3000.0, 5000.0], [0.002, 0.002], 20.0)})
    got = read_stis_tdstab(path, "MIRROR")
    np.testing.assert_allclose(got.tempsens, TDS.tempsens)
    assert got.ref_temp == 18.0
    assert read_stis_tdstab(path, "G430L").wavelength.tolist() == [3000.0, 5000.0]
    with pytest.raises(ReferenceFileError, match="OPT_ELEM G750L"):
        read_stis_tdstab(path, "G750L")
    dummy = derive_fits(path, tmp_path / "d_tds.fits", primary={"PEDIGREE": "DUMMY"})
    assert read_stis_tdstab(dummy, "MIRROR") is None
