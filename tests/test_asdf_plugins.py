"""hstramp.asdf_plugins: a batch worker loads asdf's plugins without the ones hstramp never
uses, gives the same products, and leaves asdf alone where it is not as expected."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import asdf
import pytest

from hstramp.asdf_plugins import (
    UNUSED_PLUGINS,
    hstramp_configuration,
    load_plugins_except,
    plugin_entry_points,
)
from hstramp.batch import run_batch, warm_up_worker
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from hstramp.pool import run_on_workers
from tests.fits_bytes import masked_bytes
from tests.robustness.processes import ROOT

#: modules only the left-out plugins import
UNUSED_MODULES = ("stdatamodels.jwst.datamodels", "stdatamodels.jwst.transforms", "gwcs",
                  "asdf_astropy.extensions", "astropy.modeling")


def point(value):
    return SimpleNamespace(value=value)


@pytest.mark.parametrize(("value", "kept"), [
    ("stdatamodels.jwst.datamodels.integration:get_resource_mappings", False),
    ("stdatamodels.jwst.transforms.integration:get_extensions", False),
    ("gwcs.extension:get_extensions", False),
    ("stdatamodels.integration:get_resource_mappings", True),   # not a JWST module
    ("gwcsx.extension:get_extensions", True),                   # another package
    ("asdf._core._integration:get_extensions", True),
    ("asdf_astropy.integration:get_extensions", False),
    ("asdf_transform_schemas.integration:get_resource_mappings", True),
    ("stpipe._integration:get_resource_mappings", True),
    ("hstramp.integration:get_resource_mappings", True),
])
def test_listing_leaves_out_the_unused_plugins_only(value, kept):
    listing = plugin_entry_points(lambda group: [point(value)], UNUSED_PLUGINS)
    assert [p.value for p in listing(group="asdf.extensions")] == ([value] if kept else [])


def test_listing_passes_its_selection_on():
    seen = []
    listing = plugin_entry_points(lambda *a, **k: seen.append((a, k)) or [], ("x.",))
    assert listing(group="asdf.extensions") == [] and listing("g") == []
    assert seen == [((), {"group": "asdf.extensions"}), (("g",), {})]


#: run in a fresh process: the plugins loaded (or not) by load_plugins_except
PROBE = """
import json, sys
import asdf
from hstramp.asdf_plugins import load_plugins_except
if sys.argv[1] == "loaded-first":
    asdf.get_config().extensions
