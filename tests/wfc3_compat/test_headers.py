"""The ima and flt headers against calwf3's: HISTORY per step, CAL_VER, keyword by keyword.

calwf3's products come from two places: the real calwf3 imas in ``../shared/data/wfc3ir``
(hstramp runs on a real raw of the same programmes) and, when ``calwf3.e`` is found
(``$CALWF3`` or on ``PATH``), calwf3's own products of the same simulated raw. The keywords
hstramp may leave out are the ones ``docs/calwf3.md`` lists, each with its reason.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from astropy.io import fits

import hstramp
from hstramp.datamodels import RampModel
from hstramp.datamodels.wfc3_fits import calwf3_history
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from tests import header_docs

DOC = Path(__file__).resolve().parents[2] / "docs" / "calwf3.md"
IMSET = ("SCI", "ERR", "DQ", "SAMP", "TIME")
#: what calwf3's own code writes (doir.c, irhist.c, ucalver.c, photcalc.c, statcalc.c,
#: blevcorr.c, darkcorr.c, the writer): never excused by the input lacking it
CALWF3_WRITES = {
    "PRIMARY": {"CAL_VER", "FILENAME", "NEXTEND", "HISTORY", "PHOTMODE", "PHOTFLAM", "PHOTFNU",
                "PHOTZPT", "PHOTPLAM", "PHOTBW", "DQICORR", "ZSIGCORR", "BLEVCORR", "ZOFFCORR",
                "NLINCORR", "DARKCORR", "PHOTCORR", "UNITCORR", "CRCORR", "FLATCORR",
                *(f"{p}{a}" for p in ("ATODGN", "READNSE") for a in "ABCD")},
    "SCI": {"BUNIT", "INHERIT", "SAMPNUM", "SAMPTIME", "DELTATIM", "ROUTTIME", "MEANBLEV",
            "MEANDARK", "NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN", "SNRMIN", "SNRMAX",
            "SNRMEAN", "SDQFLAGS"},
    "ERR": {"BUNIT", "INHERIT", "NGOODPIX", "GOODMIN", "GOODMAX", "GOODMEAN"},
    "DQ": {"BUNIT", "INHERIT"},
    "SAMP": {"BUNIT", "INHERIT", "NPIX1", "NPIX2", "PIXVALUE"},
    "TIME": {"BUNIT", "INHERIT", "NPIX1", "NPIX2", "PIXVALUE"},
}

#: the keywords of a constant extension (an ima's SAMP, TIME), not of an image
CONSTANT_LAYOUT = ("NPIX1", "NPIX2", "PIXVALUE")


def documented_omissions():
    """The keywords the docs say hstramp leaves out (the table under the heading below)."""
    return header_docs.documented_omissions(DOC, "Keywords calwf3 writes that hstramp leaves out")


def keywords(header):
    return set(header) - {""}


def headers_by_name(path):
    """``{"PRIMARY": header, "SCI": header of EXTVER 1, ...}`` of a product."""
    with fits.open(path) as hdul:
        return {"PRIMARY": hdul[0].header.copy(),
                **{name: hdul[name, 1].header.copy() for name in IMSET}}


def missing_keywords(calwf3_product, hstramp_product, raw=None, ignore=()):
    """Per header, the keywords of calwf3's product that hstramp's lacks, less the documented
    omissions, ``ignore`` and (when ``raw`` is given: calwf3 ran on another raw) the keywords
    that raw lacks too, unless calwf3 writes them itself."""
    omitted = documented_omissions()
    theirs, ours = headers_by_name(calwf3_product), headers_by_name(hstramp_product)
    inputs = headers_by_name(raw) if raw is not None else None
    missing = {}
    for name, header in theirs.items():
        lacking = keywords(header) - keywords(ours[name])
        lacking -= omitted["PRIMARY" if name == "PRIMARY" else "EXTENSION"] | set(ignore)
        if inputs is not None:
            lacking = {k for k in lacking if k in inputs[name] or k in CALWF3_WRITES[name]}
        if lacking:
            missing[name] = sorted(lacking)
    return missing


def history(path):
    return [str(line).rstrip() for line in fits.getheader(path, 0).get("HISTORY", [])]


def reference_lines(kind, path, name):
    """calwf3's three lines for a reference file: its name, PEDIGREE and DESCRIP."""
    header = fits.getheader(path, 0)
    return [f"  reference {kind} {name}", f"    {header['PEDIGREE']}",
            f"    {header['DESCRIP']}"]


