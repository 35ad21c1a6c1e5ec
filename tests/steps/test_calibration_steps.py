"""Step-level tests of the ten calwf3 stages: switches, status, references, parameters,
intermediate products, and the calwf3 quirks that live in the step wiring.

The numerical algorithms are tested in ``tests/core``; here the question is whether each step
hands the right arrays, references and parameters to its core and records what it did.
"""

import importlib
import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.flat import mean_gain
from hstramp.core.geometry import ScienceGeometry
from hstramp.core.units import ZERO_READ_OVERHEAD
from hstramp.datamodels import ImageModel, RampModel
from hstramp.datamodels import open as open_model
from hstramp.datamodels.dqflags import SATURATED, ZERO_READ_SIGNAL
from hstramp.errors import ParameterError
from hstramp.pipeline.base import HstrampPipeline
from hstramp.reference import ReferenceFileError, read_ccdtab, read_flats, read_oscntab
from hstramp.steps.base import HstrampStep
from hstramp.steps.detector import Detector
from tests.conftest import sha256
from tests.steps.conftest import STEP_BY_NAME, STEPS, TO_DARK, run_steps

BLEV, DARK, DQI, FLAT, NLIN, NOISE, PHOT, UNIT, ZOFF, ZSIG = (
    STEP_BY_NAME[name].cls
    for name in ("blev", "dark", "dq_init", "flat", "nlin", "noise", "phot", "unit", "zoff",
                 "zsig")
)
STEPS_WITH_REFERENCES = [info for info in STEPS if info.cls.reference_file_types]
#: per-pixel gain and CDS read noise of amplifiers A..D in the simulated CCDTAB
SIM_GAIN = np.array([2.252, 2.203, 2.188, 2.265], dtype=np.float32)
SIM_READ_NOISE = np.array([20.99, 19.80, 21.53, 21.98], dtype=np.float32)
AMP_A, AMP_B, AMP_C, AMP_D = range(4)


def spy_apply(monkeypatch, cls):
    """Count the calls of ``cls.apply`` (the step's work) while still doing it."""
    calls = []
    original = cls.apply

    def apply(self, model, references):
        calls.append(dict(references))
        return original(self, model, references)

    monkeypatch.setattr(cls, "apply", apply)
    return calls


def snapshot(model):
    """Arrays and metadata of a model, to prove it was not modified."""
    arrays = {name: np.array(model._instance[name], copy=True)
              for name in type(model)._array_layout if model._instance.get(name) is not None}
    return arrays, model.to_flat_dict(include_arrays=False)


def assert_unchanged(model, before):
    arrays, meta = snapshot(model)
    assert arrays.keys() == before[0].keys()
    for name, array in before[0].items():
        np.testing.assert_array_equal(arrays[name], array, err_msg=name)
    assert meta == before[1]


def warnings_in(caplog):
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def science(array):
    """The science area of an image or a ramp (5-pixel reference border removed)."""
    return array[..., 5:-5, 5:-5]


# ------------------------------------------------------------------ switches and status

SWITCH_CASES = [
    # header switch, `switch` parameter, does the step run?, status afterwards
    ("PERFORM", "header", True, "COMPLETE"),
    ("SKIPPED", "header", True, "COMPLETE"),  # an earlier run could not do it: try again
    ("OMIT", "header", False, "OMIT"),
    ("COMPLETE", "header", False, "COMPLETE"),  # done by an earlier run: not redone
    ("OMIT", "perform", True, "COMPLETE"),  # the user's parameter wins
    ("COMPLETE", "perform", True, "COMPLETE"),
    ("PERFORM", "omit", False, "OMIT"),
]


@pytest.mark.parametrize(("header", "switch", "runs", "status"), SWITCH_CASES)
def test_header_switch_and_switch_parameter(header, switch, runs, status, raw_model,
                                            monkeypatch):
    calls = spy_apply(monkeypatch, DARK)
    raw_model.meta.cal_step.darkcorr = header
    result = DARK(switch=switch).run(raw_model)
    assert len(calls) == int(runs)
    assert result.meta.cal_step.darkcorr == status
    if not runs:
        np.testing.assert_array_equal(result.data, raw_model.data)


