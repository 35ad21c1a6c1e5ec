"""A simulated raw calibrated through every step with a reference set written by the
independent hstcal-layout writer (not the simulator's own files)."""

import numpy as np
from astropy.io import fits

from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from hstramp.simulate import simulate_exposure
from tests.reference import hstcal_layouts as hl

SWITCHES = ("DQICORR", "ZSIGCORR", "BLEVCORR", "ZOFFCORR", "NLINCORR", "DARKCORR",
            "PHOTCORR", "UNITCORR", "CRCORR", "FLATCORR")


def _reference_set(directory, exposure):
    """The ten calwf3 reference types in hstcal layouts other than the simulator's:
    lower-case and text tables, a gzip NLINFILE of constant extensions, an integer dark,
    the real IMPHTTAB layout."""
    with fits.open(exposure.raw_path) as raw:
        zeroth = float(np.median(raw["SCI", raw[0].header["NSAMP"]].data))
    bpix_rows = [(30, 30, 3, 1, 16, 1, "ABCD", 2.5), (-4, 1, 1024, 1, 128, -999, "N/A", -999.0)]
    return {
        "ccdtab": hl.write_table(directory / "e_ccd.fits", "CCD PARAMETERS",
                                 hl.ccdtab_columns(), "lowercase"),
        "oscntab": hl.write_table(directory / "e_osc.fits", "OVERSCAN", hl.oscntab_columns(),
                                  "text"),
        "bpixtab": hl.write_table(directory / "e_bpx.fits", "BAD PIXELS",
                                  hl.bpixtab_columns(bpix_rows), "vector",
                                  header_cards=hl.BPIX_HEADER),
        "nlinfile": hl.write_images(directory / "e_lin.fits", hl.nlinfile_hdus(
            "constant", coeffs=[0.0, 0.0, 0.0], zsci=zeroth, node=60000.0), "gzip"),
        "darkfile": hl.write(directory / "e_drk.fits", hl.darkfile_hdus(
            "integer", times=exposure.times, shape=exposure.geometry.shape,
            ltv=exposure.geometry.ltv, rate=0.0, samp_seq=exposure.samp_seq,
            subtype=exposure.subtype)),
        "pfltfile": hl.write(directory / "e_pfl.fits", hl.flat_hdus("PFLTFILE", sci=1.0)),
        "dfltfile": hl.write(directory / "e_dfl.fits",
                             hl.flat_hdus("DFLTFILE", "constant", sci=1.0, filter="ANY")),
        "lfltfile": hl.write(directory / "e_lfl.fits", hl.flat_hdus(
            "LFLTFILE", "double", sci=1.0, err=0.0, shape=(256, 256), ltv=(2.0, 2.0),
            ltm=(0.25, 0.25))),
        "imphttab": hl.write(directory / "e_imp.fits", hl.imphttab_hdus()),
        "crrejtab": hl.write_table(directory / "e_crr.fits", "COSMIC RAY REJECTION",
                                   _crrejtab_for(len(exposure.times)), "plain"),
    }


def _crrejtab_for(nsamp):
    """The layout tests' CRREJTAB with its IR rows' CRSPLIT set to this exposure's NSAMP."""
    columns = dict((name, (kind, values)) for name, kind, values in hl.crrejtab_columns())
    kind, crsplit = columns["CRSPLIT"]
    columns["CRSPLIT"] = (kind, crsplit[:2] + [nsamp] * (len(crsplit) - 2))
    return [(name, kind, values) for name, (kind, values) in columns.items()]


def test_every_step_completes_with_independent_references(tmp_path):
    exposure = simulate_exposure(tmp_path / "sim", size=64, nsamp=5, seed=15)
    refs_dir = tmp_path / "refs"
    refs_dir.mkdir()
    refs = _reference_set(refs_dir, exposure)
    steps = {name: {f"override_{k}": str(v) for k, v in refs.items()
                    if k in step.reference_file_types}
             for name, step in WFC3IRPipeline.step_defs.items() if step.reference_file_types}
    out = tmp_path / "out"
    image = WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(out), steps=steps)
    assert np.isfinite(image.data).all()
    rootname = exposure.rootname
    with fits.open(out / f"{rootname}_flt.fits") as flt:
        header = flt[0].header
        assert {s: header[s] for s in SWITCHES} == dict.fromkeys(SWITCHES, "COMPLETE")
        # the IMPHTTAB row interpolated at EXPSTART 55834.3928 between 55000 and 56000
        expected = 2.0e-20 + (55834.3928 - 55000.0) / 1000.0 * 0.1e-20
        assert header["PHOTFLAM"] == np.float32(expected) or np.isclose(
            header["PHOTFLAM"], expected, rtol=1e-6)
        assert header["PHOTPLAM"] == np.float32(hl.F160W_PHOTPLAM) or np.isclose(
            header["PHOTPLAM"], hl.F160W_PHOTPLAM, rtol=1e-6)
        assert header["NLINFILE"].endswith("e_lin.fits.gz")
