"""The shared FITS helpers and the one metadata <-> header walker (hstramp.datamodels.fits_io)."""

import math
import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels import (
    ImageModel,
    RampModel,
    STISCCDModel,
    STISImageModel,
    stis_fits,
    wfc3_fits,
)
from hstramp.datamodels.fits_io import (
    STRUCTURAL_KEYWORDS,
    SWITCH_VALUES,
    WRITER_KEYWORDS,
    imset_index,
    meta_keywords,
    meta_value,
    primary_header,
    set_meta,
)
from hstramp.datamodels.headers import shift_sci_keywords
from hstramp.errors import InputFileError
from hstramp.pipeline.wfc3ir import image_statistics, read_statistics

MODELS = (RampModel, ImageModel, STISCCDModel, STISImageModel)

#: the keyword tables the FITS modules kept by hand before the walker (path -> keyword, HDU):
#: the schemas must give the same
WFC3_TABLE = {
    "telescope": "TELESCOP", "instrument.name": "INSTRUME", "instrument.detector": "DETECTOR",
    "instrument.filter": "FILTER", "instrument.aperture": "APERTURE",
    "instrument.obstype": "OBSTYPE", "observation.rootname": "ROOTNAME",
    "observation.targname": "TARGNAME", "observation.proposid": "PROPOSID",
    "exposure.exptime": "EXPTIME", "exposure.expstart": "EXPSTART",
    "exposure.expend": "EXPEND", "exposure.nsamp": "NSAMP", "exposure.samp_seq": "SAMP_SEQ",
    "exposure.ccdgain": "CCDGAIN", "exposure.sdqflags": "SDQFLAGS@SCI",
    "subarray.subarray": "SUBARRAY", "subarray.subtype": "SUBTYPE",
    "subarray.ltv1": "LTV1@SCI", "subarray.ltv2": "LTV2@SCI",
    "photometry.photmode": "PHOTMODE", "photometry.photflam": "PHOTFLAM",
    "photometry.photfnu": "PHOTFNU", "photometry.photzpt": "PHOTZPT",
    "photometry.photplam": "PHOTPLAM", "photometry.photbw": "PHOTBW",
}
STIS_TABLE = {
    "telescope": "TELESCOP", "instrument.name": "INSTRUME", "instrument.detector": "DETECTOR",
    "instrument.aperture": "APERTURE", "instrument.obstype": "OBSTYPE",
    "observation.rootname": "ROOTNAME", "observation.targname": "TARGNAME",
    "observation.proposid": "PROPOSID", "exposure.sdqflags": "SDQFLAGS@SCI",
    "subarray.ltv1": "LTV1@SCI", "subarray.ltv2": "LTV2@SCI", "stis.ltm1_1": "LTM1_1@SCI",
    "stis.ltm2_2": "LTM2_2@SCI", "stis.ccdamp": "CCDAMP", "stis.ccdgain": "CCDGAIN",
    "stis.ccdoffst": "CCDOFFST", "stis.binaxis1": "BINAXIS1", "stis.binaxis2": "BINAXIS2",
    "stis.aper_fov": "APER_FOV", "stis.opt_elem": "OPT_ELEM", "stis.crsplit": "CRSPLIT",
    "stis.atodgain": "ATODGAIN", "stis.readnse": "READNSE",
    # written by the crj writer by hand before, from the schema now
    "exposure.exptime": "TEXPTIME", "exposure.expstart": "TEXPSTRT",
    "exposure.expend": "TEXPEND", "stis.skysum": "SKYSUM", "stis.rej_rate": "REJ_RATE",
}
WFC3_SWITCHES = ("DQICORR", "ZSIGCORR", "BLEVCORR", "ZOFFCORR", "NOISCORR", "NLINCORR",
                 "DARKCORR", "PHOTCORR", "UNITCORR", "CRCORR", "FLATCORR", "TVBCORR")
STIS_SWITCHES = ("DQICORR", "BLEVCORR", "BIASCORR", "CRCORR", "EXPSCORR", "DARKCORR",
                 "FLATCORR")
STIS_REFERENCES = ("CCDTAB", "BPIXTAB", "BIASFILE", "DARKFILE", "PFLTFILE", "DFLTFILE",
                   "LFLTFILE", "CRREJTAB")


def table(model_class):
    """path -> KEYWORD (or KEYWORD@HDU) of a model class, from the walker."""
    return {".".join(e.path): e.keyword + ("" if e.hdu == "PRIMARY" else f"@{e.hdu}")
            for e in meta_keywords(model_class)}