@pytest.mark.parametrize("info", STEPS, ids=str)
def test_each_step_follows_its_own_switch(info, raw_model, monkeypatch):
    """OMIT in the step's own switch stops it; another step's OMIT does not."""
    calls = spy_apply(monkeypatch, info.cls)
    setattr(raw_model.meta.cal_step, info.switch, "OMIT")
    omitted = info.cls().run(raw_model)
    assert not calls
    assert getattr(omitted.meta.cal_step, info.switch) == "OMIT"
    other = STEPS[(STEPS.index(info) + 1) % len(STEPS)].switch
    setattr(raw_model.meta.cal_step, info.switch, "PERFORM")
    setattr(raw_model.meta.cal_step, other, "OMIT")
    result = info.cls().run(raw_model)
    assert len(calls) == 1
    assert getattr(result.meta.cal_step, info.switch) == "COMPLETE"


def test_rerunning_a_complete_step_on_request_warns(raw_model, caplog):
    raw_model.meta.cal_step.darkcorr = "COMPLETE"
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        DARK(switch="perform").run(raw_model)
    assert any("DARKCORR is COMPLETE" in message for message in warnings_in(caplog))


def test_noise_runs_when_the_header_has_no_noiscorr(raw_model):
    """calwf3 always computes the errors: a raw file has no NOISCORR, the step still runs."""
    assert raw_model.meta.cal_step.noiscorr is None
    result = NOISE().run(raw_model)
    assert result.meta.cal_step.noiscorr == "COMPLETE"
    assert np.all(science(result.err) > 0)


def _one_step_pipeline(cls):
    """A pipeline holding one step, so that stpipe's ``skip`` applies (it is ignored on a
    standalone step)."""

    def process(self, input_data):
        return self.step.run(self._datamodels_open(input_data).copy())

    return type(f"Only{cls.__name__}", (HstrampPipeline,),
                {"step_defs": {"step": cls}, "process": process})


SKIP_CASES = [(STEP_BY_NAME["dark"], "PERFORM", "SKIPPED"),
              (STEP_BY_NAME["noise"], None, "SKIPPED"),  # a raw header has no NOISCORR
              (STEP_BY_NAME["dark"], "COMPLETE", "COMPLETE")]  # done earlier: stays COMPLETE


@pytest.mark.parametrize(("info", "header", "status"), SKIP_CASES,
                         ids=[f"{i.name}-{h}" for i, h, _s in SKIP_CASES])
def test_skip_in_a_pipeline_records_skipped(info, header, status, raw_model, monkeypatch):
    calls = spy_apply(monkeypatch, info.cls)
    if header is not None:
        setattr(raw_model.meta.cal_step, info.switch, header)
    result = _one_step_pipeline(info.cls).call(raw_model, steps={"step": {"skip": True}})
    assert not calls
    assert getattr(result.meta.cal_step, info.switch) == status
    np.testing.assert_array_equal(result.data, raw_model.data)


@pytest.mark.parametrize("info", STEPS, ids=str)
def test_a_standalone_call_never_modifies_its_input(info, raw_model):
    before = snapshot(raw_model)
    result = info.cls.call(raw_model)
    assert result is not raw_model
    assert getattr(result.meta.cal_step, info.switch) == "COMPLETE"
    assert_unchanged(raw_model, before)


# ------------------------------------------------------------------ reference files

#: every reference a step cannot do without ('N/A' skips the step)
REQUIRED_REFERENCES = [
    (info, reftype) for info in STEPS for reftype in info.cls.reference_file_types
    if reftype not in info.cls().optional_references()
]


@pytest.mark.parametrize(("info", "reftype"), REQUIRED_REFERENCES,
                         ids=[f"{i.name}-{r}" for i, r in REQUIRED_REFERENCES])
def test_not_applicable_reference_skips_with_a_warning(info, reftype, raw_model, monkeypatch,
                                                       caplog):
    calls = spy_apply(monkeypatch, info.cls)
    setattr(raw_model.meta.ref_file, reftype, "N/A")
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        result = info.cls().run(raw_model)
    assert not calls
    assert getattr(result.meta.cal_step, info.switch) == "SKIPPED"
    np.testing.assert_array_equal(result.data, raw_model.data)
    assert any(f"{reftype.upper()} is N/A" in message for message in warnings_in(caplog))


