"""Open anything a user may hand a step: a model, a raw/ima/flt FITS file, or a saved model."""

from __future__ import annotations

import warnings
from pathlib import Path

from astropy.io import fits

from hstramp.datamodels.fits_io import open_hdulist
from hstramp.datamodels.models import HstrampModel, ImageModel, RampModel
from hstramp.datamodels.stis_fits import is_stis, read_stis
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.datamodels.wfc3_fits import read_flt, read_multiaccum
from hstramp.errors import InputFileError

__all__ = ["open"]

_MODEL_TYPES = {model.__name__: model
                for model in (RampModel, ImageModel, STISCCDModel, STISImageModel)}


def open(init):
    """Open ``init`` as an hstramp model.

    Parameters
    ----------
    init : str, Path or HstrampModel
        A model is returned as it is. A ``.asdf`` file, or a FITS file saved by
        ``model.save()``, opens as the model type recorded in it; a WFC3 MultiAccum FITS
        file (raw or ima, NSAMP imsets) as a :class:`RampModel`; a WFC3 flt as an
        :class:`ImageModel`; a STIS CCD raw/flt as a ``STISCCDModel`` and a crj as a
        ``STISImageModel``.

    Returns
    -------
    HstrampModel

    Raises
    ------
    InputFileError
        If the file does not exist or is none of the above.
    """
    if isinstance(init, HstrampModel):
        return init
    if not isinstance(init, (str, Path)):
        raise InputFileError(f"cannot open {init!r} as an hstramp model")
    path = Path(init)
    if path.is_dir():
        raise InputFileError(f"input {path} is a directory, not a file")
    if not path.is_file():
        raise InputFileError(f"input file {path} does not exist")
    if path.suffix.lower() == ".asdf":
        return _open_saved_model(path, _asdf_model_type(path))
    if is_stis(path) and not _is_saved_model(path):
        return read_stis(path)
    # headers read once: classified, then handed to the reader, which reads the images
    with open_hdulist(path, read_data=False) as hdulist:
        kind = _classify(hdulist, path)
        if kind == "multiaccum":
            return read_multiaccum(path, hdulist)
        if kind == "flt":
            return read_flt(path, hdulist)
    return _open_saved_model(path, kind)


def _asdf_model_type(path):
    import asdf

    try:
        with asdf.open(path, lazy_load=True) as af:
            return af.tree.get("meta", {}).get("model_type")
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path} is not a readable ASDF file: {exc}") from exc


def _classify(hdulist, path):
    """'multiaccum', 'flt', or the model type of an stdatamodels-written FITS file."""
    primary = hdulist[0].header
    names = [str(h.header.get("EXTNAME", "")).upper() for h in hdulist[1:]]
    if "ASDF" in names:
        import asdf

        with asdf.open(hdulist["ASDF"].data.tobytes()) as af:
            return af.tree.get("meta", {}).get("model_type")
    # structure first: an flt keeps the raw's NSAMP in its primary header
    if names.count("SCI") > 1:
        return "multiaccum"  # the reader names what is missing (NSAMP, an imset ...)
    if names.count("SCI") == 1 and "SAMP" in names and "TIME" in names:
        return "flt"
    if "NSAMP" in primary:
        return "multiaccum"
    raise InputFileError(
        f"{path} is neither a WFC3/IR raw, ima or flt file nor a saved hstramp model"
    )


def _is_saved_model(path):
    """True if a FITS file carries an ASDF extension (written by ``model.save()``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a damaged file is reported by the reader
            with fits.open(path, memmap=False) as hdulist:
                return any(str(h.header.get("EXTNAME", "")).upper() == "ASDF"
                           for h in hdulist[1:])
    except (OSError, ValueError, TypeError, IndexError):
        return False


def _open_saved_model(path, model_type):
    cls = _MODEL_TYPES.get(model_type)
    if cls is None:
        raise InputFileError(f"{path}: model type {model_type!r} is not an hstramp model")
    return cls(path)