lean = load_plugins_except()
from hstramp.datamodels import RampModel
RampModel()
config = asdf.get_config()
print(json.dumps({
    "lean": lean,
    "packages": sorted({e.package_name for e in config.extensions}),
    "jwst_schemas": sum(1 for uri in config.resource_manager
                        if uri.startswith("http://stsci.edu/schemas/jwst_")),
    "hstramp_schemas": sum(1 for uri in config.resource_manager
                           if uri.startswith("asdf://hstramp.org/schemas/")),
    "modules": sorted(m for m in sys.argv[2:] if m in sys.modules),
}))
"""


def probe(mode):
    done = subprocess.run([sys.executable, "-c", PROBE, mode, *UNUSED_MODULES],
                          capture_output=True, text=True, cwd=ROOT, check=True,
                          env={**os.environ, "PYTHONWARNINGS": "error"})
    return json.loads(done.stdout)


def test_a_fresh_process_loads_everything_but_the_unused_plugins():
    found = probe("fresh")
    assert found["lean"] is True
    assert found["packages"] == ["asdf"]  # gwcs, stdatamodels, asdf-astropy left out
    assert found["jwst_schemas"] == 0 and found["hstramp_schemas"] > 0
    assert found["modules"] == []


def test_a_configuration_already_loaded_is_left_as_it_is():
    found = probe("loaded-first")
    assert found["lean"] is False
    assert "gwcs" in found["packages"] and found["jwst_schemas"] > 0


def test_without_asdfs_private_listing_nothing_changes(monkeypatch):
    from asdf import _entry_points

    monkeypatch.delattr(_entry_points, "entry_points")
    assert load_plugins_except() is False


def test_a_loaded_configuration_and_the_listing_are_left_as_they_are():
    from asdf import _entry_points

    config = asdf.get_config()

    def state():
        return (_entry_points.entry_points, [id(e) for e in config.extensions],
                [id(m) for m in config.resource_mappings])

    before = state()  # reading it loads it, if it was not (never make the test process lean)
    assert load_plugins_except() is False
    assert state() == before


def test_only_the_calling_thread_sees_the_wrapped_listing(monkeypatch):
    """Another thread that loads asdf's configuration meanwhile gets asdf's own listing."""
    import threading

    from asdf import _entry_points

    seen = {}

    def packages(group):
        return {point.value.split(".")[0] for point in _entry_points.entry_points(group=group)}

    class Loading:  # a configuration whose loading lists each group here and in a thread
        def listed(self, group):
            seen[group, "caller"] = packages(group)
            other = threading.Thread(
                target=lambda: seen.update({(group, "other"): packages(group)}))
            other.start()
            other.join()
            return []

        resource_mappings = property(lambda self: self.listed("asdf.resource_mappings"))
        extensions = property(lambda self: self.listed("asdf.extensions"))

    monkeypatch.setattr(asdf, "get_config", Loading)
    assert load_plugins_except() is True
    for group in ("asdf.resource_mappings", "asdf.extensions"):
        assert not {"gwcs", "asdf_astropy"} & seen[group, "caller"]
        assert "asdf_astropy" in seen[group, "other"]
    assert "gwcs" in seen["asdf.extensions", "other"]


def unused_modules_imported():
    """A worker task: the modules of the left-out plugins this process has imported."""
    return sorted(m for m in UNUSED_MODULES if m in sys.modules)


def test_a_batch_worker_never_imports_the_unused_plugins():
    results = list(run_on_workers(unused_modules_imported, [{}], 1, lambda task, exc: exc,
                                  warm_up=warm_up_worker))
    assert results == [(0, [])]


def products(directory):
    return sorted(p.name for p in directory.glob("*.fits"))


def test_a_batch_worker_writes_the_same_bytes_as_a_full_configuration(tmp_path, monkeypatch):
    """Products of a lean batch worker against this process's (every plugin loaded)."""
    from hstramp.simulate import simulate_exposure

    exposure = simulate_exposure(tmp_path / "in", size=64, samp_seq="SPARS25", nsamp=6,
                                 seed=31, tvb=0.3)
    monkeypatch.setenv("iref", str(tmp_path / "in"))
    here, worker = tmp_path / "here", tmp_path / "worker"
    asdf.get_config().extensions  # noqa: B018  (this process's call: every plugin loaded)
    WFC3IRPipeline.call(str(exposure.raw_path), output_dir=str(here),
                        steps={"jump": {"rejection_threshold": 5.0}})
    [result] = run_batch([exposure.raw_path], workers=1, output_dir=worker,
                         parameters={"steps": {"jump": {"rejection_threshold": 5.0}}})
    assert result.status == "done", result.error
    assert products(here) == ["isim0031q_flt.fits", "isim0031q_ima.fits"] == products(worker)
    for name in products(here):
        assert masked_bytes(worker / name) == masked_bytes(here / name), name


#: run in a fresh process: what the pipeline's call loads, and what the caller has after it
CALL_PROBE = """
import json, sys
import asdf
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from hstramp.simulate import simulate_exposure
exposure = simulate_exposure(sys.argv[1], size=64, samp_seq="SPARS10", nsamp=4, seed=5)
seen = {}
def watch(event):
    if event.stage == "write" and not event.finished:
        seen["during"] = sorted({e.package_name for e in asdf.get_config().extensions})
pipeline = WFC3IRPipeline(output_dir=sys.argv[1])
pipeline.add_stage_hook(watch)
result = pipeline.run(str(exposure.raw_path))
seen["modules_after"] = sorted(m for m in sys.argv[2:] if m in sys.modules)
import astropy.units as u
result.meta.exposure.extra_time = 3 * u.s  # an astropy object in a model the call made
result.save(sys.argv[1] + "/returned.asdf")
with asdf.open(sys.argv[1] + "/returned.asdf") as saved:
    seen["saved"] = str(saved["meta"]["exposure"]["extra_time"])
seen["caller_after"] = sorted({e.package_name for e in asdf.get_config().extensions})
print(json.dumps(seen))
"""


def test_a_call_loads_hstramps_plugins_and_leaves_the_callers_alone(tmp_path):
    done = subprocess.run([sys.executable, "-c", CALL_PROBE, str(tmp_path), *UNUSED_MODULES],
                          capture_output=True, text=True, cwd=ROOT, check=True,
                          env={**os.environ, "iref": str(tmp_path),
                               "PYTHONWARNINGS": "error"})
    seen = json.loads(done.stdout.splitlines()[-1])
    assert seen["during"] == ["asdf"]
    assert seen["modules_after"] == []  # nothing of the left-out plugins was imported
    assert {"asdf", "asdf-astropy", "gwcs", "stdatamodels"} <= set(seen["caller_after"])
    assert seen["saved"] == "3.0 s"  # the returned model is saved in the caller's configuration


def test_a_caller_with_its_plugins_loaded_gets_a_copy_of_its_own(pytestconfig):
    everything = sorted({e.package_name for e in asdf.get_config().extensions})
    with hstramp_configuration() as lean:
        inside = sorted({e.package_name for e in asdf.get_config().extensions})
    assert lean is False and inside == everything
    assert "gwcs" in everything or pytestconfig.getoption("--lean-asdf")