# ------------------------------------------------------------------ the keyword table
@pytest.mark.parametrize("model_class", [RampModel, ImageModel])
def test_wfc3_keywords_come_from_the_schemas_as_the_old_hand_table_had_them(model_class):
    found = table(model_class)
    assert {k: v for k, v in found.items() if k in WFC3_TABLE} == WFC3_TABLE
    switches = [e.keyword for e in meta_keywords(model_class) if e.switch]
    assert switches == list(WFC3_SWITCHES)
    assert found["bunit_data"] == "BUNIT@SCI"
    own = [e.keyword for e in meta_keywords(model_class) if e.comment is not None]
    assert own == ["TVBMODE", "TVBMETRC", "TVBTHRES", "TVBSKY", "TVBREADS", "RAMPFIT",
                   "CRLEFTIN"]


@pytest.mark.parametrize("model_class", [STISCCDModel, STISImageModel])
def test_stis_keywords_come_from_the_schemas(model_class):
    found = table(model_class)
    assert {k: v for k, v in found.items() if k in STIS_TABLE} == STIS_TABLE
    keywords = set(found.values())
    assert set(STIS_SWITCHES) <= keywords and set(STIS_REFERENCES) <= keywords
    assert "exposure.ccdgain" not in found  # CCDGAIN is meta.stis.ccdgain's (the later claim)
    assert not {"TVBMODE", "RAMPFIT"} & keywords  # hstramp's WFC3 records are not STIS's


@pytest.mark.parametrize("model_class", MODELS)
def test_no_keyword_belongs_to_two_paths(model_class):
    keywords = [e.keyword for e in meta_keywords(model_class)]
    assert len(keywords) == len(set(keywords))
    assert all(e.hdu in ("PRIMARY", "SCI") for e in meta_keywords(model_class))


# ------------------------------------------------------------------ every keyword written
def fill_metadata(model):
    """Give every schema keyword of the model a value of its type (no input cards)."""
    values = {"string": "X", "integer": 3, "number": 1.5, "boolean": True}
    for entry in meta_keywords(type(model)):
        if entry.keyword in WRITER_KEYWORDS:
            continue
        value = "COMPLETE" if entry.switch else values[entry.type]
        node = model.meta
        for part in entry.path[:-1]:
            node = getattr(node, part)
        setattr(node, entry.path[-1], value)
    model.meta.headers.primary = []
    model.meta.headers.sci = []
    return model


def schema_keywords(model_class, hdu):
    return {e.keyword for e in meta_keywords(model_class) if e.hdu == hdu}


def assert_only_known_keywords(hdulist, model_class, extension_keywords, commentary=()):
    primary = set(hdulist[0].header)
    expected = (schema_keywords(model_class, "PRIMARY") - {"DATE", "HSTRAMPV"}) \
        | set(WRITER_KEYWORDS) | set(commentary)
    assert primary - STRUCTURAL_KEYWORDS == expected  # and every metadata keyword is there
    allowed = schema_keywords(model_class, "SCI") | set(extension_keywords) | STRUCTURAL_KEYWORDS
    for hdu in hdulist[1:]:
        assert set(hdu.header) <= allowed, f"{hdu.name}: {set(hdu.header) - allowed}"


#: one step's record, as the step base keeps it (the writer makes HISTORY of it)
PROVENANCE = [{"switch": "DARKCORR", "status": "COMPLETE", "references": [
    {"keyword": "DARKFILE", "name": "iref$x_drk.fits", "pedigree": "MODEL", "descrip": "d"}]}]


def test_every_keyword_of_the_wfc3_products_comes_from_a_schema_or_a_writer_list():
    ramp = fill_metadata(RampModel(data=np.ones((3, 12, 12), np.float32),
                                   times=np.array([0.0, 1.0, 2.0])))
    ramp.meta.provenance = PROVENANCE
    ima = wfc3_fits.ima_hdulist(ramp, "x_ima.fits", read_statistics(ramp))
    assert_only_known_keywords(ima, RampModel, wfc3_fits.EXTENSION_KEYWORDS, ["HISTORY"])
    image = fill_metadata(ImageModel(data=np.ones((12, 12), np.float32)))
    image.meta.provenance = PROVENANCE
    flt = wfc3_fits.flt_hdulist(image, "x_flt.fits", include_variances=True,
                                statistics=image_statistics(image))
    assert_only_known_keywords(flt, ImageModel, wfc3_fits.EXTENSION_KEYWORDS, ["HISTORY"])
    assert flt["SCI"].header["MEANDARK"] == 1.5  # meta.last_read, a schema entry
    for hdulist in (ima, flt):
        assert list(hdulist[0].header["HISTORY"]) == [
            "DARKCORR complete ...", "  reference image iref$x_drk.fits", "    MODEL", "    d"]