def _dummy_copy(path, directory):
    """A copy of a reference file whose PEDIGREE says DUMMY."""
    target = Path(directory) / f"dummy_{Path(path).name}"
    with fits.open(path) as hdul:
        hdul[0].header["PEDIGREE"] = "DUMMY 01/01/2009"
        hdul.writeto(target)
    return target


DUMMY_CASES = [("dq_init", "bpixtab"), ("zsig", "ccdtab"), ("nlin", "nlinfile"),
               ("dark", "darkfile"), ("phot", "imphttab"), ("unit", "oscntab"),
               ("flat", "ccdtab")]


@pytest.mark.parametrize(("name", "reftype"), DUMMY_CASES,
                         ids=[f"{n}-{r}" for n, r in DUMMY_CASES])
def test_dummy_reference_skips_with_a_warning(name, reftype, exposure, raw_model, tmp_path,
                                              monkeypatch, caplog):
    cls = STEP_BY_NAME[name].cls
    calls = spy_apply(monkeypatch, cls)
    dummy = _dummy_copy(exposure.reference_paths[reftype.upper()], tmp_path)
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        result = cls(**{f"override_{reftype}": str(dummy)}).run(raw_model)
    assert not calls
    assert getattr(result.meta.cal_step, STEP_BY_NAME[name].switch) == "SKIPPED"
    np.testing.assert_array_equal(result.data, raw_model.data)
    assert any("DUMMY" in message and str(dummy) in message for message in warnings_in(caplog))


@pytest.mark.parametrize("reftype", ["pfltfile", "lfltfile"])
def test_flat_leaves_out_a_not_applicable_or_dummy_flat(reftype, exposure, raw_model, tmp_path,
                                                       caplog):
    """As calwf3's checkFlat: the flats that are usable are applied (DFLTFILE is N/A here)."""
    without = raw_model.copy()
    setattr(without.meta.ref_file, reftype, "N/A")
    result = FLAT().run(without)
    assert result.meta.cal_step.flatcorr == "COMPLETE"
    flats = {"pfltfile": exposure.reference_paths["PFLTFILE"], "dfltfile": None,
             "lfltfile": exposure.reference_paths["LFLTFILE"], reftype: None}
    flat = read_flats(**flats, geometry=exposure.geometry, filter="F160W").data
    expected = (raw_model.data / flat).astype(np.float32) * np.float32(mean_gain(SIM_GAIN))
    np.testing.assert_allclose(science(result.data), science(expected), rtol=1e-6)
    dummy = _dummy_copy(exposure.reference_paths[reftype.upper()], tmp_path)
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        with_dummy = FLAT(**{f"override_{reftype}": str(dummy)}).run(raw_model)
    assert with_dummy.meta.cal_step.flatcorr == "COMPLETE"
    np.testing.assert_array_equal(with_dummy.data, result.data)
    assert any("DUMMY" in message and str(dummy) in message for message in warnings_in(caplog))


def test_flat_without_any_usable_flat_is_skipped(raw_model, caplog):
    raw_model.meta.ref_file.pfltfile = raw_model.meta.ref_file.lfltfile = "N/A"
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        result = FLAT().run(raw_model)
    assert result.meta.cal_step.flatcorr == "SKIPPED"
    np.testing.assert_array_equal(result.data, raw_model.data)
    assert any("all N/A or DUMMY" in message for message in warnings_in(caplog))


@pytest.mark.parametrize("info", STEPS_WITH_REFERENCES, ids=str)
def test_missing_reference_stops_before_any_work(info, raw_model, iref, tmp_path,
                                                 monkeypatch):
    """The last reference of the step is missing: nothing is done, nothing is written."""
    calls = spy_apply(monkeypatch, info.cls)
    reftype = info.cls.reference_file_types[-1]
    setattr(raw_model.meta.ref_file, reftype, f"iref$missing_{reftype}.fits")
    before = snapshot(raw_model)
    output = tmp_path / "out"
    with pytest.raises(ReferenceFileError) as error:
        info.cls.call(raw_model, save_results=True, output_dir=str(output))
    message = str(error.value)
    assert reftype.upper() in message
    assert str(Path(iref) / f"missing_{reftype}.fits") in message
    assert not calls
    assert not output.exists() or not any(output.iterdir())
    assert_unchanged(raw_model, before)


