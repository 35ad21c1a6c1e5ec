"""The hstramp datamodels: :class:`RampModel` and :class:`ImageModel`.

Both are stdatamodels ``DataModel`` subclasses validated against the YAML schemas shipped in
``hstramp/datamodels/schemas`` (URI prefix ``asdf://hstramp.org/schemas/``). stdatamodels does
not check that arrays agree in shape and silently casts dtypes; :meth:`HstrampModel.validate`
adds both checks, and the models run them whenever they are created, validated or saved.
"""

from __future__ import annotations

import copy

import numpy as np
from stdatamodels import DataModel

from hstramp import __version__
from hstramp.datamodels.dqflags import SDQFLAGS_DEFAULT

__all__ = ["HstrampModel", "ImageModel", "ModelShapeError", "RampModel", "WFC3IRModel"]

_SCHEMA_PREFIX = "asdf://hstramp.org/schemas/"


class ModelShapeError(ValueError):
    """An array of a model disagrees with the others in shape or has the wrong dtype."""


class HstrampModel(DataModel):
    """Base of the hstramp models: HST CRDS identity and array consistency checks.

    Subclasses list ``_array_layout``: attribute -> (dtype, axes), where the axes name the
    dimensions (``"groups"``, ``"y"``, ``"x"``) so shapes can be compared across arrays.
    """

    _array_layout: dict[str, tuple[str, tuple[str, ...]]] = {}

    def __setattr__(self, attr, value):
        """Refuse an array of another dtype instead of casting it silently (stdatamodels would).

        An array of the right dtype and dimensions is all the schema asks of it, so it is
        stored (native byte order) without stdatamodels' schema validation on assignment,
        which for an array re-reads asdf's ndarray schema every time (about 2 ms).
        """
        if attr in self._array_layout and isinstance(value, np.ndarray):
            dtype, axes = self._array_layout[attr]
            if value.ndim != len(axes):
                raise ModelShapeError(
                    f"{type(self).__name__}.{attr} has {value.ndim} dimensions {value.shape}, "
                    f"expected {len(axes)} ({', '.join(axes)})"
                )
            expected = np.dtype(dtype)
            if value.dtype.newbyteorder("=") != expected:
                raise ModelShapeError(
                    f"{type(self).__name__}.{attr} must be {expected}, got {value.dtype}; "
                    f"cast it explicitly (e.g. array.astype(np.{expected}))"
                )
            self._instance[attr] = value if value.dtype.isnative else value.astype(expected)
            return
        super().__setattr__(attr, value)

    #: SDQFLAGS when the exposure's header has none (calwf3's; the STIS models override it)
    DEFAULT_SDQFLAGS = SDQFLAGS_DEFAULT

    @property
    def sdqflags(self):
        """Serious-DQ bits: ``meta.exposure.sdqflags``, else :attr:`DEFAULT_SDQFLAGS`."""
        value = self.meta.exposure.sdqflags
        return self.DEFAULT_SDQFLAGS if value is None else int(value)

    def take_metadata(self, source):
        """Make this model's metadata a copy of ``source``'s (a product of that exposure).

        Everything under ``meta`` is copied (headers, switches, keywords), so later changes
        to either model leave the other alone; only ``meta.model_type`` names this class.

        Parameters
        ----------
        source : HstrampModel
            The model whose metadata this one takes (the ramp of a fitted image, the stack
            of a combined STIS image).
        """
        self._instance["meta"] = copy.deepcopy(source._instance["meta"])
        self.meta.model_type = type(self).__name__

    @property
    def crds_observatory(self):
        """CRDS observatory code: ``"hst"``."""
        return "hst"

    def get_crds_parameters(self):
        """Simple metadata values, for stpipe's parameter machinery (no CRDS is contacted).

        Returns
        -------
        dict
            Flattened metadata with scalar values only.
        """
        return {
            key: val
            for key, val in self.to_flat_dict(include_arrays=False).items()
            if isinstance(val, (str, int, float, bool))
        }

    def on_init(self, init):
        """Stamp the software version and check array consistency after loading."""
        super().on_init(init)
        if not self.meta.hasattr("calibration_software_version"):
            self.meta.calibration_software_version = __version__
        self.make_arrays_native()
        self.check_arrays()

    def make_arrays_native(self):
        """Make every array a plain NumPy array in native byte order.

        astropy reads FITS big-endian and asdf hands out lazy array proxies; the steps'
        core functions write into the model's arrays, which needs real native arrays.
        Arrays already native are left as they are (no copy).
        """
        for name in self._array_layout:
            array = self._instance.get(name)
            if array is None:
                continue
            if not isinstance(array, np.ndarray):
                array = np.asarray(array)
            if not array.dtype.isnative:
                array = array.astype(array.dtype.newbyteorder("="))
            self._instance[name] = array

    def on_save(self, path=None):
        """Check array consistency before anything is written."""
        self.check_arrays()
        super().on_save(path)

    def validate(self):
        """Validate against the schema, then check shapes and dtypes of the arrays."""
        super().validate()
        self.check_arrays()

    def check_arrays(self):
        """Raise :class:`ModelShapeError` if arrays disagree in shape or have the wrong dtype.

        Only arrays that are present are checked; a dimension is fixed by the first array
        that has it (in ``_array_layout`` order).

        Raises
        ------
        ModelShapeError
            Naming the array, its shape or dtype, and what was expected.
        """
        sizes: dict[str, tuple[int, str]] = {}
        for name, (dtype, axes) in self._array_layout.items():
            if not self._instance.get(name) is not None:
                continue
            array = self._instance[name]
            if array.dtype.newbyteorder("=") != np.dtype(dtype):
                raise ModelShapeError(
                    f"{type(self).__name__}.{name} has dtype {array.dtype}, expected {dtype}"
                )
            if array.ndim != len(axes):
                raise ModelShapeError(
                    f"{type(self).__name__}.{name} has {array.ndim} dimensions {array.shape}, "
                    f"expected {len(axes)} ({', '.join(axes)})"
                )
            for axis, size in zip(axes, array.shape, strict=True):
                if axis not in sizes:
                    sizes[axis] = (size, name)
                elif sizes[axis][0] != size:
                    first_size, first_name = sizes[axis]
                    raise ModelShapeError(
                        f"{type(self).__name__}.{name} has shape {array.shape}: its {axis} "
                        f"size {size} disagrees with {first_name} ({axis} size {first_size})"
                    )


