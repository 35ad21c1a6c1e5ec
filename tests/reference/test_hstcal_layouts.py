"""Every reader against files in the layouts hstcal's C readers accept (written by the
independent ``hstcal_layouts`` writer), and the rejections, each naming file and culprit."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.geometry import ScienceGeometry
from hstramp.reference import (
    ReferenceFileError,
    read_bpixtab,
    read_ccdtab,
    read_crrejtab,
    read_darkfile,
    read_flats,
    read_imphttab,
    read_nlinfile,
    read_oscntab,
)
from tests.reference import hstcal_layouts as hl

TABLES = sorted(hl.TABLE_LAYOUTS)
IMAGES = sorted(hl.IMAGE_LAYOUTS)
#: SQ64SUB: science index + 475 = full-frame reference index (LTV -470 vs +5)
SQ64 = ScienceGeometry((74, 74), (-470.0, -470.0))
SQ64_OFFSET = 475


def _plane(path, extname, extver=1):
    """A plane read back with astropy alone (constant extensions expanded by hand)."""
    with fits.open(path) as hdul:
        hdu = hdul[extname, extver]
        if hdu.data is None:
            h = hdu.header
            return np.full((h.get("NPIX2", 1), h["NPIX1"]), h["PIXVALUE"], np.float64)
        return hdu.data.astype(np.float64)


def _cut(full, offset=SQ64_OFFSET, n=74):
    return full[offset:offset + n, offset:offset + n]


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize("layout", TABLES)
def test_ccdtab_layouts(tmp_path, layout):
    path = hl.write_table(tmp_path / "l_ccd.fits", "CCD PARAMETERS", hl.ccdtab_columns(),
                          layout)
    params = read_ccdtab(path, ccdofst=(190, 190, 190, 190))
    assert params.row == 3  # getccdtab.c: the first row matching every selector
    assert params.gain == pytest.approx((2.3, 2.2, 2.1, 2.4))
    assert params.read_noise == pytest.approx((20.0, 21.0, 22.0, 23.0))
    assert (params.ccdamp, params.ampx, params.ampy, params.ccdofst) == ("ABCD", 512, 512,
                                                                         (190,) * 4)


@pytest.mark.parametrize("layout", TABLES)
def test_oscntab_layouts(tmp_path, layout):
    path = hl.write_table(tmp_path / "l_osc.fits", "OVERSCAN", hl.oscntab_columns(), layout)
    params = read_oscntab(path, nx=74, ny=74)
    assert params.row == 4  # the last matching row wins for IR
    assert params.biassect_a == slice(1, 5) and params.biassect_b == slice(69, 73)
    assert params.trimx == (5, 5, 0, 0) and params.trimy == (5, 5)


_BPIX_ROWS = [
    # pix1 pix2 len axis value chip amp  gain
    (12, 13, 3, 1, 4, 1, "ABCD", 2.5),        # x run
    (15, 11, 4, 2, 32, 1, "ABCD", 2.5),       # y run
    (13, 13, 1, 1, 8, 1, "ABCD", 2.5),        # ORs onto the x run
    (16, 16, 1, 1, 512, -999, "N/A", -999.0),  # wildcards (dqicorr.c doDQIIR)
    (17, 17, 1, 1, 4, 1, "ABCD", 4.0),        # other gain
    (18, 18, 1, 1, 4, 2, "ABCD", 2.5),        # other chip
    (19, 19, 1, 1, 16384, 1, "A", 2.5),       # other amp
]


@pytest.mark.parametrize("layout", TABLES)
def test_bpixtab_layouts(tmp_path, layout):
    path = hl.write_table(tmp_path / "l_bpx.fits", "BAD PIXELS", hl.bpixtab_columns(_BPIX_ROWS),
                          layout, header_cards=hl.BPIX_HEADER)
    dq = read_bpixtab(path, ScienceGeometry((20, 20), (-10.0, -10.0)))
    expected = np.zeros((20, 20), np.uint16)
    expected[2, 1:4] |= 4
    expected[0:4, 4] |= 32
    expected[2, 2] |= 8
    expected[5, 5] |= 512
    np.testing.assert_array_equal(dq, expected)


@pytest.mark.parametrize("layout", TABLES)
def test_crrejtab_layouts(tmp_path, layout):
    path = hl.write_table(tmp_path / "l_crr.fits", "COSMIC RAY REJECTION",
                          hl.crrejtab_columns(), layout)
    short = read_crrejtab(path, nsamp=9, exptime=50.0)
    assert (short.row, short.crsigmas, short.badinpdq, short.crmask) == (3, (4.0, 3.0), 0,
                                                                         False)
    long = read_crrejtab(path, nsamp=16, exptime=500.0)  # CRSPLIT = min(16, 9)
    assert (long.row, long.crsigmas, long.initgues, long.crmask) == (4, (5.0,), "min", True)


def test_bpixtab_the_real_crds_table(real_file):
    """y711520di_bpx.fits rasterized for SQ256SUB, against an independent loop over its
    rows (dodqi.c DQINormal: index0 = PIX - 1 + LTV, runs clipped to the image)."""
    path = real_file("y711520di_bpx.fits")
    geometry = ScienceGeometry((266, 266), (-374.0, -374.0))
    dq = read_bpixtab(path, geometry)
    with fits.open(path) as hdul:
        rows = hdul[1].data
        expected = np.zeros((266, 266), np.uint16)
        for pix1, pix2, length, axis, value, chip in zip(
                rows["PIX1"], rows["PIX2"], rows["LENGTH"], rows["AXIS"], rows["VALUE"],
                rows["CCDCHIP"], strict=True):
            if chip not in (1, -999):
                continue
            x, y = int(pix1) - 1 - 374, int(pix2) - 1 - 374
            for k in range(int(length)):
                xx, yy = (x + k, y) if axis == 1 else (x, y + k)
                if 0 <= xx < 266 and 0 <= yy < 266:
                    expected[yy, xx] |= int(value)
    np.testing.assert_array_equal(dq, expected)
    assert np.count_nonzero(dq) > 1000


# ------------------------------------------------------------------ IMPHTTAB


@pytest.mark.parametrize("layout", sorted(hl.IMPHTTAB_LAYOUTS))
def test_imphttab_real_layout(tmp_path, layout):
    path = hl.write(tmp_path / "l_imp.fits", hl.imphttab_hdus(layout))
    keywords = read_imphttab(path, "WFC3 IR F160W MJD#56500.0")
    # by hand: halfway between 56000 (2.1e-20) and 57000 (2.3e-20)
    assert keywords.photflam == pytest.approx(2.2e-20, rel=1e-14)
    assert keywords.photplam == hl.F160W_PHOTPLAM and keywords.photbw == hl.F160W_PHOTBW
    assert keywords.photfnu == pytest.approx(3.33564e4 * 2.2e-20 * hl.F160W_PHOTPLAM ** 2,
                                             rel=1e-12)
    assert keywords.photzpt == -21.1
    # a row without parameters (DATACOL PHOTFLAM) and components in another order
    assert read_imphttab(path, "WFC3 IR F160W").photflam == 1.9e-20
    assert read_imphttab(path, "WFC3 IR F140W MJD#55500").photflam == pytest.approx(1.5e-20)
    if layout != "parnum1":
        # two parameters, MJD fastest: at (56500, 5): (2.5e-20 + 5.5e-20) / 2 by hand
        two = read_imphttab(path, "WFC3 IR F125W MJD#56500 CONT#5")
        assert two.photflam == pytest.approx(4.0e-20, rel=1e-14)


def test_imphttab_extrapolates_mjd_only_with_extrap(tmp_path):
    mode = "WFC3 IR F160W MJD#57500"
    extrap = hl.write(tmp_path / "e_imp.fits", hl.imphttab_hdus(extrap=True))
    # by hand: the end pair 56000..57000 continued half an interval: 2.3 + 0.1
    assert read_imphttab(extrap, mode).photflam == pytest.approx(2.4e-20, rel=1e-14)
    strict = hl.write(tmp_path / "s_imp.fits", hl.imphttab_hdus(extrap=False))
    with pytest.raises(ReferenceFileError, match=r"extension PHOTFLAM row 2: mjd#57500 is "
                                                 r"outside the table range 55000\.\.57000"):
        read_imphttab(strict, mode)


def _edit_imphttab(path, extname, column, row, value):
    with fits.open(path, mode="update") as hdul:
        hdul[extname].data[column][row] = value


@pytest.mark.parametrize(("edit", "match"), [
    (("PHOTFLAM", "DATACOL", 1, "PHOTFLAMX"), r"row 2 has DATACOL='PHOTFLAMX'"),
    (("PHOTFLAM", "NELEM1", 1, 1), r"row 2 has NELEM1=1"),
    (("PHOTPLAM", "PHOTPLAM", 1, np.nan), r"PHOTPLAM row 2 gives PHOTPLAM = nan"),
    (("PHOTFLAM", "PAR1VALUES", 1, [57000.0, 56000.0, 55000.0, 0, 0, 0]),
     "PAR1VALUES are not finite and increasing"),
    (("PHOTBW", "OBSMODE", 1, "wfc3,ir,f160w,mjd"), r"PHOTBW does not contain obsmode"),
])
def test_imphttab_rejections(tmp_path, edit, match):
    path = hl.write(tmp_path / "r_imp.fits", hl.imphttab_hdus())
    _edit_imphttab(path, *edit)
    with pytest.raises(ReferenceFileError, match=match) as err:
        read_imphttab(path, "WFC3 IR F160W MJD#56500")
    assert str(path) in str(err.value) and err.value.keyword == "IMPHTTAB"


def test_imphttab_parnum_requires_its_columns(tmp_path):
    hdus = hl.imphttab_hdus()
    flam = hdus[1]
    hdus[1] = fits.BinTableHDU.from_columns(
        [c for c in flam.columns if c.name != "PHOTFLAM2"], name="PHOTFLAM")
    path = hl.write(tmp_path / "p_imp.fits", hdus)
    with pytest.raises(ReferenceFileError, match=r"extension PHOTFLAM lacks column\(s\) "
                                                 r"PHOTFLAM2"):
        read_imphttab(path, "WFC3 IR F160W MJD#56500")


# ------------------------------------------------------------------ images


@pytest.mark.parametrize("layout", IMAGES)
def test_nlinfile_layouts(tmp_path, layout):
    path = hl.write_images(tmp_path / "l_lin.fits", hl.nlinfile_hdus(layout), layout)
    ref = read_nlinfile(path, SQ64)
    assert (ref.ncoef, ref.nerr) == (3, 3)
    for k in range(3):
        np.testing.assert_allclose(ref.coeffs[k], _cut(_plane(path, "COEF", k + 1)),
                                   rtol=1e-7)
    np.testing.assert_array_equal(ref.node, 60000.0)
    np.testing.assert_array_equal(ref.zsci, 10700.0)
    np.testing.assert_array_equal(ref.errors, 0.0)
    assert ref.node.dtype == np.float32 and ref.dq.dtype == np.uint16
    assert ref.coeffs.shape == (3, 74, 74)


@pytest.mark.parametrize("layout", IMAGES)
def test_darkfile_layouts(tmp_path, layout):
    times = np.array([0.0, 0.2778, 7.6243, 14.9708])
    path = hl.write_images(tmp_path / "l_drk.fits", hl.darkfile_hdus(
        layout, times=times, shape=(74, 74), ltv=SQ64.ltv), layout)
    dark = read_darkfile(path, times=times, shape=(74, 74), samp_seq="SPARS10",
                         subtype="SQ64SUB")
    assert dark.extvers == (4, 3, 2, 1)  # stored newest first
    for k, extver in enumerate(dark.extvers):
        np.testing.assert_allclose(dark.data[k], _plane(path, "SCI", extver), rtol=1e-6)
        np.testing.assert_array_equal(dark.err[k], _plane(path, "ERR", extver))


@pytest.mark.parametrize("layout", IMAGES)
def test_flat_layouts(tmp_path, layout):
    rng = np.random.default_rng(15)
    pflt = (1.0 + 0.01 * rng.standard_normal(hl.FULL)).astype(np.float32)
    if layout == "integer":
        pflt = np.rint(pflt * 4)  # whole numbers survive an int32 plane
    pfile = hl.write_images(tmp_path / "l_pfl.fits",
                            hl.flat_hdus("PFLTFILE", layout, sci=pflt), layout)
    # the large-scale flat binned 4x4 and uniform: its expansion is the same number
    lfile = hl.write_images(tmp_path / "l_lfl.fits", hl.flat_hdus(
        "LFLTFILE", layout, sci=1.25, err=0.0, shape=(256, 256), ltv=(2.0, 2.0),
        ltm=(0.25, 0.25), filter="ANY"), layout)
    flat = read_flats(pfile, None, lfile, geometry=SQ64, filter="F160W")
    low = _plane(lfile, "SCI")[0, 0]  # 1.25, or 1 in an integer plane
    np.testing.assert_allclose(flat.data, _cut(_plane(pfile, "SCI")) * low, rtol=1e-6)
    np.testing.assert_array_equal(flat.dq, 0)


# ------------------------------------------------------------------ rejections


def _ccd_with(**changes):
    columns = hl.ccdtab_columns()
    out = []
    for name, kind, values in columns:
        values = list(values)
        if name in changes:
            values[2] = changes[name]  # row 3 is the one selected
        out.append((name, kind, values))
    return out


def _osc_without(name):
    return [c for c in hl.oscntab_columns() if c[0] != name]


@pytest.mark.parametrize(("write", "read", "match"), [
    # getccdtab.c OpenCCDTab: every one of its 24 columns is required
    (lambda p: hl.write_table(p, "CCD PARAMETERS", [c for c in hl.ccdtab_columns()
                                                     if c[0] not in ("AMPY", "READNSEC")]),
     read_ccdtab, r"CCDTAB .* lacks column\(s\) READNSEC, AMPY"),
    (lambda p: hl.write_table(p, "CCD PARAMETERS", _ccd_with(ATODGNB=np.nan)), read_ccdtab,
     r"row 3 has ATODGNB = nan"),
    (lambda p: hl.write_table(p, "CCD PARAMETERS", _ccd_with(READNSED=-1.0)), read_ccdtab,
     r"row 3 has READNSED = -1.0; it must be a finite number >= 0"),
    (lambda p: hl.write_table(p, "CCD PARAMETERS", [
        (n, "float" if n == "CCDCHIP" else k, [1.5] * 4 if n == "CCDCHIP" else v)
        for n, k, v in hl.ccdtab_columns()]), read_ccdtab,
     r"column CCDCHIP row 1 holds 1\.5; a whole number is needed"),
    (lambda p: hl.write_table(p, "CCD PARAMETERS", [
        (n, "str" if n == "CCDGAIN" else k, ["two"] * 4 if n == "CCDGAIN" else v)
        for n, k, v in hl.ccdtab_columns()]), read_ccdtab,
     r"column CCDGAIN row 1 holds 'two', not a number"),
    # findover.c OpenOverTab: VX1..VY4 are required although IR does not use them
    (lambda p: hl.write_table(p, "OVERSCAN", _osc_without("VY3")),
     lambda p: read_oscntab(p, nx=74, ny=74), r"OSCNTAB .* lacks column\(s\) VY3"),
    (lambda p: hl.write_table(p, "OVERSCAN", [
        (n, k, [70] * 4 if n == "TRIMX2" else v) for n, k, v in hl.oscntab_columns()]),
     lambda p: read_oscntab(p, nx=74, ny=74), r"row 4 trims \(5, 70\) x \(5, 5\) leave no"),
    # dodqi.c OpenBpixTab: SIZAXIS1/2 in the table header, CCDCHIP column
    (lambda p: hl.write_table(p, "BAD PIXELS", hl.bpixtab_columns(_BPIX_ROWS)),
     lambda p: read_bpixtab(p, SQ64), r"BPIXTAB .* table header lacks SIZAXIS1, SIZAXIS2"),
    (lambda p: hl.write_table(p, "BAD PIXELS", [c for c in hl.bpixtab_columns(_BPIX_ROWS)
                                                 if c[0] != "CCDCHIP"],
                              header_cards=hl.BPIX_HEADER),
     lambda p: read_bpixtab(p, SQ64), r"lacks column\(s\) CCDCHIP"),
    # dodqi.c ReadBpixTab: AXIS must be 1 or 2 (every row, selected or not)
    (lambda p: hl.write_table(p, "BAD PIXELS", hl.bpixtab_columns(
        [*_BPIX_ROWS, (1, 1, 1, 3, 4, 2, "A", 1.0)]), header_cards=hl.BPIX_HEADER),
     lambda p: read_bpixtab(p, SQ64), r"BPIXTAB .* row 8: AXIS=3, must be 1 or 2"),
    (lambda p: hl.write_table(p, "BAD PIXELS", hl.bpixtab_columns(
        [(1, 1, 1, 1, 70000, 1, "ABCD", 2.5)]), header_cards=hl.BPIX_HEADER),
     lambda p: read_bpixtab(p, SQ64), r"row 1: VALUE=70000, must be a DQ value 0\.\.65535"),
    # refdata.c crrpar_in: the eleven columns; strtor: at most MAX_ITER (20) sigmas
    (lambda p: hl.write_table(p, "COSMIC RAY REJECTION", [c for c in hl.crrejtab_columns()
                                                           if c[0] != "CRMASK"]),
     read_crrejtab, r"CRREJTAB .* lacks column\(s\) CRMASK"),
    (lambda p: hl.write_table(p, "COSMIC RAY REJECTION", [
        (n, k, [",".join(["4"] * 21)] * 4 if n == "CRSIGMAS" else v)
        for n, k, v in hl.crrejtab_columns()]),
     lambda p: read_crrejtab(p, nsamp=9, exptime=50.0), r"row 3: CRSIGMAS .* 21 values"),
    (lambda p: hl.write_table(p, "COSMIC RAY REJECTION", [
        (n, k, [0.0, 0.0, np.nan, 3000.0] if n == "MEANEXP" else v)
        for n, k, v in hl.crrejtab_columns()]), read_crrejtab, r"row 3 has MEANEXP"),
], ids=["ccd-columns", "ccd-nan-gain", "ccd-negative-noise", "ccd-fractional-chip",
        "ccd-text", "osc-columns", "osc-trim", "bpx-sizaxis", "bpx-chip", "bpx-axis",
        "bpx-value", "crr-columns", "crr-sigmas", "crr-nan-meanexp"])
def test_table_rejections(tmp_path, write, read, match):
    path = write(tmp_path / "bad.fits")
    with pytest.raises(ReferenceFileError, match=match) as err:
        read(path)
    assert str(path) in str(err.value)


def _huge_constant(hdus, extname):
    for hdu in hdus:
        if hdu.name == extname:
            hdu.header["NPIX1"] = hdu.header["NPIX2"] = 1_000_000
    return hdus


def _drop(hdus, key):
    for hdu in hdus:
        if key in hdu.header and hdu.header.get("NAXIS", 0) == 0:
            del hdu.header[key]
    return hdus


_TIMES = np.array([0.0, 0.2778, 7.6243])


def _dark(p, layout="plain", cards=None):
    return hl.write(p, hl.darkfile_hdus(layout, times=_TIMES, shape=(74, 74), ltv=SQ64.ltv,
                                        primary_cards=cards))


def _read_dark(p, samp_seq="SPARS10"):
    return read_darkfile(p, times=_TIMES, shape=(74, 74), samp_seq=samp_seq,
                         subtype="SQ64SUB")


@pytest.mark.parametrize(("write", "read", "match"), [
    # refdata.c getNlinData: NCOEF read with getKeyI
    (lambda p: hl.write(p, hl.nlinfile_hdus(primary_cards={"NCOEF": 2.5, "NERR": 3})),
     lambda p: read_nlinfile(p, SQ64), r"NLINFILE .* has NCOEF=2\.5; a whole number >= 1"),
    (lambda p: hl.write(p, hl.nlinfile_hdus(primary_cards={"NERR": 3})),
     lambda p: read_nlinfile(p, SQ64), r"has no NCOEF keyword"),
    # hstio getFloatData: NPIX1 and PIXVALUE are needed; a size is checked before allocating
    (lambda p: hl.write(p, _huge_constant(hl.nlinfile_hdus("constant"), "NODE")),
     lambda p: read_nlinfile(p, SQ64), r"extension NODE,1 claims 1000000x1000000 pixels"),
    (lambda p: hl.write(p, _drop(hl.nlinfile_hdus("constant"), "PIXVALUE")),
     lambda p: read_nlinfile(p, SQ64), r"extension ERR,1 has no data and no PIXVALUE"),
    (lambda p: hl.write(p, _drop(hl.nlinfile_hdus("constant"), "NPIX1")),
     lambda p: read_nlinfile(p, SQ64), r"extension ERR,1 has no data and no NPIX1"),
    # refdata.c getDarkInfo: NUMEXPOS (getKeyI), EXPOS_n (getKeyD), checkKeyS prefixes
    (lambda p: _dark(p, cards=lambda c: {**c, "NUMEXPOS": 0}), _read_dark,
     r"DARKFILE .* NUMEXPOS = 0; a whole number >= 1"),
    (lambda p: _dark(p, cards=lambda c: {**c, "EXPOS_2": "soon"}), _read_dark,
     r"DARKFILE .* EXPOS_2 = 'soon'; a finite number"),
    (lambda p: _dark(p), lambda p: _read_dark(p, samp_seq="SPARS25"),
     r"SAMP_SEQ='SPARS10' but the science exposure has SAMP_SEQ='SPARS25'"),
    (lambda p: hl.write(p, _huge_constant(hl.darkfile_hdus(
        "constant", times=_TIMES, shape=(74, 74), ltv=SQ64.ltv), "ERR")), _read_dark,
     r"imset \d ERR is 1000000x1000000 but the science image is 74x74"),
    # getirflags.c checkFlat -> CheckFilter: FILTER must be present
    (lambda p: hl.write(p, _drop_filter(hl.flat_hdus("PFLTFILE", sci=1.0))),
     lambda p: read_flats(p, geometry=SQ64, filter="F160W"), r"PFLTFILE .* no FILTER"),
    (lambda p: hl.write(p, _huge_constant(hl.flat_hdus("PFLTFILE", "constant", sci=1.0),
                                          "SCI")),
     lambda p: read_flats(p, geometry=SQ64, filter="F160W"), r"SCI,1 claims 1000000x1000000"),
], ids=["nlin-ncoef", "nlin-no-ncoef", "nlin-huge", "nlin-no-pixvalue", "nlin-no-npix1",
        "drk-numexpos", "drk-nan-expos", "drk-sampseq", "drk-huge", "flat-filter",
        "flat-huge"])
def test_image_rejections(tmp_path, write, read, match):
    path = write(tmp_path / "bad.fits")
    with pytest.raises(ReferenceFileError, match=match) as err:
        read(path)
    assert str(path) in str(err.value)


def _drop_filter(hdus):
    del hdus[0].header["FILTER"]
    return hdus


def test_dark_samp_seq_prefix_as_checkkeys(tmp_path):
    """refdata.c checkKeyS compares over the reference value's length."""
    path = _dark(tmp_path / "p_drk.fits", cards=lambda c: {**c, "SAMP_SEQ": "SPARS"})
    assert _read_dark(path, samp_seq="SPARS10").samp_seq == "SPARS"


