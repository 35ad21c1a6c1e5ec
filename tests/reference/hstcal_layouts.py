"""An independent writer of WFC3/IR reference files in the layouts hstcal's readers accept.

Written with astropy.io.fits directly (never hstramp.simulate), following the rules of the
C readers in hstcal (``pkg/wfc3/lib``, ``lib/getphttab.c``, ``tables/``, ``hstio/``), so
the hstramp readers are tested against files they were not written to match. Each layout
variant says which C function's rule it exercises.

Table columns are described as ``(name, kind, values)`` with ``kind`` one of ``str``,
``int``, ``float``, ``bool``; :func:`table_hdu` turns them into a table in one of
:data:`TABLE_LAYOUTS`.
"""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
from astropy.io import fits

#: table layouts every hstcal table reader accepts, and the rule each one exercises
TABLE_LAYOUTS = {
    # binary table, natural types, upper-case names: what CRDS delivers
    "plain": "CRDS binary table",
    # tables/c_tbcfnd1.c c_tbcfnd1: names are compared after str_lower on both sides
    "lowercase": "column names in lower case",
    # tables/c_tbegt.c c_tbegt{i,r,d,t}: a scalar read takes element 1 (firstelem=1, nelem=1)
    "vector": "every numeric column a 2-element vector, the value first",
    # tables/c_tbegt.c: a text column read as a number goes through atof/atoi
    "text": "numbers written as text",
    # tables/c_tbegt.c c_tbegti -> fits_read_col_int: a real column converts to int
    "real": "whole numbers stored as float64",
    # every reader looks columns up by name (c_tbcfnd1) and ignores the others
    "extra": "extra columns before and after",
    # tables/c_tbtopn.c: HDU 1 is opened whatever the table type (CFITSIO reads ASCII tables)
    "ascii": "ASCII table extension",
}

_ASCII_FORMATS = {"int": "I12", "float": "D25.17", "bool": "I2"}


def _width(values) -> int:
    return max([1, *(len(str(v)) for v in values)])


def _column(name: str, kind: str, values, layout: str) -> fits.Column:
    values = np.asarray(values)
    if layout == "lowercase":
        name = name.lower()
    if kind == "str":
        fmt = f"A{_width(values)}" if layout == "ascii" else f"{_width(values)}A"
        return fits.Column(name=name, format=fmt, array=values.astype(str))
    if layout == "ascii":
        array = values.astype(np.int64) if kind == "bool" else values
        return fits.Column(name=name, format=_ASCII_FORMATS[kind], array=array)
    if layout == "text":
        text = [str(int(v)) if kind in ("int", "bool") else repr(float(v)) for v in values]
        return fits.Column(name=name, format=f"{_width(text)}A", array=np.array(text))
    if layout == "real" and kind == "int":
        return fits.Column(name=name, format="D", array=values.astype(np.float64))
    code = {"int": "J", "float": "D", "bool": "L"}[kind]
    if layout == "vector":
        filler = np.zeros_like(values) if kind == "bool" else np.full(values.shape, 9999)
        return fits.Column(name=name, format=f"2{code}",
                           array=np.stack([values, filler.astype(values.dtype)], axis=1))
    return fits.Column(name=name, format=code, array=values)


def table_hdu(columns, layout: str = "plain", name: str = "TABLE", header_cards=()):
    """A table extension holding ``columns`` in ``layout``.

    Parameters
    ----------
    columns : list of tuple
        ``(name, kind, values)``.
    layout : str
        A key of :data:`TABLE_LAYOUTS`.
    name : str
        EXTNAME.
    header_cards : iterable of tuple
        ``(keyword, value)`` for the table header (SIZAXIS1 ...).

    Returns
    -------
    astropy.io.fits.BinTableHDU or astropy.io.fits.TableHDU
    """
    if layout not in TABLE_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    nrows = len(columns[0][2])
    if layout == "extra":
        columns = [("ZCOMMENT", "str", ["spare"] * nrows), *columns,
                   ("SPARE", "float", np.arange(nrows, dtype=float))]
    cols = [_column(n, k, v, layout) for n, k, v in columns]
    kind = fits.TableHDU if layout == "ascii" else fits.BinTableHDU
    hdu = kind.from_columns(cols, name=name)
    for key, value in header_cards:
        hdu.header[key] = value
    return hdu