def test_unset_iref_names_the_variable_and_the_keyword(raw_model, monkeypatch):
    monkeypatch.delenv("iref")
    with pytest.raises(ReferenceFileError, match=r"DARKFILE.*'iref'"):
        DARK().run(raw_model)


def test_missing_override_file_names_the_path(raw_model, tmp_path):
    missing = tmp_path / "nowhere_drk.fits"
    with pytest.raises(ReferenceFileError, match=re.escape(str(missing))):
        DARK(override_darkfile=str(missing)).run(raw_model)


@pytest.mark.parametrize("info", STEPS_WITH_REFERENCES, ids=str)
def test_override_wins_over_the_header(info, exposure, raw_model, monkeypatch):
    calls = spy_apply(monkeypatch, info.cls)
    reftype = info.cls.reference_file_types[0]
    setattr(raw_model.meta.ref_file, reftype, "iref$not_this_one.fits")
    path = str(exposure.reference_paths[reftype.upper()])
    result = info.cls(**{f"override_{reftype}": path}).run(raw_model)
    assert calls[0][reftype] == path
    assert getattr(result.meta.cal_step, info.switch) == "COMPLETE"
    assert getattr(result.meta.ref_file, reftype) == path  # the file actually used


# ------------------------------------------------------------------ parameters

#: every parameter a step declares in its spec: (step, core function the step module calls,
#: parameter, a non-default value, the keyword the core function receives it as)
PARAMETERS = [
    ("zsig", "zero_read_signal", "threshold", 2.5, "threshold"),
    ("blev", "bias_level_correct", "sigma", 2.0, "sigma"),
]


def _own_parameters(cls):
    """Spec parameters a step adds to those of HstrampStep (reference overrides aside)."""
    common = set(HstrampStep.load_spec_file())
    return {name for name in cls.load_spec_file()
            if name not in common and not name.startswith("override_")}


def test_every_spec_parameter_is_tested():
    declared = {(info.name, p) for info in STEPS for p in _own_parameters(info.cls)}
    assert declared == {(name, parameter) for name, _f, parameter, _v, _k in PARAMETERS}


@pytest.mark.parametrize(("name", "function", "parameter", "value", "keyword"), PARAMETERS)
def test_every_spec_parameter_reaches_the_core(name, function, parameter, value, keyword,
                                               raw_model, monkeypatch):
    cls = STEP_BY_NAME[name].cls
    module = importlib.import_module(cls.__module__)
    original = getattr(module, function)
    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, function, spy)
    cls(**{parameter: value}).run(raw_model)
    assert [kwargs[keyword] for kwargs in seen] == [value]


@pytest.mark.parametrize(("cls", "parameters", "error", "match"), [
    (ZSIG, {"threshold": 0.0}, ParameterError, "threshold"),
    (BLEV, {"sigma": 0.1}, ParameterError, r"sigma.*allowed: float\(min=0.5\)"),
    (BLEV, {"switch": "sometimes"}, ParameterError, r"switch.*allowed: option\(.header.*omit.\)"),
])
def test_invalid_parameters_are_refused_naming_them(cls, parameters, error, match, raw_model):
    with pytest.raises(error, match=match):
        cls(**parameters).run(raw_model)


# ------------------------------------------------------------------ intermediate products

def test_save_results_writes_an_asdf_intermediate(raw_model, tmp_path):
    result = DARK.call(raw_model, save_results=True, output_dir=str(tmp_path))
    saved = list(tmp_path.iterdir())
    assert [p.suffix for p in saved] == [".asdf"]
    with open_model(saved[0]) as reopened:
        assert isinstance(reopened, RampModel)
        np.testing.assert_array_equal(reopened.data, result.data)
        np.testing.assert_array_equal(reopened.groupdq, result.groupdq)
        assert reopened.meta.cal_step.darkcorr == "COMPLETE"


