"""hstramp's STIS flt and crj headers against calstis's, keyword by keyword (issue 15, part 5).

``calstis_keywords.json`` records what calstis ``cs0.e`` writes for one seeded simulated
exposure (``tests/stis/calstis_keywords.py``); hstramp runs here on the same exposure. Every
calstis keyword must be in hstramp's product except the ones docs/stis/headers.md lists
(its table "Keywords calstis writes that hstramp leaves out", each with its reason), and
the statistics keywords must agree. With ``CALSTIS`` naming cs0.e, cs0.e runs too: the
fixture must still be what it writes, and hstramp's statistics of calstis's own arrays must
be calstis's values.
"""

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels.stis_fits import STATISTICS_KEYWORDS
from tests import header_docs
from tests.stis.calstis_keywords import (
    FIXTURE,
    HEADERS,
    ROOTNAME,
    describe,
    make_input,
    record,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "stis" / "headers.md"
CALSTIS = os.environ.get("CALSTIS")
needs_calstis = pytest.mark.skipif(not CALSTIS or not os.access(CALSTIS, os.X_OK),
                                   reason="set CALSTIS to calstis's cs0.e")


def documented_omissions():
    """The keywords the docs say hstramp leaves out (the table under the heading below)."""
    return header_docs.documented_omissions(DOC, "Keywords calstis writes that hstramp leaves out")


@pytest.fixture(scope="module")
def calstis():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """The fixture's raw and its oref directory."""
    return make_input(tmp_path_factory.mktemp("calstis_keywords"))


@pytest.fixture(scope="module")
def products(exposure):
    """hstramp's flt and crj of the fixture's exposure."""
    from hstramp.pipeline.stis import STISCCDPipeline

    raw, oref = exposure
    out = raw.parent / "hstramp"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("oref", str(oref))
        STISCCDPipeline.call(str(raw), output_dir=str(out))
    return {suffix: out / f"{ROOTNAME}_{suffix}.fits" for suffix in ("flt", "crj")}


def test_every_calstis_keyword_is_in_hstramps_products(calstis, products):
    omitted = documented_omissions()
    ours = describe(products)["keywords"]
    missing = {}
    for suffix, headers in calstis["keywords"].items():
        for name in HEADERS:
            lacking = set(headers[name]) - set(ours[suffix][name])
            lacking -= omitted["PRIMARY" if name == "PRIMARY" else "EXTENSION"]
            if lacking:
                missing[f"{suffix} {name}"] = sorted(lacking)
    assert missing == {}


def test_omissions_are_real(calstis, products):
    """Each documented omission is a keyword calstis writes and hstramp does not."""
    ours = describe(products)["keywords"]
    for where, keywords in documented_omissions().items():
        names = ("PRIMARY",) if where == "PRIMARY" else HEADERS[1:]
        for keyword in keywords:
            theirs = any(keyword in calstis["keywords"][s][n] for s in ours for n in names)
            in_ours = any(keyword in ours[s][n] for s in ours for n in names)
            assert theirs and not in_ours, (where, keyword)


def test_statistics_agree_with_calstis(calstis, products):
    """hstramp's data of this exposure match calstis's closely (the side-by-side), so the
    statistics do: NGOODPIX exactly, the values to 1e-5 (the arithmetic itself is checked
    exactly against cs0.e's own arrays when CALSTIS is set)."""
    ours = describe(products)["statistics"]
    assert set(ours) == set(calstis["statistics"]) == {"flt[1]", "flt[2]", "crj[1]"}
    for imset, headers in calstis["statistics"].items():
        for name, values in headers.items():
            assert list(ours[imset][name]) == [k for k in STATISTICS_KEYWORDS if k in values]
            assert ours[imset][name]["NGOODPIX"] == values["NGOODPIX"], (imset, name)
            assert ours[imset][name] == pytest.approx(values, rel=1e-5), (imset, name)


def calstis_history_hstramp_writes(lines):
    """calstis's HISTORY less what docs/stis/headers.md says hstramp leaves out: the line on
    BLEVCORR's drift correction, and the third description line of a reference table (the
    DESCRIP of the table row used, after the name, PEDIGREE and header DESCRIP)."""
    kept, in_table = [], 0
    for line in lines:
        if line.startswith("BLEVCORR") and line.endswith("drift along lines."):
            continue
        if line.startswith("  reference table "):
            in_table = 1
        elif line.startswith("    ") and in_table:
            in_table += 1
            if in_table > 3:
                continue
        else:
            in_table = 0
        kept.append(line)
    return kept


def test_history_is_calstis_history(calstis, products):
    """Per-step provenance as calstis writes it: the CCD table at the start of each calstis1
    pass, each switch with its reference files, PEDIGREE and DESCRIP."""
    for suffix, path in products.items():
        ours = [str(line).rstrip() for line in fits.getheader(path, 0)["HISTORY"]]
        assert ours == calstis_history_hstramp_writes(calstis["history"][suffix]), suffix
        assert len(ours) < len(calstis["history"][suffix])   # the omissions happen here


def test_every_extension_inherits_the_primary_header(products):
    for path in products.values():
        with fits.open(path) as hdul:
            assert all(hdu.header["INHERIT"] is True for hdu in hdul[1:]), path.name


# ------------------------------------------------------------------ the writer's rules
def _flt_model(exposure, tmp_path, **primary):
    from hstramp.datamodels.stis_fits import read_stis_exposures
    from hstramp.simulate.stis.calibration import derive_fits

    raw, _oref = exposure
    model = read_stis_exposures(derive_fits(raw, tmp_path / "x_raw.fits", primary=primary))
    model.err = np.ones_like(model.err)  # a raw's ERR is 0: no pixel would count
    return model


def test_statflag_false_writes_no_statistics(exposure, tmp_path):
    from hstramp.datamodels.stis_fits import stis_flt_hdulist

    model = _flt_model(exposure, tmp_path, STATFLAG=False)
    hdul = stis_flt_hdulist(model, "x_flt.fits")
    assert hdul[0].header["STATFLAG"] is False
    for hdu in hdul[1:]:
        assert not set(STATISTICS_KEYWORDS) & set(hdu.header), hdu.name


def test_stale_statistics_of_an_input_are_never_kept(exposure, tmp_path):
    """An flt re-entered with STATFLAG = F loses the statistics it came with."""
    from hstramp.datamodels.stis_fits import stis_flt_hdulist

    model = _flt_model(exposure, tmp_path, STATFLAG=False)
    model.meta.headers.sci.append(["NGOODPIX", 12, "stale"])
    model.meta.headers.sci.append(["SNRMAX", 3.5, "stale"])
    hdul = stis_flt_hdulist(model, "x_flt.fits")
    assert "NGOODPIX" not in hdul["SCI", 1].header and "SNRMAX" not in hdul["SCI", 1].header
    assert model.meta.stis.instance.get("statistics") is None


def test_no_good_pixel_gives_ngoodpix_zero(exposure, tmp_path, caplog):
    from hstramp.datamodels.stis_fits import stis_flt_hdulist

    model = _flt_model(exposure, tmp_path)
    model.dq[0] = 16
    with caplog.at_level(logging.WARNING, logger="hstramp.core.stats"):
        hdul = stis_flt_hdulist(model, "x_flt.fits")
    for name in ("SCI", "ERR"):
        assert hdul[name, 1].header["NGOODPIX"] == 0
        assert "GOODMEAN" not in hdul[name, 1].header
    assert hdul["SCI", 2].header["NGOODPIX"] > 0
    assert "All output pixels flagged as bad." in caplog.text


def test_uncalibrated_imset_gets_no_statistics(exposure, tmp_path):
    from hstramp.datamodels.stis_fits import UncalibratedImset, stis_flt_hdulist

    model = _flt_model(exposure, tmp_path)
    shape = model.data.shape[1:]
    bad = UncalibratedImset(position=0, data=np.ones(shape, np.float32),
                            err=np.ones(shape, np.float32), dq=np.zeros(shape, np.uint16),
                            ltv=(0.0, 0.0), keywords={"EXPTIME": 0.0})
    hdul = stis_flt_hdulist(model, "x_flt.fits", [bad])
    assert hdul["SCI", 1].header["IMSET_OK"] is False
    assert "NGOODPIX" not in hdul["SCI", 1].header
    assert hdul["SCI", 2].header["NGOODPIX"] > 0


def test_sdqflags_absent_means_calstis_32767(exposure, tmp_path):
    """Without SDQFLAGS every one of the 15 bits is serious (cs1/getgrpinfo1.c): the 1024
    (small blemish) pixels that 31743 lets through are left out."""
    from hstramp.datamodels.stis_fits import stis_flt_hdulist

    model = _flt_model(exposure, tmp_path)
    model.dq[0, :4, :4] = 1024
    with_keyword = stis_flt_hdulist(model, "x_flt.fits")["SCI", 1].header["NGOODPIX"]
    model.meta.exposure.sdqflags = None
    without = stis_flt_hdulist(model, "x_flt.fits")["SCI", 1].header["NGOODPIX"]
    assert model.sdqflags == 32767
    assert with_keyword - without == np.count_nonzero(model.dq[0] == 1024)


# ------------------------------------------------------------------ against cs0.e itself
@pytest.mark.slow
@needs_calstis
def test_fixture_is_what_calstis_writes(calstis, tmp_path):
    found = record(CALSTIS, tmp_path)
    for part in ("keywords", "statistics", "history"):
        assert found[part] == calstis[part], part


@pytest.mark.slow
@needs_calstis
def test_statistics_of_calstis_arrays_are_calstis_values(tmp_path):
    """hstramp's arithmetic on cs0.e's own flt and crj: NGOODPIX equal, every value equal to
    the 8 significant digits calstis prints (``Put_KeyF``)."""
    from hstramp.core.stats import calstis_statistics_keywords
    from tests.stis.calstis_keywords import run_calstis

    raw, oref = make_input(tmp_path / "inputs")
    for path in run_calstis(CALSTIS, raw, oref, tmp_path / "calstis").values():
        with fits.open(path) as hdul:
            for ver in range(1, hdul[0].header["NEXTEND"] // 3 + 1):
                got = calstis_statistics_keywords(
                    hdul["SCI", ver].data, hdul["ERR", ver].data,
                    hdul["DQ", ver].data.astype(np.uint16),
                    sdqflags=hdul["SCI", ver].header["SDQFLAGS"])
                for name in ("SCI", "ERR"):
                    theirs = {k: hdul[name, ver].header[k] for k in got[name]}
                    assert got[name]["NGOODPIX"] == theirs["NGOODPIX"]
                    assert got[name] == pytest.approx(theirs, rel=6e-8)


# ------------------------------------------------------------------ calstis_history's rules
def _record(switch, status, *refs):
    return {"switch": switch, "status": status, "references": [
        {"keyword": keyword, "name": f"oref${keyword.lower()}.fits", "pedigree": pedigree,
         "descrip": f"{keyword} file"} for keyword, pedigree in refs]}


def test_history_rules_from_the_c_source():
    from hstramp.datamodels import STISImageModel
    from hstramp.datamodels.stis_fits import calstis_history

    model = STISImageModel()
    model.meta.provenance = [
        _record("DQICORR", "COMPLETE", ("CCDTAB", "INFLIGHT"), ("BPIXTAB", "INFLIGHT")),
        _record("BIASCORR", "SKIPPED", ("BIASFILE", "DUMMY 2001")),
        _record("DARKCORR", "SKIPPED", ("DARKFILE", "INFLIGHT")),
        _record("PHOTCORR", "COMPLETE", ("IMPHTTAB", "INFLIGHT")),
    ]
    ccd = ["CCD parameters table ...", "  reference table oref$ccdtab.fits", "    INFLIGHT",
           "    CCDTAB file"]
    # no CR rejection: one calstis1 pass, one CCD block
    assert calstis_history(model) == [
        *ccd, "DQICORR complete ...", "  values checked for saturation",
        "  DQ array initialized ...", "  reference table oref$bpixtab.fits", "    INFLIGHT",
        "    BPIXTAB file",
        "BIASCORR skipped due to dummy reference file ...",
        "  reference image oref$biasfile.fits", "    DUMMY 2001", "    BIASFILE file",
        "PHOTCORR complete ...", "  reference table oref$imphttab.fits", "    INFLIGHT",
        "    IMPHTTAB file",
        "  Note:  Time-dependent sensitivity was not included with PHOTCORR"]
    # CR rejection completed: a second pass, its own CCD block; CRCORR itself writes nothing
    model.meta.provenance.insert(2, _record("CRCORR", "COMPLETE", ("CRREJTAB", "INFLIGHT")))
    lines = calstis_history(model)
    assert lines.count("CCD parameters table ...") == 2
    assert lines.index("PHOTCORR complete ...") > lines.index("CCD parameters table ...", 1)
    assert not any("CRCORR" in line or "crrejtab" in line for line in lines)
