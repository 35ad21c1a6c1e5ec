"""The switch between compiled kernels and the NumPy reference path (hstramp.core.native)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hstramp.core import native

ROOT = Path(__file__).resolve().parents[2]


def test_every_kernel_is_built_in_ci():
    """CI has a C compiler: a kernel that failed to build is a failure there."""
    if not os.environ.get("CI"):
        pytest.skip("only CI requires the compiled kernels (a plain machine may lack a compiler)")
    assert native.built() == dict.fromkeys(native.KERNELS, True)


def test_every_c_file_is_a_registered_kernel():
    """setup.py builds every C file under _native/; core.native must know each one by name."""
    sources = sorted(p.stem for p in (ROOT / "hstramp" / "core" / "_native").glob("*.c"))
    assert sources == sorted(native.KERNELS)


@pytest.mark.parametrize(("setting", "expected"), [
    ("numpy", "numpy"),
    ("NumPy", "numpy"),
    ("native", "native"),
    ("auto", "native"),
    ("", "native"),
])
def test_the_setting_chooses_the_implementation(monkeypatch, setting, expected):
    if not native.built()["probe"]:
        pytest.skip("compiled kernels not built here")
    monkeypatch.setenv(native.ENV_VAR, setting)
    assert native.kernels_used()["probe"] == expected


@pytest.mark.parametrize(("setting", "expected"), [("auto", None), ("numpy", None)])
def test_a_missing_kernel_falls_back_unless_native_is_required(monkeypatch, setting, expected):
    monkeypatch.setattr(native, "_import", lambda name: None)
    monkeypatch.setenv(native.ENV_VAR, setting)
    assert native.kernel("probe") is expected


def test_native_required_but_missing_names_the_kernel(monkeypatch):
    monkeypatch.setattr(native, "_import", lambda name: None)
    monkeypatch.setenv(native.ENV_VAR, "native")
    with pytest.raises(native.NativeKernelMissing, match="'probe' is not built"):
        native.kernel("probe")


@pytest.mark.hostile("unclear")
def test_an_unknown_setting_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(native.ENV_VAR, "fortran")
    with pytest.raises(ValueError, match="HSTRAMP_KERNELS='fortran'"):
        native.kernel("probe")


def test_an_unknown_kernel_is_refused():
    with pytest.raises(KeyError, match="no compiled kernel named 'fft'"):
        native.kernel("fft")


def test_the_probe_reads_the_buffer_it_is_given(monkeypatch):
    monkeypatch.setenv(native.ENV_VAR, "auto")
    probe = native.kernel("probe")
    if probe is None:
        pytest.skip("compiled kernels not built here")
    values = np.random.default_rng(5).normal(size=1000)
    assert probe.buffer_sum(values) == pytest.approx(values.sum(), rel=1e-12)
    with pytest.raises(ValueError, match="whole number of float64"):
        probe.buffer_sum(b"abc")


def test_a_machine_without_a_compiler_still_installs_and_runs_numpy(tmp_path):
    """setup.py's kernels are optional: with a failing compiler pip still builds hstramp."""
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "hstramp", tree / "hstramp",
                    ignore=shutil.ignore_patterns("*.so", "__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tree)
    env = {**os.environ, "CC": "false", "LDSHARED": "false"}
    built = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
         str(tmp_path / "site"), str(tree)],
        env=env, capture_output=True, text=True, check=False)
    assert built.returncode == 0, built.stderr[-3000:]
    assert not list((tmp_path / "site").rglob("*.so"))
    used = subprocess.run(
        [sys.executable, "-c", "from hstramp.core import native; print(native.kernels_used())"],
        env={**env, "PYTHONPATH": str(tmp_path / "site"), native.ENV_VAR: "auto"},
        cwd=tmp_path, capture_output=True, text=True, check=True)
    assert used.stdout.strip() == str(dict.fromkeys(native.KERNELS, "numpy"))
