"""ATODCORR, PHOTCORR and the dark's temperature factor through the pipeline, against the
simulator's truth (the raw's OCCDHTAV, a known A-to-D table, a known IMPHTTAB)."""

import logging

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels.stis_fits import read_stis
from hstramp.pipeline.stis import STISCCDPipeline
from hstramp.simulate.stis import simulate_stis_exposure
from hstramp.simulate.stis.calibration import (
    derive_fits,
    write_atodtab,
    write_stis_imphttab,
    write_tdstab,
)
from hstramp.simulate.stis.evaluate import evaluate_products
from hstramp.steps.stis.atod import STISAtoDStep


def _pulls(sim, out):
    return evaluate_products(sim.truth_path, out / f"{sim.rootname}_crj.fits",
                             out / f"{sim.rootname}_flt.fits", sim.exptimes.sum())


@pytest.mark.parametrize("occdhtav", [24.0, None])
def test_dark_temperature_from_the_raw_recovers_the_truth(tmp_path, monkeypatch, caplog,
                                                          occdhtav):
    sim = simulate_stis_exposure(tmp_path / "sim", binning=4, crsplit=2, seed=5,
                                 expscorr=True, occdhtav=occdhtav)
    with fits.open(sim.truth_path) as truth:
        factors = truth["IMSETS"].data["DARKFACT"]
    np.testing.assert_allclose(factors, 1.42 if occdhtav else 1.0)     # 1 + 0.07 * 6
    monkeypatch.setenv("oref", str(sim.oref))
    out = tmp_path / "out"
    out.mkdir()
    with caplog.at_level(logging.WARNING):
        STISCCDPipeline.call(str(sim.raw_path), output_dir=str(out))
    assert ("OCCDHTAV not found" in caplog.text) == (occdhtav is None)
    result = _pulls(sim, out)
    assert abs(result.robust_std - 1.0) < 0.05 and abs(result.median) < 0.05
    with fits.open(out / f"{sim.rootname}_crj.fits") as crj:
        assert crj["SCI", 1].header.get("OCCDHTAV") == occdhtav


def test_default_simulation_is_side2_at_the_reference_temperature(binned_sim):
    with fits.open(binned_sim.raw_path) as raw:
        for k in (1, 2):
            header = raw["SCI", k].header
            assert header["OCCDHTAV"] == 18.0 and header["EXPNAME"] == f"{binned_sim.rootname[:8]}j"
            assert header["EXPSTART"] > 52091.0                        # side 2


def test_atodcorr_step_maps_every_raw_value_through_the_table(binned_sim, oref, tmp_path):
    nelem = 3000
    table = np.arange(nelem, dtype=np.float64) + 0.25 * (np.arange(nelem) % 4)
    rows = [{"ccdamp": "D", "ccdgain": 1, "ref_key": "CCDTEMP", "ref_key_value": 20.0,
             "atod": table}]
    atodtab = write_atodtab(tmp_path / "t_a2d.fits", rows)
    raw = derive_fits(binned_sim.raw_path, tmp_path / "t_raw.fits",
                      primary={"ATODCORR": "PERFORM"}, sci=[{"CCDTEMP": 20.0}] * 2)
    model = read_stis(raw)
    values = np.asarray(model.data).astype(np.int64)
    out = STISAtoDStep.call(model, override_atodtab=str(atodtab))
    assert out.meta.cal_step.atodcorr == "COMPLETE"
    beyond = values >= nelem
    assert beyond.any() and (~beyond).any()
    np.testing.assert_array_equal(out.data[~beyond], table[values[~beyond]].astype(np.float32))
    np.testing.assert_array_equal(out.data[beyond], np.float32(table[-1]))
    np.testing.assert_array_equal((out.dq & 256) != 0, beyond)


def test_photcorr_keywords_in_the_products(binned_sim, oref, tmp_path):
    modes = {"stis,50ccd,mirror,ccd,mjd#": ([54000.0, 56000.0], [1.0e-19, 3.0e-19], 5800.0,
                                            2000.0)}
    imphttab = write_stis_imphttab(tmp_path / "t_imp.fits", modes)
    tdstab = write_tdstab(tmp_path / "t_tds.fits",
                          {"MIRROR": ([2000.0, 10000.0], [0.002, 0.002], 18.0)})
    raw = derive_fits(binned_sim.raw_path, tmp_path / "t_raw.fits", primary={
        "PHOTCORR": "PERFORM", "IMPHTTAB": str(imphttab), "TDSTAB": str(tdstab)},
        sci=[{"OCCDHTAV": 20.0}] * 2)
    out = tmp_path / "out"
    out.mkdir()
    STISCCDPipeline.call(str(raw), output_dir=str(out))
    with fits.open(raw) as hdul:
        expstart = hdul["SCI", 1].header["EXPSTART"]
    flam = 1.0e-19 + 2.0e-19 * (expstart - 54000.0) / 2000.0     # linear in MJD
    flam *= 1.0 / (1 + 0.002 * 2.0)                            # ATODGAIN 1, TDS at 20 deg C
    for suffix in ("crj", "flt"):
        header = fits.getheader(out / f"{binned_sim.rootname}_{suffix}.fits", 0)
        assert header["PHOTCORR"] == "COMPLETE"
        assert header["PHOTFLAM"] == pytest.approx(flam, rel=1e-6)
        assert (header["PHOTPLAM"], header["PHOTBW"]) == (5800.0, 2000.0)
        assert header["PHOTMODE"] == f"STIS 50CCD A2D1 MIRROR CCD MJD#{expstart:.4f}"
