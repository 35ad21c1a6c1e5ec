"""STIS CCD datamodels: a stack of CR-SPLIT exposures and the combined (crj) image.

Both build on :class:`~hstramp.datamodels.models.HstrampModel` (shape and dtype checks,
native byte order, HST CRDS identity) and on the shared ``core-1.0.0`` metadata; the STIS
switches, the BIASFILE keyword and the readout configuration (``meta.stis``) come from the
``stis_meta-1.0.0`` schema fragment.
"""

from __future__ import annotations

import numpy as np

from hstramp.core.stis.dqflags import SDQFLAGS_ABSENT
from hstramp.datamodels.models import _SCHEMA_PREFIX, HstrampModel

__all__ = ["STISCCDModel", "STISImageModel"]


class STISCCDModel(HstrampModel):
    """The imsets of a STIS CCD exposure (raw, after 2-D steps, or the flt), in file order.

    Attributes
    ----------
    data, err : ndarray, float32 [nexp, ny, nx]
        Science data and errors of every imset, DN (raw: overscan included).
    dq : ndarray, uint16 [nexp, ny, nx]
        Data quality of every imset (STIS flags).
    exptime, expstart, expend : ndarray, float64 [nexp]
        EXPTIME (s), EXPSTART and EXPEND (MJD) of each imset's SCI header.
    meanblev, meandark : ndarray, float64 [nexp]
        Bias level and median dark subtracted from each imset, DN.
    ncombine : ndarray, int32 [nexp]
        NCOMBINE of each imset (1 for raw imsets).
    occdhtav : ndarray, float64 [nexp]
        OCCDHTAV (CCD housing temperature, deg C) of each imset; NaN where absent.
    """

    #: SDQFLAGS when the exposure's SCI header has none: calstis's 32767 (``getgrpinfo1.c``)
    DEFAULT_SDQFLAGS = SDQFLAGS_ABSENT

    schema_url = _SCHEMA_PREFIX + "stis_ccd-1.0.0"
    _array_layout = {
        "data": ("float32", ("exposures", "y", "x")),
        "err": ("float32", ("exposures", "y", "x")),
        "dq": ("uint16", ("exposures", "y", "x")),
        "exptime": ("float64", ("exposures",)),
        "expstart": ("float64", ("exposures",)),
        "expend": ("float64", ("exposures",)),
        "meanblev": ("float64", ("exposures",)),
        "meandark": ("float64", ("exposures",)),
        "ncombine": ("int32", ("exposures",)),
        "occdhtav": ("float64", ("exposures",)),
    }
    #: fill of a per-imset array the input did not give (NaN: keyword absent)
    _fill = {"ncombine": 1, "occdhtav": np.nan}

    def __init__(self, init=None, **kwargs):
        super().__init__(init, **kwargs)
        if self._instance.get("data") is None:
            return
        nexp, ny, nx = self.data.shape
        sizes = {"exposures": nexp, "y": ny, "x": nx}
        for name, (dtype, axes) in self._array_layout.items():
            if self._instance.get(name) is None:
                fill = self._fill.get(name, 0)
                setattr(self, name, np.full(tuple(sizes[a] for a in axes), fill, dtype=dtype))

    @property
    def nexp(self):
        """Number of imsets (CR-SPLIT exposures)."""
        return self.data.shape[0]

    def imsets(self, indices):
        """A new stack of the imsets ``indices`` (copies of their arrays, all the metadata).

        Parameters
        ----------
        indices : sequence of int
            Imsets to keep, 0-based, in the order given.

        Returns
        -------
        STISCCDModel
        """
        keep = np.asarray(indices, dtype=np.intp)
        out = STISCCDModel(**{name: np.array(getattr(self, name)[keep])
                              for name in self._array_layout})
        out.take_metadata(self)
        return out


class STISImageModel(HstrampModel):
    """A combined STIS CCD image (the ``_crj``).

    Attributes
    ----------
    data, err : ndarray, float32 [ny, nx]
        Combined data (DN, sky added back) and its error.
    dq : ndarray, uint16 [ny, nx]
        OR of the inputs' DQ; 8192 only where every input was rejected.
    input_dq : ndarray, uint16 [nexp, ny, nx], optional
        Each input's DQ with 8192 where it was rejected (what calstis writes back into the
        inputs when CRMASK is set); used for the ``_flt`` product. Not written to the crj.
    """

    #: SDQFLAGS when the exposure's SCI header has none: calstis's 32767 (``getgrpinfo1.c``)
    DEFAULT_SDQFLAGS = SDQFLAGS_ABSENT

    schema_url = _SCHEMA_PREFIX + "stis_image-1.0.0"
    _array_layout = {
        "data": ("float32", ("y", "x")),
        "err": ("float32", ("y", "x")),
        "dq": ("uint16", ("y", "x")),
        "input_dq": ("uint16", ("exposures", "y", "x")),
    }

    def __init__(self, init=None, **kwargs):
        super().__init__(init, **kwargs)
        if self._instance.get("data") is None:
            return
        for name in ("err", "dq"):
            if self._instance.get(name) is None:
                dtype = self._array_layout[name][0]
                setattr(self, name, np.zeros(self.data.shape, dtype=dtype))
