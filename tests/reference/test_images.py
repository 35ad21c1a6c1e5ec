"""NLINFILE, DARKFILE and flat readers: cutting by LTV, imset matching, combination, errors."""

from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from hstramp.core.geometry import FULL_FRAME_LTV, ScienceGeometry
from hstramp.reference import ReferenceFileError, read_darkfile, read_flats, read_nlinfile
from hstramp.simulate._fits import constant_extension, image_extension
from hstramp.simulate.references import reference_primary, write_darkfile, write_flat

SQ64 = ScienceGeometry.for_science_size(64)
FULL = ScienceGeometry((1024, 1024), FULL_FRAME_LTV)


def _lt_cards(ltv=FULL_FRAME_LTV, ltm=(1.0, 1.0)):
    return [("LTV1", ltv[0], ""), ("LTV2", ltv[1], ""), ("LTM1_1", ltm[0], ""),
            ("LTM2_2", ltm[1], "")]


def _index_image(scale=1.0, shape=(1024, 1024)):
    """Pixel (y, x) holds ``scale * (1000 * y + x)``: a cut shows where it came from."""
    y, x = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (scale * (1000.0 * y + x)).astype(np.float32)


def _write_nlin(path, *, ncoef=3, nerr=2, filetype="LINEARITY COEFFICIENTS", drop=None,
                ltv=FULL_FRAME_LTV):
    cards = _lt_cards(ltv)
    base = _index_image()
    hdus = [image_extension("COEF", k + 1, base * (k + 1), cards) for k in range(ncoef)]
    hdus += [constant_extension("ERR", k + 1, base.shape, 0.5, cards) for k in range(nerr)]
    hdus += [image_extension("DQ", 1, (np.arange(base.size) % 7).reshape(base.shape)
                             .astype(np.int16), cards),
             image_extension("NODE", 1, base + 1.0, cards),
             image_extension("ZSCI", 1, base + 2.0, cards),
             image_extension("ZERR", 1, base + 3.0, cards)]
    hdus = [h for h in hdus if h.name != drop]
    extra = [("NCOEF", ncoef, ""), ("NERR", nerr, "")]
    header = reference_primary(filetype, "test linearity", len(hdus), extra)
    fits.HDUList([fits.PrimaryHDU(header=header), *hdus]).writeto(path)
    return path


def test_nlinfile_cut_for_a_subarray(tmp_path):
    lin = read_nlinfile(_write_nlin(tmp_path / "l.fits"), SQ64)
    # SQ64SUB LTV -470 vs full-frame +5: reference index = science index + 475
    expected = _index_image()[475 : 475 + 74, 475 : 475 + 74]
    np.testing.assert_array_equal(lin.coeffs[0], expected)
    np.testing.assert_array_equal(lin.coeffs[2], 3 * expected)
    np.testing.assert_array_equal(lin.zsci, expected + 2.0)
    np.testing.assert_array_equal(lin.node, expected + 1.0)
    np.testing.assert_array_equal(lin.zerr, expected + 3.0)
    assert lin.ncoef == 3 and lin.nerr == 2 and np.all(lin.errors == 0.5)
    assert lin.dq.dtype == np.uint16 and lin.coeffs.dtype == np.float32
    assert lin.coeffs.shape == (3, 74, 74)


@pytest.mark.parametrize("planes", [("zsci", "zerr", "node"), ("coeffs", "node", "dq"), ()])
def test_nlinfile_reads_only_the_planes_asked_for(tmp_path, planes):
    path = _write_nlin(tmp_path / "l.fits")
    whole = read_nlinfile(path, SQ64)
    some = read_nlinfile(path, SQ64, planes=planes)
    for name in ("coeffs", "errors", "dq", "node", "zsci", "zerr"):
        if name in planes:
            np.testing.assert_array_equal(getattr(some, name), getattr(whole, name))
        else:
            assert getattr(some, name) is None, name
    assert (some.ncoef, some.nerr) == (3, 2)


def test_nlinfile_refuses_an_unknown_plane(tmp_path):
    with pytest.raises(ValueError, match=r"unknown NLINFILE planes \['zsig'\]"):
        read_nlinfile(_write_nlin(tmp_path / "l.fits"), SQ64, planes=("zsig",))


