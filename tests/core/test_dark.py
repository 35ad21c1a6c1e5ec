"""Tests of hstramp.core.dark: subtraction in the science area, quadrature errors, MEANDARK."""

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.dark import MEANDARK_DQ_MASK, dark_subtract

TRIM = (1, 2, 2, 1)
SHAPE = (3, 7, 8)


def _inputs():
    rng = np.random.default_rng(9)
    return {
        "data": rng.normal(500.0, 20.0, SHAPE).astype(np.float32),
        "err": rng.uniform(5.0, 6.0, SHAPE).astype(np.float32),
        "groupdq": np.zeros(SHAPE, dtype=np.uint16),
        "dark": (np.array([0.0, 0.5, 3.0])[:, None, None] + rng.normal(0.0, 0.1, SHAPE)).astype(
            np.float32
        ),
        "dark_err": rng.uniform(0.1, 0.2, SHAPE).astype(np.float32),
        "dark_dq": np.zeros(SHAPE, dtype=np.uint16),
    }


def _science():
    inside = np.zeros(SHAPE[1:], bool)
    inside[2:6, 1:6] = True
    return inside


def test_dark_subtracts_in_quadrature_in_the_science_area_only():
    inputs = _inputs()
    inputs["dark_dq"][1, 3, 3] = dqflags.HOT
    inputs["dark_dq"][1, 0, 0] = dqflags.HOT  # border: not propagated
    result = dark_subtract(**inputs, trim=TRIM)
    inside = _science()
    np.testing.assert_array_equal(
        result.data[:, inside], (inputs["data"] - inputs["dark"])[:, inside]
    )
    expected_err = np.sqrt(inputs["err"] ** 2 + inputs["dark_err"] ** 2)
    np.testing.assert_allclose(result.err[:, inside], expected_err[:, inside], rtol=1e-6)
    for name in ("data", "err"):
        np.testing.assert_array_equal(getattr(result, name)[:, ~inside], inputs[name][:, ~inside])
    assert result.groupdq[1, 3, 3] == dqflags.HOT
    assert result.groupdq.sum() == dqflags.HOT


def test_meandark_is_the_mean_of_each_dark_over_the_science_area():
    inputs = _inputs()
    inputs["dark"][:, 0, :] = 1e6  # border row: ignored
    result = dark_subtract(**inputs, trim=TRIM)
    inside = _science()
    expected = [inputs["dark"][k][inside].astype(np.float64).mean() for k in range(3)]
    np.testing.assert_allclose(result.meandark, expected, rtol=1e-6)
    assert result.meandark.dtype == np.float64


@pytest.mark.parametrize(
    ("flag", "excluded"),
    [(name, bool(value & MEANDARK_DQ_MASK)) for name, value in dqflags.IR_FLAGS.items()],
)
def test_meandark_skips_exactly_the_calwf3_dq_mask(flag, excluded):
    inputs = _inputs()
    inputs["dark"][1, 3, 3] = 1000.0
    inputs["dark_dq"][1, 3, 3] = dqflags.IR_FLAGS[flag]
    meandark = dark_subtract(**inputs, trim=TRIM).meandark[1]
    assert (meandark < 1.0) == excluded


def test_calwf3_meandark_mask_value():
    assert MEANDARK_DQ_MASK == 4 + 8 + 16 + 32 + 128 + 256 + 512


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_meandark_skips_nonfinite_dark_values(bad):
    inputs = _inputs()
    inputs["dark"][2, 3, 3] = bad
    assert np.isfinite(dark_subtract(**inputs, trim=TRIM).meandark[2])


def test_dark_without_err_or_dq():
    inputs = _inputs()
    inputs.update(dark_err=None, dark_dq=None)
    result = dark_subtract(**inputs, trim=TRIM)
    np.testing.assert_array_equal(result.err, inputs["err"])
    assert not result.groupdq.any()


@pytest.mark.parametrize("name, frames, message", [
    ("dark", lambda d: d[:2], "dark must hold 3 frames"),
    ("dark_err", lambda d: d[:, :4], r"dark_err\[0\] has shape \(4, 8\)"),
    ("err", lambda d: d[:2], "err has shape"),
])
def test_dark_shape_mismatch(name, frames, message):
    inputs = _inputs()
    inputs[name] = frames(inputs[name])
    with pytest.raises(ValueError, match=message):
        dark_subtract(**inputs, trim=TRIM)


class _CountingFrames:
    """A lazy per-read sequence that records which frames were fetched."""

    def __init__(self, cube):
        self.cube, self.fetched = cube, []

    def __len__(self):
        return len(self.cube)

    def __getitem__(self, k):
        self.fetched.append(k)
        return self.cube[k].copy()


def test_dark_in_place_and_streamed_equal_the_copying_call():
    inputs = _inputs()
    inputs["dark_dq"][1, 3, 3] = dqflags.HOT
    expected = dark_subtract(**inputs, trim=TRIM)
    before = {k: v.copy() for k, v in inputs.items()}
    lazy = {k: _CountingFrames(inputs[k]) for k in ("dark", "dark_err", "dark_dq")}
    own = {k: inputs[k].copy() for k in ("data", "err", "groupdq")}
    result = dark_subtract(**own, **lazy, trim=TRIM, out=(own["data"], own["err"], own["groupdq"]))
    assert result.data is own["data"] and result.groupdq is own["groupdq"]
    for name in ("data", "err", "groupdq"):
        np.testing.assert_array_equal(getattr(result, name), getattr(expected, name))
    np.testing.assert_array_equal(result.meandark, expected.meandark)
    assert all(frames.fetched == [0, 1, 2] for frames in lazy.values())  # each once
    for name, value in before.items():  # nothing but ``out`` was written
        if name not in own:
            np.testing.assert_array_equal(inputs[name], value)


@pytest.mark.parametrize("bad, message", [
    (lambda o: o[:2], "out must hold 3 arrays"),
    (lambda o: (o[0].astype(np.float64), o[1], o[2]), "out data must be a native float32 array"),
    (lambda o: (o[0], o[1][:, ::2], o[2]), "out err must be a native float32 array of shape"),
    (lambda o: (o[0][:, :, ::-1], o[1], o[2]), "out data must be a writeable C-contiguous"),
])
def test_dark_refuses_a_bad_out(bad, message):
    inputs = _inputs()
    out = tuple(inputs[k].copy() for k in ("data", "err", "groupdq"))
    with pytest.raises(ValueError, match=message):
        dark_subtract(**inputs, trim=TRIM, out=bad(out))
