"""Which products calstis's cs0 writes for a STIS CCD 2-D exposure, and the switch values
in each (calstis ``cs0/calstis0.c``, ``cs0/sciflags.c``, ``cs0/getsciinfo.c``,
``cs1/do2d.c``, ``cs1/history1.c``, ``cs2/cr_history.c``).

Routing (CCD, 2-D switches only):

* cs1a steps are DQICORR, ATODCORR, BLEVCORR, BIASCORR; cs1 steps DARKCORR, FLATCORR,
  SHADCORR, PHOTCORR. A PERFORM among the first sets "basic 2-D a", among the second
  "basic 2-D".
* CR rejection runs when CRCORR = PERFORM, or RPTCORR = PERFORM (on the CCD RPTCORR *means*
  CRCORR), and there are at least two imsets. Then: cs1a on the raw (a temporary file),
  cs2 combines it into the ``_crj``, cs1 calibrates the crj (if basic 2-D), and with
  EXPSCORR = PERFORM cs1 also calibrates the uncombined imsets into the ``_flt``.
* Otherwise, with anything to do, cs1 writes the ``_flt`` (every imset) from the raw.
* cs8 (``_sfl``, summing repeated exposures) only runs for MAMA data: never for the CCD.
* Nothing PERFORM, or TEXPTIME <= 0 for a non-BIAS target: nothing is written (exit 0).

Header switches: a step that ran becomes COMPLETE, or SKIPPED when its reference had
PEDIGREE = DUMMY (DQICORR too, although saturation and the aperture are still flagged);
the crj gets CRCORR = COMPLETE; a one-imset exposure with CRCORR = PERFORM gets SKIPPED;
RPTCORR and EXPSCORR are never changed (an ``_flt`` written for EXPSCORR keeps
EXPSCORR = PERFORM and the raw CRCORR); PHOTCORR of non-imaging data is left as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CS1A_SWITCHES", "CS1_SWITCHES", "STISProducts", "stis_products"]

#: steps cs1 runs before CR rejection ("basic 2-D a"), in calstis's order
CS1A_SWITCHES = ("DQICORR", "ATODCORR", "BLEVCORR", "BIASCORR")
#: steps cs1 runs on the combined image and the flt ("basic 2-D")
CS1_SWITCHES = ("DARKCORR", "FLATCORR", "SHADCORR", "PHOTCORR")
_ROUTING = ("CRCORR", "RPTCORR", "EXPSCORR")


@dataclass(frozen=True)
class STISProducts:
    """What cs0 does with one exposure.

    Attributes
    ----------
    products : dict
        Suffix (``'crj'``, ``'flt'``) -> the header switches of that product
        (``{'DARKCORR': 'COMPLETE', ...}``), in the order calstis writes them.
    stages : tuple of str
        The calstis stages run, e.g. ``('cs1a raw', 'cs2', 'cs1 crj', 'cs1 flt')``.
    nimsets_out : dict
        Suffix -> number of imsets in the product.
    reason : str
        Why nothing is written (empty otherwise).
    """

    products: dict = field(default_factory=dict)
    stages: tuple = ()
    nimsets_out: dict = field(default_factory=dict)
    reason: str = ""


def _perform(switches, name) -> bool:
    return str(switches.get(name, "OMIT")).strip().upper() == "PERFORM"


def _after(switches, names, dummy, obstype):
    """Header values of ``names`` after a cs1 run that performed them."""
    out = {}
    for name in names:
        value = str(switches.get(name, "OMIT")).strip().upper()
        if value == "PERFORM" and not (name == "PHOTCORR" and obstype != "IMAGING"):
            value = "SKIPPED" if name in dummy else "COMPLETE"
        out[name] = value
    return out


def stis_products(switches, nimsets: int, *, obstype: str = "IMAGING",
                  texptime: float = 1.0, targname: str = "", dummy=()) -> STISProducts:
    """The products cs0 writes for a STIS CCD exposure and their switches.

    Parameters
    ----------
    switches : mapping
        Raw primary-header switches (keys upper case; missing means OMIT):
        DQICORR ATODCORR BLEVCORR BIASCORR DARKCORR FLATCORR SHADCORR PHOTCORR CRCORR
        RPTCORR EXPSCORR.
    nimsets : int
        Imsets in the raw (NEXTEND / 3).
    obstype : str
        OBSTYPE.
    texptime : float
        TEXPTIME.
    targname : str
        TARGNAME (``BIAS`` may have zero exposure time).
    dummy : iterable of str
        Switches whose reference file has PEDIGREE = DUMMY (they end SKIPPED).

    Returns
    -------
    STISProducts
    """
    sw = {str(k).upper(): str(v).strip().upper() for k, v in dict(switches).items()}
    dummy = {str(d).upper() for d in dummy}
    obstype = str(obstype).strip().upper()
    nimsets = int(nimsets)
    if nimsets < 1:
        raise ValueError(f"nimsets = {nimsets}: a raw file has at least one imset")
    if texptime <= 0 and str(targname).strip().upper() != "BIAS":
        return STISProducts(reason=f"TEXPTIME = {texptime:g}: nothing to calibrate")
    basic_a = any(_perform(sw, s) for s in CS1A_SWITCHES)
    basic = any(_perform(sw, s) for s in CS1_SWITCHES)
    crcorr = nimsets >= 2 and (_perform(sw, "CRCORR") or _perform(sw, "RPTCORR"))
    if not (basic_a or basic or crcorr):
        return STISProducts(reason="no calibration switch is PERFORM")
    routing = {k: sw.get(k, "OMIT") for k in _ROUTING}
    first = _after(sw, CS1A_SWITCHES, dummy, obstype)
    if not crcorr:
        if nimsets == 1 and routing["CRCORR"] == "PERFORM":
            routing["CRCORR"] = "SKIPPED"
        flt = {**first, **_after(sw, CS1_SWITCHES, dummy, obstype), **routing}
        return STISProducts(products={"flt": flt}, stages=("cs1 raw",),
                            nimsets_out={"flt": nimsets})
    stages = ["cs1a raw"] if basic_a else []
    stages.append("cs2")
    second = _after(sw, CS1_SWITCHES, dummy, obstype) if basic else \
        {k: sw.get(k, "OMIT") for k in CS1_SWITCHES}
    products = {"crj": {**first, **second, **routing, "CRCORR": "COMPLETE"}}
    nout = {"crj": 1}
    if basic:
        stages.append("cs1 crj")
        if _perform(sw, "EXPSCORR"):
            stages.append("cs1 flt")
            products["flt"] = {**first, **second, **routing}
            nout["flt"] = nimsets
    return STISProducts(products=products, stages=tuple(stages), nimsets_out=nout)
