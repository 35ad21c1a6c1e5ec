"""The compiled ``calib`` kernel gives the same bits as the NumPy reference path.

Each of the five operations it fuses (noise, zsig, nlin, dark, flat) runs twice on the same
seeded inputs, ``HSTRAMP_KERNELS=numpy`` then ``native``, and every output array is compared
bit for bit (float32 as its bit pattern: the signs of zeros included; NaN as NaN, whatever its
payload), with MEANDARK, the number of noise reads computed and the BUNIT. The inputs cover the
special cases (NaN, infinities, zeros, negative values, saturation, flagged pixels,
coefficients that overflow, 1 and 2 reads, odd shapes and trims, non-contiguous and other-dtype
inputs, DQ dtypes the kernel leaves to NumPy), each with ``out`` absent, separate arrays, or
the inputs themselves; every call must leave its inputs untouched (bar ``out``). A seeded fuzz
draws shapes, trims and special values at random.
"""

from __future__ import annotations

import copy
import zlib
from dataclasses import fields, is_dataclass

import numpy as np
import pytest

from hstramp.core import dqflags, native
from hstramp.core.dark import dark_subtract
from hstramp.core.flat import flat_field
from hstramp.core.nlin import nonlinearity_correct
from hstramp.core.noise import calib_kernel, initial_error
from hstramp.core.zsig import zero_read_signal

pytestmark = pytest.mark.skipif(not native.built()["calib"],
                                reason="the compiled calib kernel is not built here")

SPECIALS = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e38, -1e38, 1e-45, -1.0],
                    dtype=np.float32)
DQ_BITS = np.array([0, dqflags.SATURATED, dqflags.ZERO_READ_SIGNAL, dqflags.HOT,
                    dqflags.BAD_DETECTOR, dqflags.BAD_FLAT, 0x8000], dtype=np.uint32)


# ------------------------------------------------------------------ running both paths


def _bits(value, *, any_nan=False):
    """An array as exactly comparable content: floats as their (native-order) bit patterns.

    ``any_nan``: every NaN as one pattern (the sign and payload of a NaN made from two NaNs
    depend on the operand order, which C compilers may swap in commutative operations).
    """
    array = np.asarray(value)
    if array.dtype.kind == "f":
        array = array.astype(array.dtype.newbyteorder("="))
        if any_nan:
            array = np.where(np.isnan(array), array.dtype.type(np.nan), array)
        return array.view(f"u{array.dtype.itemsize}")
    return array


def _outputs(result):
    """Every field of a result (a dataclass or an ndarray) as a dict of arrays."""
    if is_dataclass(result):
        return {f.name: getattr(result, f.name) for f in fields(result)}
    return {"result": result}


def _assert_same(numpy_result, native_result):
    expected, got = _outputs(numpy_result), _outputs(native_result)
    assert expected.keys() == got.keys()
    for name, want in expected.items():
        have = got[name]
        if isinstance(want, str | int):
            assert have == want, name
            continue
        assert np.shape(have) == np.shape(want), name
        assert np.asarray(have).dtype == np.asarray(want).dtype, name
        bits_want, bits_have = _bits(want, any_nan=True), _bits(have, any_nan=True)
        if not np.array_equal(bits_have, bits_want):
            bad = np.argwhere(bits_have != bits_want)[:5]
            pytest.fail(f"{name} differs at {bad.tolist()}: numpy "
                        f"{[np.asarray(want)[tuple(i)] for i in bad]}, native "
                        f"{[np.asarray(have)[tuple(i)] for i in bad]}")


def _snapshot(kwargs):
    return copy.deepcopy({k: v for k, v in kwargs.items()
                          if isinstance(v, np.ndarray | list | tuple)})


def _assert_unchanged(kwargs, snapshot, written=()):
    for key, before in snapshot.items():
        if key in written:
            continue
        after = kwargs[key]
        if isinstance(before, np.ndarray):
            assert np.array_equal(_bits(after), _bits(before)), f"input {key} was modified"
        else:
            for i, (x, y) in enumerate(zip(before, after, strict=True)):
                if isinstance(x, np.ndarray):
                    assert np.array_equal(_bits(x), _bits(y)), f"input {key}[{i}] modified"


class _Recorder:
    """The compiled module, noting which of its functions were called."""

    def __init__(self, module):
        self.module, self.calls = module, []

    def __getattr__(self, name):
        function = getattr(self.module, name)

        def record(*args):
            self.calls.append(name)
            return function(*args)
        return record


def _call(monkeypatch, mode, function, kwargs, out_names, out_mode, single_out):
    """Call ``function`` under ``HSTRAMP_KERNELS=mode`` on a private copy of the inputs.

    Returns the result and the names of the compiled functions called.
    """
    monkeypatch.setenv(native.ENV_VAR, mode)
    recorder = _Recorder(native._import("calib"))
    real_kernel = native.kernel
    monkeypatch.setattr(native, "kernel",
                        lambda name: None if real_kernel(name) is None else recorder)
    args = copy.deepcopy(kwargs)
    snapshot = _snapshot(args)
    written = ()
    if out_mode == "separate":
        targets = []
        for name in out_names:
            source = np.asarray(args[name]) if args[name] is not None else None
            dtype = np.float32 if name in ("data", "err") else source.dtype
            shape = np.shape(args["data"]) if source is None else source.shape
            targets.append(np.full(shape, 7, dtype=dtype))
        args["out"] = targets[0] if single_out else tuple(targets)
    elif out_mode == "inplace":
        args["out"] = args[out_names[0]] if single_out else tuple(args[n] for n in out_names)
        written = out_names
    with np.errstate(all="ignore"):  # NumPy warns on NaN and inf; the kernel is silent
        result = function(**args)
    _assert_unchanged(args, snapshot, written)
    if out_mode == "inplace":  # the result is the inputs themselves
        outputs = _outputs(result)
        for name in out_names:
            assert outputs[name] is args[name], name
    monkeypatch.setattr(native, "kernel", real_kernel)
    return result, recorder.calls


