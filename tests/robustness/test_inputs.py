"""Issue 17, input class: inputs and references are checked before the work.

Typed header values, duplicated extensions, DQ stored as floats, fractional or disagreeing
LTV, constant extensions claiming huge sizes, NaN/negative values where calwf3 and calstis
need positive finite ones, and NaN-safe statistics keywords. Every case must end in one
:class:`~hstramp.errors.HstrampError` naming the file, the extension and the keyword, leave
the input unchanged and (for pipeline runs) write no product.
"""

from __future__ import annotations

import shutil
import tracemalloc

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.stats import statistics_keywords
from hstramp.datamodels import open as open_model
from hstramp.errors import InputFileError, ParameterError
from hstramp.reference import ReferenceFileError
from tests.bad_files import edit_fits
from tests.conftest import sha256
from tests.hostile import hostile_params

ROOT = "isim0019q"


def _on_all(extname, count, keyword, value):
    return lambda h: [h[extname, v].header.set(keyword, value) for v in range(1, count + 1)]


def _duplicate(extname, ver):
    def edit(hdul):
        hdul.append(hdul[extname, ver].copy())
        hdul[0].header["NEXTEND"] = len(hdul) - 1
    return edit


def _float_dq(ver, shape_of="SCI"):
    def edit(hdul):
        dq = np.zeros(hdul[shape_of, 1].data.shape, np.float32)
        dq[0, 0] = np.nan
        header = fits.Header([("EXTNAME", "DQ"), ("EXTVER", ver)])
        hdul["DQ", ver] = fits.ImageHDU(dq, header=header)
    return edit


def _constant_size(extname, ver, npix=100_000):
    def edit(hdul):
        header = fits.Header([("EXTNAME", extname), ("EXTVER", ver), ("NPIX1", npix),
                              ("NPIX2", npix), ("PIXVALUE", 0)])
        hdul[extname, ver] = fits.ImageHDU(header=header)
    return edit


#: (edit of the raw, message) for a WFC3/IR raw
WFC3_INPUTS = {
    "SAMPTIME='abc'": (lambda h: h["SCI", 3].header.set("SAMPTIME", "abc"),
                       r"SAMPTIME = 'abc' in the SCI,3 header is not a number"),
    "SAMPTIME negative": (lambda h: h["SCI", 9].header.set("SAMPTIME", -1.0),
                          r"SAMPTIME is negative in SCI,9"),
    "SAMPTIME boolean": (lambda h: h["SCI", 2].header.set("SAMPTIME", True),
                         r"SAMPTIME = True in the SCI,2 header is not a number"),
    "DELTATIM='x'": (lambda h: h["SCI", 2].header.set("DELTATIM", "x"),
                     r"DELTATIM = 'x' in the SCI,2 header is not a number"),
    "LTV1='left'": (_on_all("SCI", 9, "LTV1", "left"),
                    r"LTV1 = 'left' in the SCI,1 header is not a number"),
    "LTV2 in one read only": (lambda h: h["SCI", 4].header.set("LTV2", 3.0),
                              r"LTV2 = 3\.0 in the SCI,4 header but -\d+\.0 in SCI,1"),
    "LTV1 fractional": (_on_all("SCI", 9, "LTV1", -469.5),
                        r"LTV1 = -469\.5 in the SCI,1 header is not a whole number"),
    "EXPTIME negative": (lambda h: h[0].header.set("EXPTIME", -5.0),
                         r"EXPTIME = -5\.0 in the primary header is negative"),
    "PROPOSID='twelve'": (lambda h: h[0].header.set("PROPOSID", "twelve"),
                          r"PROPOSID = 'twelve' in the primary header is not a whole number"),
    "duplicated SCI": (_duplicate("SCI", 3),
                       r"extension SCI,3 appears twice \(HDUs 11 and 46\); .*neither copy"),
    "duplicated imset": (lambda h: [_duplicate(n, 5)(h) for n in ("SCI", "ERR", "DQ")],
                         r"extension SCI,5 appears twice"),
    "EXTVER='x'": (lambda h: h["SAMP", 2].header.set("EXTVER", "x"),
                   r"extension 9 \(SAMP\) has EXTVER = 'x'"),
    "DQ stored as float with NaN": (_float_dq(2),
                                    r"extension DQ,2 is stored as float32 .*must be stored as "
                                    "integers"),
    "PIXVALUE='x'": (lambda h: h["ERR", 2].header.set("PIXVALUE", "x"),
                     r"PIXVALUE = 'x' in the ERR,2 header is not a number"),
    "fractional DQ PIXVALUE": (lambda h: h["DQ", 3].header.set("PIXVALUE", 2.5),
                               r"PIXVALUE = 2\.5 in the DQ,3 header is not a whole number"),
    "constant DQ of 100000x100000": (_constant_size("DQ", 2),
                                     r"constant extension DQ,2 is 100000x100000"),
    "constant ERR of 100000x100000": (_constant_size("ERR", 7),
                                      r"constant extension ERR,7 is 100000x100000"),
}


