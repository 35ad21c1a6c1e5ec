"""Build script for hstramp's optional compiled kernels (everything else is in pyproject.toml).

Each kernel is one C file ``hstramp/core/_native/<name>.c`` (with the shared headers there),
built as the extension module ``hstramp.core._native._<name>``. They work on buffers (the
buffer protocol: no NumPy headers at build time) and are ``optional``: on a machine without a
C compiler the build only warns and hstramp runs its NumPy reference path
(``hstramp.core.native``).

The flags keep the arithmetic the NumPy reference path does: ``-O3`` without fast-math and
without fused multiply-add contraction (which would change float32 rounding).
``-fno-math-errno`` only lets ``sqrt`` skip setting ``errno`` (nothing reads it), so that loops
with a square root vectorise; the square root itself is IEEE-exact either way.
"""

from pathlib import Path

from setuptools import Extension, setup

NATIVE = Path("hstramp", "core", "_native")
FLAGS = ["-O3", "-fno-fast-math", "-ffp-contract=off", "-fno-math-errno"]


def kernels() -> list[Extension]:
    """One optional extension per C file under ``hstramp/core/_native/``; the headers there
    (shared inline helpers) are dependencies of every kernel, and ship in the sdist."""
    headers = [header.as_posix() for header in sorted(NATIVE.glob("*.h"))]
    return [
        Extension(f"hstramp.core._native._{source.stem}", [source.as_posix()],
                  depends=headers, optional=True, extra_compile_args=FLAGS)
        for source in sorted(NATIVE.glob("*.c"))
    ]


setup(ext_modules=kernels())
