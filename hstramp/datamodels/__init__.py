"""Datamodels, schemas, DQ flags and WFC3 FITS readers/writers.

Heavy imports (stdatamodels, astropy) happen lazily so that ``hstramp.datamodels.dqflags``
stays importable from the pure-numpy core.
"""

import importlib

_LAZY = {
    "RampModel": "hstramp.datamodels.models",
    "ImageModel": "hstramp.datamodels.models",
    "open": "hstramp.datamodels.io",
    "ModelShapeError": "hstramp.datamodels.models",
    "read_flt": "hstramp.datamodels.wfc3_fits",
    "read_multiaccum": "hstramp.datamodels.wfc3_fits",
    "write_ima": "hstramp.datamodels.wfc3_fits",
    "write_flt": "hstramp.datamodels.wfc3_fits",
    "write_hdulists": "hstramp.datamodels.wfc3_fits",
    "STISCCDModel": "hstramp.datamodels.stis_models",
    "STISImageModel": "hstramp.datamodels.stis_models",
    "read_stis": "hstramp.datamodels.stis_fits",
    "write_stis_crj": "hstramp.datamodels.stis_fits",
    "write_stis_flt": "hstramp.datamodels.stis_fits",
}

__all__ = sorted(_LAZY)


def __getattr__(name):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'hstramp.datamodels' has no attribute {name!r}")
