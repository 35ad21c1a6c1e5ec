"""FlattenRampStep, the last-minus-first ramp fit and the TVB pipeline variants.

The wiring (parameters reach the core, switch and status, headers) on the steps' simulated
exposure; then the issue's acceptance numbers on a simulated twin pair: one steady sky, one
with a He I-like rise to 1 e-/s above the 1 e-/s sky, run through the plain pipeline and the
``config/`` variants.
"""

import dataclasses
import logging
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.tvb import FlattenRampParameters
from hstramp.datamodels.fits_io import primary_header
from hstramp.pipeline.wfc3ir import RAMP_STEPS, WFC3IRPipeline
from hstramp.steps import ramp_fit as ramp_fit_module
from hstramp.steps import tvb as tvb_module
from hstramp.steps.base import HstrampStep
from hstramp.steps.ramp_fit import RampFitStep
from hstramp.steps.tvb import FlattenRampStep
from hstramp.steps.units import UnitStep
from tests.fits_bytes import masked_bytes
from tests.steps.conftest import TO_DARK, run_steps

CONFIG = Path(__file__).resolve().parents[2] / "config"
TVB_CARDS = ("TVBMODE", "TVBMETRC", "TVBTHRES", "TVBSKY", "TVBREADS")


def spy(monkeypatch, module, name):
    """Record the positional and keyword arguments of ``module.name`` while still calling it."""
    calls = []
    original = getattr(module, name)

    def wrapper(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


def primary_cards(model):
    """The primary header's cards as the product would hold them (keyword -> value)."""
    return dict(primary_header(model, 5, "product.fits").items())


# ------------------------------------------------------------------ parameters
#: every FlattenRampStep parameter, a non-default value, and how to read it back from the
#: arguments the core receives: (core function, getter on its params argument)
PARAMETERS = [
    ("region", [6, 60, 7, 50], "sky_levels", lambda p: p.region, (6, 60, 7, 50)),
    ("statistic", "mode", "sky_levels", lambda p: p.statistic, "mode"),
    ("clip_sigma", 2.5, "sky_levels", lambda p: p.clip_sigma, 2.5),
    ("clip_iterations", 2, "sky_levels", lambda p: p.clip_iterations, 2),
    ("dq_mask", 4, "sky_levels", lambda p: p.dq_mask, 4),
    ("binwidth", 0.25, "sky_levels", lambda p: p.binwidth, 0.25),
    ("threshold", 0.2, "detect_tvb", lambda p: p.threshold, 0.2),
    ("read_threshold", 0.3, "detect_tvb", lambda p: p.read_threshold, 0.3),
    ("nsigma", 5.0, "detect_tvb", lambda p: p.nsigma, 5.0),
]


def _own_parameters(cls):
    common = set(HstrampStep.load_spec_file())
    return {name for name in cls.load_spec_file()
            if name not in common and not name.startswith("override_")}


def test_spec_and_core_parameters_match():
    fields = {f.name for f in dataclasses.fields(FlattenRampParameters)}
    assert _own_parameters(FlattenRampStep) == fields
    assert {p[0] for p in PARAMETERS} | {"mode"} == fields
    defaults = FlattenRampStep().core_parameters()
    assert defaults == FlattenRampParameters()


@pytest.mark.parametrize(("parameter", "value", "function", "getter", "expected"), PARAMETERS,
                         ids=[p[0] for p in PARAMETERS])
def test_every_parameter_reaches_the_core(parameter, value, function, getter, expected,
                                          raw_model, monkeypatch):
    calls = spy(monkeypatch, tvb_module, function)
    FlattenRampStep(mode="always", **{parameter: value}).run(raw_model)
    (args, kwargs), = calls
    params = kwargs["params"] if function == "sky_levels" else args[3]
    assert getter(params) == expected
    default = getter(FlattenRampParameters().sky if function == "sky_levels"
                     else FlattenRampParameters().detection)
    assert default != expected  # the test can fail


@pytest.mark.parametrize(("mode", "computed", "flattened"), [
    ("off", False, False), ("auto", True, False), ("always", True, True)])
def test_mode_decides_what_runs(mode, computed, flattened, raw_model, monkeypatch):
    levels = spy(monkeypatch, tvb_module, "sky_levels")
    flattens = spy(monkeypatch, tvb_module, "flatten_ramp")
    before = raw_model.data.copy()
    result = FlattenRampStep(mode=mode).run(raw_model)
    assert bool(levels) is computed and bool(flattens) is flattened
    assert (result.meta.cal_step.tvbcorr == "COMPLETE") is flattened
    assert (not np.array_equal(result.data, before)) is flattened
    assert set(TVB_CARDS) <= set(primary_cards(result)) if flattened else (
        not set(TVB_CARDS) & set(primary_cards(result)))
    np.testing.assert_array_equal(raw_model.data, before)  # the input is never modified


def test_the_region_default_is_the_science_area(raw_model, monkeypatch):
    calls = spy(monkeypatch, tvb_module, "sky_levels")
    FlattenRampStep(mode="auto").run(raw_model)
    ny, nx = raw_model.data.shape[1:]
    assert calls[0][1]["params"].region == (5, nx - 5, 5, ny - 5)


def test_flattening_on_a_calibrated_ramp_writes_the_header(raw_model, iref):
    ramp = run_steps(raw_model, (*TO_DARK, UnitStep))
    result = FlattenRampStep(mode="always").run(ramp)
    cards = primary_cards(result)
    assert result.meta.cal_step.tvbcorr == "COMPLETE"
    assert cards["TVBMODE"] == "ALWAYS" and cards["TVBTHRES"] == 0.03
    assert cards["TVBMETRC"] >= 0 and cards["TVBREADS"] == "none"
    assert cards["TVBSKY"] > 0
    np.testing.assert_array_equal(result.data[:, :5], ramp.data[:, :5])  # border untouched


@pytest.mark.parametrize(("switch", "header", "runs", "status"), [
    ("header", "OMIT", False, "OMIT"),
    ("header", "COMPLETE", False, "COMPLETE"),
    ("omit", None, False, "OMIT"),
    ("perform", "COMPLETE", True, "COMPLETE"),
])
def test_the_tvbcorr_switch_is_followed(switch, header, runs, status, raw_model, monkeypatch):
    if header is not None:
        raw_model.meta.cal_step.tvbcorr = header
    calls = spy(monkeypatch, tvb_module, "flatten_ramp")
    result = FlattenRampStep(mode="always", switch=switch).run(raw_model)
    assert bool(calls) is runs
    assert result.meta.cal_step.tvbcorr == status


def test_the_tvb_record_is_metadata_written_with_its_comments(raw_model, iref):
    ramp = run_steps(raw_model, (*TO_DARK, UnitStep))
    result = FlattenRampStep(mode="always").run(ramp)
    tvb = result.meta.tvb
    assert (tvb.mode, tvb.threshold, tvb.reads, tvb.sky_unit) == ("ALWAYS", 0.03, "none", "COUNTS")
    header = primary_header(result, 5, "product.fits")
    assert header.comments["TVBSKY"] == "sky rate kept by flatten-ramp, COUNTS/s"
    assert header.comments["TVBMODE"] == "flatten-ramp mode (hstramp TVBCORR)"
    keywords = list(header)
    last_input = len(result.meta.headers.primary) - 1  # no structural card in this header
    start = keywords.index("TVBMODE")
    assert keywords[start:start + 5] == list(TVB_CARDS)  # in this order ...
    assert start > keywords.index(result.meta.headers.primary[last_input][0])  # ... after them


def test_flatten_ramp_runs_after_unit_and_before_jump():
    assert RAMP_STEPS.index("flatten_ramp") == RAMP_STEPS.index("unit") + 1
    assert RAMP_STEPS.index("jump") == RAMP_STEPS.index("flatten_ramp") + 1
    assert WFC3IRPipeline.step_defs["flatten_ramp"] is FlattenRampStep
    assert FlattenRampStep.class_alias == "wfc3ir_flatten_ramp"
    assert FlattenRampStep().mode == "off"  # the plain pipeline is unchanged


# ------------------------------------------------------------------ last-minus-first
@pytest.fixture
def calibrated_ramp(raw_model, iref):
    return run_steps(raw_model, (*TO_DARK, UnitStep))


@pytest.mark.parametrize(("algorithm", "called"), [("fit", "fit_ramps"),
                                                   ("last_minus_first", "last_minus_first")])
def test_ramp_fit_algorithm_reaches_the_core(algorithm, called, calibrated_ramp, monkeypatch):
    calls = {name: spy(monkeypatch, ramp_fit_module, name)
             for name in ("fit_ramps", "last_minus_first")}
    step = RampFitStep(algorithm=algorithm)
    assert "algorithm" not in {f.name for f in dataclasses.fields(step.core_parameters())}
    image = step.run(calibrated_ramp)
    assert {name for name, c in calls.items() if c} == {called}
    cards = primary_cards(image)
    if algorithm == "last_minus_first":
        assert cards["RAMPFIT"] == "LAST_MINUS_FIRST" and cards["CRLEFTIN"] is True
        assert np.all(image.samp[image.dq == 0] == 2)
    else:
        assert "RAMPFIT" not in cards and "CRLEFTIN" not in cards
    assert image.meta.cal_step.crcorr == "COMPLETE"


# ------------------------------------------------------------------ acceptance on the twins
def background(image_path, truth_path):
    """Median and standard deviation of the flt sky, as users measure them: astropy's
    ``sigma_clipped_stats`` (3 sigma, 5 passes) of the pixels away from the sources (from the
    truth); and the true mean sky of the exposure."""
    from astropy.stats import sigma_clipped_stats

    with fits.open(truth_path) as truth:
        scene = truth["RATE_E"].data[5:-5, 5:-5]
        sky = truth[0].header["SKYRATE"]
        tvb_e, times = truth["READS"].data["TVB_E"], truth["READS"].data["SAMPTIME"]
    source = scene > sky + 0.02
    grown = source.copy()
    for axis in (0, 1):
        for shift in (-2, -1, 1, 2):
            grown |= np.roll(source, shift, axis=axis)
    with fits.open(image_path) as flt:
        data = flt["SCI"].data.astype(np.float32)
    _mean, median, stddev = sigma_clipped_stats(data[~grown])
    return median, stddev, sky + tvb_e[-1] / times[-1]


@pytest.fixture(scope="module")
def twins(tmp_path_factory):
    """The simulated twin pair (SPARS100, 14 reads): steady sky, and a He I-like rise."""
    from hstramp.simulate import simulate_tvb_twins

    return simulate_tvb_twins(tmp_path_factory.mktemp("tvb_twins"), seed=1, size=64,
                              samp_seq="SPARS100", nsamp=14)


VARIANTS = {"plain": None, "auto": "wfc3ir_tvb_auto.asdf", "lmf": "wfc3ir_last_minus_first.asdf"}


@pytest.fixture(scope="module")
def products(twins, tmp_path_factory):
    """Run the plain pipeline and the config/ variants; return {(twin, variant): directory}."""
    out = tmp_path_factory.mktemp("tvb_products")
    runs = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(twins[0].iref))
        for twin, sim in zip(("steady", "affected"), twins, strict=True):
            for variant, config in VARIANTS.items():
                if twin == "steady" and variant == "lmf":
                    continue
                target = out / f"{twin}_{variant}"
                extra = {} if config is None else {"config_file": str(CONFIG / config)}
                WFC3IRPipeline.call(str(sim.raw_path), output_dir=str(target), **extra)
                runs[(twin, variant)] = target / f"{sim.rootname}_flt.fits"
    return runs