def primary_hdu(filetype: str | None, *, detector: str | None = "IR", **keywords):
    """Primary HDU of a reference file (FILETYPE, DETECTOR, PEDIGREE, DESCRIP + ``keywords``).

    calwf3 reads FILETYPE/PEDIGREE/DESCRIP from the primary header (``ImgPedigree``,
    ``TabPedigree``) and DETECTOR there (``CheckDetector`` in ``wf3info.c``).
    """
    header = fits.Header()
    header["INSTRUME"] = "WFC3"
    if filetype is not None:
        header["FILETYPE"] = filetype
    if detector is not None:
        header["DETECTOR"] = detector
    header["PEDIGREE"] = "INFLIGHT 01/01/2010 01/01/2020"
    header["DESCRIP"] = "independent test file (tests/reference/hstcal_layouts.py)"
    for key, value in keywords.items():
        header[key] = value
    return fits.PrimaryHDU(header=header)


def write(path, hdus, *, gzipped: bool = False) -> Path:
    """Write ``hdus``; with ``gzipped`` the file is ``<path>.gz`` (CFITSIO reads gzip files)."""
    path = Path(path)
    fits.HDUList(list(hdus)).writeto(path, overwrite=True)
    if not gzipped:
        return path
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as src, gzip.open(target, "wb") as dst:
        shutil.copyfileobj(src, dst)
    path.unlink()
    return target


# ---------------------------------------------------------------- tables


def ccdtab_columns(*, gains=(2.3, 2.2, 2.1, 2.4), read_noise=(20.0, 21.0, 22.0, 23.0),
                   ccdgain=2.5):
    """CCDTAB rows (getccdtab.c ``OpenCCDTab``: 24 columns, all required). Row 3 is the
    match for CCDAMP ABCD, CCDGAIN ``ccdgain``, CCDCHIP 1, BINAXIS 1, CCDOFST 190; rows 1,
    2 and 4 differ in gain, binning and CCDOFST (getccdtab.c ``GetCCDTab``: first match)."""
    n = 4
    rows_gain = [4.0, ccdgain, ccdgain, ccdgain]
    bin1 = [1, 2, 1, 1]
    offset = [190, 190, 190, 0]
    atod = np.array([[9.0] * 4, [8.0] * 4, list(gains), [7.0] * 4])
    return [
        ("CCDAMP", "str", ["ABCD"] * n), ("CCDCHIP", "int", [1] * n),
        ("CCDGAIN", "float", rows_gain), ("BINAXIS1", "int", bin1), ("BINAXIS2", "int", [1] * n),
        *[(f"CCDOFST{a}", "int", offset) for a in "ABCD"],
        *[(f"CCDBIAS{a}", "float", [10720.0] * n) for a in "ABCD"],
        *[(f"ATODGN{a}", "float", atod[:, k]) for k, a in enumerate("ABCD")],
        *[(f"READNSE{a}", "float", [read_noise[k]] * n) for k, a in enumerate("ABCD")],
        ("AMPX", "int", [512] * n), ("AMPY", "int", [512] * n),
        ("SATURATE", "float", [77500.0] * n),
    ]


def oscntab_columns(sizes=(1024, 74, 266)):
    """OSCNTAB rows (findover.c ``OpenOverTab``: every column required). For IR the
    *last* row matching CCDAMP, CCDCHIP, NX, NY wins (findover.c ``FindOverscan`` has no
    break in its IR branch): two rows for 74 pixels, the second with bias section B at
    one-indexed 70..73, the first at 69..72."""
    sizes = [*sizes, sizes[1]]
    n = len(sizes)
    b1 = [s - 4 for s in sizes]
    b1[1] -= 1
    zero = [0] * n
    return [
        ("CCDAMP", "str", ["ABCD"] * n), ("CCDCHIP", "int", [1] * n),
        ("BINX", "int", [1] * n), ("BINY", "int", [1] * n),
        ("NX", "int", sizes), ("NY", "int", sizes),
        ("TRIMX1", "int", [5] * n), ("TRIMX2", "int", [5] * n),
        ("TRIMX3", "int", zero), ("TRIMX4", "int", zero),
        ("TRIMY1", "int", [5] * n), ("TRIMY2", "int", [5] * n),
        *[(f"V{a}{k}", "int", zero) for a in "XY" for k in (1, 2, 3, 4)],
        ("BIASSECTA1", "int", [2] * n), ("BIASSECTA2", "int", [5] * n),
        ("BIASSECTB1", "int", b1), ("BIASSECTB2", "int", [b + 3 for b in b1]),
        *[(f"BIASSECT{s}{k}", "int", zero) for s in "CD" for k in (1, 2)],
    ]


