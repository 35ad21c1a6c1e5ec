"""Which way imports go (docs/developer/layout.md): read from the source, never by running it.

* No step module imports another step module: what steps share lives in ``steps.base``
  (plumbing), ``datamodels.headers`` (header edits) or an instrument's helper module
  (``steps.detector``, ``steps.stis.common``).
* No STIS module imports a WFC3 module and no WFC3 module a STIS one, in the pipelines, steps,
  CLI and datamodels: shared things live in neutral modules.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import hstramp
from hstramp.steps.base import HstrampStep

PACKAGE = Path(hstramp.__file__).parent
#: the rooms whose instrument separation is checked here (core, reference and simulate have
#: their own checks)
CHECKED = ("pipeline", "steps", "cli", "datamodels", "batch")
#: step-package modules that hold no step (shared helpers)
STEP_HELPERS = {"hstramp.steps", "hstramp.steps.base",
                "hstramp.steps.detector", "hstramp.steps.stis", "hstramp.steps.stis.common"}
#: WFC3/IR modules outside the step package
WFC3_MODULES = {"hstramp.pipeline.wfc3ir", "hstramp.datamodels.wfc3_fits", "hstramp.batch",
                "hstramp.steps.detector", "hstramp.cli.demo", "hstramp.cli.xray",
                "hstramp.cli.stats", "hstramp.cli.tvb", "hstramp.cli.batch"}
#: imports across the line that another part of issue 14 removes (the neutral FITS helpers of
#: datamodels/fits_io.py); each must still exist, so that the entry goes when the import does
PENDING = set()


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_modules(name):
    """The hstramp modules ``name`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[name].read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names
                         if f"{node.module}.{alias.name}" in MODULES)
    return {module for module in found if module in MODULES}


def is_stis(name):
    return any(part == "stis" or part.startswith("stis_") for part in name.split("."))


def step_modules():
    """Modules of the step package that define a step class."""
    names = set()
    for name in MODULES:
        if name.startswith("hstramp.steps.") and name not in STEP_HELPERS:
            module = importlib.import_module(name)
            if any(issubclass(obj, HstrampStep) and obj.__module__ == name
                   for _n, obj in inspect.getmembers(module, inspect.isclass)):
                names.add(name)
    return names


STEP_MODULES = step_modules()


def is_wfc3(name):
    return name in WFC3_MODULES or (name in STEP_MODULES and not is_stis(name))


def checked(name):
    parts = name.split(".")
    return len(parts) > 1 and parts[1] in CHECKED


def test_the_step_package_is_what_the_layout_says():
    assert {"hstramp.steps.dark", "hstramp.steps.ramp_fit",
            "hstramp.steps.stis.blev", "hstramp.steps.stis.crreject"} <= STEP_MODULES
    assert len(STEP_MODULES) == 23  # 13 WFC3/IR stages, 10 STIS CCD stages
    assert set(MODULES) >= STEP_HELPERS | WFC3_MODULES


@pytest.mark.parametrize("name", sorted(STEP_MODULES))
def test_no_step_imports_another_step(name):
    assert imported_modules(name) & STEP_MODULES == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if checked(n) and is_stis(n)))
def test_stis_modules_import_no_wfc3_module(name):
    crossing = {m for m in imported_modules(name) if is_wfc3(m)} - {
        target for source, target in PENDING if source == name}
    assert crossing == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if checked(n) and is_wfc3(n)))
def test_wfc3_modules_import_no_stis_module(name):
    assert {m for m in imported_modules(name) if is_stis(m)} == set()


@pytest.mark.parametrize(("source", "target"), sorted(PENDING))
def test_pending_crossings_still_exist(source, target):
    assert target in imported_modules(source), f"{source} no longer imports {target}: " \
                                               "remove the entry from PENDING"
