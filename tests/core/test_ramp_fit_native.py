"""The compiled ramp fit (``_native/rampfit.c``) against the NumPy reference path.

Both paths of :func:`hstramp.core.ramp_fit.fit_ramps` run on the same inputs and must give
the same bits in every output (NaN only has to be NaN in the same places: the sign of a NaN
made by ``0 * inf`` and carried through an addition depends on which operand the CPU
propagates, which is not part of the result).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hstramp.core import dqflags, native
from hstramp.core.ramp_fit import RampFitParameters, fit_ramps, fixsen
from hstramp.core.ramp_fit import compiled as compiled_module
from tests.core.test_jump import SPARS, STEP

CR, SAT, FILL = dqflags.CR_RAMP, dqflags.SATURATED, dqflags.FILL
GAIN, READ_NOISE = 2.5, 6.0
FIELDS = ("rate", "err", "var_poisson", "var_rnoise", "dq", "samp", "time")

pytestmark = pytest.mark.skipif(not native.built()["rampfit"],
                                reason="the compiled ramp fit is not built here")


def canonical(array: np.ndarray) -> np.ndarray:
    """The bytes of ``array`` with every NaN made the same NaN."""
    array = np.array(array)
    if array.dtype.kind == "f":
        array[np.isnan(array)] = np.nan
    return array.view(np.uint8)


def assert_same(expected, got, context=""):
    """Every output and every segment plane identical (see :func:`canonical`)."""
    for name in FIELDS:
        want, have = getattr(expected, name), getattr(got, name)
        assert have.dtype == want.dtype and have.shape == want.shape, f"{context} {name}"
        assert np.array_equal(canonical(want), canonical(have)), f"{context} {name}"
    assert (expected.segments is None) == (got.segments is None), context
    if expected.segments is not None:
        for name in vars(expected.segments):
            want, have = getattr(expected.segments, name), getattr(got.segments, name)
            assert have.shape == want.shape, f"{context} segments.{name}"
            assert np.array_equal(canonical(want), canonical(have)), f"{context} segments.{name}"


def fit_with(monkeypatch, kernels, *args, **kwargs):
    monkeypatch.setenv(native.ENV_VAR, kernels)
    return fit_ramps(*args, **kwargs)


def both(monkeypatch, *args, **kwargs):
    """The NumPy and the compiled fit of the same call, compared; the compiled result."""
    reference = fit_with(monkeypatch, "numpy", *args, **kwargs)
    result = fit_with(monkeypatch, "native", *args, **kwargs)
    assert_same(reference, result)
    return result


# ---------------------------------------------------------------- special cases, one by one


def ramps(times=SPARS, shape=(3, 4), rate=20.0, seed=1, noise=READ_NOISE):
    """Noisy ramps, float32, and empty DQ."""
    rng = np.random.default_rng(seed)
    times = np.asarray(times)
    data = rate * times[:, None, None] + rng.normal(0.0, noise, (times.size, *shape))
    data[0] = 0.0
    return data.astype(np.float32), np.zeros(data.shape, np.uint16)


def flagged(flags_at, **kwargs):
    data, groupdq = ramps(**kwargs)
    for (read, y, x), flag in flags_at.items():
        groupdq[read, y, x] |= flag
    return data, groupdq


def saturated_from(read):
    data, groupdq = ramps()
    groupdq[read:, 1, 2] |= SAT
    groupdq[read:, 0, :] |= SAT
    return data, groupdq


def only_reads(*reads):
    """Pixel (1, 1) has only ``reads`` usable; pixel (2, 3) the same with a jump on the last."""
    data, groupdq = ramps()
    bad = np.setdiff1d(np.arange(data.shape[0]), reads)
    groupdq[bad, 1, 1] |= FILL
    groupdq[bad, 2, 3] |= FILL
    if reads:
        groupdq[reads[-1], 2, 3] |= CR
    return data, groupdq


def valued(value, reads=(3,)):
    data, groupdq = ramps()
    data[list(reads), 1, 1] = value
    data[list(reads), 2, :] = value
    return data, groupdq


def jumps():
    data, groupdq = ramps(shape=(4, 5), rate=200.0)
    for read, y, x in [(2, 0, 0), (5, 0, 0), (6, 0, 0), (1, 1, 1), (15, 2, 2), (8, 3, 4),
                       (9, 3, 4), (3, 1, 3), (14, 1, 3)]:
        data[read:, y, x] += 700.0
        groupdq[read, y, x] |= CR
    return data, groupdq


CASES = {
    "clean": lambda: ramps(),
    "segments split by jumps": jumps,
    "jump on every read": lambda: flagged({(k, 1, 1): CR for k in range(16)}),
    "saturated from read 0": lambda: saturated_from(0),
    "saturated from read 1": lambda: saturated_from(1),
    "saturated from read 2": lambda: saturated_from(2),
    "saturated from read 9": lambda: saturated_from(9),
    "saturated on the last read": lambda: saturated_from(15),
    "all reads bad": lambda: only_reads(),
    "one good read (read 0)": lambda: only_reads(0),
    "one good read (read 5)": lambda: only_reads(5),
    "two good reads": lambda: only_reads(4, 5),
    "two good reads apart": lambda: only_reads(2, 9),
    "single reads between bad ones": lambda: only_reads(1, 3, 5),
    "zero signal": lambda: ramps(rate=0.0, noise=0.0),
    "negative signal": lambda: ramps(rate=-30.0),
    "negative zero reads": lambda: valued(-0.0, reads=range(16)),
    "NaN reads": lambda: valued(np.nan, reads=(3, 7)),
    "inf reads": lambda: valued(np.inf, reads=(0, 4)),
    "-inf read": lambda: valued(-np.inf),
    "huge reads": lambda: valued(3.0e38, reads=(5, 6, 7)),
    "huge negative reads": lambda: valued(-3.0e38, reads=(9, 10)),
    "tiny reads": lambda: valued(1e-44, reads=(2, 3)),
    "bright (every S/N class)": lambda: ramps(shape=(6, 7), rate=4000.0),
    "faint": lambda: ramps(rate=0.05),
    "even read times": lambda: ramps(times=np.arange(16) * 10.0),
    "STEP read times": lambda: ramps(times=STEP),
    "one read": lambda: ramps(times=[0.0]),
    "two reads": lambda: ramps(times=[0.0, 2.9]),
    "three reads": lambda: ramps(times=[0.0, 0.5, 100.0]),
    "one pixel": lambda: ramps(shape=(1, 1)),
    "one row": lambda: ramps(shape=(1, 9)),
    "one column": lambda: ramps(shape=(7, 1)),
    "odd shape": lambda: ramps(shape=(5, 17)),
    "empty frame": lambda: ramps(shape=(0, 4)),
    "rows without pixels": lambda: ramps(shape=(3, 0)),
}

PARAMETER_SETS = {
    "defaults": {},
    "unweighted": {"weighting": "unweighted"},
    "one-read slopes": {"suppress_one_group": False},
    "segments": {"save_segments": True, "suppress_one_group": False},
    "one row per block": {"block_rows": 1, "save_segments": True},
}


@pytest.mark.parametrize("parameters", PARAMETER_SETS)
@pytest.mark.parametrize("case", CASES)
def test_special_case(monkeypatch, case, parameters):
    data, groupdq = CASES[case]()
    times = {1: [0.0], 2: [0.0, 2.9], 3: [0.0, 0.5, 100.0]}.get(data.shape[0])
    if times is None:
        times = {"even read times": np.arange(16) * 10.0, "STEP read times": STEP}.get(case, SPARS)
    params = RampFitParameters(**PARAMETER_SETS[parameters])
    both(monkeypatch, data, groupdq, times, GAIN, READ_NOISE, params)


def test_the_special_cases_cover_what_they_name(monkeypatch):
    """A few of the cases above do reach the branches they are named for."""
    data, groupdq = only_reads(5)
    result = both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE,
                  RampFitParameters(suppress_one_group=False, save_segments=True))
    assert result.samp[1, 1] == 1 and np.isfinite(result.rate[1, 1])
    assert np.isnan(result.rate[2, 3])  # the one read follows a jump
    data, groupdq = jumps()
    result = both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE,
                  RampFitParameters(save_segments=True))
    assert result.segments.slope.shape[0] >= 3
    data, groupdq = saturated_from(1)
    assert (both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE).dq[0] & SAT).all()


# ---------------------------------------------------------------- per-pixel maps, flags, scale


def test_gain_and_read_noise_maps_with_invalid_pixels(monkeypatch):
    data, groupdq = ramps(shape=(4, 6), rate=500.0)
    rng = np.random.default_rng(3)
    gain = rng.uniform(1.5, 3.5, (4, 6)).astype(np.float32)
    noise = rng.uniform(3.0, 9.0, (4, 6)).astype(np.float32)
    gain[0, :4] = [0.0, -1.0, np.nan, np.inf]
    noise[1, :4] = [0.0, -1.0, np.nan, np.inf]  # read noise 0 is valid
    for params in (RampFitParameters(), RampFitParameters(suppress_one_group=False)):
        result = both(monkeypatch, data, groupdq, SPARS, gain, noise, params)
    assert np.isnan(result.rate[0, :4]).all() and np.isnan(result.rate[1, 1:4]).all()
    assert np.isfinite(result.rate[1, 0]) and result.var_rnoise[1, 0] == 0


def test_read_noise_zero_everywhere(monkeypatch):
    data, groupdq = jumps()
    both(monkeypatch, data, groupdq, SPARS, GAIN, 0.0, RampFitParameters(save_segments=True))


def test_pixeldq_flags_and_excludes(monkeypatch):
    data, groupdq = jumps()
    pixeldq = np.zeros(data.shape[1:], np.uint16)
    pixeldq[0, :3] = [dqflags.BAD_DETECTOR, dqflags.HOT, dqflags.FILL | dqflags.WARM]
    result = both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE, pixeldq=pixeldq)
    assert np.isnan(result.rate[0, 0]) and np.isfinite(result.rate[0, 1])
    assert result.dq[0, 1] & dqflags.HOT


@pytest.mark.parametrize("in_rates", [True, False])
def test_read_scale(monkeypatch, in_rates):
    """A calibrated ramp (rates or counts, read 0 holding anything) scaled block by block."""
    data, groupdq = jumps()
    data[0] = 17.0
    data[0, 1, 1], data[0, 2, 2] = np.inf, np.nan
    scale = SPARS.astype(np.float32) if in_rates else np.ones(16, np.float32)
    if in_rates:
        data[1:] /= scale[1:, None, None]
    data[3, 0, 0] = 3.0e38  # 3e38 * t is inf: unusable
    for params in (RampFitParameters(), RampFitParameters(block_rows=1, save_segments=True)):
        both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE, params, read_scale=scale)


def test_every_flag_bit(monkeypatch):
    """Each DQ bit on some reads of some pixels: what is unusable, what is a jump, what the
    collapsed DQ keeps."""
    data, groupdq = ramps(shape=(16, 5))
    rng = np.random.default_rng(4)
    for bit in range(16):
        where = rng.random(groupdq.shape) < 0.05
        groupdq[where] |= np.uint16(1 << bit)
    pixeldq = (1 << rng.integers(0, 16, data.shape[1:])).astype(np.uint16)
    both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE,
         RampFitParameters(suppress_one_group=False, save_segments=True), pixeldq)


# ---------------------------------------------------------------- layouts and dtypes


def layouts():
    data, groupdq = jumps()
    big = np.zeros((16, 8, 10), np.float32)
    big[:, ::2, ::2] = data
    bigdq = np.zeros(big.shape, np.uint16)
    bigdq[:, ::2, ::2] = groupdq
    return {
        "C order": (data, groupdq),
        "strided": (big[:, ::2, ::2], bigdq[:, ::2, ::2]),
        "Fortran order": (np.asfortranarray(data), np.asfortranarray(groupdq)),
        "big-endian": (data.astype(">f4"), groupdq.astype(">u2")),
        "float64 and uint32": (data.astype(np.float64), groupdq.astype(np.uint32)),
        "reversed rows": (data[:, ::-1], groupdq[:, ::-1]),
    }


@pytest.mark.parametrize("layout", layouts())
@pytest.mark.parametrize("block_rows", [0, 1, 3])
def test_layouts_and_dtypes(monkeypatch, layout, block_rows):
    data, groupdq = layouts()[layout]
    ny, nx = data.shape[1:]
    gain = np.broadcast_to(np.float32(GAIN), (ny, nx))  # strides 0
    noise = np.full((nx, ny), READ_NOISE, np.float64).T  # float64, transposed
    pixeldq = np.zeros((ny, nx * 2), np.uint8)[:, ::2]
    params = RampFitParameters(block_rows=block_rows, save_segments=True)
    result = both(monkeypatch, data, groupdq, SPARS, gain, noise, params, pixeldq)
    reference = fit_with(monkeypatch, "native", *layouts()["C order"], SPARS, GAIN, READ_NOISE,
                         params)
    if layout != "reversed rows":
        assert_same(reference, result, layout)


def test_inputs_are_not_modified(monkeypatch):
    data, groupdq = jumps()
    data[2, 1, 1] = np.nan
    gain = np.full(data.shape[1:], GAIN, np.float32)
    noise = np.full(data.shape[1:], READ_NOISE, np.float32)
    pixeldq = np.zeros(data.shape[1:], np.uint16)
    scale = SPARS.astype(np.float32)
    arrays = (data, groupdq, SPARS.copy(), gain, noise, pixeldq, scale)
    copies = [array.copy() for array in arrays]
    for array in arrays:
        array.flags.writeable = False
    try:
        both(monkeypatch, data, groupdq, arrays[2], gain, noise,
             RampFitParameters(save_segments=True, suppress_one_group=False), pixeldq, scale)
    finally:
        for array in arrays:
            array.flags.writeable = True
    for array, copy in zip(arrays, copies, strict=True):
        assert np.array_equal(canonical(array), canonical(copy))


# ---------------------------------------------------------------- seeded fuzz


def random_exposure(seed: int):
    """A small random exposure: any number of reads (1-24), random uneven times, jumps,
    saturation, bad and non-finite reads, per-pixel gain and noise with invalid values,
    pixel DQ, sometimes a read_scale, random parameters."""
    rng = np.random.default_rng(seed)
    ngroups = int(rng.integers(1, 25))  # beyond 16, segments are tabulated as met
    ny, nx = (int(v) for v in rng.integers(1, 9, 2))
    if rng.random() < 0.5 or ngroups > SPARS.size:
        times = np.concatenate([[0.0], np.cumsum(rng.uniform(0.01, 50.0, ngroups - 1))])
    else:
        times = SPARS[:ngroups]
    rate = 10 ** rng.uniform(-2, 4, (ny, nx)) * rng.choice([-1, 1, 1, 1], (ny, nx))
    data = rate * times[:, None, None] + rng.normal(0.0, 6.0, (ngroups, ny, nx))
    data = data.astype(np.float32)
    groupdq = np.zeros(data.shape, np.uint16)
    for flag, fraction in ((CR, 0.1), (SAT, 0.05), (FILL, 0.05), (dqflags.HOT, 0.02)):
        groupdq[rng.random(data.shape) < fraction] |= flag
    for value, fraction in ((np.nan, 0.03), (np.inf, 0.02), (-np.inf, 0.01), (-0.0, 0.01)):
        data[rng.random(data.shape) < fraction] = value
    gain = rng.uniform(0.0, 3.0, (ny, nx)).astype(np.float32)
    noise = rng.choice(np.float32([0.0, 3.0, 6.5, np.nan]), (ny, nx))
    pixeldq = rng.choice(np.array([0, 0, 0, 4, 16, 256], np.uint16), (ny, nx))
    params = RampFitParameters(
        weighting=str(rng.choice(["optimal", "unweighted"])),
        suppress_one_group=bool(rng.random() < 0.5),
        block_rows=int(rng.integers(0, 3)),
        save_segments=bool(rng.random() < 0.7),
    )
    scale = None if rng.random() < 0.6 else times.astype(np.float32)
    return (data, groupdq, times, gain, noise, params, pixeldq), {"read_scale": scale}


def test_seeded_fuzz(monkeypatch):
    for seed in range(300):
        args, kwargs = random_exposure(seed)
        reference = fit_with(monkeypatch, "numpy", *args, **kwargs)
        assert_same(reference, fit_with(monkeypatch, "native", *args, **kwargs), f"seed {seed}")


@pytest.mark.slow
def test_seeded_fuzz_long(monkeypatch):
    for seed in range(300, 3300):
        args, kwargs = random_exposure(seed)
        reference = fit_with(monkeypatch, "numpy", *args, **kwargs)
        assert_same(reference, fit_with(monkeypatch, "native", *args, **kwargs), f"seed {seed}")


@pytest.mark.slow
def test_a_full_frame_is_identical(monkeypatch):
    """The benchmark's full-frame 16-read SPARS25 exposure, with its jumps."""
    rng = np.random.default_rng(2024)
    data, groupdq = ramps(shape=(1014, 1014), rate=10 ** rng.uniform(-1, 2, (1014, 1014)))
    hits = rng.random(data.shape) < 0.002
    data += np.cumsum(hits * np.float32(800.0), axis=0, dtype=np.float32)
    groupdq[hits] |= CR
    groupdq[data > 1500] |= SAT
    both(monkeypatch, data, groupdq, SPARS, GAIN, READ_NOISE, read_scale=None)


