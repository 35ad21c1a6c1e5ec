"""``out=``: every core function that rewrites a ramp gives the same result in place.

For each function: the copying call (no ``out``), the call writing into separate arrays and
the call writing into its own inputs give identical arrays, and nothing but ``out`` is
written.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from hstramp.core import dqflags
from hstramp.core.blev import bias_level_correct
from hstramp.core.dark import dark_subtract
from hstramp.core.dqinit import dq_init
from hstramp.core.flat import flat_field
from hstramp.core.nlin import nonlinearity_correct
from hstramp.core.noise import initial_error
from hstramp.core.outputs import output_arrays
from hstramp.core.units import count_rates
from hstramp.core.zoff import subtract_zero_read
from hstramp.core.zsig import zero_read_signal

SHAPE = (4, 12, 11)
TRIM = (2, 1, 1, 2)
FRAME = SHAPE[1:]


def _ramp(seed=3):
    rng = np.random.default_rng(seed)
    data = (rng.uniform(0.0, 3e4, SHAPE)).astype(np.float32)
    data[:, 0, 0] = np.float32(-50.0)
    groupdq = np.zeros(SHAPE, np.uint16)
    groupdq[1, 4, 4] = dqflags.SATURATED
    groupdq[2, 5, 6] = dqflags.HOT
    err = rng.uniform(1.0, 9.0, SHAPE).astype(np.float32)
    return rng, {"data": data, "err": err, "groupdq": groupdq}


def _dark(rng, ramp):
    return ({"data": ramp["data"], "err": ramp["err"], "groupdq": ramp["groupdq"],
             "dark": rng.uniform(0, 3, SHAPE).astype(np.float32),
             "dark_err": rng.uniform(0, 1, SHAPE).astype(np.float32),
             "dark_dq": np.where(rng.random(SHAPE) < 0.1, dqflags.HOT, 0).astype(np.uint16),
             "trim": TRIM}, ("data", "err", "groupdq"), dark_subtract)


def _nlin(rng, ramp):
    coeffs = (rng.normal(0, 1, (3, *FRAME)) * np.array([1e-3, 1e-7, 1e-11])[:, None, None])
    return ({"data": ramp["data"], "groupdq": ramp["groupdq"],
             "coeffs": coeffs.astype(np.float32), "node": np.full(FRAME, 2.5e4, np.float32),
             "nlin_dq": np.zeros(FRAME, np.uint16), "trim": TRIM,
             "zsig": rng.uniform(0, 100, FRAME).astype(np.float32),
             "zsig_dq": np.where(rng.random(FRAME) < 0.2, dqflags.ZERO_READ_SIGNAL,
                                 0).astype(np.uint16)},
            ("data", "groupdq"), nonlinearity_correct)


def _flat(rng, ramp):
    flat = rng.uniform(0.9, 1.1, FRAME).astype(np.float32)
    flat[3, 3] = 0.0
    return ({"data": ramp["data"], "err": ramp["err"], "dq": ramp["groupdq"], "flat": flat,
             "flat_err": np.full(FRAME, 0.01, np.float32),
             "flat_dq": np.where(flat == 0, dqflags.BAD_FLAT, 0).astype(np.uint16),
             "amp_gains": (2.3, 2.4, 2.5, 2.6), "trim": TRIM, "bunit": "COUNTS"},
            ("data", "err", "dq"), flat_field)


def _units(rng, ramp):
    return ({"data": ramp["data"], "err": ramp["err"],
             "times": np.array([0.0, 2.9, 0.0, 12.0]), "trim": TRIM},
            ("data", "err"), count_rates)


def _zoff(rng, ramp):
    return ({"data": ramp["data"], "groupdq": ramp["groupdq"]},
            ("data", "groupdq"), subtract_zero_read)


def _blev(rng, ramp):
    return ({"data": ramp["data"], "trim": TRIM, "biassect_a": (0, 0), "biassect_b": (10, 10)},
            ("data",), bias_level_correct)


def _noise(rng, ramp):
    err = ramp["err"].copy()
    err[2:, 5, 5] = 0.0
    err[:2] = 0.0  # reads 0, 1 to compute; read 2 already populated: stops there
    return ({"data": ramp["data"], "err": err, "gain": 2.5, "readnoise": 20.0, "trim": TRIM},
            ("err",), initial_error)


def _zsig(rng, ramp):
    return ({"data": ramp["data"], "groupdq": ramp["groupdq"],
             "zsci": rng.uniform(0, 2e4, FRAME).astype(np.float32),
             "zerr": np.full(FRAME, 5.0, np.float32), "node": np.full(FRAME, 2.5e4, np.float32),
             "gain": 2.5, "readnoise": 20.0, "trim": TRIM}, ("groupdq",), zero_read_signal)


def _dq_init_result(groupdq, mask, out=None):
    """dq_init returns the array itself; wrapped like the others for the comparison."""
    return SimpleNamespace(groupdq=dq_init(groupdq, mask, out=out))


def _dq_init(rng, ramp):
    mask = np.where(rng.random(FRAME) < 0.2, dqflags.BAD_DETECTOR, 0).astype(np.uint16)
    return {"groupdq": ramp["groupdq"], "mask": mask}, ("groupdq",), _dq_init_result


#: functions whose ``out`` is one array rather than a tuple
SINGLE_OUT = (bias_level_correct, initial_error, zero_read_signal, _dq_init_result)

CASES = {"dark": _dark, "dq_init": _dq_init, "zsig": _zsig, "nlin": _nlin, "flat": _flat,
         "units": _units, "zoff": _zoff, "blev": _blev, "noise": _noise}


def _results(result, names):
    return [np.array(getattr(result, name)) for name in names]


def _case(name):
    rng, ramp = _ramp()
    kwargs, names, function = CASES[name](rng, ramp)
    return kwargs, names, function


def _out_argument(function, arrays):
    """``out`` as the function takes it: one array (blev, noise) or a tuple."""
    if function in SINGLE_OUT:
        return arrays[0]
    return tuple(arrays)


@pytest.mark.parametrize("name", sorted(CASES))
def test_in_place_and_separate_out_equal_the_copying_call(name):
    kwargs, names, function = _case(name)
    expected = _results(function(**kwargs), names)
    originals = {k: np.array(v, copy=True) for k, v in kwargs.items()
                 if isinstance(v, np.ndarray)}

    separate = [np.full_like(kwargs[n], 7) for n in names]
    result = function(**kwargs, out=_out_argument(function, separate))
    for got, want, target in zip(_results(result, names), expected, separate, strict=True):
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(target, want)
    for key, value in originals.items():  # a separate out leaves every input alone
        np.testing.assert_array_equal(kwargs[key], value, err_msg=key)

    own = {**kwargs, **{n: np.array(kwargs[n], copy=True) for n in names}}
    result = function(**own, out=_out_argument(function, [own[n] for n in names]))
    for n, got, want in zip(names, _results(result, names), expected, strict=True):
        assert getattr(result, n) is own[n], n
        np.testing.assert_array_equal(got, want, err_msg=n)


@pytest.mark.parametrize(("out", "message"), [
    ((np.zeros((2, 3), np.float32),), "out must hold 2 arrays"),
    ((np.zeros((2, 3), np.float64), np.zeros((2, 3), np.uint16)), "out a must be a native"),
    ((np.zeros((2, 3), ">f4"), np.zeros((2, 3), np.uint16)), "out a must be a native"),
    ((np.zeros((2, 4), np.float32), np.zeros((2, 3), np.uint16)), r"shape \(2, 3\)"),
    ((np.zeros((3, 2), np.float32).T, np.zeros((2, 3), np.uint16)), "C-contiguous"),
    (([[0.0] * 3] * 2, np.zeros((2, 3), np.uint16)), "out a must be"),
])
def test_output_arrays_refuses_a_bad_out(out, message):
    inputs = (np.ones((2, 3), np.float32), np.ones((2, 3), np.uint16))
    with pytest.raises(ValueError, match=message):
        output_arrays(inputs, (np.float32, np.uint16), out, ("a", "b"))


def test_output_arrays_refuses_a_read_only_out():
    frozen = np.zeros((2, 3), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        output_arrays((np.ones((2, 3)),), (np.float32,), (frozen,), ("data",))