def bpixtab_columns(rows):
    """BPIXTAB columns from ``(pix1, pix2, length, axis, value, chip, amp, gain)`` rows
    (dodqi.c ``OpenBpixTab``: PIX1 PIX2 LENGTH AXIS VALUE CCDCHIP required; CCDAMP and
    CCDGAIN optional)."""
    pix1, pix2, length, axis, value, chip, amp, gain = zip(*rows, strict=True)
    return [("PIX1", "int", pix1), ("PIX2", "int", pix2), ("LENGTH", "int", length),
            ("AXIS", "int", axis), ("VALUE", "int", value), ("CCDCHIP", "int", chip),
            ("CCDAMP", "str", amp), ("CCDGAIN", "float", gain)]


#: SIZAXIS1/2 are required in the BPIXTAB table header (dodqi.c ``OpenBpixTab``)
BPIX_HEADER = (("SIZAXIS1", 1024), ("SIZAXIS2", 1024))


def crrejtab_columns():
    """CRREJTAB rows (wf3ir/refdata.c ``crrpar_in``: 11 columns required). Two UVIS rows
    (IRRAMP false) and two IR rows with MEANEXP 100 and 3000; for NSAMP 9 and EXPTIME
    <= 100 the first IR row (CRSIGMAS '4,3') is used, for 100 < EXPTIME <= 3000 the second."""
    return [
        ("CRSPLIT", "int", [2, 3, 9, 9]), ("MEANEXP", "float", [0.0, 0.0, 100.0, 3000.0]),
        ("SCALENSE", "float", [30.0, 30.0, 0.0, 0.0]),
        ("INITGUES", "str", ["med", "med", "med", "min"]),
        ("SKYSUB", "str", ["mode", "mode", "none", "none"]),
        ("CRSIGMAS", "str", ["6.5,5.5,4.5", "6.5,5.5", "4,3", "5"]),
        ("CRRADIUS", "float", [2.1, 2.1, 0.0, 0.0]),
        ("CRTHRESH", "float", [0.5556, 0.5556, 0.0, 0.0]),
        ("BADINPDQ", "int", [39, 39, 0, 32]), ("CRMASK", "bool", [True, True, False, True]),
        ("IRRAMP", "bool", [False, False, True, True]),
    ]


def write_table(path, filetype, columns, layout="plain", *, header_cards=(), gzipped=False,
                **primary):
    """A table reference file: primary header + the table in HDU 1 (c_tbtopn opens HDU 1)."""
    return write(path, [primary_hdu(filetype, **primary),
                        table_hdu(columns, layout, header_cards=header_cards)],
                 gzipped=gzipped)


# ---------------------------------------------------------------- IMPHTTAB

#: the MJD grid and PHOTFLAM of the F160W row of :func:`imphttab_hdus`
MJD_GRID = (55000.0, 56000.0, 57000.0)
F160W_PHOTFLAM = (2.0e-20, 2.1e-20, 2.3e-20)
F160W_PHOTPLAM = 15369.2
F160W_PHOTBW = 826.3
#: the two-parameter F125W row: PHOTFLAM2 over MJD_GRID (fastest) x CONT_GRID
CONT_GRID = (0.0, 10.0)
F125W_PHOTFLAM2 = (1.0e-20, 2.0e-20, 3.0e-20, 3.0e-20, 4.0e-20, 7.0e-20)