# ---------------------------------------------------------------- parameters, blocks, dispatch


class RecordingKernel:
    """The compiled module, recording every call's flags, block and segment lists."""

    def __init__(self, module):
        self.module, self.calls = module, []

    def fit(self, inputs, flags, tables, outputs, segments, pixels):
        answer = self.module.fit(inputs, flags, tables, outputs, segments, pixels)
        self.calls.append({"optimal": flags[7], "suppress_one_group": flags[8],
                           "npix": inputs[-1], "segments": segments is not None,
                           "pixels": None if pixels is None else pixels.tolist(),
                           "failed": answer[0], "missing": answer[1]})
        return answer


@pytest.fixture
def recording(monkeypatch):
    monkeypatch.setenv(native.ENV_VAR, "native")
    recorder = RecordingKernel(native.kernel("rampfit"))
    monkeypatch.setattr(native, "kernel", lambda name: recorder)
    return recorder


#: For every parameter, a value other than the default and what the kernel then receives.
PARAMETER_EFFECTS = {
    "weighting": ("unweighted", lambda calls: not any(call["optimal"] for call in calls)),
    "suppress_one_group": (False,
                           lambda calls: not any(call["suppress_one_group"] for call in calls)),
    "block_rows": (1, lambda calls: {call["npix"] for call in calls} == {5}),
    "save_segments": (True, lambda calls: all(call["segments"] for call in calls)),
}