def test_pixel_xray_through_saved_intermediates(exposure, iref, truth, tmp_path):
    """Each step run from the previous step's saved file gives what the in-memory chain
    gives, so one pixel can be followed through every stage (the x-ray); the raw file is
    never modified."""
    # the brightest zeroth-read signal of a pixel that never saturates
    zerosig = np.where(truth["FIRSTSAT"] < 0, truth["ZEROSIG"], 0.0)
    y, x = np.unravel_index(np.argmax(zerosig), zerosig.shape)
    raw = tmp_path / "input" / exposure.raw_path.name
    raw.parent.mkdir()
    shutil.copy(exposure.raw_path, raw)
    checksum = sha256(raw)
    memory = open_model(str(raw))
    path = str(raw)
    history = []
    for cls in TO_DARK:
        before = set(tmp_path.iterdir())
        cls.call(path, save_results=True, output_dir=str(tmp_path))
        (new,) = set(tmp_path.iterdir()) - before
        path = str(new)
        memory = cls().run(memory)
        with open_model(path) as saved:
            np.testing.assert_array_equal(saved.data, memory.data, err_msg=cls.__name__)
            np.testing.assert_array_equal(saved.groupdq, memory.groupdq)
            np.testing.assert_array_equal(saved.err, memory.err)
            history.append(saved.data[:, y, x].copy())
    assert sha256(raw) == checksum
    history = np.array(history)  # [step, read]
    assert history.shape == (len(TO_DARK), exposure.times.size)
    assert len({row.tobytes() for row in history[[0, 1, 2, 3, 5, 6]]}) == 6  # each changes it


# ------------------------------------------------------------------ calwf3 quirks in the wiring

def test_zsig_runs_on_raw_data_before_blev(raw_model, truth):
    """ZSCI includes the bias: ZSIG after BLEV would see minus the bias level, never signal."""
    right = run_steps(raw_model, [DQI, ZSIG])
    wrong = run_steps(raw_model, [DQI, BLEV, ZSIG])
    significant = (right.groupdq[0] & ZERO_READ_SIGNAL) != 0
    assert significant.sum() >= 10
    assert truth["ZEROSIG"][significant].min() > 20.0
    assert not np.any(wrong.zsig)
    assert not np.any(wrong.groupdq[0] & ZERO_READ_SIGNAL)


def test_zsig_saves_the_zeroth_read_and_blev_corrects_it(raw_model):
    dqi = DQI().run(raw_model)
    zsig = ZSIG().run(dqi)
    np.testing.assert_array_equal(zsig.zeroread, dqi.data[0])  # before the signal is added
    np.testing.assert_array_equal(zsig.zeroread_dq, dqi.groupdq[0])  # the DQI-only DQ
    blev = BLEV().run(zsig)
    expected = (dqi.data[0] - np.float32(blev.meanblev[0])).astype(np.float32)
    np.testing.assert_array_equal(blev.zeroread, expected)


def test_zoff_subtracts_the_zeroth_read_saved_before_zsig(raw_model):
    before = run_steps(raw_model, [DQI, ZSIG, BLEV])
    after = ZOFF().run(before)
    # read 0 keeps the zeroth-read signal that ZSIG added (0 where it was not significant)
    np.testing.assert_allclose(after.data[0], before.zsig, atol=4e-3)
    assert np.any(after.data[0] != 0)
    np.testing.assert_array_equal(after.data[1:], before.data[1:] - before.zeroread)
    # the saved copy's DQ is OR-ed in, not read 0's: ZSIG's 2048 stays on read 0
    np.testing.assert_array_equal(after.groupdq[1:], before.groupdq[1:] | before.zeroread_dq)
    flagged = (before.groupdq[0] & ZERO_READ_SIGNAL) != 0
    assert flagged.any()
    assert not np.any(after.groupdq[1:] & ZERO_READ_SIGNAL)
    assert after.zeroread is None  # used up


def test_zoff_without_zsig_leaves_read_zero_at_zero(raw_model):
    raw_model.meta.cal_step.zsigcorr = "OMIT"
    result = run_steps(raw_model, [DQI, ZSIG, BLEV, ZOFF])
    assert result.meta.cal_step.zsigcorr == "OMIT"
    assert not np.any(result.data[0])


