"""DQICORR with a DUMMY, absent or good BPIXTAB (calstis ``cs1/dodqi.c``, ``history1.c``):
saturation is flagged in every case, the table only when it is good; DQICORR ends SKIPPED
for a DUMMY table, COMPLETE otherwise."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels.stis_fits import read_stis
from hstramp.simulate.stis.calibration import derive_fits
from hstramp.simulate.stis.references import GAINS
from hstramp.steps.stis.dq_init import STISDQInitStep

SATURATED = (slice(40, 44), slice(60, 63))


@pytest.fixture(scope="module")
def saturated_raw(binned_sim, tmp_path_factory):
    """The binned raw with a block of imset 1 above SATURATE (truth: those pixels)."""
    out = tmp_path_factory.mktemp("dqi") / "osat_raw.fits"
    with fits.open(binned_sim.raw_path) as hdul:
        sci = hdul["SCI", 1].data.copy()
    sci[SATURATED] = GAINS[1][3] + 500
    derive_fits(binned_sim.raw_path, out)
    with fits.open(out, mode="update") as hdul:
        hdul["SCI", 1].data = sci
    return out


@pytest.fixture(scope="module")
def dummy_bpixtab(binned_sim, tmp_path_factory):
    return derive_fits(binned_sim.reference_paths["BPIXTAB"],
                       tmp_path_factory.mktemp("dqi_ref") / "dummy_bpx.fits",
                       primary={"PEDIGREE": "DUMMY"})


def _run(raw, bpixtab):
    model = read_stis(raw)
    expected = np.asarray(model.data) > GAINS[1][3]         # the truth: raw above SATURATE
    out = STISDQInitStep.call(model, override_bpixtab=str(bpixtab))
    return out, expected


def test_dummy_bpixtab_flags_saturation_only_and_ends_skipped(saturated_raw, dummy_bpixtab,
                                                              oref):
    out, expected = _run(saturated_raw, dummy_bpixtab)
    assert out.meta.cal_step.dqicorr == "SKIPPED"
    assert expected[0][SATURATED].all()
    np.testing.assert_array_equal((out.dq & 256) != 0, expected)
    assert not (out.dq & ~np.uint16(256)).any()             # 50x50: no aperture edges, no table


def test_absent_bpixtab_flags_saturation_and_ends_complete(saturated_raw, oref):
    out, expected = _run(saturated_raw, "N/A")
    assert out.meta.cal_step.dqicorr == "COMPLETE"
    np.testing.assert_array_equal((out.dq & 256) != 0, expected)


def test_good_bpixtab_adds_the_table_to_the_dummy_flags(saturated_raw, dummy_bpixtab, oref,
                                                        binned_sim):
    dummy, _ = _run(saturated_raw, dummy_bpixtab)
    good, expected = _run(saturated_raw, binned_sim.reference_paths["BPIXTAB"])
    assert good.meta.cal_step.dqicorr == "COMPLETE"
    assert ((good.dq & 16) != 0).any()                      # the table's hot pixels
    np.testing.assert_array_equal(good.dq & dummy.dq, dummy.dq)
    np.testing.assert_array_equal((good.dq & 256) != 0, expected)


def test_pipeline_writes_dqicorr_skipped_and_saturation(saturated_raw, dummy_bpixtab, oref,
                                                        tmp_path, binned_sim):
    from hstramp.pipeline.stis import STISCCDPipeline

    STISCCDPipeline.call(str(saturated_raw), output_dir=str(tmp_path),
                         steps={"dq_init": {"override_bpixtab": str(dummy_bpixtab)}})
    root = tmp_path / binned_sim.rootname
    with fits.open(f"{root}_crj.fits") as crj, fits.open(f"{root}_flt.fits") as flt:
        assert crj[0].header["DQICORR"] == flt[0].header["DQICORR"] == "SKIPPED"
        assert crj[0].header["BLEVCORR"] == "COMPLETE"
        assert (flt["DQ", 1].data & 256).any() and not (flt["DQ", 1].data & 16).any()