def test_the_per_read_keywords_come_from_the_ramp_schema():
    assert wfc3_fits.per_read_arrays() == (
        ("times", "SAMPTIME"), ("deltatim", "DELTATIM"), ("routtime", "ROUTTIME"),
        ("meanblev", "MEANBLEV"), ("meandark", "MEANDARK"))
    last_read = {e.keyword for e in meta_keywords(ImageModel) if e.path[0] == "last_read"}
    assert last_read == {"SAMPNUM", *(k for _a, k in wfc3_fits.per_read_arrays())}
    assert last_read <= wfc3_fits.EXTENSION_KEYWORDS


def test_every_keyword_of_the_stis_products_comes_from_a_schema_or_a_writer_list(tmp_path):
    stack = fill_metadata(STISCCDModel(data=np.ones((2, 8, 8), np.float32),
                                       exptime=np.array([1.0, 2.0])))
    image = fill_metadata(STISImageModel(data=np.ones((8, 8), np.float32)))
    for path in (stis_fits.write_stis_flt(stack, tmp_path / "x_flt.fits"),
                 stis_fits.write_stis_crj(image, tmp_path / "x_crj.fits")):
        with fits.open(path) as hdulist:
            assert_only_known_keywords(hdulist, type(stack if "flt" in path.name else image),
                                       stis_fits.EXTENSION_KEYWORDS)


# ------------------------------------------------------------------ reading
def headers_of(model_class):
    """A primary and a SCI header holding every keyword of the class (with BUNIT)."""
    model = fill_metadata(model_class())
    primary, sci = fits.Header(), fits.Header()
    for entry in meta_keywords(model_class):
        if entry.keyword not in WRITER_KEYWORDS:
            (primary if entry.hdu == "PRIMARY" else sci)[entry.keyword] = meta_value(model, entry)
    return model, primary, sci


@pytest.mark.parametrize("model_class", MODELS)
def test_set_meta_reads_every_keyword_back(model_class):
    written, primary, sci = headers_of(model_class)
    model = model_class()
    set_meta(model, primary, sci, "x.fits")
    for entry in meta_keywords(model_class):
        if entry.keyword not in WRITER_KEYWORDS:
            assert meta_value(model, entry) == meta_value(written, entry), entry.keyword
    assert [card[0] for card in model.meta.headers.primary] == list(primary)


def test_set_meta_strips_and_upper_cases_and_skips_what_it_is_told():
    primary = fits.Header([("ROOTNAME", "abc  "), ("DQICORR", "perform"), ("UNITCORR", " "),
                           ("NSAMP", 4.0), ("TVBSKY", None)])
    sci = fits.Header([("LTV1", -5.0), ("SDQFLAGS", 16)])
    model = RampModel()
    set_meta(model, primary, sci, "x.fits", exclude={"LTV1"})
    assert model.meta.observation.rootname == "abc"
    assert model.meta.cal_step.dqicorr == "PERFORM"
    assert model.meta.cal_step.unitcorr is None  # an empty switch is no instruction
    assert model.meta.exposure.nsamp == 4 and isinstance(model.meta.exposure.nsamp, int)
    assert model.meta.tvb.sky is None  # undefined in the header
    assert model.meta.subarray.ltv1 is None and model.meta.exposure.sdqflags == 16


@pytest.mark.parametrize(("card", "message"), [
    (("FLATCORR", "MAYBE"), "x.fits: switch FLATCORR = 'MAYBE' is not one of"),
    (("PROPOSID", "twelve"), "x.fits: PROPOSID = 'twelve' in the primary header is not a whole"),
])
def test_set_meta_refuses_bad_values_naming_file_and_keyword(card, message):
    with pytest.raises(InputFileError, match=message):
        set_meta(RampModel(), fits.Header([card]), fits.Header(), "x.fits")