def _spoilt_copy(source, directory, edit):
    path = directory / source.name
    shutil.copyfile(source, path)
    edit_fits(path, edit)
    return path, sha256(path)


#: the issue's classes: a value of the wrong type was a bare traceback, the others silently
#: gave a wrong result (or, for a constant extension's size, a runaway allocation)
_SILENT = {"SAMPTIME negative": "silent", "LTV2 in one read only": "silent",
           "LTV1 fractional": "silent", "EXPTIME negative": "silent", "duplicated SCI": "silent",
           "duplicated imset": "silent", "DQ stored as float with NaN": "silent",
           "fractional DQ PIXVALUE": "silent", "constant DQ of 100000x100000": "hang",
           "constant ERR of 100000x100000": "hang"}


@pytest.mark.parametrize("case", hostile_params(sorted(WFC3_INPUTS), "traceback", _SILENT))
def test_wfc3_input_refused_naming_file_and_keyword(case, wfc3, tmp_path):
    edit, message = WFC3_INPUTS[case]
    path, before = _spoilt_copy(wfc3.raw_path, tmp_path, edit)
    tracemalloc.start()
    try:
        with pytest.raises(InputFileError, match=rf"{ROOT}_raw\.fits: .*{message}"):
            open_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20  # nothing of a claimed size was allocated
    assert sha256(path) == before


#: (edit of the flt written by the pipeline, message)
WFC3_FLT_INPUTS = {
    "constant SAMP of 100000x100000": (_constant_size("SAMP", 1),
                                       r"constant extension SAMP,1 is 100000x100000"),
    "duplicated TIME": (_duplicate("TIME", 1), r"extension TIME,1 appears twice"),
    "float DQ": (_float_dq(1), r"extension DQ,1 is stored as float32"),
}


