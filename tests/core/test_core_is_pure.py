"""hstramp.core is pure numpy: it imports nothing of hstramp outside hstramp.core (except
hstramp.errors) and no datamodel, FITS, ASDF, pipeline or logging-configuration library.

Every module under hstramp/core is parsed, not imported, so an import inside a function
counts as much as one at the top.
"""

import ast
from pathlib import Path

import pytest

import hstramp.core

CORE = Path(hstramp.core.__file__).parent
MODULES = sorted(CORE.rglob("*.py"))
#: hstramp modules core may import besides its own
ALLOWED_HSTRAMP = ("hstramp.core", "hstramp.errors")
#: libraries core must not import (I/O, datamodels, pipeline machinery, logging setup)
FORBIDDEN = ("astropy", "stdatamodels", "stpipe", "asdf", "crds", "logging.config")


def module_name(path: Path) -> str:
    """Dotted name of a module file under hstramp/core."""
    parts = path.relative_to(CORE.parent.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, absolute dotted name)`` of everything one module imports.

    ``from a.b import c`` gives ``a.b.c`` (``c`` may be a module); relative imports are
    resolved against ``module``.
    """
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def impure(name: str) -> bool:
    """An import core must not make."""

    def within(prefixes):
        return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)

    return (within(("hstramp",)) and not within(ALLOWED_HSTRAMP)) or within(FORBIDDEN)


def test_every_core_module_is_checked():
    names = {module_name(path) for path in MODULES}
    assert {
        "hstramp.core.dqflags",
        "hstramp.core.jump.twopoint",
        "hstramp.core.ramp_fit.endpoints",
        "hstramp.core.stis.dqflags",
        "hstramp.core.tvb",
    } <= names


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_core_module_imports_only_core_errors_numpy_and_the_standard_library(path):
    found = imported_names(path.read_text(), module_name(path), path.name == "__init__.py")
    bad = [f"{module_name(path)}:{line} imports {name}" for line, name in found if impure(name)]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize(
    "source, offending",
    [
        ("from hstramp.datamodels import dqflags\n", "hstramp.datamodels.dqflags"),
        ("from hstramp import datamodels\n", "hstramp.datamodels"),
        ("import hstramp.steps.jump\n", "hstramp.steps.jump"),
        ("def f():\n    from astropy.io import fits\n", "astropy.io.fits"),
        ("import stdatamodels.jwst\n", "stdatamodels.jwst"),
        ("import asdf\n", "asdf"),
        ("from stpipe import Step\n", "stpipe.Step"),
        ("from logging import config\n", "logging.config"),
        ("import logging.config\n", "logging.config"),
        ("from ...pipeline import wfc3ir\n", "hstramp.pipeline.wfc3ir"),
    ],
)
def test_the_check_rejects_an_impure_import(source, offending):
    found = [name for _, name in imported_names(source, "hstramp.core.jump.twopoint")]
    assert offending in found
    assert impure(offending)


@pytest.mark.parametrize(
    "source",
    [
        "from hstramp.core import dqflags\n",
        "from hstramp.errors import ParameterError\n",
        "from . import _sorting\n",
        "from ..blocks import row_blocks\n",
        "import logging\n",
        "import numpy as np\n",
    ],
)
def test_the_check_accepts_a_pure_import(source):
    found = [name for _, name in imported_names(source, "hstramp.core.jump.twopoint")]
    assert found and not any(impure(name) for name in found)