def test_one_row_constant_extension_without_npix2(tmp_path):
    """hstio getFloatData: NPIX2 missing means one row."""
    hdus = hl.flat_hdus("LFLTFILE", sci=1.5, shape=(1, 256), ltv=(2.0, 0.0),
                        ltm=(0.25, 1.0))
    hdus[1] = hl.constant("SCI", 1, (1, 256), 1.5, ltv=(2.0, 0.0), ltm=(0.25, 1.0),
                          npix2=False)
    path = hl.write(tmp_path / "r_lfl.fits", hdus)
    flat = read_flats(None, None, path, geometry=ScienceGeometry((1, 64), (-470.0, 0.0)),
                      filter="F160W")
    np.testing.assert_array_equal(flat.data, np.float32(1.5))


# ------------------------------------------------------------------ read once per file version


@pytest.mark.parametrize("reader", ["imphttab", "crrejtab"])
def test_small_tables_are_read_once_per_file_version(tmp_path, monkeypatch, reader):
    """The exposures of a batch worker share one read of the IMPHTTAB and the CRREJTAB (per
    photmode, per NSAMP and EXPTIME); a file rewritten in place is read again."""
    import os

    from hstramp.reference import crrej, photometry

    if reader == "imphttab":
        module, path = photometry, hl.write(tmp_path / "c_imp.fits",
                                            hl.imphttab_hdus(sorted(hl.IMPHTTAB_LAYOUTS)[0]))

        def read(mode="WFC3 IR F160W MJD#56500.0"):
            return read_imphttab(path, mode).photflam
    else:
        module, path = crrej, hl.write_table(tmp_path / "c_crr.fits", "COSMIC RAY REJECTION",
                                             hl.crrejtab_columns(), TABLES[0])

        def read(nsamp=9):
            return read_crrejtab(path, nsamp=nsamp, exptime=50.0).row

    opened = []
    real = module.open_reference
    monkeypatch.setattr(module, "open_reference",
                        lambda *args, **kwargs: opened.append(1) or real(*args, **kwargs))
    first = read()
    assert read() == first and len(opened) == 1
    read("WFC3 IR F160W") if reader == "imphttab" else read(16)  # other parameters: a read
    assert len(opened) == 2
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert read() == first and len(opened) == 3