def test_config_files_set_only_what_differs():
    expected = {"wfc3ir_flatten_ramp.asdf": ("flatten_ramp", "mode", "always"),
                "wfc3ir_tvb_auto.asdf": ("flatten_ramp", "mode", "auto"),
                "wfc3ir_last_minus_first.asdf": ("ramp_fit", "algorithm", "last_minus_first")}
    for name, (step, parameter, value) in expected.items():
        pipeline = WFC3IRPipeline.from_config_file(str(CONFIG / name))
        assert getattr(getattr(pipeline, step), parameter) == value
        assert pipeline.jump.skip is (name == "wfc3ir_last_minus_first.asdf")
        assert pipeline.jump.rejection_threshold is None  # the rest at defaults (CRREJTAB)


def test_flatten_ramp_meets_the_issue_numbers(twins, products):
    steady, affected = twins
    _, plain_std, _ = background(products[("affected", "plain")], affected.truth_path)
    level, flat_std, truth = background(products[("affected", "auto")], affected.truth_path)
    _, steady_std, _ = background(products[("steady", "plain")], steady.truth_path)
    assert plain_std / flat_std >= 3.0, (plain_std, flat_std)
    assert flat_std <= 1.3 * steady_std, (flat_std, steady_std)
    assert level == pytest.approx(truth, rel=0.02)
    plain_level, _, _ = background(products[("affected", "plain")], affected.truth_path)
    assert abs(level / truth - 1) < abs(plain_level / truth - 1)  # the plain fit is biased


