"""cs0 routing of STIS CCD data (calstis cs0/calstis0.c, cs0/sciflags.c, cs1/do2d.c,
cs1/history1.c, cs2/cr_history.c): products and their switches, read off the C source."""

import pytest

from hstramp.core.stis.routing import stis_products

BASE = {"DQICORR": "PERFORM", "ATODCORR": "OMIT", "BLEVCORR": "PERFORM", "BIASCORR": "PERFORM",
        "DARKCORR": "PERFORM", "FLATCORR": "PERFORM", "SHADCORR": "OMIT", "PHOTCORR": "OMIT",
        "CRCORR": "PERFORM", "RPTCORR": "OMIT", "EXPSCORR": "OMIT"}
DONE = {"DQICORR": "COMPLETE", "ATODCORR": "OMIT", "BLEVCORR": "COMPLETE",
        "BIASCORR": "COMPLETE", "DARKCORR": "COMPLETE", "FLATCORR": "COMPLETE",
        "SHADCORR": "OMIT", "PHOTCORR": "OMIT"}


def sw(**changes):
    return {**BASE, **changes}


# (switches, nimsets, stages, {suffix: (nimsets out, routing switches CRCORR/RPTCORR/EXPSCORR)})
CASES = [
    # CR-SPLIT=2: crj only
    (sw(), 2, ("cs1a raw", "cs2", "cs1 crj"),
     {"crj": (1, ("COMPLETE", "OMIT", "OMIT"))}),
    # CR-SPLIT with EXPSCORR: crj and flt; flt keeps CRCORR and EXPSCORR as in the raw
    (sw(EXPSCORR="PERFORM"), 3, ("cs1a raw", "cs2", "cs1 crj", "cs1 flt"),
     {"crj": (1, ("COMPLETE", "OMIT", "PERFORM")), "flt": (3, ("PERFORM", "OMIT", "PERFORM"))}),
    # repeated exposure on the CCD: RPTCORR means CRCORR; RPTCORR itself stays PERFORM
    (sw(CRCORR="OMIT", RPTCORR="PERFORM"), 4, ("cs1a raw", "cs2", "cs1 crj"),
     {"crj": (1, ("COMPLETE", "PERFORM", "OMIT"))}),
    # one imset: no CR rejection, CRCORR -> SKIPPED; RPTCORR untouched
    (sw(RPTCORR="PERFORM"), 1, ("cs1 raw",), {"flt": (1, ("SKIPPED", "PERFORM", "OMIT"))}),
    # several imsets without CRCORR: flt with every imset
    (sw(CRCORR="OMIT"), 2, ("cs1 raw",), {"flt": (2, ("OMIT", "OMIT", "OMIT"))}),
    # EXPSCORR without CR rejection changes nothing
    (sw(CRCORR="OMIT", EXPSCORR="PERFORM"), 2, ("cs1 raw",),
     {"flt": (2, ("OMIT", "OMIT", "PERFORM"))}),
]


@pytest.mark.parametrize(("switches", "nimsets", "stages", "products"), CASES)
def test_routing_table(switches, nimsets, stages, products):
    got = stis_products(switches, nimsets)
    assert got.stages == stages
    assert list(got.products) == list(products)
    for suffix, (nout, routing) in products.items():
        assert got.nimsets_out[suffix] == nout
        header = got.products[suffix]
        assert (header["CRCORR"], header["RPTCORR"], header["EXPSCORR"]) == routing
        assert {k: header[k] for k in DONE} == DONE


def test_crcorr_without_basic_2d_writes_crj_from_cs2():
    """Only cs1a steps: cs2 writes the crj directly; no flt even with EXPSCORR."""
    got = stis_products(sw(DARKCORR="OMIT", FLATCORR="OMIT", EXPSCORR="PERFORM"), 2)
    assert got.stages == ("cs1a raw", "cs2")
    assert list(got.products) == ["crj"]
    assert got.products["crj"]["DARKCORR"] == "OMIT"


def test_crcorr_only():
    off = {k: "OMIT" for k in BASE}
    got = stis_products({**off, "CRCORR": "PERFORM"}, 2)
    assert got.stages == ("cs2",)
    assert got.products["crj"]["CRCORR"] == "COMPLETE"


@pytest.mark.parametrize(("dummy", "switch", "value"), [
    ({"DQICORR"}, "DQICORR", "SKIPPED"),      # DUMMY BPIXTAB: saturation still flagged
    ({"DARKCORR"}, "DARKCORR", "SKIPPED"),
    ({"FLATCORR"}, "FLATCORR", "SKIPPED"),
])
def test_dummy_reference_gives_skipped(dummy, switch, value):
    got = stis_products(sw(), 2, dummy=dummy)
    assert got.products["crj"][switch] == value


def test_photcorr_and_shadcorr():
    got = stis_products(sw(PHOTCORR="PERFORM", SHADCORR="PERFORM", ATODCORR="PERFORM"), 2)
    crj = got.products["crj"]
    assert (crj["PHOTCORR"], crj["SHADCORR"], crj["ATODCORR"]) == ("COMPLETE",) * 3
    spectro = stis_products(sw(PHOTCORR="PERFORM"), 2, obstype="SPECTROSCOPIC")
    assert spectro.products["crj"]["PHOTCORR"] == "PERFORM"      # left alone


@pytest.mark.parametrize(("switches", "kwargs", "reason"), [
    ({k: "OMIT" for k in BASE}, {}, "no calibration switch"),
    ({**{k: "OMIT" for k in BASE}, "CRCORR": "PERFORM"}, {"nimsets": 1}, "no calibration"),
    (BASE, {"texptime": 0.0}, "TEXPTIME"),
])
def test_nothing_to_do(switches, kwargs, reason):
    kwargs = {"nimsets": 2, **kwargs}
    got = stis_products(switches, kwargs.pop("nimsets"), **kwargs)
    assert got.products == {} and reason in got.reason


def test_bias_target_with_zero_exposure_is_calibrated():
    assert "flt" in stis_products(sw(CRCORR="OMIT"), 1, texptime=0.0, targname="BIAS").products


def test_needs_an_imset():
    with pytest.raises(ValueError, match="nimsets"):
        stis_products(BASE, 0)