def test_nlinfile_full_frame_is_uncut(tmp_path):
    lin = read_nlinfile(_write_nlin(tmp_path / "l.fits", ncoef=1, nerr=0), FULL)
    np.testing.assert_array_equal(lin.coeffs[0], _index_image())
    assert lin.errors.shape == (0, 1024, 1024)


def test_nlinfile_without_ltv_uses_calwf3_default_zero(tmp_path):
    lin = read_nlinfile(_write_nlin(tmp_path / "l.fits", ltv=(0.0, 0.0)), SQ64)
    assert lin.coeffs[0][0, 0] == _index_image()[470, 470]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"filetype": "DARK"}, "FILETYPE='DARK'"),
    ({"drop": "ZERR"}, "no extension ZERR,1"),
    ({"ltv": (-900.0, -900.0)}, "cannot be cut"),
])
def test_nlinfile_errors(tmp_path, kwargs, match):
    path = _write_nlin(tmp_path / "l.fits", **kwargs)
    with pytest.raises(ReferenceFileError, match=match) as err:
        read_nlinfile(path, SQ64)
    assert "NLINFILE" in str(err.value)


def test_nlinfile_needs_ncoef(tmp_path):
    path = _write_nlin(tmp_path / "l.fits")
    with fits.open(path, mode="update") as hdul:
        del hdul[0].header["NCOEF"]
    with pytest.raises(ReferenceFileError, match="NCOEF"):
        read_nlinfile(path, SQ64)


TIMES = np.array([0.0, 0.061, 7.191, 14.321, 21.451])


def _dark(tmp_path, shape=(74, 74), times=TIMES, samp_seq="SPARS10", subtype="SQ64SUB"):
    geometry = ScienceGeometry(shape, SQ64.ltv)
    rate = np.full(shape, 0.02)
    rate[3, 4] = 5.0
    dq = np.zeros(shape, np.uint16)
    dq[3, 4] = 16
    return write_darkfile(tmp_path / "d_drk.fits", dark_dn_rate=rate, dq=dq, times=times,
                          geometry=geometry, samp_seq=samp_seq, subtype=subtype)


def test_dark_imsets_in_time_order(tmp_path):
    path = _dark(tmp_path)
    science = TIMES[[0, 1, 2, 4]] + np.array([0.0, 0.004, -0.009, 0.0])
    dark = read_darkfile(path, times=science, shape=(74, 74), samp_seq="SPARS10",
                         subtype="SQ64SUB")
    # the file holds the newest read in EXTVER 1
    assert dark.extvers == (5, 4, 3, 1)
    np.testing.assert_allclose(dark.exposure_times, TIMES[[0, 1, 2, 4]])
    assert dark.data.shape == (4, 74, 74) and dark.data.dtype == np.float32
    np.testing.assert_allclose(dark.data[:, 3, 4], 5.0 * TIMES[[0, 1, 2, 4]], rtol=1e-6)
    assert np.all(dark.dq[:, 3, 4] == 16) and dark.dq.dtype == np.uint16
    assert np.all(dark.err == 0.0)


def test_dark_no_imset_names_the_read_time(tmp_path):
    with pytest.raises(ReferenceFileError, match=r"no imset for read time 7\.250000"):
        read_darkfile(_dark(tmp_path), times=[0.0, 7.25], shape=(74, 74),
                      samp_seq="SPARS10", subtype="SQ64SUB")


@pytest.mark.parametrize(("key", "value"), [("samp_seq", "RAPID"), ("subtype", "SQ128SUB")])
def test_dark_sequence_and_subtype_must_match(tmp_path, key, value):
    kwargs = {"samp_seq": "SPARS10", "subtype": "SQ64SUB", key: value}
    with pytest.raises(ReferenceFileError) as err:
        read_darkfile(_dark(tmp_path), times=TIMES, shape=(74, 74), **kwargs)
    message = str(err.value)
    assert key.upper() in message and value in message
    assert ("SPARS10" if key == "samp_seq" else "SQ64SUB") in message


def test_dark_size_mismatch(tmp_path):
    with pytest.raises(ReferenceFileError, match="74x74 but the science image is 138x138"):
        read_darkfile(_dark(tmp_path), times=TIMES, shape=(138, 138), samp_seq="SPARS10",
                      subtype="SQ64SUB")


