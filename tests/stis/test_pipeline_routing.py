"""STISCCDPipeline routes as calstis's cs0 (``stis_products``): which products for CR-SPLIT
and repeated exposures, their switches, and bad imsets (``cs1/do2d.c``, ``cs2/crrej_check.c``)."""

import logging

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.stis.routing import stis_products
from hstramp.errors import InputFileError
from hstramp.pipeline.stis import STISCCDPipeline
from hstramp.simulate.stis.calibration import derive_fits, repeated_exposure_raw

SWITCHES = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR", "DARKCORR", "FLATCORR", "SHADCORR",
            "PHOTCORR", "CRCORR", "RPTCORR", "EXPSCORR")


@pytest.fixture(scope="module")
def sim3(tmp_path_factory):
    """A 4x4-binned CR-SPLIT=3 exposure with EXPSCORR."""
    from hstramp.simulate.stis import simulate_stis_exposure

    return simulate_stis_exposure(tmp_path_factory.mktemp("stis_r3"), binning=4, crsplit=3,
                                  seed=11, expscorr=True)


@pytest.fixture
def oref3(sim3, monkeypatch):
    monkeypatch.setenv("oref", str(sim3.oref))
    return sim3.oref


def _raw_switches(path):
    header = fits.getheader(path, 0)
    return {k: header.get(k, "OMIT") for k in SWITCHES}, header


def _run(raw, out, **kwargs):
    STISCCDPipeline.call(str(raw), output_dir=str(out), **kwargs)
    return sorted(p.name.split("_")[-1][:-5] for p in out.glob("*.fits"))


def _check_switches(out, rootname, expected):
    """Every product's switches are those stis_products gives for the raw."""
    for suffix, switches in expected.products.items():
        header = fits.getheader(out / f"{rootname}_{suffix}.fits", 0)
        assert {k: header.get(k, "OMIT") for k in switches} == switches, suffix


def test_repeated_exposure_is_combined_like_a_cr_split(sim3, oref3, tmp_path):
    raw = repeated_exposure_raw(sim3.raw_path, tmp_path / "orpt0001q_raw.fits")
    switches, header = _raw_switches(raw)
    assert (switches["RPTCORR"], switches["CRCORR"], header["NRPTEXP"]) == ("PERFORM", "OMIT", 3)
    out = tmp_path / "out"
    out.mkdir()
    assert _run(raw, out) == ["crj", "flt"]
    expected = stis_products(switches, 3)
    _check_switches(out, sim3.rootname, expected)
    with fits.open(out / f"{sim3.rootname}_crj.fits") as crj:
        assert (crj[0].header["CRCORR"], crj[0].header["RPTCORR"]) == ("COMPLETE", "PERFORM")
        assert crj["SCI", 1].header["NCOMBINE"] == 3
        assert crj["SCI", 1].header["EXPTIME"] == pytest.approx(sim3.exptimes.sum())
    with fits.open(out / f"{sim3.rootname}_flt.fits") as flt:
        assert flt[0].header["NEXTEND"] == 9 and flt[0].header["CRCORR"] == "OMIT"
        assert all((flt["DQ", k].data & 8192).any() for k in (1, 2, 3))


def test_cr_split_without_basic_2d_writes_the_crj_only(sim3, oref3, tmp_path):
    raw = derive_fits(sim3.raw_path, tmp_path / "o_raw.fits",
                      primary={"DARKCORR": "OMIT", "FLATCORR": "OMIT"})
    out = tmp_path / "out"
    out.mkdir()
    assert _run(raw, out) == ["crj"]                   # cs0: EXPSCORR needs basic 2-D
    _check_switches(out, sim3.rootname, stis_products(_raw_switches(raw)[0], 3))


@pytest.mark.parametrize("primary", [
    {k: "OMIT" for k in ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "DARKCORR", "FLATCORR")},
    {"TEXPTIME": 0.0}])
def test_nothing_to_do_writes_nothing(sim3, oref3, tmp_path, caplog, primary):
    raw = derive_fits(sim3.raw_path, tmp_path / "o_raw.fits", primary=primary)
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING):
        assert _run(raw, out) == []
    assert "nothing written" in caplog.text


def _bad_imset_raw(sim, path, sci2):
    raw = derive_fits(sim.raw_path, path, sci=[{}, sci2])
    return raw


@pytest.mark.parametrize(("edit", "reason"), [
    ("exptime", "imset 2 flagged as bad because exptime = 0"),
    ("constant", "imset 2 flagged as bad because all values = 1400")])
def test_bad_imset_is_left_out_and_written_uncalibrated(sim3, oref3, tmp_path, caplog, edit,
                                                        reason):
    raw = _bad_imset_raw(sim3, tmp_path / "o_raw.fits",
                         {"EXPTIME": 0.0} if edit == "exptime" else {})
    if edit == "constant":
        with fits.open(raw, mode="update") as hdul:
            hdul["SCI", 2].data = np.full_like(hdul["SCI", 2].data, 1400)
    with fits.open(raw) as hdul:
        raw2 = hdul["SCI", 2].data.astype(np.float32)
        raw_ltv = hdul["SCI", 2].header["LTV1"]
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING):
        assert _run(raw, out) == ["crj", "flt"]
    assert reason in caplog.text
    good = sim3.exptimes[[0, 2]].sum()
    with fits.open(out / f"{sim3.rootname}_crj.fits") as crj:
        assert crj["SCI", 1].header["NCOMBINE"] == 2
        assert crj["SCI", 1].header["EXPTIME"] == pytest.approx(good)
    with fits.open(out / f"{sim3.rootname}_flt.fits") as flt:
        assert flt[0].header["NEXTEND"] == 9
        assert "IMSET_OK" not in flt["SCI", 1].header
        assert flt["SCI", 1].data.shape == sim3.science.shape
        assert flt["SCI", 2].header["IMSET_OK"] is False
        assert flt["SCI", 2].header["LTV1"] == raw_ltv
        np.testing.assert_array_equal(flt["SCI", 2].data, raw2)     # as read, overscan too
        assert flt["SCI", 3].header["EXPTIME"] == pytest.approx(sim3.exptimes[2])


@pytest.mark.hostile("traceback")
def test_fewer_than_two_good_imsets_to_combine_is_an_error(sim3, oref3, tmp_path):
    raw = derive_fits(sim3.raw_path, tmp_path / "o_raw.fits",
                      sci=[{}, {"EXPTIME": 0.0}, {"EXPTIME": 0.0}])
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InputFileError, match="more than one good imset"):
        _run(raw, out)
    assert not any(out.iterdir())


@pytest.mark.hostile("silent")
def test_no_good_imset_writes_nothing(sim3, oref3, tmp_path, caplog):
    raw = derive_fits(sim3.raw_path, tmp_path / "o_raw.fits",
                      primary={"CRCORR": "OMIT"},
                      sci=[{"EXPTIME": 0.0}, {"EXPTIME": 0.0}, {"EXPTIME": 0.0}])
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING):
        assert _run(raw, out) == []
    assert "no good imset" in caplog.text


@pytest.mark.hostile("silent")
def test_negative_exposure_time_is_an_error_naming_exptime(sim3, oref3, tmp_path):
    raw = derive_fits(sim3.raw_path, tmp_path / "o_raw.fits", sci=[{}, {"EXPTIME": -5.0}])
    with pytest.raises(InputFileError, match="EXPTIME"):
        _run(raw, tmp_path)