#: IMPHTTAB layouts (``hstcal_layouts.imphttab_hdus``)
IMPHTTAB_LAYOUTS = {
    # lib/getphttab.c as WFC3/IR files are delivered: fixed-length vector columns
    "plain": "CRDS layout, PARNUM 2",
    # tables/c_tbcfnd1.c: column names compared in lower case
    "lowercase": "column names in lower case",
    # tables/c_tbagt.c c_tbagtd: variable-length columns are read up to NELEMn values
    "variable": "vector columns variable-length (PD())",
    # getphttab.c OpenPhotTab requires <NAME>1..<NAME>PARNUM only
    "parnum1": "PARNUM 1, no second parameter columns",
}


def imphttab_hdus(layout="plain", *, extrap=None):
    """An IMPHTTAB in the real WFC3/IR layout (lib/getphttab.c).

    Primary: PARNUM, PHOTZPT, NEXTEND (``GetPhotTab`` reads all three), EXTRAP when given.
    PHOTFLAM: DATACOL ``PHOTFLAM1`` on the ``mjd#`` rows (``ReadPhotArray`` takes the
    parameter count from the digits after the extension name and reads NELEM1 values of
    PAR1VALUES and of column PHOTFLAM1), ``PHOTFLAM`` on a row without parameters,
    ``PHOTFLAM2`` on a two-parameter row (``ComputeValue``: the first parameter fastest).
    PHOTPLAM and PHOTBW: DATACOL names the scalar column on every row although NELEM1,
    PAR1VALUES and the vector column are filled (the real layout; the scalar counts).
    Rows for other filters and one with its components in another order
    (``CompareObsModes``) complete the table.
    """
    if layout not in IMPHTTAB_LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    parnum = 1 if layout == "parnum1" else 2
    grid = np.array(MJD_GRID)
    m = grid.size
    modes = ["wfc3,ir,f105w,mjd#", "wfc3,ir,f160w,mjd#", "wfc3,ir,f160w",
             "wfc3,ir,f125w,mjd#,cont#", "ir,wfc3,f140w,mjd#"]
    n = len(modes)
    has_mjd = np.array([mode.endswith("#") or "mjd#" in mode for mode in modes])
    width = 2 * m

    def vector(rows):
        if layout == "variable":
            return "PD()", [np.asarray(r, float) for r in rows]
        return f"{width}D", np.array([np.pad(np.asarray(r, float), (0, width - len(r)))
                                      for r in rows])

    def extension(name, datacol, scalar, vector1, vector2):
        columns = [("OBSMODE", "40A", np.array(modes)), ("DATACOL", "12A", np.array(datacol)),
                   (name, "D", np.array(scalar)), (f"{name}1", *vector(vector1)),
                   ("PAR1NAMES", "8A", np.array(["mjd#" if h else "" for h in has_mjd])),
                   ("NELEM1", "J", np.where(has_mjd, m, 0).astype(np.int32)),
                   ("PAR1VALUES", *vector([grid if h else [0.0] for h in has_mjd]))]
        if parnum == 2:
            two = np.array(["cont#" in mode for mode in modes])
            columns += [(f"{name}2", *vector(vector2)),
                        ("PAR2NAMES", "8A", np.array(["cont#" if t else "" for t in two])),
                        ("NELEM2", "J", np.where(two, len(CONT_GRID), 0).astype(np.int32)),
                        ("PAR2VALUES", *vector([CONT_GRID if t else [0.0] for t in two]))]
        columns += [("PEDIGREE", "10A", np.full(n, "INFLIGHT")),
                    ("DESCRIP", "20A", np.full(n, "independent test"))]
        return fits.BinTableHDU.from_columns(
            [fits.Column(name=c.lower() if layout == "lowercase" else c, format=f, array=a)
             for c, f, a in columns], name=name)

    flat_rows = [[3.0e-20] * m, F160W_PHOTFLAM, [0.0], [1.2e-20] * m, [1.5e-20] * m]
    second = [[0.0]] * n
    second[3] = F125W_PHOTFLAM2
    two_parameters = "PHOTFLAM2" if parnum == 2 else "PHOTFLAM1"
    flam = extension("PHOTFLAM", ["PHOTFLAM1", "PHOTFLAM1", "PHOTFLAM", two_parameters,
                                  "PHOTFLAM1"],
                     [0.0, 0.0, 1.9e-20, 0.0, 0.0], flat_rows, second)
    junk = [[1.0] * m] * n  # filled, but DATACOL points at the scalar column
    plam = extension("PHOTPLAM", ["PHOTPLAM"] * n,
                     [10551.0, F160W_PHOTPLAM, F160W_PHOTPLAM, 12486.0, 13923.0], junk, second)
    bw = extension("PHOTBW", ["PHOTBW"] * n,
                   [865.0, F160W_PHOTBW, F160W_PHOTBW, 866.0, 1132.0], junk, second)
    keywords = {"NEXTEND": 3, "PHOTZPT": -21.1, "PARNUM": parnum}
    if extrap is not None:
        keywords["EXTRAP"] = extrap
    return [primary_hdu("Image Photometry Table", **keywords), flam, plam, bw]