# ------------------------------------------------------------------ products of one run
@pytest.fixture(scope="module")
def products(exposure, tmp_path_factory):
    """The ima and flt of the calwf3-compatibility exposure, with every step run."""
    out = tmp_path_factory.mktemp("headers")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(exposure.iref))
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(out))
    return {suffix: out / f"{exposure.rootname}_{suffix}.fits" for suffix in ("ima", "flt")}


def expected_history(exposure):
    """The HISTORY calwf3 writes for a run of every step on the exposure's references."""
    refs = exposure.reference_paths

    def lines(kind, keyword):
        return reference_lines(kind, refs[keyword], f"iref${Path(refs[keyword]).name}")

    return [
        "CCD parameters table:", *lines("table", "CCDTAB"),
        "DQICORR complete ...", "  DQ array initialized ...", *lines("table", "BPIXTAB"),
        "ZSIGCORR complete.",
        "BLEVCORR complete.", "  Overscan region table:", *lines("table", "OSCNTAB"),
        "ZOFFCORR complete.", "Uncertainty array initialized.",
        "NLINCORR complete ...", *lines("image", "NLINFILE"),
        "DARKCORR complete ...", *lines("image", "DARKFILE"),
        "PHOTCORR complete ...", *lines("table", "IMPHTTAB"),
        "UNITCORR complete.", "CRCORR complete.",
        "FLATCORR complete ...", *lines("image", "PFLTFILE"), *lines("image", "LFLTFILE"),
    ]


@pytest.mark.parametrize("suffix", ["ima", "flt"])
def test_every_step_that_ran_has_calwf3s_history_lines(products, exposure, suffix):
    assert "DFLTFILE" not in exposure.reference_paths  # N/A: calwf3 names no file for it
    assert history(products[suffix]) == expected_history(exposure)


@pytest.mark.parametrize("suffix", ["ima", "flt"])
def test_cal_ver_names_hstramp_not_calwf3(products, suffix):
    header = fits.getheader(products[suffix], 0)
    assert header["CAL_VER"] == f"hstramp {hstramp.__version__}"
    assert header["HSTRAMPV"] == hstramp.__version__


def test_flt_keeps_the_last_reads_keywords_and_the_ccdtab_values(products):
    with fits.open(products["ima"]) as ima, fits.open(products["flt"]) as flt:
        last = ima["SCI", 1].header
        for keyword in ("SAMPNUM", "SAMPTIME", "DELTATIM", "ROUTTIME", "MEANBLEV", "MEANDARK"):
            assert flt["SCI"].header[keyword] == last[keyword], keyword
        assert last["MEANDARK"] > 0 and last["MEANBLEV"] > 0
        for keyword in ("ATODGNA", "ATODGND", "READNSEA", "READNSED"):
            assert flt[0].header[keyword] == ima[0].header[keyword] > 0  # the raw had 0
        assert all(hdu.header["INHERIT"] is True for hdu in flt[1:])