def _check(monkeypatch, function, kwargs, out_names, out_mode, single_out=False, *,
           compiled=True):
    """Both paths give the same bits; ``compiled``: the kernel really ran (else NumPy did)."""
    expected, calls = _call(monkeypatch, "numpy", function, kwargs, out_names, out_mode,
                            single_out)
    assert calls == []
    got, calls = _call(monkeypatch, "native", function, kwargs, out_names, out_mode,
                       single_out)
    assert bool(calls) == compiled, calls
    _assert_same(expected, got)
    return expected


def _check_errors(monkeypatch, function, kwargs):
    """Both paths refuse the inputs with the same error."""
    errors = []
    for mode in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, mode)
        args = copy.deepcopy(kwargs)
        snapshot = _snapshot(args)
        with pytest.raises(Exception) as info, np.errstate(all="ignore"):
            function(**args)
        _assert_unchanged(args, snapshot)
        errors.append((type(info.value), str(info.value)))
    assert errors[0] == errors[1]


# ------------------------------------------------------------------ inputs


def _handled(dq_dtype):
    """Whether the kernel takes DQ of this dtype (else NumPy runs)."""
    return np.dtype(dq_dtype) in (np.dtype(np.uint16), np.dtype(np.uint32))


def _seed(*names):
    """A seed from names (``hash`` of a string changes from one process to the next)."""
    return zlib.crc32(" ".join(names).encode())


def _sprinkle(rng, array, fraction=0.05, values=SPECIALS):
    """``array`` with a fraction of its values replaced by special values (a new array)."""
    array = np.array(array, copy=True)
    flat = array.reshape(-1)
    hit = rng.random(flat.size) < fraction
    flat[hit] = rng.choice(values, hit.sum())
    return array


def _dq(rng, shape, dtype=np.uint16, fraction=0.1):
    dq = np.zeros(shape, np.uint32)
    hit = rng.random(shape) < fraction
    dq[hit] = rng.choice(DQ_BITS, hit.sum())
    if np.dtype(dtype).itemsize < 4:
        dq &= 0xFFFF
    return dq.astype(dtype)


def _specials(case, rng, arrays, floats, dqs):
    """Apply a named special case to the float inputs ``floats`` and DQ inputs ``dqs``."""
    if case in ("nan", "inf", "specials"):
        values = {"nan": np.array([np.nan], np.float32),
                  "inf": np.array([np.inf, -np.inf], np.float32), "specials": SPECIALS}[case]
        for name in floats:
            if arrays.get(name) is not None:
                arrays[name] = _sprinkle(rng, arrays[name], 0.08, values)
    if case in ("flagged", "specials"):
        for name in dqs:
            if arrays.get(name) is not None:
                arrays[name] = _dq(rng, np.shape(arrays[name]), arrays[name].dtype, 0.3)
    if case == "zero_negative":
        for name in floats:
            if arrays.get(name) is not None:
                arrays[name] = _sprinkle(rng, arrays[name], 0.2,
                                         np.array([0.0, -0.0, -3.0, -1e4], np.float32))
    return arrays


SHAPES = {"small": ((4, 9, 10), (2, 1, 1, 2)), "one_read": ((1, 6, 7), (1, 1, 1, 1)),
          "two_reads": ((2, 5, 9), (0, 0, 0, 0)), "odd": ((3, 13, 7), (3, 0, 0, 4)),
          "wide": ((5, 3, 65), (7, 9, 1, 1))}
CASES = ("plain", "nan", "inf", "specials", "flagged", "zero_negative", "saturated")
OUT_MODES = ("none", "separate", "inplace")


def _ramp(rng, shape, dq_dtype=np.uint16, low=-50.0, high=3e4):
    return {"data": rng.uniform(low, high, shape).astype(np.float32),
            "err": rng.uniform(0.5, 30.0, shape).astype(np.float32),
            "groupdq": _dq(rng, shape, dq_dtype, 0.05)}


# ------------------------------------------------------------------ nlin