def test_auto_leaves_the_steady_twin_byte_identical(twins, products):
    steady = twins[0]
    for suffix in ("flt", "ima"):
        plain = products[("steady", "plain")].with_name(f"{steady.rootname}_{suffix}.fits")
        auto = products[("steady", "auto")].with_name(f"{steady.rootname}_{suffix}.fits")
        assert masked_bytes(auto) == masked_bytes(plain), suffix
    assert "TVBCORR" not in fits.getheader(products[("steady", "auto")])


def test_auto_corrects_the_affected_twin_and_says_so(twins, products):
    auto = products[("affected", "auto")]
    header = fits.getheader(auto)
    assert header["TVBCORR"] == "COMPLETE" and header["TVBMODE"] == "AUTO"
    assert header["TVBMETRC"] > 0.1 and header["TVBREADS"].startswith("7,")
    assert fits.getheader(auto.with_name(auto.name.replace("flt", "ima")))["TVBMODE"] == "AUTO"
    assert "TVBCORR" not in fits.getheader(products[("affected", "plain")])


def test_auto_mode_logs_its_decision(twins, caplog):
    with caplog.at_level(logging.INFO, logger="hstramp.steps"):
        for sim in twins:
            FlattenRampStep(mode="auto").run(str(sim.raw_path))
    messages = [r.getMessage() for r in caplog.records
                if r.name.startswith("hstramp.steps") and "done in" not in r.getMessage()]
    assert "no time-variable background detected" in messages[0]
    assert "flatten-ramp applied (mode=auto)" in messages[1]


def test_last_minus_first_keeps_the_level_and_the_cosmic_rays(twins, products):
    affected = twins[1]
    lmf = products[("affected", "lmf")]
    level, _, truth = background(lmf, affected.truth_path)
    assert level == pytest.approx(truth, rel=0.02)
    header = fits.getheader(lmf)
    assert header["RAMPFIT"] == "LAST_MINUS_FIRST" and header["CRLEFTIN"] is True
    with fits.open(affected.truth_path) as truth_file:
        crs = truth_file["CRS"].data
    big = crs[np.argmax(crs["AMPLITUDE"])]
    y, x = int(big["Y"]) - 5, int(big["X"]) - 5
    in_lmf = fits.getdata(lmf, "SCI")[y, x]
    in_fit = fits.getdata(products[("affected", "auto")], "SCI")[y, x]
    assert in_lmf - in_fit > 0.5 * big["AMPLITUDE"] / affected.times[-1]  # left in


def test_products_are_flt_images(products):
    for path in products.values():
        with fits.open(path) as flt:
            assert [h.name for h in flt[1:]] == ["SCI", "ERR", "DQ", "SAMP", "TIME"]