def _flat_pair(tmp_path, with_delta=True, filter="F160W"):
    shape = (1024, 1024)
    rng = np.random.default_rng(1)
    p = (1.0 + 0.01 * rng.standard_normal(shape)).astype(np.float32)
    d = (1.0 + 0.002 * rng.standard_normal(shape)).astype(np.float32)
    low = np.linspace(0.98, 1.02, 256 * 256, dtype=np.float32).reshape(256, 256)
    pdq = np.zeros(shape, np.uint16)
    pdq[480, 490] = 512
    paths = {
        "p": write_flat(tmp_path / "p.fits", filetype="PIXEL-TO-PIXEL FLAT", data=p,
                        err=np.full(shape, 0.01), filter=filter, dq=pdq),
        "d": (write_flat(tmp_path / "d.fits", filetype="DELTA FLAT", data=d,
                         err=np.full(shape, 0.002), filter=filter) if with_delta else None),
        "l": write_flat(tmp_path / "l.fits", filetype="LARGE SCALE FLAT", data=low,
                        err=np.full(low.shape, 0.003), filter=filter, ltv=(2.0, 2.0),
                        ltm=(0.25, 0.25)),
    }
    return paths, p, d, low


def test_flats_combined_as_calwf3(tmp_path):
    from hstramp.core.geometry import cut_to_science, unbin_linear

    paths, p, d, low = _flat_pair(tmp_path)
    flat = read_flats(paths["p"], paths["d"], paths["l"], geometry=SQ64, filter="F160W")
    big_low = unbin_linear(low, 4, 4)
    expected = cut_to_science(p.astype(np.float64) * d * big_low, (74, 74), (475, 475))
    np.testing.assert_allclose(flat.data, expected, rtol=2e-6)
    # amul errors: (a*eb)^2 + (b*ea)^2, applied P*D then *L
    pd = cut_to_science(p.astype(np.float64) * d, (74, 74), (475, 475))
    e_pd = np.sqrt((cut_to_science(p, (74, 74), (475, 475)) * 0.002) ** 2
                   + (cut_to_science(d, (74, 74), (475, 475)) * 0.01) ** 2)
    low_cut = cut_to_science(big_low, (74, 74), (475, 475))
    e = np.sqrt((pd * 0.003) ** 2 + (low_cut * e_pd) ** 2)
    np.testing.assert_allclose(flat.err, e, rtol=1e-5)
    assert flat.dq[480 - 475, 490 - 475] == 512 and flat.dq.sum() == 512
    assert flat.dfltfile == paths["d"] and flat.data.dtype == np.float32


def test_flat_without_delta_and_large_scale_alone(tmp_path):
    from hstramp.core.geometry import cut_to_science, unbin_linear

    paths, p, _, low = _flat_pair(tmp_path, with_delta=False)
    flat = read_flats(paths["p"], None, None, geometry=SQ64)
    np.testing.assert_array_equal(flat.data, cut_to_science(p, (74, 74), (475, 475)))
    alone = read_flats(None, None, paths["l"], geometry=SQ64)
    np.testing.assert_allclose(alone.data, cut_to_science(unbin_linear(low, 4, 4), (74, 74),
                                                          (475, 475)), rtol=1e-6)


def test_flat_errors(tmp_path):
    paths, *_ = _flat_pair(tmp_path)
    with pytest.raises(ReferenceFileError, match="all N/A"):
        read_flats(None, None, None, geometry=SQ64)
    with pytest.raises(ReferenceFileError, match=r"FILTER='F160W' but .* FILTER='F110W'"):
        read_flats(paths["p"], None, None, geometry=SQ64, filter="F110W")
    with pytest.raises(ReferenceFileError, match="FILETYPE='DELTA FLAT'"):
        read_flats(paths["d"], None, None, geometry=SQ64)
    small = write_flat(tmp_path / "small.fits", filetype="DELTA FLAT", data=np.ones((512, 512)),
                       err=np.zeros((512, 512)), filter="F160W")
    with pytest.raises(ReferenceFileError, match="differ in size"):
        read_flats(paths["p"], small, None, geometry=SQ64)
    odd = write_flat(tmp_path / "odd.fits", filetype="LARGE SCALE FLAT", data=np.ones((300, 300)),
                     err=np.zeros((300, 300)), filter="F160W")
    with pytest.raises(ReferenceFileError, match="integer factor"):
        read_flats(paths["p"], None, odd, geometry=SQ64)