def _nlin_inputs(rng, shape, trim, case="plain", *, ncoef=4, zsig=True, dq_dtype=np.uint16):
    ramp = _ramp(rng, shape, dq_dtype)
    frame = shape[1:]
    scale = np.array([1e-3, -2e-7, 3e-11, -1e-15, 1e-19][:ncoef])[:, None, None]
    coeffs = (rng.normal(1.0, 0.3, (ncoef, *frame)) * scale).astype(np.float32)
    arrays = {"data": ramp["data"], "groupdq": ramp["groupdq"], "coeffs": coeffs,
              "node": rng.uniform(2e4, 3e4, frame).astype(np.float32),
              "nlin_dq": _dq(rng, frame, dq_dtype, 0.05),
              "zsig": rng.uniform(-5, 300, frame).astype(np.float32) if zsig else None,
              "zsig_dq": _dq(rng, frame, dq_dtype, 0.3) if zsig else None}
    if case == "saturated":
        arrays["data"][:, 1:3] = np.float32(2.9e4)
        arrays["groupdq"][0, 2, :] |= np.asarray(dqflags.SATURATED, dq_dtype)
        arrays["node"][0, :] = np.float32(-1.0)
    arrays = _specials(case, rng, arrays, ("data", "coeffs", "node", "zsig"),
                       ("groupdq", "nlin_dq", "zsig_dq"))
    arrays["trim"] = trim
    return arrays


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_nlin(monkeypatch, shape, case, out_mode):
    rng = np.random.default_rng(_seed(shape, case))
    dims, trim = SHAPES[shape]
    kwargs = _nlin_inputs(rng, dims, trim, case)
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), out_mode)


@pytest.mark.parametrize("ncoef", [0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("zsig", [True, False])
def test_nlin_coefficients(monkeypatch, ncoef, zsig):
    rng = np.random.default_rng(ncoef)
    kwargs = _nlin_inputs(rng, (3, 8, 9), (1, 1, 1, 1), "specials", ncoef=ncoef, zsig=zsig)
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "none")


@pytest.mark.parametrize("coefficient", [1e30, -1e30, np.inf, np.nan, 1e-40, 0.0, -0.0])
def test_nlin_extreme_coefficients(monkeypatch, coefficient):
    """A factor that overflows float32 (inf after the cast), NaN, denormals, signed zeros."""
    rng = np.random.default_rng(1)
    kwargs = _nlin_inputs(rng, (3, 6, 6), (1, 1, 1, 1), "plain")
    kwargs["coeffs"][:, 2:4] = np.float32(coefficient)
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "none")


@pytest.mark.parametrize("dq_dtype", [np.uint16, np.uint32, np.int32, np.dtype(">u2")])
def test_nlin_dq_dtypes(monkeypatch, dq_dtype):
    rng = np.random.default_rng(2)
    kwargs = _nlin_inputs(rng, (3, 7, 8), (1, 2, 2, 1), "flagged")
    for name in ("groupdq", "nlin_dq", "zsig_dq"):
        kwargs[name] = kwargs[name].astype(dq_dtype)
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "none",
           compiled=_handled(dq_dtype))


def test_nlin_noncontiguous_and_other_dtypes(monkeypatch):
    rng = np.random.default_rng(3)
    kwargs = _nlin_inputs(rng, (3, 8, 10), (1, 1, 1, 1), "specials")
    big = np.zeros((3, 16, 10), np.float64)
    big[:, ::2] = kwargs["data"]
    kwargs["data"] = big[:, ::2]  # strided float64
    kwargs["coeffs"] = np.asfortranarray(kwargs["coeffs"].astype(np.float64))
    kwargs["node"] = np.asfortranarray(kwargs["node"])
    kwargs["zsig"] = kwargs["zsig"][::-1, ::-1].copy()[::-1, ::-1]
    kwargs["nlin_dq"] = np.asfortranarray(kwargs["nlin_dq"])
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "none")
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "separate")


def test_nlin_scalar_node_and_no_dq(monkeypatch):
    rng = np.random.default_rng(4)
    kwargs = _nlin_inputs(rng, (2, 6, 7), (1, 1, 1, 1), "specials")
    kwargs["node"] = 1.5e4
    kwargs["nlin_dq"] = None
    _check(monkeypatch, nonlinearity_correct, kwargs, ("data", "groupdq"), "inplace")


# ------------------------------------------------------------------ dark


def _dark_inputs(rng, shape, trim, case="plain", *, dq_dtype=np.uint16, with_err=True,
                 with_dq=True, as_list=False):
    ramp = _ramp(rng, shape, dq_dtype)
    arrays = {**ramp, "dark": rng.uniform(-1.0, 5.0, shape).astype(np.float32),
              "dark_err": rng.uniform(0.0, 1.0, shape).astype(np.float32) if with_err else None,
              "dark_dq": _dq(rng, shape, dq_dtype, 0.2) if with_dq else None}
    if case == "saturated":
        arrays["dark"][:, 1] = np.finfo(np.float32).max  # not < FLT_MAX: not in MEANDARK
        arrays["dark"][:, 2] = np.float32(-3.4e38)  # in MEANDARK
    arrays = _specials(case, rng, arrays, ("data", "err", "dark", "dark_err"),
                       ("groupdq", "dark_dq"))
    if as_list:
        for name in ("dark", "dark_err", "dark_dq"):
            if arrays[name] is not None:
                arrays[name] = list(arrays[name])
    arrays["trim"] = trim
    return arrays


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_dark(monkeypatch, shape, case, out_mode):
    rng = np.random.default_rng(_seed(shape, case, "dark"))
    dims, trim = SHAPES[shape]
    kwargs = _dark_inputs(rng, dims, trim, case)
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), out_mode)


