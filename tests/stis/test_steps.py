"""STIS CCD steps: switches, references, and every spec parameter reaching its core."""

import numpy as np
import pytest

from hstramp.datamodels.stis_fits import read_stis
from hstramp.reference import ReferenceFileError
from hstramp.steps.stis.bias import STISBiasStep
from hstramp.steps.stis.blev import STISBiasLevelStep
from hstramp.steps.stis.crreject import STISCRRejectStep
from hstramp.steps.stis.dark import STISDarkStep
from hstramp.steps.stis.dq_init import STISDQInitStep
from hstramp.steps.stis.flat import STISFlatStep
from hstramp.steps.stis.noise import STISNoiseStep


@pytest.fixture(scope="module")
def raw(binned_sim):
    return read_stis(binned_sim.raw_path)


@pytest.fixture(scope="module")
def prepared(binned_sim):
    """The raw after DQI, BLEV, noise and BIAS (run once for the module)."""
    import os

    os.environ["oref"] = str(binned_sim.oref)
    model = read_stis(binned_sim.raw_path)
    for step in (STISDQInitStep, STISBiasLevelStep, STISNoiseStep, STISBiasStep):
        model = step.call(model)
    del os.environ["oref"]
    return model


def test_imset_steps_trim_flag_and_fill_errors(prepared, binned_sim):
    assert prepared.data.shape == (2, *binned_sim.science.shape)
    assert prepared.meta.subarray.ltv1 == binned_sim.science.ltv[0]
    for switch in ("dqicorr", "blevcorr", "biascorr"):
        assert getattr(prepared.meta.cal_step, switch) == "COMPLETE"
    assert np.all(prepared.err > 0)
    assert (prepared.dq & 16).any()                        # hot pixels of the BPIXTAB
    sky_and_dark = (0.3 + 0.005) * 16 * 300.0                   # e- = DN at gain 1, 4x4 bins
    np.testing.assert_allclose(np.median(prepared.data, axis=(1, 2)), sky_and_dark, rtol=0.02)


def test_the_callers_model_is_never_modified(raw, oref):
    before = raw.data.copy()
    out = STISBiasLevelStep.call(raw)
    np.testing.assert_array_equal(raw.data, before)
    assert out.data.shape != raw.data.shape and raw.meta.cal_step.blevcorr == "PERFORM"


def test_switch_omit_and_header_omit_skip(raw, oref):
    out = STISDQInitStep.call(raw, switch="omit")
    assert out.meta.cal_step.dqicorr == "OMIT" and not out.dq.any()


def test_missing_reference_names_keyword_and_path(raw, oref, tmp_path):
    with pytest.raises(ReferenceFileError, match=r"BIASFILE = .*does not exist"):
        STISBiasStep.call(raw, override_biasfile=str(tmp_path / "nothere_bia.fits"))


def test_blev_parameters_reach_the_core(raw, oref, monkeypatch):
    import hstramp.steps.stis.blev as module

    seen = {}
    real = module.overscan_bias_correct

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "overscan_bias_correct", spy)
    STISBiasLevelStep.call(raw, blev_clip=12.5, drift=False)
    assert seen["params"].blev_clip == 12.5 and seen["params"].drift is False
    STISBiasLevelStep.call(raw)
    assert seen["params"].blev_clip == 50.0 and seen["params"].drift is True  # CCDTAB value


@pytest.mark.parametrize(("name", "value", "expected"), [
    ("crsigmas", [6.0, 5.0], (6.0, 5.0)),
    ("crradius", 2.5, 2.5), ("crthresh", 0.5, 0.5), ("initgues", "median", "median"),
    ("skysub", "none", "none"), ("scalense", 10.0, 10.0), ("badinpdq", 16, 16),
    ("crmask", False, False)])
def test_crreject_parameters_reach_the_core(prepared, oref, monkeypatch, name, value,
                                            expected):
    import hstramp.steps.stis.crreject as module

    seen = {}
    real = module.cr_reject

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "cr_reject", spy)
    crj = STISCRRejectStep.call(prepared, **{name: value})
    assert getattr(seen["params"], name) == expected
    assert crj.meta.cal_step.crcorr == "COMPLETE" and crj.meta.stis.ncombine == 2


def test_crreject_skips_a_single_imset(prepared, oref):
    single = prepared.copy()
    for attr in ("data", "err", "dq", "exptime", "expstart", "expend", "meanblev", "meandark",
                 "ncombine"):
        setattr(single, attr, getattr(prepared, attr)[:1].copy())
    out = STISCRRejectStep.call(single)
    assert out.meta.cal_step.crcorr == "SKIPPED" and out.nexp == 1


def test_dark_and_flat_on_the_stack_and_the_crj(prepared, oref):
    crj = STISCRRejectStep.call(prepared)
    dark = STISDarkStep.call(crj)
    assert dark.meta.stis.meandark > 0 and dark.meta.cal_step.darkcorr == "COMPLETE"
    flat = STISFlatStep.call(dark)
    assert flat.meta.cal_step.flatcorr == "COMPLETE" and flat.meta.bunit_data == "COUNTS"
    stack = STISDarkStep.call(prepared)
    assert stack.meandark.shape == (2,) and np.all(stack.meandark > 0)
    both_na = STISFlatStep.call(prepared, override_pfltfile="N/A", override_lfltfile="N/A",
                                override_dfltfile="N/A")
    assert both_na.meta.cal_step.flatcorr == "SKIPPED"
