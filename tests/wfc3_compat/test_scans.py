"""Spatial scans: SCAN_TYP respected, scans without it found in the ramps, the steps' answers.

The table cases are ramps built here (seeded): what the detector must call a scan and what it
must not (cosmic rays, a time-variable sky, a satellite trail, a saturating star).
"""

import logging

import numpy as np
import pytest

from hstramp.core.dqflags import SATURATED
from hstramp.core.scan import ScanParameters, detect_scan, scan_verdict
from hstramp.core.units import count_scale
from hstramp.datamodels import read_multiaccum
from hstramp.steps.jump import JumpStep
from hstramp.steps.tvb import FlattenRampStep

SIZE = 74  # 64 science pixels and the 5-pixel border
TIMES = np.array([0.0, 0.278, 7.62, 14.97, 22.32, 29.66, 37.01, 44.35, 51.70, 59.04])


def _staring(rng, sky=1.0):
    """Counts of a steady sky with read noise, and a few faint stars."""
    rate = np.full((SIZE, SIZE), sky)
    rate[20:23, 30:33] += 50.0
    rate[50, 12] += 200.0
    counts = rate[None] * TIMES[:, None, None]
    return counts + rng.normal(0.0, 10.0, (TIMES.size, SIZE, SIZE))


def _scan(counts, *, step_rows=1, x=(20, 50), y=(12, 52), flux=3000.0):
    """A spectrum (columns ``x``) swept along rows ``y`` once over the exposure, moving
    ``step_rows`` rows at a time (1: continuous; more: dwells)."""
    counts = counts.copy()
    rows = np.arange(*y)
    position = (rows - y[0]) // step_rows * step_rows
    passed = TIMES[-1] * (position + 0.5) / (y[1] - y[0])
    for k, t in enumerate(TIMES):
        lit = rows[passed < t]
        counts[k, lit, x[0]:x[1]] += flux
    return counts


def _cosmic_rays(counts, rng, fraction):
    counts = counts.copy()
    hit = rng.random((SIZE, SIZE)) < fraction
    read = rng.integers(1, TIMES.size, (SIZE, SIZE))
    amplitude = rng.uniform(50.0, 3000.0, (SIZE, SIZE))
    for k in range(TIMES.size):
        counts[k] += np.where(hit & (read <= k), amplitude, 0.0)
    return counts


def _case(name):
    rng = np.random.default_rng(7)
    dq = None
    if name == "staring":
        counts = _staring(rng)
    elif name == "continuous scan":
        counts = _scan(_staring(rng))
    elif name == "discrete scan (dwells every 3 rows)":
        counts = _scan(_staring(rng), step_rows=3)
    elif name == "scan with many cosmic rays":
        counts = _cosmic_rays(_scan(_staring(rng)), rng, 0.05)
    elif name == "staring, 10 % of pixels hit by cosmic rays":
        counts = _cosmic_rays(_staring(rng), rng, 0.10)
    elif name == "time-variable sky":
        counts = _staring(rng)
        extra = np.clip(TIMES - 20.0, 0.0, None) * 5.0  # +5 e-/s from t = 20 s
        counts += extra[:, None, None]
    elif name == "satellite trail":
        counts = _staring(rng)
        counts[4:, 40, 5:69] += 2000.0
        counts[4:, 5:69, 25] += 2000.0
    elif name == "saturating star":
        counts = _staring(rng)
        yy, xx = np.mgrid[:SIZE, :SIZE]
        star = 4.0e4 * np.exp(-((yy - 37) ** 2 + (xx - 37) ** 2) / (2 * 6.0**2))
        counts = np.minimum(counts + star[None] * TIMES[:, None, None], 8.0e4)
        dq = np.where(counts >= 8.0e4, SATURATED, 0).astype(np.uint16)
    else:
        raise KeyError(name)
    return counts.astype(np.float32), dq


