"""Datamodels, their schemas, DQ flags and the WFC3 and STIS FITS readers and writers.

Plain imports of the public API. ``hstramp.datamodels.dqflags`` is a module of flag values
with no other dependency, but importing it runs this package's imports (stdatamodels,
astropy) first; nothing here imports ``hstramp.core``, so there is no import cycle.
"""

from hstramp.datamodels.fits_io import write_hdulists
from hstramp.datamodels.io import open
from hstramp.datamodels.models import ImageModel, ModelShapeError, RampModel
from hstramp.datamodels.stis_fits import read_stis, write_stis_crj, write_stis_flt
from hstramp.datamodels.stis_models import STISCCDModel, STISImageModel
from hstramp.datamodels.wfc3_fits import read_flt, read_multiaccum, write_flt, write_ima

__all__ = [
    "ImageModel",
    "ModelShapeError",
    "RampModel",
    "STISCCDModel",
    "STISImageModel",
    "open",
    "read_flt",
    "read_multiaccum",
    "read_stis",
    "write_flt",
    "write_hdulists",
    "write_ima",
    "write_stis_crj",
    "write_stis_flt",
]
