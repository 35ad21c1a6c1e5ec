"""STIS reference readers (calstis selection rules) and the raw/crj/flt FITS layer."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.datamodels import open as open_model
from hstramp.datamodels.stis_fits import read_stis, write_stis_crj, write_stis_flt
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.errors import InputFileError, OutputFileError
from hstramp.reference import ReferenceFileError, resolve_reference_path
from hstramp.reference.stis import (
    STISGeometry,
    read_stis_bpixtab,
    read_stis_ccdtab,
    read_stis_crrejtab,
    read_stis_flats,
    read_stis_image,
)
from tests.conftest import sha256


def test_oref_values_resolve(binned_sim, oref):
    path = resolve_reference_path(f"oref${binned_sim.reference_paths['CCDTAB'].name}", "CCDTAB")
    assert path == binned_sim.reference_paths["CCDTAB"]


def test_ccdtab_row_selection_and_refusal(binned_sim):
    path = binned_sim.reference_paths["CCDTAB"]
    row = read_stis_ccdtab(path, ccdamp="D", ccdgain=4, ccdoffst=3, binaxis=(2, 2))
    assert row.row == 8 and row.atodgain == pytest.approx(4.016)       # BINAXIS -1 wildcard
    assert row.readnoise_dn == pytest.approx(7.7 / 4.016)
    with pytest.raises(ReferenceFileError, match="CCDOFFST=9"):
        read_stis_ccdtab(path, ccdamp="D", ccdgain=1, ccdoffst=9)


@pytest.mark.parametrize(("nimages", "exptime", "sigmas", "row"), [
    (2, 300.0, (4.0, 3.0), 1), (2, 1000.0, (5.0, 4.0, 3.0), 2), (6, 600.0, (4.0, 3.0), 5)])
def test_crrejtab_row_by_crsplit_and_smallest_meanexp(binned_sim, nimages, exptime, sigmas,
                                                      row):
    params, used = read_stis_crrejtab(binned_sim.reference_paths["CRREJTAB"], nimages=nimages,
                                      exptime_total=exptime)
    assert used == row and params.crsigmas == sigmas and params.initgues == "minimum"
    spectro, _ = read_stis_crrejtab(binned_sim.reference_paths["CRREJTAB"], nimages=2,
                                    exptime_total=300.0, obstype="SPECTROSCOPIC")
    assert spectro.skysub == "none"


def test_bpixtab_unbinned_and_binned_agree(binned_sim):
    path = binned_sim.reference_paths["BPIXTAB"]
    full = read_stis_bpixtab(path, STISGeometry((1044, 1062), (19.0, 20.0)))
    binned = read_stis_bpixtab(path, STISGeometry((261, 270), (10.0, 5.75), (0.25, 0.25)))
    assert full[20:, 19:1043].any() and not full[:20].any()
    assert np.count_nonzero(binned) < np.count_nonzero(full)
    with fits.open(path) as hdul:
        col = int(hdul[1].data["PIX1"][0]) - 1
    assert (full[20:, 19 + col] & 4).all()


def test_reference_images_are_binned_and_cut(binned_sim):
    science = binned_sim.science
    dark = read_stis_image(binned_sim.reference_paths["DARKFILE"], "DARKFILE", science)
    with fits.open(binned_sim.reference_paths["DARKFILE"]) as hdul:
        full = hdul["SCI"].data
    assert dark.data.shape == science.shape
    assert dark.data[0, 0] == pytest.approx(full[0:4, 3:7].sum(), rel=1e-5)
    flat = read_stis_flats(binned_sim.reference_paths["PFLTFILE"], None,
                           binned_sim.reference_paths["LFLTFILE"], geometry=science)
    assert flat.data.shape == science.shape and abs(flat.data.mean() - 1) < 0.02
    with pytest.raises(ReferenceFileError, match="FILETYPE"):
        read_stis_image(binned_sim.reference_paths["PFLTFILE"], "DARKFILE", science)
    with pytest.raises(ReferenceFileError, match="binned"):
        read_stis_image(binned_sim.reference_paths["BIASFILE"], "BIASFILE",
                        STISGeometry((1024, 1024)))


def test_raw_reads_into_a_stack_and_is_never_modified(binned_sim):
    before = sha256(binned_sim.raw_path)
    model = open_model(binned_sim.raw_path)
    assert isinstance(model, STISCCDModel)
    assert model.data.shape == (2, 261, 270) and model.data.dtype == np.float32
    assert model.data.dtype.isnative and model.dq.dtype == np.uint16
    np.testing.assert_allclose(model.exptime, binned_sim.exptimes)
    assert model.meta.stis.ccdamp == "D" and model.meta.stis.binaxis1 == 4
    assert model.meta.cal_step.biascorr == "PERFORM"
    assert model.meta.ref_file.biasfile.startswith("oref$")
    assert sha256(binned_sim.raw_path) == before


def _broken(tmp_path, binned_sim, edit):
    path = tmp_path / "obad0001q_raw.fits"
    with fits.open(binned_sim.raw_path) as hdul:
        edit(hdul)
        hdul.writeto(path)
    return path


@pytest.mark.parametrize(("edit", "message"), [
    (lambda h: h[0].header.__setitem__("DETECTOR", "FUV-MAMA"), "DETECTOR is 'FUV-MAMA'"),
    (lambda h: h[0].header.__setitem__("INSTRUME", "ACS"), "INSTRUME"),
    (lambda h: h[0].header.__setitem__("NEXTEND", 5), "NEXTEND = 5"),
    (lambda h: h[1].header.remove("EXPTIME"), "EXPTIME is missing from the SCI,1 header"),
    (lambda h: h[0].header.__setitem__("CCDAMP", "ABCD"), "CCDAMP"),
    (lambda h: h[0].header.__setitem__("BINAXIS1", 3), "BINAXIS1 = 3"),
    (lambda h: h[0].header.__setitem__("BLEVCORR", "MAYBE"), "BLEVCORR"),
    (lambda h: (h.pop(3), h[0].header.remove("NEXTEND")), "imset 1 is incomplete"),
])
def test_bad_raw_files_are_refused_naming_file_and_keyword(tmp_path, binned_sim, edit, message):
    path = _broken(tmp_path, binned_sim, edit)
    with pytest.raises(InputFileError, match=message) as info:
        read_stis(path)
    assert str(path) in str(info.value)


def test_truncated_file_is_refused(tmp_path, binned_sim):
    path = tmp_path / "otrunc01q_raw.fits"
    path.write_bytes(binned_sim.raw_path.read_bytes()[:50000])
    with pytest.raises(InputFileError, match="not a readable FITS"):
        open_model(path)


def test_crj_and_flt_round_trip_and_refuse_to_overwrite(tmp_path, binned_sim):
    stack = read_stis(binned_sim.raw_path)
    flt = write_stis_flt(stack, tmp_path / "osim_flt.fits")
    again = read_stis(flt)
    np.testing.assert_array_equal(again.data, stack.data)
    image = STISImageModel(data=stack.data[0], err=stack.err[0], dq=stack.dq[0])
    image.take_metadata(stack)
    image.meta.exposure.exptime = 600.0
    image.meta.stis.ncombine = 2
    crj = write_stis_crj(image, tmp_path / "osim_crj.fits")
    reread = open_model(crj)
    assert isinstance(reread, STISImageModel)
    assert reread.meta.exposure.exptime == 600.0 and reread.meta.stis.ncombine == 2
    before = sha256(crj)
    with pytest.raises(OutputFileError, match="exists"):
        write_stis_crj(image, crj)
    assert sha256(crj) == before and sorted(p.name for p in tmp_path.iterdir()) == [
        "osim_crj.fits", "osim_flt.fits"]


def test_saved_models_reopen_as_stis_models(tmp_path, binned_sim):
    stack = read_stis(binned_sim.raw_path)
    stack.save(tmp_path / "stack.asdf")
    assert isinstance(open_model(tmp_path / "stack.asdf"), STISCCDModel)


def test_stis_tables_are_read_once_per_file_version(binned_sim, tmp_path):
    """CCDTAB, BPIXTAB and CRREJTAB come from the per-file cache until the file changes."""
    import os
    import shutil

    from hstramp.reference.stis.tables import _bad_pixel_runs

    geometry = STISGeometry((261, 270), (10.0, 5.75), (0.25, 0.25))
    calls = {
        "CCDTAB": lambda p: read_stis_ccdtab(p, ccdamp="D", ccdgain=4, ccdoffst=3,
                                             binaxis=(2, 2)),
        "CRREJTAB": lambda p: read_stis_crrejtab(p, nimages=2, exptime_total=300.0),
        "BPIXTAB": lambda p: _bad_pixel_runs(p, "ANY"),
    }
    assert np.array_equal(read_stis_bpixtab(binned_sim.reference_paths["BPIXTAB"], geometry),
                          read_stis_bpixtab(binned_sim.reference_paths["BPIXTAB"], geometry))
    for keyword, read in calls.items():
        path = tmp_path / binned_sim.reference_paths[keyword].name
        shutil.copy(binned_sim.reference_paths[keyword], path)
        first = read(path)
        assert read(path) is first  # the second call is the cached value
        if keyword == "BPIXTAB":
            assert not first.pix1.flags.writeable
        with fits.open(path, mode="update") as hdul:  # a new version of the file
            hdul[0].header["HISTORY"] = "changed"
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
        again = read(path)
        assert again is not first, keyword
        if keyword == "BPIXTAB":
            assert again.size == first.size and np.array_equal(again.value, first.value)
        else:
            assert again == first


def test_stis_images_read_from_the_file_are_astropys(binned_sim, monkeypatch):
    """A STIS raw (BZERO-scaled int16 SCI, two imsets) read from the file into the model's
    cubes: astropy's values, bit for bit."""
    from hstramp import fitsimage
    from hstramp.datamodels.stis_fits import read_stis_exposures

    direct = read_stis_exposures(binned_sim.raw_path)
    monkeypatch.setattr(fitsimage, "stored_dtype", lambda header: None)  # astropy's path
    astropys = read_stis_exposures(binned_sim.raw_path)
    assert direct.data.shape[0] == 2
    for name in ("data", "err", "dq"):
        assert getattr(direct, name).tobytes() == getattr(astropys, name).tobytes()