@pytest.mark.parametrize(("name", "scan"), [
    ("staring", False),
    ("continuous scan", True),
    ("discrete scan (dwells every 3 rows)", True),
    ("scan with many cosmic rays", True),
    ("staring, 10 % of pixels hit by cosmic rays", False),
    ("time-variable sky", False),
    ("satellite trail", False),
    ("saturating star", False),
])
def test_detector_table(name, scan):
    counts, dq = _case(name)
    found = detect_scan(counts, TIMES, groupdq=dq)
    assert found.is_scan is scan, found.describe()
    if scan:
        assert found.first_read < found.last_read


def test_rates_with_read_scale_give_the_counts_answer():
    counts, _ = _case("continuous scan")
    rates = counts.copy()
    rates[1:] /= TIMES[1:, None, None]
    rates[0] = 0.0
    by_counts = detect_scan(counts - counts[0], TIMES)
    by_rates = detect_scan(rates, TIMES, read_scale=count_scale(TIMES, in_rates=True))
    assert by_rates.is_scan and by_rates.track_pixels == by_counts.track_pixels


def test_the_header_decides_before_the_ramps():
    scan, _ = _case("continuous scan")
    staring, _ = _case("staring")
    assert scan_verdict("C", staring, TIMES).is_scan
    assert scan_verdict("D", staring, TIMES).is_scan
    verdict = scan_verdict("N", scan, TIMES)
    assert not verdict.is_scan and verdict.detection is None
    assert scan_verdict(None, scan, TIMES).detection.is_scan
    assert "from the ramps: a spatial scan" in scan_verdict("", scan, TIMES).describe()


def test_too_few_reads_is_said_not_guessed():
    counts, _ = _case("continuous scan")
    found = detect_scan(counts[:3], TIMES[:3])
    assert not found.is_scan and "at least 4" in found.describe()


def test_block_size_does_not_change_the_answer():
    counts, _ = _case("scan with many cosmic rays")
    answers = {detect_scan(counts, TIMES, params=ScanParameters(block_rows=rows)).track_pixels
               for rows in (1, 7, 64, 500)}
    assert len(answers) == 1


@pytest.mark.parametrize("name", ["ibh7a7lsq_raw.fits", "ibxy01aoq_raw.fits",
                                  "ibxy07q9q_raw.fits"])
def test_the_three_real_raws_are_scans_without_scan_typ(real_file, name):
    ramp = read_multiaccum(real_file(name))
    assert ramp.meta.exposure.scan_type is None
    verdict = scan_verdict(ramp.meta.exposure.scan_type, ramp.data, ramp.times)
    assert verdict.is_scan and verdict.detection.track_pixels > 3000


def test_real_imas_scan_typ_and_ramps_agree(real_file):
    scan = read_multiaccum(real_file("ibh726meq_ima.fits"))
    staring = read_multiaccum(real_file("iccz11q4q_ima.fits"))
    assert scan.meta.exposure.scan_type == "C"
    assert staring.meta.exposure.scan_type == "N"
    for ramp, expected in ((scan, True), (staring, False)):
        found = detect_scan(ramp.data, ramp.times,
                            read_scale=count_scale(ramp.times, in_rates=ramp.in_rates))
        assert found.is_scan is expected


def _step_references(real_file, tmp_path, name, step):
    from hstramp.simulate.matching import references_for

    refs = references_for(real_file(name), tmp_path / "refs")
    return {f"override_{k}": str(v) for k, v in refs.items()
            if k in step.reference_file_types}


@pytest.mark.parametrize(("name", "said"), [
    # no SCAN_TYP; its region's level moves by 3.7 % (above the threshold) because the
    # scan moves, not the sky
    ("ibxy01aoq_raw.fits", "from the ramps: a spatial scan"),
    ("ibh726meq_ima.fits", "SCAN_TYP = 'C' (continuous scan)"),
])
def test_auto_tvb_never_flattens_a_scan(real_file, caplog, name, said):
    path = real_file(name)
    before = read_multiaccum(path)
    with caplog.at_level(logging.INFO, logger="hstramp"):
        after = FlattenRampStep.call(str(path), mode="auto")
    np.testing.assert_array_equal(after.data, before.data)
    assert after.meta.tvb.mode is None
    assert "auto mode never flattens a scan" in caplog.text and said in caplog.text


