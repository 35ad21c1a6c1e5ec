"""calwf3's switch semantics: the flt without CRCORR, a COMPLETE ima re-entered, the CRREJTAB
threshold, and the cosmic-ray flags of the ima's reads."""

import logging

import numpy as np
from astropy.io import fits

from hstramp.core.dqflags import CR_RAMP
from hstramp.pipeline.wfc3ir import WFC3IRPipeline

BORDER = 5


def _omit_crcorr(exposure, directory):
    raw = directory / exposure.raw_path.name
    directory.mkdir()
    with fits.open(exposure.raw_path) as hdul:
        hdul[0].header["CRCORR"] = "OMIT"
        hdul.writeto(raw)
    return raw


def test_crcorr_omit_writes_the_last_read_trimmed(exposure, iref, tmp_path):
    raw = _omit_crcorr(exposure, tmp_path / "in")
    WFC3IRPipeline.call(str(raw), output_dir=str(tmp_path / "out"))
    root = tmp_path / "out" / exposure.rootname
    with fits.open(f"{root}_ima.fits") as ima, fits.open(f"{root}_flt.fits") as flt:
        inner = (slice(BORDER, -BORDER),) * 2
        assert flt[0].header["CRCORR"] == "OMIT"
        for name in ("SCI", "ERR", "DQ"):
            np.testing.assert_array_equal(flt[name].data, ima[name, 1].data[inner])
        assert (flt["SAMP"].data == ima[0].header["NSAMP"]).all()
        assert np.allclose(flt["TIME"].data, ima["SCI", 1].header["SAMPTIME"])
        assert flt["SCI"].header["BUNIT"] == "ELECTRONS/S"


def test_a_complete_ima_reentered_is_not_processed_as_calwf3(exposure, iref, tmp_path, caplog):
    # calwf3.e 3.7.3 on its own fully COMPLETE ima: "No calibration switch was set to
    # PERFORM", "CALWF3 did NOT process", exit 0, no product (GetIRFlags counts no step)
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path / "first"))
    ima = tmp_path / "first" / f"{exposure.rootname}_ima.fits"
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        WFC3IRPipeline.call(str(ima), output_dir=str(tmp_path / "again"))
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())
    assert "nothing to do" in caplog.text
    # asking for the fit again is work: the flt is the fit of the ima's reads
    WFC3IRPipeline.call(str(ima), output_dir=str(tmp_path / "refit"),
                        steps={"jump": {"switch": "perform"}, "ramp_fit": {"switch": "perform"}})
    with fits.open(tmp_path / "refit" / f"{exposure.rootname}_flt.fits") as flt:
        assert flt["SCI"].header["BUNIT"] == "ELECTRONS/S"


def test_the_threshold_comes_from_crrejtab_unless_given(exposure, iref, tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="hstramp.steps.jump"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path / "table"))
    assert "rejection threshold 4 sigma from CRREJTAB" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="hstramp.steps.jump"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path / "given"),
                            steps={"jump": {"rejection_threshold": 2.5}})
    assert "from CRREJTAB" not in caplog.text
    dq = {}
    for name in ("table", "given"):
        with fits.open(tmp_path / name / f"{exposure.rootname}_ima.fits") as ima:
            dq[name] = int((ima["DQ", 1].data & CR_RAMP != 0).sum())
    assert dq["given"] > dq["table"]


def test_cosmic_ray_flags_in_the_ima_mean_what_calwf3_means(exposure, iref, tmp_path):
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    with fits.open(tmp_path / f"{exposure.rootname}_ima.fits") as ima:
        nsamp = ima[0].header["NSAMP"]
        flagged = np.array([ima["DQ", nsamp - t].data & CR_RAMP != 0 for t in range(nsamp)])
    border = np.ones(flagged.shape[1:], bool)
    border[BORDER:-BORDER, BORDER:-BORDER] = False
    assert not flagged[:, border].any()  # no CR flags on reference pixels
    assert flagged[-1].any()
    assert (np.diff(flagged.astype(int), axis=0) >= 0).all()  # every later read stays flagged


def test_the_flt_keeps_the_last_reads_keywords_as_calwf3s_does(exposure, iref, tmp_path):
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    root = tmp_path / exposure.rootname
    with fits.open(f"{root}_ima.fits") as ima, fits.open(f"{root}_flt.fits") as flt:
        for keyword in ("MEANDARK", "MEANBLEV", "SAMPNUM", "SAMPTIME", "DELTATIM", "ROUTTIME"):
            assert flt["SCI"].header[keyword] == ima["SCI", 1].header[keyword], keyword