@pytest.mark.parametrize("with_err", [True, False])
@pytest.mark.parametrize("with_dq", [True, False])
@pytest.mark.parametrize("as_list", [True, False])
def test_dark_optional_planes(monkeypatch, with_err, with_dq, as_list):
    rng = np.random.default_rng(5)
    kwargs = _dark_inputs(rng, (3, 8, 9), (1, 1, 2, 2), "specials", with_err=with_err,
                          with_dq=with_dq, as_list=as_list)
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "none")


@pytest.mark.parametrize(("dq_dtype", "dark_dq_dtype"), [
    (np.uint16, np.uint16), (np.uint32, np.uint16), (np.uint16, np.uint32),
    (np.uint16, np.int16), (np.uint32, np.int32), (np.uint16, np.int64),
    (np.int16, np.uint16), (np.dtype(">u2"), np.uint16), (np.uint16, np.dtype(">u2")),
])
def test_dark_dq_dtypes(monkeypatch, dq_dtype, dark_dq_dtype):
    rng = np.random.default_rng(6)
    kwargs = _dark_inputs(rng, (3, 7, 8), (1, 2, 2, 1), "flagged")
    kwargs["groupdq"] = kwargs["groupdq"].astype(dq_dtype)
    dark_dq = _dq(rng, (3, 7, 8), np.uint32, 0.4).astype(np.int64)
    dark_dq[0, 3, 3] = -1  # every bit: the MEANDARK mask too
    dark_dq[1, 3, 4] = 0x10000 | dqflags.HOT  # bits beyond 16 and a mask bit
    dark_dq[2, 4, 4] = 0x10000  # only a bit beyond 16: counts in MEANDARK
    kwargs["dark_dq"] = dark_dq.astype(dark_dq_dtype)
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "none",
           compiled=_handled(dq_dtype))


def test_dark_noncontiguous_and_other_dtypes(monkeypatch):
    rng = np.random.default_rng(7)
    kwargs = _dark_inputs(rng, (3, 8, 10), (1, 1, 1, 1), "specials")
    kwargs["data"] = kwargs["data"].astype(np.float64)[:, :, ::-1]
    kwargs["err"] = np.asfortranarray(kwargs["err"])
    kwargs["dark"] = kwargs["dark"].astype(">f4")
    kwargs["dark_err"] = kwargs["dark_err"].astype(np.float64)[:, ::-1]
    kwargs["dark_dq"] = np.asfortranarray(kwargs["dark_dq"])
    # the copy of a Fortran-ordered err is Fortran-ordered: NumPy writes it
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "none",
           compiled=False)
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "separate")


def test_dark_all_flagged_meandark_is_zero(monkeypatch):
    rng = np.random.default_rng(8)
    kwargs = _dark_inputs(rng, (2, 6, 6), (1, 1, 1, 1))
    kwargs["dark_dq"][:] = dqflags.HOT
    kwargs["dark"][1] = np.nan
    kwargs["dark_dq"][1] = 0
    result = _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "none")
    assert list(result.meandark) == [0.0, 0.0]


@pytest.mark.slow
def test_dark_meandark_of_a_full_frame_is_the_same_bits(monkeypatch):
    """A full frame, where a different summation order would show (float32 rounding)."""
    rng = np.random.default_rng(9)
    shape = (2, 1024, 1024)
    kwargs = {"data": rng.normal(100, 10, shape).astype(np.float32),
              "err": rng.uniform(1, 2, shape).astype(np.float32),
              "groupdq": np.zeros(shape, np.uint16),
              "dark": rng.lognormal(0.0, 2.0, shape).astype(np.float32),
              "dark_err": None, "dark_dq": _dq(rng, shape, np.uint16, 0.05),
              "trim": (5, 5, 5, 5)}
    _check(monkeypatch, dark_subtract, kwargs, ("data", "err", "groupdq"), "inplace")


# ------------------------------------------------------------------ flat


def _flat_inputs(rng, shape, trim, case="plain", *, dq_dtype=np.uint16, gains=True,
                 zero_flat_dq=0, with_err=True, with_dq=True):
    ramp = _ramp(rng, shape, dq_dtype)
    frame = shape[-2:]
    flat = rng.uniform(0.8, 1.2, frame).astype(np.float32)
    flat[0, 0] = 0.0
    flat[-1, -1] = -0.0
    arrays = {"data": ramp["data"], "err": ramp["err"], "dq": ramp["groupdq"], "flat": flat,
              "flat_err": rng.uniform(0, 0.05, frame).astype(np.float32) if with_err else None,
              "flat_dq": _dq(rng, frame, dq_dtype, 0.2) if with_dq else None}
    if case == "saturated":
        arrays["data"][..., 1, :] = np.float32(3e38)
        arrays["flat"][2, :] = np.float32(1e-30)
    arrays = _specials(case, rng, arrays, ("data", "err", "flat", "flat_err"), ("dq", "flat_dq"))
    arrays.update(amp_gains=(2.34, 2.37, 2.31, 2.38) if gains else None, trim=trim,
                  bunit="COUNTS/S", zero_flat_dq=zero_flat_dq)
    return arrays


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_flat(monkeypatch, shape, case, out_mode):
    rng = np.random.default_rng(_seed(shape, case, "flat"))
    dims, trim = SHAPES[shape]
    kwargs = _flat_inputs(rng, dims, trim, case)
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), out_mode)


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
def test_flat_stis_image(monkeypatch, case, out_mode):
    """calstis's use: one image, no gain, 512 where the flat is 0, no trim."""
    rng = np.random.default_rng(_seed(case, "stis"))
    kwargs = _flat_inputs(rng, (1, 11, 12), (0, 0, 0, 0), case, gains=False, zero_flat_dq=512)
    for name in ("data", "err", "dq"):
        kwargs[name] = kwargs[name][0]
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), out_mode)


