"""Build script for hstramp's optional compiled kernels (everything else is in pyproject.toml).

Each kernel is a small C extension that works on buffers (the buffer protocol: no NumPy
headers at build time). They are ``optional``: on a machine without a C compiler the
build only warns and hstramp runs its NumPy reference path (``hstramp.core.native``).
"""

from setuptools import Extension, setup

#: (module, sources) of every compiled kernel, under ``hstramp/core/_native/``.
KERNELS = [
    ("hstramp.core._native._probe", ["hstramp/core/_native/probe.c"]),
]

setup(
    ext_modules=[
        Extension(name, sources, optional=True, extra_compile_args=["-O3", "-fno-fast-math"])
        for name, sources in KERNELS
    ],
)