def test_crcorr_on_a_scan_typ_c_ima_warns_once(real_file, tmp_path, caplog):
    refs = _step_references(real_file, tmp_path, "ibh726meq_ima.fits", JumpStep)
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        JumpStep.call(str(real_file("ibh726meq_ima.fits")), switch="perform", **refs)
    warnings = [r.getMessage() for r in caplog.records if "is a spatial scan" in r.getMessage()]
    assert len(warnings) == 1
    assert "SCAN_TYP = 'C'" in warnings[0] and "CRCORR=OMIT" in warnings[0]
    assert "last_minus_first" in warnings[0]


@pytest.mark.slow
def test_a_real_raw_scan_run_end_to_end_warns_once(real_file, tmp_path, caplog):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline
    from hstramp.simulate.matching import references_for

    raw = real_file("ibh7a7lsq_raw.fits")
    refs = references_for(raw, tmp_path / "refs")
    steps = {name: {f"override_{k}": str(v) for k, v in refs.items()
                    if k in step.reference_file_types}
             for name, step in WFC3IRPipeline.step_defs.items() if step.reference_file_types}
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        WFC3IRPipeline.call(str(raw), output_dir=str(tmp_path), steps=steps)
    warnings = [r.getMessage() for r in caplog.records if "is a spatial scan" in r.getMessage()]
    assert len(warnings) == 1 and "from the ramps: a spatial scan" in warnings[0]


def test_an_ordinary_exposure_gets_no_scan_warning(exposure, iref, tmp_path, caplog):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    with caplog.at_level(logging.WARNING, logger="hstramp"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path))
    assert "spatial scan" not in caplog.text


@pytest.fixture(scope="module")
def scans(tmp_path_factory):
    """Simulated scans: one with SCAN_TYP='C', one without (as OPUS headers before 2013)."""
    from hstramp.simulate import ScanProfile, simulate_exposure

    root = tmp_path_factory.mktemp("scans")
    return {label: simulate_exposure(root / label, size=128, nsamp=12, seed=4,
                                     scan=ScanProfile(scan_type=code))
            for label, code in (("C", "C"), ("none", None))}


def test_the_simulator_writes_a_scan_with_or_without_scan_typ(scans):
    with_header = read_multiaccum(scans["C"].raw_path)
    without = read_multiaccum(scans["none"].raw_path)
    assert with_header.meta.exposure.scan_type == "C"
    assert without.meta.exposure.scan_type is None
    np.testing.assert_array_equal(with_header.data, without.data)
    assert detect_scan(without.data, without.times).is_scan


@pytest.mark.parametrize("label", ["C", "none"])
def test_a_simulated_scan_through_the_pipeline(scans, label, monkeypatch, tmp_path, caplog):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    exposure = scans[label]
    monkeypatch.setenv("iref", str(exposure.iref))
    with caplog.at_level(logging.INFO, logger="hstramp"):
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path),
                            steps={"flatten_ramp": {"mode": "auto"}})
    warnings = [r.getMessage() for r in caplog.records
                if r.levelno == logging.WARNING and "is a spatial scan" in r.getMessage()]
    assert len(warnings) == 1
    assert "auto mode never flattens a scan" in caplog.text


def test_simulated_staring_exposures_carry_scan_typ_n_unless_asked(tmp_path):
    from hstramp.simulate import simulate_exposure

    default = simulate_exposure(tmp_path / "n", size=64, nsamp=4, seed=2)
    without = simulate_exposure(tmp_path / "none", size=64, nsamp=4, seed=2,
                                staring_scan_type=None)
    assert read_multiaccum(default.raw_path).meta.exposure.scan_type == "N"
    ramp = read_multiaccum(without.raw_path)
    assert ramp.meta.exposure.scan_type is None
    assert scan_verdict(ramp.meta.exposure.scan_type, ramp.data, ramp.times).detection
