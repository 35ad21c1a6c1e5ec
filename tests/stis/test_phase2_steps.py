"""Issue 20 phase 2: the SHADCORR, ATODCORR and PHOTCORR steps and the dark's temperature
factor, each against the simulator's references (what calstis does with them)."""

import logging

import numpy as np
import pytest

from hstramp.core.stis.darktemp import CCD_REF_TEMP, DEFAULT_DRK_VS_T
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.errors import InputFileError
from hstramp.reference import ReferenceFileError
from hstramp.simulate.stis.calibration import write_shadfile, write_temperature_dark
from hstramp.steps.stis.dark import STISDarkStep
from hstramp.steps.stis.shading import STISShadingStep


def _image(shape=(20, 30), exptime=100.0, expstart=55000.0, occdhtav=None):
    model = STISImageModel(data=np.full(shape, 50.0, np.float32),
                           err=np.ones(shape, np.float32), dq=np.zeros(shape, np.uint16))
    model.meta.filename = "t_crj.fits"
    model.meta.exposure.exptime = exptime
    model.meta.exposure.expstart = expstart
    model.meta.stis.ncombine = 1
    model.meta.stis.occdhtav = occdhtav
    model.meta.stis.ccdamp, model.meta.stis.ccdgain = "D", 1
    return model


def test_shadcorr_divides_by_one_plus_shading_over_exptime(tmp_path):
    shading = np.full((20, 30), 0.5, np.float32)
    path = write_shadfile(tmp_path / "shad.fits", shading)
    model = _image()
    model.meta.cal_step.shadcorr = "PERFORM"
    out = STISShadingStep(override_shadfile=str(path)).run(model)
    np.testing.assert_allclose(out.data, 50.0 / (1 + 0.5 / 100.0), rtol=1e-6)
    assert out.meta.cal_step.shadcorr == "COMPLETE"


def test_shadcorr_is_omit_when_the_raw_has_no_switch(tmp_path):
    out = STISShadingStep().run(_image())
    np.testing.assert_array_equal(out.data, 50.0)
    assert out.meta.cal_step.shadcorr is None


@pytest.mark.hostile("traceback")
def test_shading_file_of_the_wrong_size_names_shadfile(tmp_path):
    path = write_shadfile(tmp_path / "shad.fits", np.zeros((10, 10), np.float32))
    model = _image()
    model.meta.cal_step.shadcorr = "PERFORM"
    with pytest.raises(ReferenceFileError, match="SHADFILE"):
        STISShadingStep(override_shadfile=str(path)).run(model)


@pytest.mark.parametrize("occdhtav, factor", [(None, 1.0), (20.0, 1 + 0.07 * 2.0)])
def test_dark_temperature_factor(tmp_path, occdhtav, factor):
    from hstramp.simulate.stis.references import write_ccdtab

    ccdtab = write_ccdtab(tmp_path / "ccd.fits")
    dark = write_temperature_dark(tmp_path / "dark.fits", np.full((20, 30), 0.01, np.float32))
    model = _image(occdhtav=occdhtav)
    model.meta.cal_step.darkcorr = "PERFORM"
    out = STISDarkStep(override_darkfile=str(dark), override_ccdtab=str(ccdtab)).run(model)
    gain = 1.0
    np.testing.assert_allclose(out.data, 50.0 - 0.01 * 100.0 / gain * factor, rtol=1e-5)


@pytest.mark.hostile("silent")
def test_dark_without_ref_temp_uses_calstis_defaults(tmp_path, caplog):
    from astropy.io import fits

    from hstramp.simulate.stis.references import write_ccdtab

    ccdtab = write_ccdtab(tmp_path / "ccd.fits")
    dark = write_temperature_dark(tmp_path / "dark.fits", np.full((20, 30), 0.01, np.float32))
    with fits.open(dark, mode="update") as hdul:
        del hdul[0].header["REF_TEMP"]
        del hdul[0].header["DRK_VS_T"]
    model = _image(occdhtav=CCD_REF_TEMP + 10.0)
    model.meta.cal_step.darkcorr = "PERFORM"
    with caplog.at_level(logging.INFO):
        out = STISDarkStep(override_darkfile=str(dark), override_ccdtab=str(ccdtab)).run(model)
    assert "calstis's defaults" in caplog.text
    np.testing.assert_allclose(out.data, 50.0 - 1.0 * (1 + DEFAULT_DRK_VS_T * 10.0), rtol=1e-5)


@pytest.mark.hostile("traceback")
def test_unreadable_occdhtav_names_the_keyword():
    model = STISCCDModel(data=np.zeros((1, 5, 5), np.float32))
    model.expstart[:] = 55000.0
    model.occdhtav[:] = np.inf
    from hstramp.steps.stis.common import imset_temperatures

    with pytest.raises(InputFileError, match="OCCDHTAV"):
        imset_temperatures(model)