def test_nlin_uses_the_zsig_image_and_its_dq(raw_model):
    ready = run_steps(raw_model, [DQI, ZSIG, BLEV, ZOFF, NOISE])
    with_zsig = NLIN().run(ready)
    ready.meta.cal_step.zsigcorr = "OMIT"  # as if ZSIG had not run: no zsig is used
    without = NLIN().run(ready)
    # the zsig DQ: 2048 where the zeroth read had signal, and where read 1 saturated
    zsig_dq = ((ready.groupdq[0] & ZERO_READ_SIGNAL) != 0) | ((ready.groupdq[1] & SATURATED) != 0)
    assert zsig_dq.any()
    for k in range(1, ready.ngroups):
        np.testing.assert_array_equal((with_zsig.groupdq[k] & ZERO_READ_SIGNAL) != 0, zsig_dq)
    assert not np.any(without.groupdq[1:] & ZERO_READ_SIGNAL)
    # zsig moves the signal up the non-linearity curve: reads change only where zsig != 0
    free = science((with_zsig.groupdq[-1] & SATURATED) == 0)
    has_zsig = science(ready.zsig != 0) & free
    no_zsig = science(ready.zsig == 0) & free
    assert has_zsig.any()
    changed = science(with_zsig.data[1:] != without.data[1:])
    assert np.all(changed[:, has_zsig])
    assert not np.any(changed[:, no_zsig])


@pytest.mark.parametrize(("shape", "ltv", "split"), [
    # calwf3 noiscalc: split = AMPX + LTV - TRIM (array index, border included)
    ((1024, 1024), (5.0, 5.0), 512),  # real full frame, LTV +5: science column 507
    ((1024, 1024), (0.0, 0.0), 507),  # DESIGN's 507 assumed LTV 0: 5 columns early
    ((266, 266), (-374.0, -374.0), 133),  # SQ256SUB: the physical middle too
    ((138, 138), (-438.0, -438.0), 69),  # SQ128SUB
    ((74, 74), (-470.0, -470.0), 37),  # SQ64SUB
])
def test_detector_splits_the_quadrants_as_calwf3(shape, ltv, split, exposure):
    ny, nx = shape
    detector = Detector(geometry=ScienceGeometry(shape=shape, ltv=ltv),
                        overscan=read_oscntab(exposure.reference_paths["OSCNTAB"], nx=nx, ny=ny),
                        ccd=read_ccdtab(exposure.reference_paths["CCDTAB"], ccdgain=2.5))
    upper = np.arange(ny)[:, None] >= split
    right = np.arange(nx)[None, :] >= split
    expected = np.where(upper, np.where(right, AMP_D, AMP_A), np.where(right, AMP_C, AMP_B))
    np.testing.assert_array_equal(detector.amplifier_map(), expected)
    np.testing.assert_array_equal(detector.gain_map(), SIM_GAIN[expected])


def _blank_ramp(shape, ltv):
    """Two reads of zero signal: the noise step then gives ERR = RN / g of each amplifier."""
    model = RampModel(data=np.zeros((2, *shape), dtype=np.float32), times=np.array([0.0, 2.9]))
    model.meta.filename = "iblank01q_raw.fits"
    model.meta.exposure.ccdgain = 2.5
    model.meta.subarray.ltv1, model.meta.subarray.ltv2 = ltv
    return model


@pytest.mark.parametrize(("ltv", "split"), [((5.0, 5.0), 512), ((0.0, 0.0), 507)])
def test_noise_step_splits_full_frame_quadrants(ltv, split, exposure):
    model = _blank_ramp((1024, 1024), ltv)
    result = NOISE(override_ccdtab=str(exposure.reference_paths["CCDTAB"]),
                   override_oscntab=str(exposure.reference_paths["OSCNTAB"])).run(model)
    per_amp = SIM_READ_NOISE / SIM_GAIN
    err = result.err[1]
    below, above = split - 1, split
    expected = {(below, below): AMP_B, (below, above): AMP_C, (above, below): AMP_A,
                (above, above): AMP_D}
    for (y, x), amp in expected.items():
        assert err[y, x] == pytest.approx(per_amp[amp], rel=1e-6), (y, x)


