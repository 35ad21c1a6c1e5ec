"""Which compiled kernels are used: the one switch between them and the NumPy reference path.

hstramp's per-pixel kernels have two implementations: the NumPy code in :mod:`hstramp.core`
(the reference, always present) and optional C extensions in ``hstramp/core/_native/``,
built by ``pip install`` where a C compiler exists. The two give the same results (float32
rounding aside); tests run both and compare.

The environment variable ``HSTRAMP_KERNELS`` chooses, read at every call:

``auto`` (default)
    the compiled kernel where it is built, else NumPy;
``numpy``
    always the NumPy reference path;
``native``
    the compiled kernels, and an error where one is not built (CI uses this to prove
    the build worked).
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

from hstramp.errors import HstrampError, ParameterError

__all__ = ["ENV_VAR", "KERNELS", "NativeKernelMissing", "built", "kernel", "kernels_used"]

#: The environment variable that chooses the implementation.
ENV_VAR = "HSTRAMP_KERNELS"
#: Every compiled kernel hstramp has: kernel ``name`` is built from ``_native/<name>.c`` as
#: the module ``hstramp.core._native._<name>`` (setup.py builds every C file there).
KERNELS = (
    "calib",
    "crreject",
    "fitsdata",
    "jump",
    "probe",
    "rampfit",
    "scan",
    "stats",
)
_CHOICES = ("auto", "numpy", "native")


class NativeKernelMissing(HstrampError, ImportError):
    """``HSTRAMP_KERNELS=native`` asked for a compiled kernel that is not built."""


def _choice() -> str:
    value = os.environ.get(ENV_VAR, "auto").strip().lower() or "auto"
    if value not in _CHOICES:
        raise ParameterError(f"{ENV_VAR}={value!r}: must be one of {', '.join(_CHOICES)}")
    return value


@functools.cache
def _import(name: str) -> ModuleType | None:
    """The compiled module of kernel ``name``, or None where it is not built."""
    try:
        return importlib.import_module(f"hstramp.core._native._{name}")
    except ImportError:
        return None


def built() -> dict[str, bool]:
    """Which compiled kernels are built in this installation (whatever ``HSTRAMP_KERNELS`` says)."""
    return {name: _import(name) is not None for name in KERNELS}


def kernel(name: str) -> ModuleType | None:
    """The compiled module to use for kernel ``name`` now, or None for the NumPy path.

    Raises
    ------
    NativeKernelMissing
        ``HSTRAMP_KERNELS=native`` and the kernel is not built.
    ParameterError
        ``HSTRAMP_KERNELS`` holds something else than auto, numpy or native.
    """
    if name not in KERNELS:
        raise KeyError(f"no compiled kernel named {name!r} (known: {', '.join(KERNELS)})")
    choice = _choice()
    if choice == "numpy":
        return None
    module = _import(name)
    if module is None and choice == "native":
        raise NativeKernelMissing(
            f"{ENV_VAR}=native but the compiled kernel {name!r} is not built "
            "(reinstall hstramp with a C compiler: pip install -e .)")
    return module


def kernels_used() -> dict[str, str]:
    """For each kernel, the implementation a call would use now: ``"native"`` or ``"numpy"``."""
    return {name: "numpy" if kernel(name) is None else "native" for name in KERNELS}