def test_a_reentered_complete_ima_keeps_its_history(products, exposure, tmp_path):
    """A COMPLETE ima is not processed again (calwf3: nothing to do); asked to refit the
    reads, the products keep the input's HISTORY and append after it, as calwf3 does."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(exposure.iref))
        WFC3IRPipeline.call(str(products["ima"]), output_dir=str(tmp_path / "again"))
        WFC3IRPipeline.call(str(products["ima"]), output_dir=str(tmp_path / "refit"),
                            steps={"jump": {"switch": "perform"}})
    assert not (tmp_path / "again").exists() or list((tmp_path / "again").iterdir()) == []
    kept = expected_history(exposure)
    for suffix in ("ima", "flt"):
        lines = history(tmp_path / "refit" / f"{exposure.rootname}_{suffix}.fits")
        assert lines[:len(kept)] == kept


def test_a_dummy_reference_is_named_in_the_skip_line_and_an_omitted_step_says_nothing(
        exposure, tmp_path):
    refs = tmp_path / "refs"
    shutil.copytree(exposure.iref, refs)
    dark = refs / Path(exposure.reference_paths["DARKFILE"]).name
    with fits.open(dark, mode="update") as hdul:
        hdul[0].header["PEDIGREE"] = "DUMMY 01/01/2026"
        descrip = hdul[0].header["DESCRIP"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(refs))
        WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(tmp_path / "out"),
                            steps={"nlin": {"switch": "omit"}}, save_flt=False)
    ima = tmp_path / "out" / f"{exposure.rootname}_ima.fits"
    lines = history(ima)
    at = lines.index("DARKCORR skipped due to dummy reference file ...")
    assert lines[at + 1:at + 4] == [f"  reference image iref${dark.name}",
                                    "    DUMMY 01/01/2026", f"    {descrip}"]
    assert not [line for line in lines if line.startswith("NLINCORR")]
    header = fits.getheader(ima, 0)
    assert header["DARKCORR"] == "SKIPPED" and header["NLINCORR"] == "OMIT"


def record(switch, status, *references):
    return {"switch": switch, "status": status,
            "references": [{"keyword": k, "name": n, "pedigree": p, "descrip": d}
                           for k, n, p, d in references]}


def test_calwf3_history_follows_irhist_for_each_kind_of_switch():
    model = RampModel()
    model.meta.provenance = [
        record("ZSIGCORR", "SKIPPED", ("NLINFILE", "iref$l.fits", "MODEL", "lin")),
        record("NOISCORR", "SKIPPED", ("CCDTAB", "iref$c.fits", "", "")),
        record("DARKCORR", "SKIPPED", ("DARKFILE", "iref$d.fits", "INFLIGHT 2010", "")),
        record("FLATCORR", "COMPLETE", ("PFLTFILE", "iref$p.fits", "MODEL", "pixel flat"),
               ("DFLTFILE", "N/A", "", ""), ("LFLTFILE", "/abs/l.fits", "", "big flat")),
        record("TVBCORR", "COMPLETE"),
    ]
    assert calwf3_history(model) == [
        # the CCDTAB comes first, from the first step that read it, even a skipped one
        "CCD parameters table: ", "  reference table iref$c.fits",
        # ZSIGCORR and the noise say nothing when skipped (no "complete.")
        "DARKCORR not performed ...", "  reference image iref$d.fits", "    INFLIGHT 2010",
        "FLATCORR complete ...", "  reference image iref$p.fits", "    MODEL", "    pixel flat",
        "  reference image /abs/l.fits", "    big flat",
        "TVBCORR complete.",
    ]
    assert calwf3_history(RampModel()) == []


# ------------------------------------------------------------------ keyword by keyword
def test_headers_hold_every_keyword_of_calwf3s_real_imas(real_file, tmp_path):
    from hstramp.simulate.matching import simulate_references

    raw = real_file("ibh7a7lsq_raw.fits")
    # references under the names the raw's header gives, found through iref as a user's are
    simulate_references(raw, tmp_path / "refs")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(tmp_path / "refs"))
        WFC3IRPipeline.call(str(raw), output_dir=str(tmp_path))
    for real in ("iccz11q4q_ima.fits", "ibh726meq_ima.fits"):
        for suffix, ignore in (("ima", ()), ("flt", CONSTANT_LAYOUT)):
            # calwf3's flt headers are its ima's first imset's, but SAMP and TIME are images
            product = tmp_path / f"ibh7a7lsq_{suffix}.fits"
            assert missing_keywords(real_file(real), product, raw, ignore) == {}, (real, suffix)
    ours = headers_by_name(tmp_path / "ibh7a7lsq_ima.fits")
    for name, written in CALWF3_WRITES.items():
        assert written <= keywords(ours[name]), (name, written - keywords(ours[name]))


def calwf3_executable():
    found = os.environ.get("CALWF3") or shutil.which("calwf3.e")
    if not found or not Path(found).is_file():
        pytest.skip("calwf3.e not found ($CALWF3 or on PATH)")
    return found


def test_headers_hold_every_keyword_of_calwf3s_products_of_the_same_raw(exposure, products,
                                                                        tmp_path):
    executable = calwf3_executable()
    shutil.copy(exposure.raw_path, tmp_path)
    done = subprocess.run([executable, exposure.raw_path.name], cwd=tmp_path,
                          env={**os.environ, "iref": f"{exposure.iref}/"},
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    for suffix in ("ima", "flt"):
        theirs = tmp_path / f"{exposure.rootname}_{suffix}.fits"
        assert missing_keywords(theirs, products[suffix]) == {}, suffix
        steps = [line for line in history(theirs) if not line.startswith(" ")]
        if suffix == "flt":  # calwf3 repeats UNITCORR after CRCORR in the flt (docs/calwf3.md)
            after_cr = steps.index("CRCORR complete.") + 1
            assert steps.pop(after_cr) == "UNITCORR complete."
        assert steps == [line for line in history(products[suffix])
                         if not line.startswith(" ")]