def test_noise_step_splits_quadrants_with_a_real_subarray_ltv(real_file, exposure):
    """A real SQ256SUB raw (LTV -374): the quadrants meet at array index 133."""
    raw = real_file("ibxy01aoq_raw.fits")
    result = NOISE.call(str(raw), override_ccdtab=str(exposure.reference_paths["CCDTAB"]),
                        override_oscntab=str(exposure.reference_paths["OSCNTAB"]))
    assert (result.meta.subarray.ltv1, result.meta.subarray.ltv2) == (-374.0, -374.0)
    for (y, x), amp in {(132, 132): AMP_B, (132, 133): AMP_C, (133, 132): AMP_A,
                        (133, 133): AMP_D}.items():
        signal = result.data[:, y, x].astype(np.float64)
        g, rn = float(SIM_GAIN[amp]), float(SIM_READ_NOISE[amp])
        np.testing.assert_allclose(result.err[:, y, x], np.sqrt(rn**2 + np.abs(signal * g)) / g,
                                   rtol=1e-6, err_msg=str((y, x)))


@pytest.mark.parametrize("populated", [0, 2])
def test_noise_on_populated_errors_is_skipped_like_calwf3(populated, raw_model, caplog):
    """calwf3 stops at the first read whose ERR is already set and reports SKIPPED."""
    raw_model.err[populated:, 5:-5, 5:-5] = 1.0
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        result = NOISE(switch="perform").run(raw_model)
    assert result.meta.cal_step.noiscorr == "SKIPPED"
    np.testing.assert_array_equal(result.err[populated:], raw_model.err[populated:])
    assert np.all(science(result.err[:populated]) > 1.0)
    assert any(f"read {populated}" in message for message in warnings_in(caplog))


def test_dq_init_ors_the_bad_pixel_table_into_every_read(raw_model, truth):
    raw_model.groupdq[:, 0, 0] = 1  # flags already there survive
    result = DQI().run(raw_model)
    assert truth["BADPIX"].any()
    np.testing.assert_array_equal(result.groupdq, raw_model.groupdq | truth["BADPIX"])
    np.testing.assert_array_equal(result.pixeldq, truth["BADPIX"])


def test_dark_subtracts_the_dark_of_each_read_and_records_meandark(raw_model, truth, exposure):
    result = DARK().run(raw_model)
    dark = truth["DARK_DN"][None] * exposure.times[:, None, None]
    np.testing.assert_allclose(science(result.data), science(raw_model.data - dark), atol=2e-3)
    np.testing.assert_array_equal(result.data[:, :5], raw_model.data[:, :5])  # border kept
    assert result.meandark[0] == 0.0
    rate = result.meandark[1:] / exposure.times[1:]
    np.testing.assert_allclose(rate, rate[0], rtol=1e-5)
    assert 0.01 < rate[0] < 0.1  # DN/s: about 0.05 e-/s over a gain of ~2.2


def test_phot_sets_the_photometry_keywords_only(raw_model):
    result = PHOT().run(raw_model)
    phot = result.meta.photometry
    assert phot.photmode == "WFC3 IR F160W MJD#55834.3928"
    assert phot.photfnu == pytest.approx(3.33564e4 * phot.photflam * phot.photplam**2)
    assert phot.photzpt == pytest.approx(-21.1)
    np.testing.assert_array_equal(result.data, raw_model.data)


def test_unit_divides_by_time_and_the_zeroth_read_by_its_effective_time(raw_model, exposure):
    result = UNIT().run(raw_model)
    times = exposure.times.astype(np.float32)
    assert result.meta.bunit_data == "COUNTS/S"
    np.testing.assert_allclose(science(result.data[1:]),
                               science(raw_model.data[1:]) / times[1:, None, None], rtol=1e-6)
    zero_time = exposure.times[1] - ZERO_READ_OVERHEAD
    np.testing.assert_allclose(science(result.data[0]), science(raw_model.data[0]) / zero_time,
                               rtol=1e-6)
    np.testing.assert_array_equal(result.data[:, :5], raw_model.data[:, :5])  # border: counts


def test_unit_gives_zero_where_time_is_zero(raw_model):
    raw_model.err[:] = 1.0
    times = raw_model.times.copy()
    times[2] = 0.0
    raw_model.times = times
    result = UNIT().run(raw_model)
    assert not np.any(science(result.data[2])) and not np.any(science(result.err[2]))
    assert np.all(science(result.err[3]) > 0)


def test_unit_on_rates_is_skipped_like_calwf3(raw_model, caplog):
    rates = UNIT().run(raw_model)
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        again = UNIT(switch="perform").run(rates)
    assert again.meta.cal_step.unitcorr == "SKIPPED"
    np.testing.assert_array_equal(again.data, rates.data)
    assert any("COUNTS/S" in message for message in warnings_in(caplog))


