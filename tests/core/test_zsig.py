"""Tests of hstramp.core.zsig: zeroth-read signal on raw DN, threshold and saturation flags."""

import numpy as np
import pytest

from hstramp.core.dqflags import BAD_DETECTOR, SATURATED, ZERO_READ_SIGNAL
from hstramp.core.zsig import zero_read_signal
from hstramp.errors import ParameterError

TRIM = (1, 1, 1, 1)
SHAPE = (3, 5, 6)
BIAS = 11000.0
Z = ZERO_READ_SIGNAL
S = SATURATED


def _inputs(signal0=0.0, signal1=0.0, zerr=0.0, node=30000.0):
    """A raw ramp whose science pixel (2, 3) has the given signals above ZSCI."""
    rng = np.random.default_rng(6)
    zsci = (BIAS + rng.normal(0, 3, SHAPE[1:])).astype(np.float32)
    data = np.empty(SHAPE, dtype=np.float32)
    data[:] = zsci
    data[0, 2, 3] += signal0
    data[1, 2, 3] += signal1
    data[2] += 50.0
    return {
        "data": data,
        "groupdq": np.zeros(SHAPE, dtype=np.uint16),
        "zsci": zsci,
        "zerr": np.full(SHAPE[1:], zerr, dtype=np.float32),
        "node": np.full(SHAPE[1:], node, dtype=np.float32),
        "gain": 1.0,
        "readnoise": 0.0,
    }


def test_zsig_is_read0_minus_zsci_where_significant():
    inputs = _inputs(signal0=500.0, signal1=900.0, zerr=2.0)
    inputs["readnoise"] = 20.0
    result = zero_read_signal(**inputs, trim=TRIM)
    assert result.zsig[2, 3] == pytest.approx(500.0, abs=1e-3)
    assert np.count_nonzero(result.zsig) == 1
    assert result.groupdq[0, 2, 3] == Z
    assert result.dq[2, 3] == Z
    np.testing.assert_allclose(result.zeroth_read, inputs["data"][0] + result.zsig)


def test_zsig_ignores_a_bias_common_to_the_raw_read_and_zsci():
    inputs = _inputs(signal0=500.0, signal1=800.0, zerr=2.0, node=700.0)
    shifted = dict(
        inputs, data=inputs["data"] + np.float32(1234.0), zsci=inputs["zsci"] + np.float32(1234.0)
    )
    a = zero_read_signal(**inputs, trim=TRIM)
    b = zero_read_signal(**shifted, trim=TRIM)
    np.testing.assert_allclose(b.zsig, a.zsig, atol=1e-3)
    np.testing.assert_array_equal(b.groupdq, a.groupdq)
    assert a.groupdq[1, 2, 3] == S


def test_zsig_on_a_bias_subtracted_read_is_wrong():
    # ZSCI includes the bias: a BLEV'd zeroth read looks like -11000 DN of signal
    inputs = _inputs(signal0=500.0, zerr=2.0)
    blevd = dict(inputs, data=inputs["data"] - np.float32(BIAS))
    right = zero_read_signal(**inputs, trim=TRIM)
    wrong = zero_read_signal(**blevd, trim=TRIM)
    assert right.zsig[2, 3] == pytest.approx(500.0, abs=1e-3)
    assert wrong.zsig[2, 3] == 0.0
    assert not wrong.groupdq.any()


@pytest.mark.parametrize(
    ("signal", "gain", "threshold", "flagged"),
    [
        # zerr = rn = 0: sigma = sqrt(g z) / g, so the boundary is z = threshold^2 / g
        (16.0, 1.0, 4.0, True),  # exactly at 4 sigma: >= flags
        (15.99, 1.0, 4.0, False),
        (16.01, 1.0, 4.0, True),
        (8.0, 2.0, 4.0, True),
        (7.99, 2.0, 4.0, False),
        (9.0, 1.0, 3.0, True),
        (8.99, 1.0, 3.0, False),
        (-100.0, 1.0, 4.0, False),
    ],
)
def test_zsig_threshold_boundary(signal, gain, threshold, flagged):
    inputs = _inputs()
    inputs["zsci"][2, 3] = BIAS  # integer DN: exact float32 arithmetic at the boundary
    inputs["data"][0, 2, 3] = BIAS + signal
    inputs["gain"] = gain
    result = zero_read_signal(**inputs, trim=TRIM, threshold=threshold)
    assert bool(result.groupdq[0, 2, 3] & Z) == flagged
    assert bool(result.dq[2, 3] & Z) == flagged
    assert result.zsig[2, 3] == pytest.approx(signal if flagged else 0.0, abs=1e-2)


@pytest.mark.parametrize(
    ("signal0", "signal1", "zerr", "node", "read0", "read1", "zsig_dq", "zsig"),
    [
        # zsig > NODE: 256+2048 on read 0 and zsig, 256 on read 1
        (900.0, 1000.0, 1.0, 800.0, S | Z, S, S | Z, 900.0),
        # significant but below NODE, read 1 above: read 0 keeps only 2048
        (500.0, 900.0, 1.0, 800.0, Z, S, S | Z, 500.0),
        # insignificant zsig, read 1 above NODE: read 0 untouched, zsig DQ still 256+2048
        (5.0, 900.0, 1.0, 800.0, 0, S, S | Z, 0.0),
        # insignificant zsig above NODE: zsig is zeroed first, so no saturation in read 0
        (50.0, 20.0, 100.0, 10.0, 0, S, S | Z, 0.0),
        # nothing
        (5.0, 100.0, 1.0, 800.0, 0, 0, 0, 0.0),
    ],
)
def test_zsig_saturation_flags(signal0, signal1, zerr, node, read0, read1, zsig_dq, zsig):
    inputs = _inputs(signal0, signal1, zerr=zerr, node=node)
    result = zero_read_signal(**inputs, trim=TRIM)
    assert result.groupdq[0, 2, 3] == read0
    assert result.groupdq[1, 2, 3] == read1
    assert result.groupdq[2, 2, 3] == 0
    assert result.dq[2, 3] == zsig_dq
    assert result.zsig[2, 3] == pytest.approx(zsig, abs=1e-3)


def test_zsig_keeps_existing_dq_and_skips_the_reference_border():
    inputs = _inputs()
    inputs["groupdq"][0, 2, 2] = BAD_DETECTOR
    inputs["data"][0] += 5000.0  # strong signal everywhere, border included
    inputs["data"][1] += 40000.0
    result = zero_read_signal(**inputs, trim=TRIM)
    border = np.ones(SHAPE[1:], bool)
    border[1:-1, 1:-1] = False
    assert not result.groupdq[:, border].any()
    assert not result.zsig[border].any()
    np.testing.assert_array_equal(result.zeroth_read[border], inputs["data"][0][border])
    assert result.groupdq[0, 2, 2] == BAD_DETECTOR | Z
    assert result.dq[2, 2] == BAD_DETECTOR | Z | S


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"threshold": 0.0}, ParameterError),
        (
            {"data": np.zeros((1, 5, 6), np.float32), "groupdq": np.zeros((1, 5, 6), np.uint16)},
            ValueError,
        ),
        ({"zsci": np.zeros((4, 4), np.float32)}, ValueError),
        ({"gain": 0.0}, ValueError),
    ],
)
def test_zsig_rejects_bad_inputs(change, error):
    inputs = _inputs()
    threshold = change.pop("threshold", 4.0)
    inputs.update(change)
    with pytest.raises(error):
        zero_read_signal(**inputs, trim=TRIM, threshold=threshold)