def test_every_parameter_reaches_the_kernel(recording):
    names = {field.name for field in dataclasses.fields(RampFitParameters)}
    assert names == set(PARAMETER_EFFECTS), "a parameter without a test that it reaches C"
    data, groupdq = jumps()
    fit_ramps(data, groupdq, SPARS, GAIN, READ_NOISE)
    default_calls = recording.calls
    for name, (value, received) in PARAMETER_EFFECTS.items():
        assert not received(default_calls), name
        recording.calls = []
        fit_ramps(data, groupdq, SPARS, GAIN, READ_NOISE, RampFitParameters(**{name: value}))
        assert recording.calls and received(recording.calls), name


def test_pixels_with_new_segments_are_fitted_again(recording, monkeypatch):
    """Beyond 16 reads the cache starts empty: the kernel fits no pixel of the first block,
    returns their segments, and fits them all again once tabulated. Later, the one pixel whose
    segment is new (a jump, in the third block of two rows, at pixel 3) is fitted again alone."""
    times = np.append(SPARS, SPARS[-1] + 7.181375)
    assert times.size > compiled_module.ALL_SEGMENTS_UP_TO
    data, groupdq = ramps(times=times, shape=(6, 5), rate=50.0, noise=0.0)
    data[7:, 4, 3] += 900.0
    groupdq[7, 4, 3] |= CR
    params = RampFitParameters(block_rows=2, save_segments=True)
    result = fit_ramps(data, groupdq, times, GAIN, READ_NOISE, params)
    calls = [(call["pixels"], call["failed"], call["missing"]) for call in recording.calls]
    assert calls == [(None, 10, 1), (list(range(10)), 0, 0), (None, 0, 0), (None, 1, 2),
                     ([3], 0, 0)]
    reference = fit_with(monkeypatch, "numpy", data, groupdq, times, GAIN, READ_NOISE, params)
    assert_same(reference, result)


