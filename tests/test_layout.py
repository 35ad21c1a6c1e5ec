"""Which way imports go (docs/developer/layout.md): read from the source, never by running it.

* No step module imports another step module: what steps share lives in ``steps.base``
  (plumbing), ``datamodels.headers`` (header edits) or an instrument's helper module
  (``steps.detector``, ``steps.stis.common``).
* No STIS module imports a WFC3/IR module and no WFC3/IR module a STIS one, in every room
  (core, datamodels, reference, simulate, steps, pipeline, cli): shared things live in neutral
  modules, and a neutral module imports no instrument's module unless it is one of the few
  dispatchers that pick an instrument by name.
* No import cycles between hstramp modules (imports inside functions count).
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import hstramp
from hstramp.steps.base import HstrampStep

PACKAGE = Path(hstramp.__file__).parent
#: modules shared by both instruments (instrument-free algorithms, plumbing, formats that HST
#: instruments share). Everything that is neither here nor STIS is WFC3/IR.
NEUTRAL = {
    "hstramp", "hstramp.errors", "hstramp.integration", "hstramp.batch",
    "hstramp.signals", "hstramp.pool", "hstramp.names", "hstramp.fitsimage",
    "hstramp.asdf_plugins",
    # core: the algorithms both instruments run (flag tables, geometry, subtraction of a
    # reference image with errors in quadrature, the CCD noise model, flat division, DQ OR)
    "hstramp.core", "hstramp.core.dqflags", "hstramp.core.geometry", "hstramp.core.dqinit",
    "hstramp.core.dark", "hstramp.core.noise", "hstramp.core.flat", "hstramp.core.outputs",
    # the switch between the compiled kernels and the NumPy reference path
    "hstramp.core.native",
    # calwf3's image statistics keywords and the photometry keyword arithmetic (PHOTFNU from
    # PHOTFLAM, the OBSMODE form), which calstis computes the same way
    "hstramp.core.stats", "hstramp.core.phot",
    # datamodels: the model base, the FITS plumbing, header edits, atomic writes, dispatch
    "hstramp.datamodels", "hstramp.datamodels.models", "hstramp.datamodels.fits_io",
    "hstramp.datamodels.fits_writer",
    "hstramp.datamodels.headers", "hstramp.datamodels.atomic", "hstramp.datamodels.io",
    "hstramp.datamodels.dqflags", "hstramp.datamodels.asn", "hstramp.datamodels.products",
    # reference: reading, typed columns, image planes, iref$/oref$, CRDS, the IMPHTTAB format
    # (one format for every HST instrument), the simulated-reference mark
    "hstramp.reference.common", "hstramp.reference.images",
    "hstramp.reference.resolve", "hstramp.reference.crds", "hstramp.reference.provenance",
    "hstramp.reference.photometry",
    "hstramp.simulate._fits", "hstramp.simulate.scene",
    "hstramp.steps", "hstramp.steps.base",
    "hstramp.pipeline", "hstramp.pipeline.base", "hstramp.pipeline.parameters",
    "hstramp.cli", "hstramp.cli.__main__", "hstramp.cli.pipeline_args", "hstramp.cli.arguments",
    "hstramp.cli.refs", "hstramp.cli.report", "hstramp.cli.run", "hstramp.plots", "hstramp.report",
    "hstramp.testing",
}
#: neutral modules that choose an instrument's module by name (lazily, inside a function)
DISPATCHERS = {"hstramp.datamodels", "hstramp.datamodels.io", "hstramp.pipeline", "hstramp.cli",
               "hstramp.cli.refs", "hstramp.simulate.matching", "hstramp.batch",
               "hstramp.report", "hstramp.cli.report"}
#: step-package modules that hold no step (shared helpers)
STEP_HELPERS = {"hstramp.steps", "hstramp.steps.base",
                "hstramp.steps.detector", "hstramp.steps.stis", "hstramp.steps.stis.common"}


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
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & set(MODULES)
            found.update(submodules)
            if len(submodules) < len(node.names):  # a name defined in the module itself
                found.add(node.module)
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
    return not is_stis(name) and name not in NEUTRAL and name not in DISPATCHERS


def test_the_step_package_is_what_the_layout_says():
    assert {"hstramp.steps.dark", "hstramp.steps.ramp_fit",
            "hstramp.steps.stis.blev", "hstramp.steps.stis.crreject"} <= STEP_MODULES
    assert sum(not is_stis(n) for n in STEP_MODULES) == 13  # the calwf3 IR stages + TVB
    assert sum(is_stis(n) for n in STEP_MODULES) == 10  # the calstis 2-D CCD stages
    assert set(MODULES) >= STEP_HELPERS | NEUTRAL | DISPATCHERS


@pytest.mark.parametrize("name", sorted(STEP_MODULES))
def test_no_step_imports_another_step(name):
    assert imported_modules(name) & STEP_MODULES == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if is_stis(n)))
def test_stis_modules_import_no_wfc3_module(name):
    assert {m for m in imported_modules(name) if is_wfc3(m)} == set()


@pytest.mark.parametrize("name", sorted(n for n in MODULES if is_wfc3(n)))
def test_wfc3_modules_import_no_stis_module(name):
    assert {m for m in imported_modules(name) if is_stis(m)} == set()


@pytest.mark.parametrize("name", sorted(NEUTRAL - DISPATCHERS))
def test_neutral_modules_import_no_instrument_module(name):
    assert {m for m in imported_modules(name) if is_stis(m) or is_wfc3(m)} == set()


def import_cycles():
    """Strongly connected groups of more than one module in the import graph (Tarjan)."""
    graph = {name: imported_modules(name) - {name} for name in MODULES}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def test_no_import_cycles():
    assert import_cycles() == []


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    original = imported_modules

    def with_a_cycle(name):
        found = set(original(name))
        if name == "hstramp.errors":
            found.add("hstramp.steps.base")
        return found

    monkeypatch.setitem(globals(), "imported_modules", with_a_cycle)
    assert any("hstramp.errors" in group for group in import_cycles())
