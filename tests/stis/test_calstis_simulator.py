"""The simulator's new files carry what calstis reads (cs1/getgrpinfo1.c, cs1/dodark.c,
cs0/sciflags.c), checked through hstramp's readers and the core."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.stis.darktemp import dark_temperature_parameters, housing_temperature
from hstramp.core.stis.routing import stis_products
from hstramp.reference.stis import STISGeometry, read_stis_image
from hstramp.simulate.stis.calibration import (
    repeated_exposure_raw,
    side2_raw,
    write_temperature_dark,
)


def test_side2_raw_has_occdhtav_and_expname(binned_sim, tmp_path):
    out = side2_raw(binned_sim.raw_path, tmp_path / "s_raw.fits", [20.5, None])
    with fits.open(out) as hdul:
        first, second = hdul["SCI", 1].header, hdul["SCI", 2].header
        assert first["OCCDHTAV"] == 20.5 and "OCCDHTAV" not in second
        assert first["EXPNAME"] == binned_sim.rootname[:8] + "j"
        assert housing_temperature(first.get("OCCDHTAV"), first["EXPSTART"]) == 20.5
        assert housing_temperature(second.get("OCCDHTAV"), second["EXPSTART"]) == -1.0
    with fits.open(binned_sim.raw_path) as raw:
        assert raw["SCI", 1].header["OCCDHTAV"] == 18.0          # input untouched


def test_repeated_exposure_raw_routes_through_cr_rejection(binned_sim, tmp_path):
    out = repeated_exposure_raw(binned_sim.raw_path, tmp_path / "r_raw.fits")
    with fits.open(out) as hdul:
        header = hdul[0].header
        switches = {k: header[k] for k in ("DQICORR", "BLEVCORR", "BIASCORR", "DARKCORR",
                                           "FLATCORR", "CRCORR", "RPTCORR", "EXPSCORR")}
        assert (header["RPTCORR"], header["CRCORR"], header["NRPTEXP"]) == ("PERFORM", "OMIT", 2)
    got = stis_products(switches, 2)
    assert got.products["crj"]["CRCORR"] == "COMPLETE"


@pytest.mark.parametrize(("ref_temp", "drk_vs_t", "expected"), [
    (20.0, 0.05, (20.0, 0.05, ())), (None, None, (18.0, 0.07, ("REF_TEMP", "DRK_VS_T")))])
def test_temperature_dark_keywords(tmp_path, ref_temp, drk_vs_t, expected):
    path = write_temperature_dark(tmp_path / "t_drk.fits", np.full((8, 8), 0.01, np.float32),
                                  ref_temp=ref_temp, drk_vs_t=drk_vs_t)
    dark = read_stis_image(path, "DARKFILE", STISGeometry((8, 8)))
    params = dark_temperature_parameters(dark.header.get("REF_TEMP"), dark.header.get("DRK_VS_T"))
    assert (params.ref_temp, params.drk_vs_t, params.defaulted) == expected