# ---------------------------------------------------------------- images

FULL = (1024, 1024)
#: LTV of full-frame WFC3/IR images (docs/reference_files.md "Geometry")
FULL_LTV = (5.0, 5.0)


def image(extname: str, extver: int, data, *, ltv=FULL_LTV, ltm=(1.0, 1.0), dtype=None):
    """An image extension (hstio ``getFloatData``/``getShortData`` convert any BITPIX)."""
    data = np.asarray(data if dtype is None else np.asarray(data).astype(dtype))
    hdu = fits.ImageHDU(data=data, name=extname, ver=extver)
    _place(hdu.header, ltv, ltm)
    return hdu


def constant(extname: str, extver: int, shape, value, *, ltv=FULL_LTV, ltm=(1.0, 1.0),
             npix2=True):
    """A constant extension: NAXIS = 0 with NPIX1, NPIX2, PIXVALUE (hstio.c
    ``getFloatData``: ``no_dims == 0``; NPIX2 may be missing for one row)."""
    hdu = fits.ImageHDU(name=extname, ver=extver)
    hdu.header["NPIX1"] = int(shape[1])
    if npix2:
        hdu.header["NPIX2"] = int(shape[0])
    hdu.header["PIXVALUE"] = value
    _place(hdu.header, ltv, ltm)
    return hdu


def _place(header, ltv, ltm):
    header["LTV1"], header["LTV2"] = float(ltv[0]), float(ltv[1])
    header["LTM1_1"], header["LTM2_2"] = float(ltm[0]), float(ltm[1])


#: how the planes of an image reference are stored
IMAGE_LAYOUTS = {
    # float32 SCI/ERR, int16 DQ: what CRDS delivers
    "plain": "float32 planes, int16 DQ",
    # hstio.c getFloatData reads any BITPIX through fits_read_pix(TFLOAT)
    "integer": "integer (int32) science planes",
    # same, float64 data
    "double": "float64 planes",
    # hstio.c getFloatData/getShortData: NAXIS = 0 -> NPIX1 x NPIX2 of PIXVALUE
    "constant": "constant extensions where the plane is uniform",
    # CFITSIO opens name.fits.gz transparently
    "gzip": "the file gzip-compressed",
    # readers find extensions by EXTNAME/EXTVER (openInputImage) and ignore the others
    "extra": "extra extensions (SAMP, TIME, HDRTAB) in between",
}


def _plane(extname, extver, values, layout, **place):
    """``values`` is a scalar (uniform plane of shape ``place['shape']``) or an array."""
    shape = place.pop("shape")
    if np.ndim(values) == 0 and layout == "constant":
        value = int(values) if extname == "DQ" else float(values)
        return constant(extname, extver, shape, value, **place)
    data = np.broadcast_to(values, shape)
    if extname == "DQ":
        return image(extname, extver, data, dtype=np.int16, **place)
    dtype = {"integer": np.int32, "double": np.float64}.get(layout, np.float32)
    return image(extname, extver, data, dtype=dtype, **place)


def _extras(extver, shape, layout, **place):
    if layout != "extra":
        return []
    return [constant("SAMP", extver, shape, 0, **place),
            constant("TIME", extver, shape, 0.0, **place)]


