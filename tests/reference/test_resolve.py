"""resolve_reference_path and is_dummy."""

import pytest
from astropy.io import fits

from hstramp.reference import ReferenceFileError, is_dummy, resolve_reference_path


@pytest.fixture
def ref_dir(tmp_path):
    hdu = fits.PrimaryHDU()
    hdu.header["FILETYPE"] = "DARK"
    hdu.header["PEDIGREE"] = "INFLIGHT 01/01/2010 01/01/2011"
    hdu.writeto(tmp_path / "abc_drk.fits")
    dummy = fits.PrimaryHDU()
    dummy.header["PEDIGREE"] = "DUMMY 01/01/2010"
    dummy.writeto(tmp_path / "dum_drk.fits")
    (tmp_path / "notfits.fits").write_text("hello, this is not FITS\n")
    return tmp_path


@pytest.mark.parametrize("trailing", ["", "/"])
def test_iref_with_or_without_trailing_slash(ref_dir, monkeypatch, trailing):
    monkeypatch.setenv("iref", str(ref_dir) + trailing)
    assert resolve_reference_path("iref$abc_drk.fits", "DARKFILE") == ref_dir / "abc_drk.fits"


def test_other_prefixes_work_the_same(ref_dir, monkeypatch):
    monkeypatch.setenv("oref", str(ref_dir))
    monkeypatch.setenv("myrefs", str(ref_dir))
    assert resolve_reference_path("oref$abc_drk.fits", "DARKFILE") == ref_dir / "abc_drk.fits"
    assert resolve_reference_path(" myrefs$abc_drk.fits ", "X") == ref_dir / "abc_drk.fits"


def test_plain_path_is_used_as_is(ref_dir):
    path = ref_dir / "abc_drk.fits"
    assert resolve_reference_path(str(path), "DARKFILE") == path


@pytest.mark.parametrize("value", ["N/A", "n/a  ", "", "   ", "NONE", None])
def test_not_applicable_gives_none(value):
    assert resolve_reference_path(value, "DFLTFILE") is None


def test_unset_variable_names_keyword_value_and_variable(monkeypatch):
    monkeypatch.delenv("iref", raising=False)
    monkeypatch.delenv("IREF", raising=False)
    with pytest.raises(ReferenceFileError) as err:
        resolve_reference_path("iref$abc_drk.fits", "DARKFILE")
    message = str(err.value)
    assert "DARKFILE" in message and "iref$abc_drk.fits" in message and "'iref'" in message
    assert err.value.keyword == "DARKFILE"


def test_missing_file_names_keyword_value_and_path(ref_dir, monkeypatch):
    monkeypatch.setenv("iref", str(ref_dir))
    with pytest.raises(ReferenceFileError) as err:
        resolve_reference_path("iref$gone_drk.fits", "DARKFILE")
    message = str(err.value)
    assert "DARKFILE" in message and "iref$gone_drk.fits" in message
    assert str(ref_dir / "gone_drk.fits") in message
    assert err.value.path == ref_dir / "gone_drk.fits"


def test_not_fits_is_an_error(ref_dir, monkeypatch):
    monkeypatch.setenv("iref", str(ref_dir))
    with pytest.raises(ReferenceFileError, match="not a FITS file") as err:
        resolve_reference_path("iref$notfits.fits", "PFLTFILE")
    assert "PFLTFILE" in str(err.value)


def test_directory_is_not_a_file(ref_dir):
    with pytest.raises(ReferenceFileError, match="not a file"):
        resolve_reference_path(str(ref_dir), "CCDTAB")


def test_is_dummy(ref_dir):
    assert is_dummy(ref_dir / "dum_drk.fits")
    assert not is_dummy(ref_dir / "abc_drk.fits")


def test_is_dummy_on_unreadable_file(ref_dir):
    with pytest.raises(ReferenceFileError):
        is_dummy(ref_dir / "notfits.fits")


def test_reference_error_is_a_value_error():
    assert issubclass(ReferenceFileError, ValueError)