@pytest.mark.parametrize("with_err", [True, False])
@pytest.mark.parametrize("with_dq", [True, False])
@pytest.mark.parametrize("zero_flat_dq", [0, 512, 0x1FFFF])
def test_flat_optional_planes(monkeypatch, with_err, with_dq, zero_flat_dq):
    rng = np.random.default_rng(10)
    kwargs = _flat_inputs(rng, (2, 7, 9), (1, 1, 1, 1), "specials", with_err=with_err,
                          with_dq=with_dq, zero_flat_dq=zero_flat_dq)
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), "none")


@pytest.mark.parametrize("dq_dtype", [np.uint16, np.uint32, np.int16, np.dtype(">u4")])
def test_flat_dq_dtypes(monkeypatch, dq_dtype):
    rng = np.random.default_rng(11)
    kwargs = _flat_inputs(rng, (2, 7, 9), (1, 1, 1, 1), "flagged", zero_flat_dq=512)
    kwargs["dq"] = kwargs["dq"].astype(dq_dtype)
    kwargs["flat_dq"] = kwargs["flat_dq"].astype(np.int64)
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), "none",
           compiled=_handled(dq_dtype))


def test_flat_noncontiguous_and_other_dtypes(monkeypatch):
    rng = np.random.default_rng(12)
    kwargs = _flat_inputs(rng, (3, 8, 10), (1, 1, 1, 1), "specials")
    kwargs["data"] = kwargs["data"].astype(np.float64)[:, ::-1]
    kwargs["err"] = kwargs["err"].astype(">f4")
    kwargs["flat"] = np.asfortranarray(kwargs["flat"].astype(np.float64))
    kwargs["flat_err"] = kwargs["flat_err"][::-1].copy()[::-1]
    kwargs["flat_dq"] = np.asfortranarray(kwargs["flat_dq"])
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), "none")


def test_flat_scalar_flat(monkeypatch):
    rng = np.random.default_rng(13)
    kwargs = _flat_inputs(rng, (2, 6, 6), (1, 1, 1, 1), "specials")
    kwargs["flat"], kwargs["flat_err"] = 1.25, 0.01
    _check(monkeypatch, flat_field, kwargs, ("data", "err", "dq"), "inplace")


# ------------------------------------------------------------------ noise


def _noise_inputs(rng, shape, trim, case="plain", *, populated=None, err=True):
    ramp = _ramp(rng, shape, np.uint16, low=-200.0)
    frame = shape[1:]
    arrays = {"data": ramp["data"], "err": np.zeros(shape, np.float32) if err else None,
              "gain": rng.uniform(2.2, 2.6, frame).astype(np.float32),
              "readnoise": rng.uniform(-20.0, 25.0, frame).astype(np.float32)}
    if case == "saturated":
        arrays["data"][:, 1] = np.float32(3e38)
        arrays["gain"][1, :] = np.float32(3e38)
    if case in ("nan", "inf", "specials", "zero_negative"):
        arrays = _specials(case, rng, arrays, ("data", "readnoise"), ())
        arrays["gain"] = _sprinkle(rng, arrays["gain"], 0.1,
                                   np.array([1e-45, 1e38, np.inf], np.float32))
    if populated is not None and arrays["err"] is not None:
        k, value = populated
        arrays["err"][k, trim[2] + 1, trim[0] + 1] = value
        arrays["err"][: k + 1, 0, 0] = 5.0  # reference pixels never count
    arrays["trim"] = trim
    return arrays


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_noise(monkeypatch, shape, case, out_mode):
    rng = np.random.default_rng(_seed(shape, case, "noise"))
    dims, trim = SHAPES[shape]
    kwargs = _noise_inputs(rng, dims, trim, case)
    if out_mode != "none" and kwargs["err"] is None:
        pytest.skip("no err to write into")
    _check(monkeypatch, initial_error, kwargs, ("err",), out_mode, single_out=True)


@pytest.mark.parametrize(("read", "value"), [(0, 1.0), (1, np.nan), (2, -1e-45), (2, -0.0),
                                             (3, np.inf), (1, 0.0)])
@pytest.mark.parametrize("out_mode", OUT_MODES)
def test_noise_stops_at_a_populated_read(monkeypatch, read, value, out_mode):
    """The first read whose science ERR holds a non-zero (NaN too, -0.0 not) stops it."""
    rng = np.random.default_rng(14)
    kwargs = _noise_inputs(rng, (4, 7, 8), (1, 1, 1, 1), "specials", populated=(read, value))
    result = _check(monkeypatch, initial_error, kwargs, ("err",), out_mode, single_out=True)
    assert result.ncomputed == (4 if value == 0 else read)