def test_up_to_16_reads_every_segment_is_tabulated_first(recording):
    data, groupdq = jumps()
    fit_ramps(data, groupdq, SPARS, GAIN, READ_NOISE, RampFitParameters(block_rows=1))
    assert [(call["pixels"], call["failed"]) for call in recording.calls] == [(None, 0)] * 4


@pytest.mark.parametrize("block_rows", [1, 2, 5, 64])
def test_chunked_and_unchunked_are_identical(monkeypatch, block_rows):
    data, groupdq = jumps()
    data = np.concatenate([data] * 4, axis=1)
    groupdq = np.concatenate([groupdq] * 4, axis=1)
    whole = fit_with(monkeypatch, "native", data, groupdq, SPARS, GAIN, READ_NOISE,
                     RampFitParameters(save_segments=True))
    chunked = fit_with(monkeypatch, "native", data, groupdq, SPARS, GAIN, READ_NOISE,
                       RampFitParameters(save_segments=True, block_rows=block_rows))
    assert_same(whole, chunked, f"block_rows={block_rows}")


def test_the_numpy_setting_runs_the_reference_path(monkeypatch):
    calls = []
    monkeypatch.setattr(compiled_module, "fit_rows",
                        lambda *args, **kwargs: calls.append(args) or None)
    data, groupdq = ramps()
    fit_with(monkeypatch, "numpy", data, groupdq, SPARS, GAIN, READ_NOISE)
    assert not calls
    reference = fixsen.fit_rows
    used = []
    monkeypatch.setattr(fixsen, "fit_rows", lambda *args: used.append(1) or reference(*args))
    fit_with(monkeypatch, "numpy", data, groupdq, SPARS, GAIN, READ_NOISE)
    assert used


@pytest.mark.parametrize(("position", "replacement", "message"), [
    (0, lambda inputs: (np.zeros(3, np.float32), *inputs[1:]), "data holds"),
    (0, lambda inputs: (*inputs[:6], np.zeros(2, np.float32), *inputs[7:]), "gain holds"),
    (3, lambda outputs: (np.zeros(12, np.float32)[::2], *outputs[1:]), "rate is not"),
])
def test_the_kernel_checks_its_buffers(monkeypatch, position, replacement, message):
    """The kernel refuses buffers too short or not contiguous (it is only called by
    compiled.fit_rows, which never passes such; this guards the C against a future
    caller)."""
    module = native.kernel("rampfit")

    class Broken:
        def fit(self, *args):
            args = list(args)
            args[position] = replacement(args[position])
            return module.fit(*args)

    monkeypatch.setenv(native.ENV_VAR, "native")
    monkeypatch.setattr(native, "kernel", lambda name: Broken())
    data, groupdq = ramps()
    with pytest.raises(ValueError, match=message):
        fit_ramps(data, groupdq, SPARS, GAIN, READ_NOISE)