class WFC3IRModel(HstrampModel):
    """What the WFC3/IR models share: the commanded gain and the data's unit."""

    #: CCDGAIN when the header has none: the only gain WFC3/IR is operated at (e-/DN)
    DEFAULT_CCDGAIN = 2.5

    @property
    def ccdgain(self):
        """Commanded gain, e-/DN: ``meta.exposure.ccdgain``, else :attr:`DEFAULT_CCDGAIN`.

        A missing or zero CCDGAIN takes the default (the CCDTAB and BPIXTAB rows are
        selected by it).
        """
        return self.meta.exposure.ccdgain or self.DEFAULT_CCDGAIN

    @property
    def in_rates(self):
        """True if the data are count rates (per second), as BUNIT says.

        BUNIT is the one fact used, as calwf3 does (``getDataUnits``): a unit ending in
        ``/S`` (COUNTS/S, ELECTRONS/S) is a rate, anything else, or no BUNIT, counts.
        UNITCORR sets it when it divides by the read times, so after UNITCORR=COMPLETE, or
        in an ima that calwf3 or hstramp wrote after UNITCORR, the data are rates; a ramp
        whose BUNIT is already a rate skips UNITCORR.
        """
        return (self.meta.bunit_data or "COUNTS").strip().upper().endswith("/S")