def nlinfile_hdus(layout="plain", *, ncoef=3, coeffs=None, node=60000.0, zsci=10700.0,
                  zerr=5.0, primary_cards=None):
    """NLINFILE (wf3ir/refdata.c ``getNlinData``): NCOEF and NERR (getKeyI) in the primary
    header, COEF 1..NCOEF, ERR 1..NERR, DQ 1, NODE 1, ZSCI 1, ZERR 1, full frame.
    ``coeffs`` defaults to small ramps so that every plane is non-uniform except where a
    scalar is passed."""
    if coeffs is None:
        ramp = np.linspace(0.0, 1.0e-6, FULL[1], dtype=np.float32)[None, :]
        coeffs = [np.broadcast_to(ramp * (k + 1), FULL) for k in range(ncoef)]
    place = {"shape": FULL}
    hdus = [_plane("COEF", k + 1, c, layout, **place) for k, c in enumerate(coeffs)]
    hdus += _extras(1, FULL, layout)
    hdus += [_plane("ERR", k + 1, 0.0, layout, **place) for k in range(ncoef)]
    dq = np.zeros(FULL, np.int16)
    dq[100, 200] = 4
    hdus += [_plane("DQ", 1, dq, layout, **place), _plane("NODE", 1, node, layout, **place),
             _plane("ZSCI", 1, zsci, layout, **place), _plane("ZERR", 1, zerr, layout, **place)]
    cards = {"NCOEF": ncoef, "NERR": ncoef} if primary_cards is None else primary_cards
    return [primary_hdu("LINEARITY COEFFICIENTS", **cards), *hdus]


def darkfile_hdus(layout="plain", *, times, shape, ltv, rate=0.05, samp_seq="SPARS10",
                  subtype="SQ64SUB", primary_cards=None):
    """DARKFILE (wf3ir/refdata.c ``getDarkInfo``/``getDarkImage``): SAMP_SEQ and SUBTYPE
    (``checkKeyS``), NUMEXPOS and EXPOS_1..N (getKeyI/getKeyD) in the primary header; imset
    ``n`` holds the dark accumulated by EXPOS_n, the science size (no cut). Imsets are
    written newest first, as STScI writes them."""
    times = np.asarray(times, float)[::-1]
    hdus = []
    place = {"ltv": ltv}
    for extver, t in enumerate(times, start=1):
        sci = np.full(shape, rate * t, np.float32)
        sci[0, 0] += 1.0  # one pixel differs, so SCI is never uniform
        hdus += [_plane("SCI", extver, sci, layout, shape=shape, **place),
                 *_extras(extver, shape, layout, **place),
                 _plane("ERR", extver, 0.5, layout, shape=shape, **place),
                 _plane("DQ", extver, 0, layout, shape=shape, **place)]
    cards = {"SAMP_SEQ": samp_seq, "SUBTYPE": subtype, "NUMEXPOS": len(times),
             **{f"EXPOS_{k}": float(t) for k, t in enumerate(times, start=1)}}
    if primary_cards is not None:
        cards = primary_cards(cards)
    return [primary_hdu("DARK", **cards), *hdus]


#: FILETYPE of each flat keyword (wf3ir/getirflags.c ``checkFlat``: CheckImgType)
FLAT_FILETYPES = {"PFLTFILE": "PIXEL-TO-PIXEL FLAT", "DFLTFILE": "DELTA FLAT",
                  "LFLTFILE": "LARGE SCALE FLAT"}


def flat_hdus(keyword, layout="plain", *, sci, err=0.01, dq=0, filter="F160W",
              shape=FULL, ltv=FULL_LTV, ltm=(1.0, 1.0)):
    """A flat (wf3ir/refdata.c ``getFlatImage`` reads imset 1; getirflags.c checks
    FILETYPE, FILTER (``CheckFilter``: the value or ANY) and DETECTOR)."""
    place = {"shape": shape, "ltv": ltv, "ltm": ltm}
    hdus = [_plane("SCI", 1, sci, layout, **place),
            *_extras(1, shape, layout, ltv=ltv, ltm=ltm),
            _plane("ERR", 1, err, layout, **place), _plane("DQ", 1, dq, layout, **place)]
    return [primary_hdu(FLAT_FILETYPES[keyword], FILTER=filter), *hdus]


def write_images(path, hdus, layout="plain"):
    """Write image HDUs; the ``gzip`` layout writes ``<path>.gz``."""
    return write(path, hdus, gzipped=layout == "gzip")