@pytest.fixture(scope="module")
def wfc3_flt(wfc3, tmp_path_factory):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    out = tmp_path_factory.mktemp("flt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(wfc3.raw_path.parent))
        WFC3IRPipeline.call(str(wfc3.raw_path), output_dir=str(out))
    return out / f"{ROOT}_flt.fits"


@pytest.mark.parametrize("case", hostile_params(sorted(WFC3_FLT_INPUTS), "silent",
                                                {"constant SAMP of 100000x100000": "hang"}))
def test_wfc3_flt_refused(case, wfc3_flt, tmp_path):
    edit, message = WFC3_FLT_INPUTS[case]
    path, before = _spoilt_copy(wfc3_flt, tmp_path, edit)
    with pytest.raises(InputFileError, match=message):
        open_model(path)
    assert sha256(path) == before


#: (edit of the STIS raw, message)
STIS_INPUTS = {
    "imsets with different LTV1": (lambda h: h["SCI", 2].header.set("LTV1", 7.0),
                                   r"LTV1 = 7\.0 in the SCI,2 header but .* in SCI,1; imsets"),
    "imsets with different LTV2": (lambda h: h["SCI", 2].header.set("LTV2", -3.0),
                                   r"LTV2 = -3\.0 in the SCI,2 header"),
    "imsets of different sizes": (
        lambda h: setattr(h["SCI", 2], "data", h["SCI", 2].data[:-2].copy()),
        r"SCI,2 is \(\d+, \d+\), SCI,1 \(\d+, \d+\): every imset must have the same size"),
    "duplicated imset": (lambda h: [_duplicate(n, 1)(h) for n in ("SCI", "ERR", "DQ")],
                         r"extension SCI,1 appears twice"),
    "DQ stored as float": (_float_dq(2), r"extension DQ,2 is stored as float32"),
    "EXPTIME negative": (lambda h: h["SCI", 1].header.set("EXPTIME", -1.0),
                         r"EXPTIME must be finite and >= 0"),
    "EXPTIME='long'": (lambda h: h["SCI", 2].header.set("EXPTIME", "long"),
                       r"EXPTIME is not numeric in every SCI header"),
    "constant ERR of 100000x100000": (_constant_size("ERR", 1),
                                      r"constant extension ERR,1 is 100000x100000"),
    "CCDGAIN='high'": (lambda h: h[0].header.set("CCDGAIN", "high"),
                       r"CCDGAIN = 'high' in the primary header is not a"),
    "LTV1='left' in every imset": (_on_all("SCI", 2, "LTV1", "left"),
                                   r"LTV1 = 'left' in the SCI,1 header is not a number"),
    "BINAXIS1='two'": (lambda h: h[0].header.set("BINAXIS1", "two"),
                       r"BINAXIS1 = 'two' in the primary header is not a whole number"),
    "EXPSTART='x'": (lambda h: h["SCI", 1].header.set("EXPSTART", "x"),
                     r"EXPSTART is not numeric in every SCI header"),
    "NCOMBINE = 1.5": (lambda h: h["SCI", 1].header.set("NCOMBINE", 1.5),
                       r"NCOMBINE is not a whole number in every SCI header"),
}


@pytest.mark.parametrize("case", hostile_params(
    sorted(STIS_INPUTS), "silent", {"EXPTIME='long'": "traceback", "CCDGAIN='high'": "traceback",
                                    "LTV1='left' in every imset": "traceback",
                                    "BINAXIS1='two'": "traceback", "EXPSTART='x'": "traceback",
                                    "constant ERR of 100000x100000": "hang"}))
def test_stis_input_refused_naming_file_and_keyword(case, stis, tmp_path):
    edit, message = STIS_INPUTS[case]
    path, before = _spoilt_copy(stis.raw_path, tmp_path, edit)
    with pytest.raises(InputFileError, match=rf"{stis.raw_path.name}: .*{message}"):
        open_model(path)
    assert sha256(path) == before


# --------------------------------------------------------------------------- references
def _column(name, value):
    def edit(hdul):
        hdul[1].data[name][:] = value
    return edit


def _text_column(name):
    def edit(hdul):
        table = hdul[1]
        columns = [fits.Column(name=c.name, format="8A", array=np.array(["x"] * len(table.data)))
                   if c.name == name else c for c in table.columns]
        hdul[1] = fits.BinTableHDU.from_columns(columns, header=table.header)
    return edit


def _plane(extname, value):
    def edit(hdul):
        hdul[extname, 1].data[:] = value
    return edit


#: keyword of the reference, its edit, and the message (calwf3's semantics: docs/errors.md)
WFC3_REFERENCES = {
    "NLINFILE NODE = NaN": ("NLINFILE", _plane("NODE", np.nan),
                            r"NLINFILE \S+ extension NODE has \d+ NaN or infinite value"),
    "NLINFILE COEF = inf": ("NLINFILE", _plane("COEF", np.inf),
                            r"NLINFILE \S+ extension COEF has \d+ NaN or infinite"),
    "NLINFILE NCOEF = 2.7": ("NLINFILE", lambda h: h[0].header.set("NCOEF", 2.7),
                             r"NLINFILE \S+ has NCOEF=2\.7; a whole number >= 1"),
    "NLINFILE NCOEF = 'two'": ("NLINFILE", lambda h: h[0].header.set("NCOEF", "two"),
                               r"NLINFILE \S+ has NCOEF='two'"),
    "CCDTAB read noise < 0": ("CCDTAB", _column("READNSEA", -5.0),
                              r"CCDTAB \S+ row \d+ has READNSEA = -5\.0; it must be a finite "
                              "number >= 0"),
    "CCDTAB read noise NaN": ("CCDTAB", _column("READNSEB", np.nan),
                              r"CCDTAB \S+ row \d+ has READNSEB = nan"),
    "CCDTAB gain NaN": ("CCDTAB", _column("ATODGNC", np.nan),
                        r"CCDTAB \S+ row \d+ has ATODGNC = nan"),
    "BPIXTAB string PIX1 column": ("BPIXTAB", _text_column("PIX1"),
                                   r"BPIXTAB \S+ extension BPIX column PIX1 row 1 holds 'x', "
                                   "not a number"),
    "DARKFILE NUMEXPOS = 'many'": ("DARKFILE", lambda h: h[0].header.set("NUMEXPOS", "many"),
                                   r"DARKFILE \S+ has NUMEXPOS = 'many'"),
    "DARKFILE EXPOS_2 = 'soon'": ("DARKFILE", lambda h: h[0].header.set("EXPOS_2", "soon"),
                                  r"DARKFILE \S+ .*EXPOS_2"),
    "PFLTFILE LTV1 = 'left'": ("PFLTFILE", lambda h: h["SCI", 1].header.set("LTV1", "left"),
                               r"PFLTFILE \S+ extension SCI,1 has LTV1 = 'left'; a finite "
                               "number is needed"),
    "NLINFILE LTM2_2 = 0": ("NLINFILE", lambda h: h["COEF", 1].header.set("LTM2_2", 0.0),
                            r"NLINFILE \S+ extension COEF,1 has LTM2_2 = 0\.0; a finite number "
                            "> 0"),
    "PFLTFILE DQ stored as float": ("PFLTFILE", _float_dq(1),
                                    r"PFLTFILE \S+ extension DQ,1 is stored as float32"),
    "NLINFILE DQ stored as float": ("NLINFILE", _float_dq(1, shape_of="NODE"),
                                    r"NLINFILE \S+ extension DQ,1 is stored as float32"),
}


def _workspace(wfc3, tmp_path, monkeypatch, keyword=None, edit=None):
    """A copy of the references (one of them edited); iref points to it."""
    iref = tmp_path / "iref"
    shutil.copytree(wfc3.raw_path.parent, iref)
    if keyword is not None:
        edit_fits(iref / wfc3.reference_paths[keyword].name, edit)
    monkeypatch.setenv("iref", str(iref))
    return iref / wfc3.raw_path.name, {p.name: sha256(p) for p in iref.iterdir()}


@pytest.mark.parametrize("case", hostile_params(
    sorted(WFC3_REFERENCES), "silent", {"NLINFILE NCOEF = 'two'": "traceback",
                                        "BPIXTAB string PIX1 column": "traceback",
                                        "DARKFILE NUMEXPOS = 'many'": "traceback",
                                        "DARKFILE EXPOS_2 = 'soon'": "traceback",
                                        "PFLTFILE LTV1 = 'left'": "traceback",
                                        "NLINFILE LTM2_2 = 0": "traceback"}))
def test_bad_reference_value_refused_before_products(case, wfc3, tmp_path, monkeypatch):
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    keyword, edit, message = WFC3_REFERENCES[case]
    raw, before = _workspace(wfc3, tmp_path, monkeypatch, keyword, edit)
    out = tmp_path / "out"
    with pytest.raises(ReferenceFileError, match=message):
        WFC3IRPipeline.call(str(raw), output_dir=str(out))
    assert not out.exists() or not list(out.iterdir())
    assert {p.name: sha256(p) for p in raw.parent.iterdir()} == before


@pytest.mark.hostile("silent")
@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("parameter", ["crthresh", "crradius", "scalense"])
def test_stis_crreject_nonfinite_parameter_refused(parameter, value, stis, tmp_path,
                                                   monkeypatch):
    from hstramp.pipeline.stis import STISCCDPipeline

    monkeypatch.setenv("oref", str(stis.oref))
    out = tmp_path / "out"
    with pytest.raises(ParameterError, match=rf"{parameter} must be a finite number|"
                                             rf"{parameter}.*too small"):
        STISCCDPipeline.call(str(stis.raw_path), output_dir=str(out),
                             steps={"crreject": {parameter: value}})
    assert not out.exists() or not list(out.iterdir())


# --------------------------------------------------------------------------- statistics
def _nan_patch(data):
    data = data.copy()
    data[20:40, 20:40] = np.nan
    return data


@pytest.mark.hostile("traceback")
@pytest.mark.parametrize("spoil", [
    pytest.param(lambda d, e: (_nan_patch(d), e), id="NaN patch in SCI"),
    pytest.param(lambda d, e: (d, _nan_patch(e)), id="NaN patch in ERR"),
    pytest.param(lambda d, e: (np.where(d > d.mean(), np.inf, d), e), id="inf in SCI"),
    pytest.param(lambda d, e: (d, np.where(e > e.mean(), -np.inf, e)), id="-inf in ERR"),
    pytest.param(lambda d, e: (d * np.nan, e), id="all NaN"),
])
def test_statistics_keywords_are_finite(spoil):
    rng = np.random.default_rng(3)
    data = rng.normal(100, 5, (64, 64)).astype(np.float32)
    err = np.full_like(data, 2.0)
    data, err = spoil(data, err)
    keywords = statistics_keywords(data, err, np.zeros(data.shape, np.uint16), trim=(5, 5, 5, 5))
    values = [v for header in keywords.values() for v in header.values()]
    assert all(np.isfinite(v) for v in values), keywords
    good = np.isfinite(data) & np.isfinite(err)
    assert keywords["SCI"]["NGOODPIX"] == int(good[5:-5, 5:-5].sum())
    fits.Header(keywords["SCI"])  # FITS accepts every value


@pytest.mark.hostile("traceback")
def test_nan_patch_in_the_flat_runs_the_whole_pipeline(wfc3, tmp_path, monkeypatch):
    """The issue's example: a 20x20 NaN patch in the flat used to fail writing the keywords."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    with fits.open(wfc3.raw_path) as raw:
        corner = int(-raw["SCI", 1].header["LTV1"])

    def flat_patch(hdul):
        hdul["SCI", 1].data[corner + 20:corner + 40, corner + 20:corner + 40] = np.nan

    raw, before = _workspace(wfc3, tmp_path, monkeypatch, "PFLTFILE", flat_patch)
    out = tmp_path / "out"
    WFC3IRPipeline.call(str(raw), output_dir=str(out))
    with fits.open(out / f"{ROOT}_flt.fits") as flt:
        assert np.isnan(flt["SCI"].data).sum() == 400
        for extname in ("SCI", "ERR"):
            header = flt[extname].header
            assert header["NGOODPIX"] <= flt["SCI"].data.size - 400
            assert all(np.isfinite(header[k]) for k in ("GOODMEAN", "GOODMIN", "GOODMAX"))
    with fits.open(out / f"{ROOT}_ima.fits") as ima:
        assert all(np.isfinite(h.header.get("GOODMEAN", 0.0)) for h in ima[1:])
    assert {p.name: sha256(p) for p in raw.parent.iterdir()} == before


# --------------------------------------------------------------------------- associations
def _association(directory, names, memtype="EXP-DTH"):
    table = fits.BinTableHDU.from_columns([
        fits.Column(name="MEMNAME", format="80A", array=np.array(names)),
        fits.Column(name="MEMTYPE", format="14A", array=np.array([memtype] * len(names))),
    ])
    path = directory / "ibaa01010_asn.fits"
    fits.HDUList([fits.PrimaryHDU(), table]).writeto(path)
    return path


ESCAPING_MEMBERS = ["../../x", "../x", "/tmp/x", "sub/x", "..", ".hidden", "a b", "x\\y",
                    "~/x", "x" * 65]


@pytest.mark.hostile("security")
@pytest.mark.parametrize("name", ESCAPING_MEMBERS)
def test_association_member_outside_its_directory_is_refused(name, tmp_path):
    from hstramp.datamodels.asn import association_members

    asn_dir = tmp_path / "a" / "b"
    asn_dir.mkdir(parents=True)
    with pytest.raises(InputFileError, match=r"member .* is not a plain name in the "
                                             r"association's directory"):
        association_members(_association(asn_dir, [name]))


@pytest.mark.hostile("security")
def test_association_member_outside_read_when_asked(wfc3, tmp_path, monkeypatch):
    """allow_outside_members=True: the member path is taken relative to the association."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    asn_dir = tmp_path / "asn"
    asn_dir.mkdir()
    shutil.copyfile(wfc3.raw_path, tmp_path / f"{ROOT}_raw.fits")
    asn = _association(asn_dir, [f"../{ROOT}"])
    monkeypatch.setenv("iref", str(wfc3.raw_path.parent))
    out = tmp_path / "out"
    with pytest.raises(InputFileError, match=r"member '\.\./isim0019q' is not a plain name"):
        WFC3IRPipeline.call(str(asn), output_dir=str(out))
    assert not out.exists() or not list(out.iterdir())
    results = WFC3IRPipeline.call(str(asn), output_dir=str(out), allow_outside_members=True)
    assert len(results) == 1
    assert sorted(p.name for p in out.iterdir()) == [f"{ROOT}_flt.fits", f"{ROOT}_ima.fits"]
