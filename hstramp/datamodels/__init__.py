"""Datamodels, their schemas, DQ flags and the WFC3 and STIS FITS readers and writers.

``hstramp.datamodels.dqflags`` is a plain module of flag values; importing it loads this
package (stdatamodels, astropy) too, so the pure-numpy core takes its flags from
``hstramp.core`` instead.
"""

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
    "write_ima",
    "write_stis_crj",
    "write_stis_flt",
]
