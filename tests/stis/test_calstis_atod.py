"""ATODCORR as calstis cs1/doatod.c: lookup by truncated raw value, row closest in REF_KEY."""

import numpy as np
import pytest

from hstramp.core.stis.atod import atod_correct
from hstramp.errors import InputFileError
from hstramp.reference.common import ReferenceFileError
from hstramp.reference.stis.atod import read_stis_atodtab
from hstramp.simulate.stis.calibration import write_atodtab

TABLE = np.array([0.5, 1.5, 2.25, 3.0], np.float32)


@pytest.mark.parametrize(("raw", "value", "flag"), [
    (0.0, 0.5, 0), (1.9, 1.5, 0), (2.0, 2.25, 0), (3.0, 3.0, 0),
    (4.0, 3.0, 256), (70000.0, 3.0, 256),           # beyond NELEM: last value, saturated
    (-2.0, -2.0, 0), (-0.5, 0.5, 0),                # int(-0.5) = 0 (C truncation)
])
def test_atod_table(raw, value, flag):
    out = atod_correct(np.array([[raw]], np.float32), np.array([[8]], np.uint16), TABLE)
    assert out.data[0, 0] == pytest.approx(value)
    assert out.dq[0, 0] == 8 | flag


def test_refused_after_combination():
    with pytest.raises(ValueError, match="NCOMBINE"):
        atod_correct(np.zeros((1, 1)), np.zeros((1, 1), np.uint16), TABLE, ncombine=2)


ROWS = [
    {"ccdamp": "D", "ccdgain": 1, "ref_key": "CCDTEMP", "ref_key_value": 10.0, "atod": [0, 1]},
    {"ccdamp": "D", "ccdgain": 1, "ref_key": "CCDTEMP", "ref_key_value": 20.0, "atod": [5, 6, 7]},
    {"ccdamp": "D", "ccdgain": 4, "ref_key": "CCDTEMP", "ref_key_value": 20.0, "atod": [9]},
    {"ccdamp": "ANY", "ccdgain": 2, "ref_key": "CCDTEMP", "ref_key_value": 0.0, "atod": [4],
     "pedigree": "DUMMY 2001"},
]


@pytest.mark.parametrize(("amp", "gain", "temp", "row", "atod", "dummy"), [
    ("D", 1, 12.0, 1, [0, 1], False),
    ("D", 1, 16.0, 2, [5, 6, 7], False),
    ("D", 1, 15.0, 1, [0, 1], False),          # tie: the first row
    ("D", 4, -5.0, 3, [9], False),
    ("B", 2, 0.0, 4, [4], True),               # ANY wildcard, DUMMY row
])
def test_row_selection(tmp_path, amp, gain, temp, row, atod, dummy):
    path = write_atodtab(tmp_path / "a_a2d.fits", ROWS)
    got = read_stis_atodtab(path, ccdamp=amp, ccdgain=gain, header={"CCDTEMP": temp})
    assert (got.row, got.atod.tolist(), got.dummy) == (row, atod, dummy)


def test_errors_name_keywords(tmp_path):
    path = write_atodtab(tmp_path / "a_a2d.fits", ROWS)
    with pytest.raises(InputFileError, match="CCDTEMP"):
        read_stis_atodtab(path, ccdamp="D", ccdgain=1, header={})
    with pytest.raises(ReferenceFileError, match="gain 8"):
        read_stis_atodtab(path, ccdamp="D", ccdgain=8, header={"CCDTEMP": 1.0})
