"""CCDTAB, OSCNTAB, CRREJTAB readers: calwf3's row selection, wildcards and errors."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.reference import (
    ReferenceFileError,
    is_dummy,
    parse_crsigmas,
    read_ccdtab,
    read_crrejtab,
    read_oscntab,
)
from hstramp.simulate.references import (
    binary_table,
    reference_primary,
    write_ccdtab,
    write_crrejtab,
    write_oscntab,
)


def _write_table(path, filetype, columns, *, detector="IR", pedigree="INFLIGHT 2010"):
    header = reference_primary(filetype, "test table", 1, detector=detector,
                               pedigree=pedigree)
    fits.HDUList([fits.PrimaryHDU(header=header), binary_table(columns, "TAB")]).writeto(path)
    return path


def _ccd_columns(amps, gains, chips, bins, gain_a):
    n = len(amps)
    return [
        ("CCDAMP", "4A", np.array(amps)), ("CCDCHIP", "I", np.array(chips, np.int16)),
        ("CCDGAIN", "E", np.array(gains, np.float32)),
        ("BINAXIS1", "I", np.array(bins, np.int16)), ("BINAXIS2", "I", np.ones(n, np.int16)),
        *[(f"CCDOFST{a}", "I", np.full(n, 190, np.int16)) for a in "ABCD"],
        *[(f"CCDBIAS{a}", "E", np.full(n, 11000.0, np.float32)) for a in "ABCD"],
        ("ATODGNA", "E", np.array(gain_a, np.float32)),
        *[(f"ATODGN{a}", "E", np.full(n, 2.2, np.float32)) for a in "BCD"],
        *[(f"READNSE{a}", "E", np.full(n, 20.0, np.float32)) for a in "ABCD"],
        ("AMPX", "I", np.full(n, 512, np.int16)), ("AMPY", "I", np.full(n, 512, np.int16)),
        ("SATURATE", "E", np.full(n, 77500.0, np.float32)),
    ]


def test_ccdtab_first_matching_row(tmp_path):
    path = _write_table(tmp_path / "x_ccd.fits", "CCD PARAMETERS", _ccd_columns(
        amps=["ABCD", "ABCD", "ABCD", "ABCD"], gains=[2.5, 4.0, 2.5, 2.5], chips=[1, 1, 1, 1],
        bins=[2, 1, 1, 1], gain_a=[9.0, 8.0, 2.25, 7.0]))
    params = read_ccdtab(path)
    assert params.row == 3  # row 1 has BINAXIS1 2, row 2 CCDGAIN 4; 3 and 4 match: first
    assert params.gain == pytest.approx((2.25, 2.2, 2.2, 2.2))
    assert params.read_noise == pytest.approx((20.0,) * 4)
    assert params.ampx == 512 and params.ampy == 512
    assert params.mean_gain == pytest.approx((2.25 + 3 * 2.2) / 4)


@pytest.mark.parametrize(("amp", "gain", "chip"), [("ANY", 2.5, 1), ("ABCD", -1.0, 1),
                                                   ("ABCD", -999.0, 1), ("ABCD", 2.5, -1),
                                                   ("ABCD", 2.5, -999)])
def test_ccdtab_wildcards(tmp_path, amp, gain, chip):
    path = _write_table(tmp_path / "w_ccd.fits", "CCD PARAMETERS", _ccd_columns(
        amps=["A", amp], gains=[3.0, gain], chips=[2, chip], bins=[1, 1], gain_a=[1.0, 2.3]))
    assert read_ccdtab(path).row == 2


def test_ccdtab_offsets_are_compared_when_given(tmp_path):
    path = write_ccdtab(tmp_path / "s_ccd.fits")
    assert read_ccdtab(path, ccdofst=(0, 0, 0, 0)).row == 2  # IR rows: offset 0, as calwf3's
    with pytest.raises(ReferenceFileError, match="CCDOFST"):
        read_ccdtab(path, ccdofst=(190, 190, 190, 190))


def test_ccdtab_no_row_names_file_and_gain(tmp_path):
    path = write_ccdtab(tmp_path / "s_ccd.fits")
    with pytest.raises(ReferenceFileError) as err:
        read_ccdtab(path, ccdgain=1.5)
    assert str(path) in str(err.value) and "CCDGAIN=1.5" in str(err.value)


def test_simulated_ccdtab_row(tmp_path):
    params = read_ccdtab(write_ccdtab(tmp_path / "s_ccd.fits"))
    assert params.gain == pytest.approx((2.252, 2.203, 2.188, 2.265), rel=1e-6)
    assert params.read_noise == pytest.approx((20.99, 19.80, 21.53, 21.98), rel=1e-6)


@pytest.mark.parametrize(("kwargs", "match"), [({"detector": "UVIS"}, "DETECTOR='UVIS'"),
                                               ({}, "FILETYPE='OVERSCAN'")])
def test_ccdtab_wrong_type_or_detector(tmp_path, kwargs, match):
    columns = _ccd_columns(["ABCD"], [2.5], [1], [1], [2.3])
    filetype = "CCD PARAMETERS" if kwargs else "OVERSCAN"
    path = _write_table(tmp_path / "bad_ccd.fits", filetype, columns, **kwargs)
    with pytest.raises(ReferenceFileError, match=match) as err:
        read_ccdtab(path)
    assert "CCDTAB" in str(err.value) and str(path) in str(err.value)


def test_ccdtab_missing_column(tmp_path):
    columns = [c for c in _ccd_columns(["ABCD"], [2.5], [1], [1], [2.3]) if c[0] != "AMPX"]
    path = _write_table(tmp_path / "nocol_ccd.fits", "CCD PARAMETERS", columns)
    with pytest.raises(ReferenceFileError, match=r"lacks column\(s\) AMPX$"):
        read_ccdtab(path)


def test_dummy_pedigree_is_detected(tmp_path):
    columns = _ccd_columns(["ABCD"], [2.5], [1], [1], [2.3])
    path = _write_table(tmp_path / "d_ccd.fits", "CCD PARAMETERS", columns,
                        pedigree="DUMMY 01/01/2009")
    assert is_dummy(path)
    assert not is_dummy(write_ccdtab(tmp_path / "s_ccd.fits"))


def _osc_columns(nx, a1, b1):
    n = len(nx)
    ones, fives = np.ones(n, np.int16), np.full(n, 5, np.int16)
    return [
        ("CCDAMP", "4A", np.full(n, "ABCD")), ("CCDCHIP", "I", ones),
        ("BINX", "I", ones), ("BINY", "I", ones),
        ("NX", "I", np.array(nx, np.int16)), ("NY", "I", np.array(nx, np.int16)),
        ("TRIMX1", "I", fives), ("TRIMX2", "I", fives), ("TRIMY1", "I", fives),
        ("TRIMY2", "I", fives),
        *[(name, "I", np.zeros(n, np.int16)) for name in (
            "TRIMX3", "TRIMX4", "VX1", "VX2", "VX3", "VX4", "VY1", "VY2", "VY3", "VY4",
            "BIASSECTC1", "BIASSECTC2", "BIASSECTD1", "BIASSECTD2")],
        ("BIASSECTA1", "I", np.array(a1, np.int16)), ("BIASSECTA2", "I", fives),
        ("BIASSECTB1", "I", np.array(b1, np.int16)),
        ("BIASSECTB2", "I", (np.array(nx) - 1).astype(np.int16)),
    ]


def test_oscntab_last_matching_row_and_zero_indexed_slices(tmp_path):
    path = _write_table(tmp_path / "o_osc.fits", "OVERSCAN",
                        _osc_columns([1024, 266, 1024], [1, 1, 2], [1019, 261, 1020]))
    params = read_oscntab(path, nx=1024, ny=1024)
    assert params.row == 3
    assert params.biassect_a == slice(1, 5)  # one-indexed columns 2..5
    assert params.biassect_b == slice(1019, 1023)  # one-indexed 1020..1023
    assert params.trimx[:2] == (5, 5) and params.trimx[2:] == (0, 0)
    assert params.science_slices == (slice(5, 1019), slice(5, 1019))
    assert np.arange(1024)[params.biassect_a].tolist() == [1, 2, 3, 4]


def test_simulated_oscntab_has_every_ir_size(tmp_path):
    path = write_oscntab(tmp_path / "s_osc.fits")
    for nx in (1024, 522, 266, 138, 74):
        params = read_oscntab(path, nx=nx, ny=nx)
        assert params.biassect_b == slice(nx - 5, nx - 1)


def test_oscntab_no_row(tmp_path):
    path = write_oscntab(tmp_path / "s_osc.fits")
    with pytest.raises(ReferenceFileError, match="NX=100, NY=100"):
        read_oscntab(path, nx=100, ny=100)


def test_oscntab_wrong_filetype(tmp_path):
    path = _write_table(tmp_path / "x.fits", "BAD PIXELS", _osc_columns([1024], [2], [1020]))
    with pytest.raises(ReferenceFileError, match="OSCNTAB"):
        read_oscntab(path, nx=1024, ny=1024)


@pytest.mark.parametrize(("text", "values"), [("4", (4.0,)), ("4,3,3", (4.0, 3.0, 3.0)),
                                              (" 6.5;5.5/4.5 ", (6.5, 5.5, 4.5))])
def test_parse_crsigmas(text, values):
    assert parse_crsigmas(text) == values


@pytest.mark.parametrize("text", ["", "four", "4,-1"])
def test_parse_crsigmas_errors(text):
    with pytest.raises(ValueError, match="CRSIGMAS"):
        parse_crsigmas(text)


def test_crrejtab_ir_row(tmp_path):
    params = read_crrejtab(write_crrejtab(tmp_path / "s_crr.fits"))
    assert params.row == 3 and params.threshold == 4.0 and params.crsigmas == (4.0,)
    assert params.badinpdq == 0 and params.crmask is False


def _crr_columns(irramp, crsplit, meanexp, sigmas):
    n = len(irramp)
    return [("CRSPLIT", "I", np.array(crsplit, np.int16)),
            ("MEANEXP", "E", np.array(meanexp, np.float32)),
            ("CRSIGMAS", "15A", np.array(sigmas)), ("IRRAMP", "L", np.array(irramp)),
            ("BADINPDQ", "I", np.zeros(n, np.int16)), ("SKYSUB", "4A", np.full(n, "none")),
            ("INITGUES", "3A", np.full(n, "med")), ("CRMASK", "L", np.zeros(n, bool)),
            *[(name, "E", np.zeros(n, np.float32))
              for name in ("CRRADIUS", "CRTHRESH", "SCALENSE")]]


def test_crrejtab_selection_as_calwf3(tmp_path):
    path = _write_table(tmp_path / "c_crr.fits", "COSMIC RAY REJECTION", _crr_columns(
        [True, True, True, False], [1, 1, 1, 1], [100.0, 1000.0, 300.0, 200.0],
        ["5", "6", "7", "8"]))
    # smallest MEANEXP >= EXPTIME among IRRAMP rows with CRSPLIT = min(NSAMP, max CRSPLIT)
    assert read_crrejtab(path, nsamp=9, exptime=250.0).crsigmas == (7.0,)
    assert read_crrejtab(path, nsamp=9, exptime=50.0).crsigmas == (5.0,)
    assert read_crrejtab(path).crsigmas == (5.0,)
    with pytest.raises(ReferenceFileError, match="MEANEXP >= 5000"):
        read_crrejtab(path, nsamp=9, exptime=5000.0)


def test_crrejtab_without_ir_rows(tmp_path):
    path = _write_table(tmp_path / "c_crr.fits", "COSMIC RAY REJECTION",
                        _crr_columns([False], [2], [0.0], ["4"]))
    with pytest.raises(ReferenceFileError, match="IRRAMP"):
        read_crrejtab(path)