def test_noise_without_err_scalar_maps_and_other_dtypes(monkeypatch):
    rng = np.random.default_rng(15)
    kwargs = _noise_inputs(rng, (3, 9, 8), (2, 1, 0, 3), "specials", err=False)
    kwargs["gain"], kwargs["readnoise"] = 2.5, 20.0
    kwargs["data"] = kwargs["data"].astype(np.float64)[:, ::-1, :]
    _check(monkeypatch, initial_error, kwargs, ("err",), "none", single_out=True)
    kwargs["data"] = np.round(np.nan_to_num(kwargs["data"]).clip(0, 65535)).astype(">u2")
    _check(monkeypatch, initial_error, kwargs, ("err",), "none", single_out=True)


def test_noise_refuses_a_nonpositive_gain_in_both_paths(monkeypatch):
    rng = np.random.default_rng(16)
    kwargs = _noise_inputs(rng, (2, 5, 5), (1, 1, 1, 1))
    kwargs["gain"][2, 2] = 0.0
    _check_errors(monkeypatch, initial_error, kwargs)


# ------------------------------------------------------------------ zsig


def _zsig_inputs(rng, shape, trim, case="plain", *, dq_dtype=np.uint16, threshold=4.0):
    ramp = _ramp(rng, shape, dq_dtype, low=1e4, high=1.6e4)
    frame = shape[1:]
    arrays = {"data": ramp["data"], "groupdq": ramp["groupdq"],
              "zsci": rng.uniform(1e4, 1.3e4, frame).astype(np.float32),
              "zerr": rng.uniform(0.0, 30.0, frame).astype(np.float32),
              "node": rng.uniform(2e3, 4e3, frame).astype(np.float32),
              "gain": rng.uniform(2.2, 2.6, frame).astype(np.float32),
              "readnoise": rng.uniform(15.0, 25.0, frame).astype(np.float32)}
    if case == "saturated":
        arrays["data"][0, 1] = np.float32(4e4)
        arrays["data"][1, 2] = np.float32(4e4)
        arrays["node"][-1, :] = np.float32(0.0)
    arrays = _specials(case, rng, arrays, ("data", "zsci", "zerr", "node", "readnoise"),
                       ("groupdq",))
    arrays.update(trim=trim, threshold=threshold)
    return arrays


@pytest.mark.parametrize("out_mode", OUT_MODES)
@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", sorted(s for s in SHAPES if SHAPES[s][0][0] >= 2))
def test_zsig(monkeypatch, shape, case, out_mode):
    rng = np.random.default_rng(_seed(shape, case, "zsig"))
    dims, trim = SHAPES[shape]
    kwargs = _zsig_inputs(rng, dims, trim, case)
    _check(monkeypatch, zero_read_signal, kwargs, ("groupdq",), out_mode, single_out=True)


@pytest.mark.parametrize("threshold", [0.5, 4.0, 1e-30, 1e30, 4.1000000001])
@pytest.mark.parametrize("dq_dtype", [np.uint16, np.uint32, np.int32])
def test_zsig_thresholds_and_dq_dtypes(monkeypatch, threshold, dq_dtype):
    rng = np.random.default_rng(17)
    kwargs = _zsig_inputs(rng, (3, 8, 9), (1, 1, 1, 1), "specials", dq_dtype=dq_dtype,
                          threshold=threshold)
    _check(monkeypatch, zero_read_signal, kwargs, ("groupdq",), "none", single_out=True,
           compiled=_handled(dq_dtype))


def test_zsig_noncontiguous_scalar_and_other_dtypes(monkeypatch):
    rng = np.random.default_rng(18)
    kwargs = _zsig_inputs(rng, (3, 8, 10), (1, 1, 1, 1), "specials")
    kwargs["data"] = np.round(np.nan_to_num(kwargs["data"], posinf=6e4, neginf=0)).clip(
        0, 65535).astype(">u2")[:, ::-1]
    kwargs["zsci"] = np.asfortranarray(kwargs["zsci"].astype(np.float64))
    kwargs["gain"], kwargs["readnoise"], kwargs["zerr"] = 2.5, 20.0, 3.0
    kwargs["groupdq"] = np.asfortranarray(kwargs["groupdq"])
    _check(monkeypatch, zero_read_signal, kwargs, ("groupdq",), "none", single_out=True,
           compiled=False)  # a copy of a Fortran-ordered DQ is Fortran-ordered
    _check(monkeypatch, zero_read_signal, kwargs, ("groupdq",), "separate", single_out=True)


def test_zsig_refuses_a_bad_gain_in_both_paths(monkeypatch):
    rng = np.random.default_rng(19)
    kwargs = _zsig_inputs(rng, (2, 5, 5), (1, 1, 1, 1))
    kwargs["gain"][2, 2] = np.nan
    _check_errors(monkeypatch, zero_read_signal, kwargs)


# ------------------------------------------------------------------ fuzz