def test_imset_index_indexes_without_checking_completeness():
    hdulist = fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(name="sci", ver=2),
                            fits.ImageHDU(name="ERR")])
    index = imset_index(hdulist)
    assert set(index) == {("SCI", 2), ("ERR", 1)}  # no SCI,1 and no DQ: still no error
    assert index[("SCI", 2)] is hdulist[1]


# ------------------------------------------------------------------ writing
def test_primary_header_updates_cards_in_place_and_appends_the_rest():
    model = RampModel()
    model.meta.headers.primary = [["ROOTNAME", "old", "rootname"], ["HISTORY", "h", ""]]
    model.meta.observation.rootname = "new"
    model.meta.cal_step.noiscorr = "COMPLETE"
    model.meta.ramp_fit.algorithm = "LAST_MINUS_FIRST"
    header = primary_header(model, 5, "x_flt.fits")
    assert header["ROOTNAME"] == "new" and header.comments["ROOTNAME"] == "rootname"
    keywords = list(header)
    # hstramp's own card goes to the very bottom (after HISTORY), with its comment; the
    # others after the last non-commentary card, without one
    assert keywords[:3] == ["ROOTNAME", "HISTORY", "RAMPFIT"]
    assert header.comments["RAMPFIT"] == "rate = (last - first usable read) / time"
    assert keywords[3:] == ["NOISCORR", "NEXTEND", "FILENAME", "HSTRAMPV", "CAL_VER", "DATE"]
    assert header.comments["NOISCORR"] == ""


def test_a_comment_template_is_filled_in_or_the_card_keeps_its_comment():
    model = RampModel()
    model.meta.headers.primary = [["TVBSKY", 0.5, "sky rate kept by flatten-ramp, COUNTS/s"]]
    model.meta.tvb.sky = 0.25
    header = primary_header(model, 0, "x")
    assert header["TVBSKY"] == 0.25  # no sky_unit: the comment stays
    assert header.comments["TVBSKY"] == "sky rate kept by flatten-ramp, COUNTS/s"
    model.meta.tvb.sky_unit = "ELECTRONS"
    header = primary_header(model, 0, "x")
    assert header.comments["TVBSKY"] == "sky rate kept by flatten-ramp, ELECTRONS/s"


def test_a_value_fits_cannot_hold_is_written_undefined():
    model = RampModel()
    model.meta.tvb.metric = math.nan
    header = primary_header(model, 0, "x")
    assert "TVBMETRC" in header and header["TVBMETRC"] is None  # an undefined value
    assert header.comments["TVBMETRC"].startswith("TVB metric")


def test_shift_sci_keywords_moves_only_the_named_defined_cards():
    model = ImageModel()
    model.meta.headers.sci = [["CRPIX1", 10.0, "x ref"], ["LTV1", None, ""], ["CD1_1", 1.0, ""]]
    shift_sci_keywords(model, {"CRPIX1": -5, "LTV1": -5, "CRPIX2": -5})
    assert model.meta.headers.sci == [["CRPIX1", 5.0, "x ref"], ["LTV1", None, ""],
                                      ["CD1_1", 1.0, ""]]


def test_switch_values_are_the_schemas():
    entry = next(e for e in meta_keywords(RampModel) if e.keyword == "DQICORR")
    assert entry.switch and SWITCH_VALUES == ("PERFORM", "OMIT", "COMPLETE", "SKIPPED")


# ------------------------------------------------------------------ the package
def test_the_package_imports_plainly_and_dqflags_alone():
    code = ("import hstramp.datamodels.dqflags as d, hstramp.datamodels as m; "
            "assert d.SDQFLAGS_DEFAULT == 31743; "
            "assert all(hasattr(m, name) for name in m.__all__); "
            "assert not hasattr(m, '__getattr__')")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_flt_read_back_and_written_again_keeps_its_last_reads_keywords(tmp_path):
    image = ImageModel(data=np.ones((6, 6), np.float32))
    image.meta.headers.primary = [["INSTRUME", "WFC3", ""], ["DETECTOR", "IR", ""]]
    image.meta.headers.sci = []
    image.meta.last_read.meandark = 0.75
    image.meta.last_read.sampnum = 8
    first = wfc3_fits.write_flt(image, tmp_path / "a_flt.fits")
    again = wfc3_fits.write_flt(wfc3_fits.read_flt(first), tmp_path / "b_flt.fits")
    header = fits.getheader(again, "SCI")
    assert header["MEANDARK"] == 0.75 and header["SAMPNUM"] == 8  # drizzlepac needs MEANDARK