def test_flats_are_read_once_per_file_version_and_served_read_only(tmp_path, monkeypatch):
    from hstramp.reference import flat as flat_module

    reads = []
    original = flat_module._read_flat
    monkeypatch.setattr(flat_module, "_read_flat",
                        lambda *args: reads.append(args[1]) or original(*args))
    monkeypatch.setattr(flat_module, "_COMBINED", flat_module.ReadOnlyCache(maxsize=2))
    paths, p, _d, _low = _flat_pair(tmp_path)
    first = read_flats(paths["p"], paths["d"], paths["l"], geometry=FULL, filter="F160W")
    sub = read_flats(paths["p"], paths["d"], paths["l"], geometry=SQ64, filter="F160W")
    assert reads == ["PFLTFILE", "DFLTFILE", "LFLTFILE"]  # the second cut came from the cache
    np.testing.assert_array_equal(sub.data, first.data[475:475 + 74, 475:475 + 74])
    unchanged = first.data.copy()
    if first.data.flags.writeable:  # a copy: writing into it cannot reach the cache
        first.data[0, 0] = -1.0
    assert read_flats(paths["p"], paths["d"], paths["l"], geometry=FULL,
                      filter="F160W").data[0, 0] != -1.0
    assert all(not a.flags.writeable for a in vars(next(iter(
        flat_module._COMBINED._entries.values()))).values() if isinstance(a, np.ndarray))
    # the same file rewritten is a new version: read again
    paths["p"].unlink()
    write_flat(paths["p"], filetype="PIXEL-TO-PIXEL FLAT", data=2 * p, err=np.full(p.shape, 0.01),
               filter="F160W")
    again = read_flats(paths["p"], paths["d"], paths["l"], geometry=FULL, filter="F160W")
    assert reads[3:] == ["PFLTFILE", "DFLTFILE", "LFLTFILE"]
    np.testing.assert_allclose(again.data, 2 * unchanged, rtol=1e-6)


def test_cached_by_file_reads_each_file_version_once_and_never_caches_errors(tmp_path):
    from hstramp.reference.common import cached_by_file

    calls = []

    @cached_by_file(maxsize=2)
    def reader(path, *, scale=1):
        calls.append((Path(path).name, scale))
        text = Path(path).read_text()
        if text == "bad":
            raise ReferenceFileError(f"{path} is bad")
        return len(text) * scale

    good, bad = tmp_path / "good.txt", tmp_path / "bad.txt"
    good.write_text("abc")
    bad.write_text("bad")
    assert [reader(good), reader(good), reader(good, scale=2)] == [3, 3, 6]
    assert calls == [("good.txt", 1), ("good.txt", 2)]
    for _ in range(2):  # an error is raised again, not remembered
        with pytest.raises(ReferenceFileError, match="is bad"):
            reader(bad)
    assert calls[2:] == [("bad.txt", 1), ("bad.txt", 1)]
    good.unlink()
    good.write_text("abcdef")  # a new version of the file: read again
    assert reader(good) == 6
    assert len(reader.cache) == 2


def test_primary_header_checks_share_one_read_per_file_version(tmp_path, monkeypatch):
    """is_dummy and the simulated-file mark read a file's primary header once, whatever
    keyword names it; a changed file is read again."""
    import os

    from astropy.io import fits

    from hstramp.reference import common
    from hstramp.reference.provenance import is_simulated

    path = tmp_path / "ref.fits"
    fits.PrimaryHDU(header=fits.Header([("PEDIGREE", "DUMMY"), ("SIMULATD", True)])).writeto(path)
    opened = []
    real = common.open_reference
    monkeypatch.setattr(common, "open_reference",
                        lambda p, k=None, **options: opened.append(k) or real(p, k, **options))
    assert common.is_dummy(path, "BIASFILE") and is_simulated(path, "DARKFILE")
    assert common.is_dummy(path, "CCDTAB")
    assert opened == ["BIASFILE"]
    fits.PrimaryHDU(header=fits.Header([("PEDIGREE", "GROUND")])).writeto(path, overwrite=True)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not common.is_dummy(path, "BIASFILE") and not is_simulated(path, "DARKFILE")
    assert opened == ["BIASFILE", "BIASFILE"]