def test_flat_divides_by_the_flat_before_the_gain(raw_model, exposure):
    rates = UNIT().run(raw_model)
    result = FLAT().run(rates)
    flat = read_flats(exposure.reference_paths["PFLTFILE"], None,
                      exposure.reference_paths["LFLTFILE"], geometry=exposure.geometry,
                      filter="F160W").data
    gain = np.float32(mean_gain(SIM_GAIN))
    assert result.meta.bunit_data == "ELECTRONS/S"
    expected = science((rates.data / flat).astype(np.float32) * gain)
    np.testing.assert_allclose(science(result.data), expected, rtol=1e-6)
    # the border is multiplied by the gain but never divided by the flat
    np.testing.assert_array_equal(result.data[:, :5], rates.data[:, :5] * gain)


def test_flat_treats_a_fitted_image_like_the_reads(raw_model, exposure):
    """FLAT on the flt (trimmed, LTV shifted by -5) matches FLAT on the ima's science area."""
    rates = UNIT().run(raw_model)
    ramp = FLAT().run(rates)
    image = ImageModel(data=science(rates.data[-1]).copy(), err=science(rates.err[-1]).copy(),
                       dq=science(rates.groupdq[-1]).copy())
    image.update(rates)
    image.meta.bunit_data = "COUNTS/S"
    image.meta.subarray.ltv1 = rates.meta.subarray.ltv1 - 5
    image.meta.subarray.ltv2 = rates.meta.subarray.ltv2 - 5
    flt = FLAT().run(image)
    assert flt.meta.cal_step.flatcorr == "COMPLETE"
    np.testing.assert_array_equal(flt.data, science(ramp.data[-1]))
    np.testing.assert_array_equal(flt.err, science(ramp.err[-1]))


# ------------------------------------------------------------------ documentation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "steps"
DOC_PAGES = {"dq_init": "dqinit.md", "unit": "units.md"}


@pytest.mark.parametrize("info", STEPS, ids=str)
def test_the_step_page_documents_what_the_step_declares(info):
    text = (DOCS / DOC_PAGES.get(info.name, f"{info.name}.md")).read_text()
    section = text.split("## Parameters and reference files", 1)[1]
    assert info.cls.class_alias == info.alias
    for fact in (info.alias, f"`{info.name}`", info.cls.__name__, info.switch.upper(),
                 *(r.upper() for r in info.cls.reference_file_types),
                 *(f"override_{r}" for r in info.cls.reference_file_types)):
        assert fact in section, fact
    spec = info.cls.load_spec_file()
    for parameter in _own_parameters(info.cls):
        default = re.search(r"default=([^,)]+)", spec[parameter]).group(1)
        assert f"`{parameter}`" in section and default in section, parameter


def test_the_index_lists_every_step_in_calwf3_order():
    text = (DOCS / "index.md").read_text()
    pages = [DOC_PAGES.get(info.name, f"{info.name}.md") for info in STEPS]
    pages[-1:-1] = ["jump.md", "ramp_fit.md"]  # CRCORR comes between UNIT and FLAT
    positions = [text.find(f"({page})") for page in pages]
    assert -1 not in positions
    assert positions == sorted(positions)


def test_jump_step_searches_only_the_science_area(raw_model):
    """The reference border is not searched (as calwf3's cridcalc): jumps put on the border
    reads give no flag there, nor on their science neighbours."""
    from hstramp.core.dqflags import CR_RAMP
    from hstramp.core.geometry import REFERENCE_BORDER
    from hstramp.steps.jump import JumpStep

    ramp = run_steps(raw_model, TO_DARK)
    quiet = JumpStep().run(ramp.copy())
    struck = ramp.copy()
    border = REFERENCE_BORDER
    struck.data[3:, border - 1, border:-border] += 5.0e4  # the border row under the science
    struck.data[2:, border:-border, -border] -= 5.0e4  # the border column right of it
    struck = JumpStep().run(struck)
    np.testing.assert_array_equal(struck.groupdq, quiet.groupdq)
    ring = np.ones(struck.groupdq.shape[1:], bool)
    ring[border:-border, border:-border] = False
    assert not (struck.groupdq[:, ring] & CR_RAMP).any()