def _fuzz_geometry(rng):
    ngroups = int(rng.integers(1, 6))
    ny, nx = (int(v) for v in rng.integers(2, 24, 2))
    trim = (int(rng.integers(0, nx // 2)), int(rng.integers(0, nx // 2)),
            int(rng.integers(0, ny // 2)), int(rng.integers(0, ny // 2)))
    return (ngroups, ny, nx), trim


@pytest.mark.parametrize("seed", range(25))
def test_fuzz(monkeypatch, seed):
    """Random shapes, trims, special cases, DQ dtypes and out modes for all five operations."""
    rng = np.random.default_rng(1000 + seed)
    shape, trim = _fuzz_geometry(rng)
    case = str(rng.choice(CASES))
    out_mode = str(rng.choice(OUT_MODES))
    dq_dtype = (np.uint16, np.uint32)[int(rng.integers(2))]
    _check(monkeypatch, nonlinearity_correct,
           _nlin_inputs(rng, shape, trim, case, ncoef=int(rng.integers(0, 5)),
                        zsig=bool(rng.random() < 0.5), dq_dtype=dq_dtype),
           ("data", "groupdq"), out_mode)
    _check(monkeypatch, dark_subtract,
           _dark_inputs(rng, shape, trim, case, dq_dtype=dq_dtype,
                        with_err=bool(rng.random() < 0.7), with_dq=bool(rng.random() < 0.7)),
           ("data", "err", "groupdq"), out_mode)
    _check(monkeypatch, flat_field,
           _flat_inputs(rng, shape, trim, case, dq_dtype=dq_dtype, gains=bool(rng.random() < 0.7),
                        zero_flat_dq=int(rng.choice([0, 512]))),
           ("data", "err", "dq"), out_mode)
    noise = _noise_inputs(rng, shape, trim, case,
                          populated=(int(rng.integers(0, shape[0])), 1.0)
                          if rng.random() < 0.3 else None)
    _check(monkeypatch, initial_error, noise, ("err",), out_mode, single_out=True)
    if shape[0] >= 2:
        _check(monkeypatch, zero_read_signal,
               _zsig_inputs(rng, shape, trim, case, dq_dtype=dq_dtype,
                            threshold=float(rng.uniform(0.5, 6))),
               ("groupdq",), out_mode, single_out=True)


# ------------------------------------------------------------------ the kernel itself


def test_the_kernel_is_used_for_the_outputs_it_handles(monkeypatch):
    monkeypatch.setenv(native.ENV_VAR, "native")
    frame = np.zeros((3, 4), np.float32)
    assert calib_kernel((frame, frame.astype(np.uint16), frame.astype(np.uint32))) is not None
    for dtype in (np.int32, np.uint8, np.dtype(">u2"), np.uint64):
        assert calib_kernel((frame, frame.astype(dtype))) is None
    assert calib_kernel((np.asfortranarray(frame),)) is None
    ramp = np.zeros((2, 3, 4), np.float32)
    assert calib_kernel((ramp[0], ramp[1])) is not None  # two frames of one ramp: disjoint
    assert calib_kernel((ramp,), (ramp[1],)) is None  # an input inside an output
    assert calib_kernel((ramp, ramp)) is None
    assert calib_kernel((ramp,), (None, frame)) is not None
    monkeypatch.setenv(native.ENV_VAR, "numpy")
    assert calib_kernel((frame,)) is None


def test_overlapping_inputs_and_outputs_take_the_numpy_path(monkeypatch):
    """An input inside an output (a flat that is a read of the ramp written in place)."""
    rng = np.random.default_rng(20)
    flat_kwargs = _flat_inputs(rng, (3, 6, 7), (1, 1, 1, 1), "plain")
    noise_kwargs = _noise_inputs(rng, (3, 6, 7), (1, 1, 1, 1))
    results = {}
    for mode in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, mode)
        recorder = _Recorder(native._import("calib"))
        monkeypatch.setattr(native, "kernel", lambda name, r=recorder: r)
        args = copy.deepcopy(flat_kwargs)
        args["flat"] = args["data"][1]  # read 1 of the ramp, written in place
        flat = flat_field(**args, out=(args["data"], args["err"], args["dq"]))
        args = copy.deepcopy(noise_kwargs)  # the errors written over their own data
        noise = initial_error(**args, out=args["data"])
        monkeypatch.undo()
        assert recorder.calls == []
        results[mode] = (flat, noise)
    for expected, got in zip(results["numpy"], results["native"], strict=True):
        _assert_same(expected, got)


def test_the_kernel_checks_its_buffers():
    calib = native._import("calib")
    frame = np.zeros((4, 5), np.float32)
    ramp = np.zeros((2, 4, 5), np.float32)
    with pytest.raises(ValueError, match="err holds"):
        calib.noise(ramp, ramp[:1].copy(), frame, frame, 2, 4, 5, 1, 1, 1, 1)
    with pytest.raises(ValueError, match="trim"):
        calib.noise(ramp, ramp.copy(), frame, frame, 2, 4, 5, 3, 3, 1, 1)
    with pytest.raises(ValueError, match="2 or 4 bytes"):
        calib.flat(ramp, ramp.copy(), np.zeros((2, 4, 5), np.uint8), 1, 2, frame, None, None, 5,
                   0, True, 2.0, 4, 5, 0, 0, 0, 0)
    dq = np.zeros((2, 4, 5), np.uint16)
    with pytest.raises(ValueError, match="flat_stride"):
        calib.flat(ramp, ramp.copy(), dq, 2, 2, frame, None, None, 4, 0, True, 2.0, 4, 5, 0, 0,
                   0, 0)
    with pytest.raises(ValueError, match="flat holds"):  # a stride of 6 needs 23 values
        calib.flat(ramp, ramp.copy(), dq, 2, 2, frame.reshape(-1), None, None, 6, 0, True, 2.0,
                   4, 5, 0, 0, 0, 0)
    with pytest.raises((ValueError, BufferError), match="contiguous"):
        calib.noise(ramp, ramp.copy(), frame, np.zeros((5, 4), np.float32).T, 2, 4, 5, 0, 0,
                    0, 0)
    frozen = ramp.copy()
    frozen.flags.writeable = False
    with pytest.raises((ValueError, BufferError), match="read-only"):
        calib.noise(ramp, frozen, frame, frame, 2, 4, 5, 0, 0, 0, 0)


@pytest.mark.parametrize("which", ["zsig", "nlin", "dark", "flat", "noise"])
def test_bad_shapes_are_refused_alike(monkeypatch, which):
    """Both paths refuse a reference of the wrong shape with the same error."""
    rng = np.random.default_rng(21)
    wrong = np.zeros((3, 3), np.float32)
    if which == "zsig":
        kwargs = _zsig_inputs(rng, (2, 6, 7), (1, 1, 1, 1))
        kwargs["node"], kwargs["zerr"] = wrong, wrong
        function = zero_read_signal
    elif which == "nlin":
        kwargs = _nlin_inputs(rng, (2, 6, 7), (1, 1, 1, 1))
        kwargs["node"] = wrong
        function = nonlinearity_correct
    elif which == "dark":
        kwargs = _dark_inputs(rng, (2, 6, 7), (1, 1, 1, 1), as_list=True)
        kwargs["dark_err"][1] = wrong
        function = dark_subtract
    elif which == "flat":
        kwargs = _flat_inputs(rng, (2, 6, 7), (1, 1, 1, 1))
        kwargs["flat_dq"] = wrong.astype(np.uint16)
        function = flat_field
    else:
        kwargs = _noise_inputs(rng, (2, 6, 7), (1, 1, 1, 1))
        kwargs["readnoise"] = wrong
        function = initial_error
    _check_errors(monkeypatch, function, kwargs)


@pytest.mark.parametrize("layout", ["window", "window, err contiguous", "transposed", "one row",
                                    "one column"])
def test_flat_windows_of_a_wider_flat_are_read_in_place_with_the_same_bits(monkeypatch, layout):
    """The flat planes as the flat step passes them: windows of a wider cached flat (rows of
    nx values further apart). Both paths give the same bits as with C-contiguous copies, the
    kernel reads a window where it lies (other layouts are copied), nothing is written."""
    rng = np.random.default_rng(17)
    ny, nx = {"one row": (1, 9), "one column": (7, 1)}.get(layout, (9, 11))
    wide = (ny + 5, nx + 6)
    flat = rng.uniform(0.8, 1.2, wide).astype(np.float32)
    flat[3, 4] = 0.0
    flat[5, 6] = np.nan
    flat_err = rng.uniform(0.0, 0.02, wide).astype(np.float32)
    flat_dq = rng.choice(np.array([0, 4, 512], np.uint16), size=wide)
    window = (slice(2, 2 + ny), slice(3, 3 + nx))
    planes = [flat[window], flat_err[window], flat_dq[window]]
    if layout == "window, err contiguous":
        planes[1] = np.ascontiguousarray(planes[1])
    if layout == "transposed":
        planes = [np.ascontiguousarray(p.T).T for p in planes]
    before = [p.copy() for p in planes]
    data = rng.uniform(0.0, 500.0, (3, ny, nx)).astype(np.float32)
    err = rng.uniform(1.0, 9.0, (3, ny, nx)).astype(np.float32)
    dq = np.zeros((3, ny, nx), np.uint16)
    trim = (0, 0, 0, 0) if 1 in (ny, nx) else (1, 2, 2, 1)
    results = {}
    for mode in ("numpy", "native"):
        monkeypatch.setenv(native.ENV_VAR, mode)
        for name, given in (("windows", planes),
                            ("copies", [np.ascontiguousarray(p) for p in planes])):
            results[mode, name] = flat_field(data, err, dq, *given, amp_gains=(2.3, 2.4, 2.5, 2.6),
                                             trim=trim, bunit="COUNTS", zero_flat_dq=64)
    reference = results["numpy", "copies"]
    for result in results.values():
        _assert_same(reference, result)
    for plane, copy_ in zip(planes, before, strict=True):
        np.testing.assert_array_equal(plane, copy_)


def test_a_flat_window_reaches_the_kernel_without_a_copy(monkeypatch):
    import hstramp.core.flat as flat_module

    kernel, seen = native._import("calib"), {}

    class Spy:
        def flat(self, *args):
            seen["flat"], seen["stride"] = args[5], args[8]
            return kernel.flat(*args)

    monkeypatch.setenv(native.ENV_VAR, "native")
    monkeypatch.setattr(flat_module, "calib_kernel", lambda outputs, inputs: Spy())
    wide = np.ones((20, 30), np.float32)
    data = np.ones((2, 12, 16), np.float32)
    flat_field(data, data.copy(), np.zeros((2, 12, 16), np.uint16), wide[4:16, 7:23], None, None,
               amp_gains=None, trim=(0, 0, 0, 0))
    assert seen["stride"] == 30
    assert np.shares_memory(seen["flat"], wide)