def test_a_primary_header_check_parses_the_primary_hdu_alone(tmp_path, monkeypatch):
    """is_dummy reads a file of many extensions without parsing them (a 16-read dark has 81);
    a damaged primary header is still an error naming the keyword and the file."""
    from astropy.io import fits

    from hstramp.reference import common

    path = tmp_path / "many.fits"
    fits.HDUList([fits.PrimaryHDU(header=fits.Header([("PEDIGREE", "DUMMY")])),
                  *(fits.ImageHDU(np.zeros((2, 2), np.float32), name="SCI", ver=v)
                    for v in range(1, 21))]).writeto(path)
    parsed = []
    real = fits.hdu.base._BaseHDU._readfrom_internal

    def counting(*args, **kwargs):
        parsed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(fits.hdu.base._BaseHDU, "_readfrom_internal", counting)
    assert common.is_dummy(path, "DARKFILE")
    assert len(parsed) == 1
    broken = tmp_path / "broken.fits"
    broken.write_bytes(b"NOT A FITS FILE".ljust(2880))
    with pytest.raises(common.ReferenceFileError, match=r"DARKFILE file .*broken\.fits"):
        common.is_dummy(broken, "DARKFILE")


def _planes(rng, shape, ltv=(0.0, 0.0), ltm=(1.0, 1.0)):
    from hstramp.reference.images import ImagePlanes

    sci = rng.normal(1.0, 0.05, shape).astype(np.float32)
    sci[0, 0] = np.nan
    sci[1, 2] = 0.0
    err = rng.uniform(0.0, 0.02, shape).astype(np.float32)
    dq = rng.choice(np.array([0, 0, 4, 512], np.uint16), size=shape)
    return ImagePlanes(sci=sci, err=err, dq=dq, ltv=ltv, ltm=ltm)


@pytest.mark.parametrize(("shape", "binned"), [((128, 96), (16, 12)), ((130, 70), (13, 35)),
                                               ((64, 64), (64, 64)), ((200, 8), (25, 4))])
@pytest.mark.parametrize("extrapolate", [False, True])
def test_a_binned_flat_multiplied_band_by_band_is_the_whole_product(shape, binned,
                                                                    extrapolate):
    """multiply_by_binned gives multiply_flats(a, expand_binned(low)) bit for bit (NaN, zero,
    DQ), in a's own arrays, without the expansion made whole."""
    from hstramp.reference.images import expand_binned, multiply_by_binned, multiply_flats

    rng = np.random.default_rng(shape[0])
    a = _planes(rng, shape, ltv=(3.0, -2.0))
    low = _planes(rng, binned, ltm=(binned[1] / shape[1], binned[0] / shape[0]))
    low_before = [x.copy() for x in (low.sci, low.err, low.dq)]
    copy = type(a)(sci=a.sci.copy(), err=a.err.copy(), dq=a.dq.copy(), ltv=a.ltv, ltm=a.ltm)
    whole = multiply_flats(copy, expand_binned(low, shape, "l.fits", extrapolate=extrapolate),
                           in_place=True)
    banded = multiply_by_binned(a, low, "l.fits", extrapolate=extrapolate)
    assert banded.sci is a.sci and banded.err is a.err and banded.dq is a.dq
    assert (banded.ltv, banded.ltm) == (a.ltv, a.ltm)
    for got, want in ((banded.sci, whole.sci), (banded.err, whole.err), (banded.dq, whole.dq)):
        np.testing.assert_array_equal(got, want)  # NaN where NaN
    for array, before in zip((low.sci, low.err, low.dq), low_before, strict=True):
        np.testing.assert_array_equal(array, before)


def test_a_binned_flat_that_does_not_divide_the_size_is_refused():
    from hstramp.reference.images import multiply_by_binned

    rng = np.random.default_rng(5)
    with pytest.raises(ReferenceFileError, match="does not expand by an integer factor"):
        multiply_by_binned(_planes(rng, (100, 100)), _planes(rng, (30, 10)), "l.fits",
                           extrapolate=False)