class RampModel(WFC3IRModel):
    """A MultiAccum ramp in time order: group 0 is the zeroth read.

    Attributes
    ----------
    data : ndarray, float32 [ngroups, ny, nx]
        Science data of every read.
    err : ndarray, float32 [ngroups, ny, nx]
        Error of every read.
    groupdq : ndarray, uint16 [ngroups, ny, nx]
        Data quality of every read.
    pixeldq : ndarray, uint16 [ny, nx]
        Data quality common to all reads.
    times : ndarray, float64 [ngroups]
        Seconds since the zeroth read (SAMPTIME).
    deltatim, routtime, meanblev, meandark : ndarray, float64 [ngroups]
        Per-read keywords of the SCI extensions.
    zsig : ndarray, float32 [ny, nx]
        Zeroth-read signal estimated by ZSIGCORR (0 where not significant).
    zeroread, zeroread_dq : ndarray [ny, nx], optional
        The zeroth read and its DQ saved by ZSIGCORR before it adds the signal estimate to
        read 0; BLEVCORR bias-corrects it and ZOFFCORR subtracts it (then drops it).
    """

    schema_url = _SCHEMA_PREFIX + "ramp-1.0.0"
    _array_layout = {
        "data": ("float32", ("groups", "y", "x")),
        "err": ("float32", ("groups", "y", "x")),
        "groupdq": ("uint16", ("groups", "y", "x")),
        "pixeldq": ("uint16", ("y", "x")),
        "zsig": ("float32", ("y", "x")),
        "times": ("float64", ("groups",)),
        "deltatim": ("float64", ("groups",)),
        "routtime": ("float64", ("groups",)),
        "meanblev": ("float64", ("groups",)),
        "meandark": ("float64", ("groups",)),
        "zeroread": ("float32", ("y", "x")),
        "zeroread_dq": ("uint16", ("y", "x")),
    }
    #: arrays that exist only between ZSIG and ZOFF; never created by default
    _optional_arrays = frozenset({"zeroread", "zeroread_dq"})

    def __init__(self, init=None, **kwargs):
        super().__init__(init, **kwargs)
        self.fill_missing_arrays()

    def fill_missing_arrays(self):
        """Create any array the data implies but the input lacked, with its schema default."""
        if self._instance.get("data") is None:
            return
        ngroups, ny, nx = self.data.shape
        shapes = {"groups": ngroups, "y": ny, "x": nx}
        for name, (dtype, axes) in self._array_layout.items():
            if self._instance.get(name) is None and name not in self._optional_arrays:
                shape = tuple(shapes[axis] for axis in axes)
                setattr(self, name, np.zeros(shape, dtype=dtype))

    def drop_zeroread(self):
        """Forget the saved zeroth read once ZOFFCORR has used it."""
        for name in self._optional_arrays:
            self._instance.pop(name, None)

    @property
    def ngroups(self):
        """Number of reads, including the zeroth read."""
        return self.data.shape[0]


class ImageModel(WFC3IRModel):
    """A fitted count-rate image (the flt).

    Attributes
    ----------
    data, err, var_poisson, var_rnoise : ndarray, float32 [ny, nx]
        Rate, its total error and the two variance components.
    dq : ndarray, uint16 [ny, nx]
        Data quality, collapsed by calwf3's flt rules.
    samp : ndarray, int16 [ny, nx]
        Number of reads used.
    time : ndarray, float32 [ny, nx]
        Time spanned by the reads used, seconds.
    """

    schema_url = _SCHEMA_PREFIX + "image-1.0.0"

    def __init__(self, init=None, **kwargs):
        super().__init__(init, **kwargs)
        if self._instance.get("data") is not None:
            for name, (dtype, _axes) in self._array_layout.items():
                if self._instance.get(name) is None:
                    setattr(self, name, np.zeros(self.data.shape, dtype=dtype))
    _array_layout = {
        "data": ("float32", ("y", "x")),
        "err": ("float32", ("y", "x")),
        "dq": ("uint16", ("y", "x")),
        "var_poisson": ("float32", ("y", "x")),
        "var_rnoise": ("float32", ("y", "x")),
        "samp": ("int16", ("y", "x")),
        "time": ("float32", ("y", "x")),
    }
