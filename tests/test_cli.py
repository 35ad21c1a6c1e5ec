"""The hstramp console script: demo, xray, dq, error handling."""

import subprocess
import sys

import numpy as np
import pytest
from astropy.io import fits

from hstramp.cli import main


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("sim"), size=64, samp_seq="SPARS10",
                             nsamp=9, seed=5)


def test_demo_runs_and_reports_truth(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--size", "64", "--nsamp", "6"]) == 0
    out = capsys.readouterr().out
    assert "recovered rate vs truth" in out
    assert "ramp_fit" in out and "jump" in out
    median = float(out.split("has median ")[1].split()[0])
    robust_std = float(out.split("robust std ")[1].split()[0])
    assert abs(median) < 0.1 and 0.8 < robust_std < 1.2
    pngs = list(tmp_path.glob("*_flt.png"))
    assert len(pngs) == 1 and pngs[0].read_bytes()[:4] == b"\x89PNG"
    assert len(list(tmp_path.glob("*_flt.fits"))) == 1


def _xray(exposure, monkeypatch, capsys, x, y, *extra):
    monkeypatch.setenv("iref", str(exposure.iref))
    assert main(["xray", str(exposure.raw_path), "--pixel", str(x), str(y), *extra]) == 0
    return capsys.readouterr().out


def _blocks(text):
    """Step label -> its block of the x-ray table."""
    blocks = {}
    for block in text.split("\nafter ")[1:]:
        first = block.splitlines()[0]
        label = first.split(": rate")[0] if ": rate" in first else first.split(" (")[0]
        blocks.setdefault(label, block)
    return blocks


def test_xray_of_a_cosmic_ray_pixel(exposure, monkeypatch, capsys, tmp_path):
    with fits.open(exposure.truth_path) as truth:
        crs = truth["CRS"].data
    big = crs[np.argmax(crs["AMPLITUDE"])]
    x, y, read = int(big["X"]), int(big["Y"]), int(big["READ"])
    png = tmp_path / "cr.png"
    out = _xray(exposure, monkeypatch, capsys, x, y, "--plot", str(png))
    blocks = _blocks(out)
    assert "CR_RAMP" not in blocks["unit"]
    jump_rows = blocks["jump"].splitlines()[2:]
    flagged = [int(r.split()[0]) for r in jump_rows if "CR_RAMP" in r]
    assert flagged == [read]
    assert "rate" in blocks["ramp_fit"] and "SAMP" in blocks["flat (flt)"]
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_xray_of_a_saturating_star(exposure, monkeypatch, capsys):
    with fits.open(exposure.truth_path) as truth:
        first = truth["FIRSTSAT"].data
    ys, xs = np.nonzero(first > 1)
    x, y = int(xs[0]), int(ys[0])
    out = _xray(exposure, monkeypatch, capsys, x, y)
    blocks = _blocks(out)
    assert "SATURATED" not in blocks["noise"]
    nlin_rows = blocks["nlin"].splitlines()[2:]
    saturated = [int(r.split()[0]) for r in nlin_rows if "SATURATED" in r]
    assert saturated[0] == first[y, x] and saturated == list(range(first[y, x], 9))
    assert "ELECTRONS/S" in out.splitlines()[-1]


def test_xray_refuses_a_pixel_outside(exposure, monkeypatch, capsys):
    monkeypatch.setenv("iref", str(exposure.iref))
    assert main(["xray", str(exposure.raw_path), "--pixel", "500", "3"]) == 2
    assert "outside the 74x74 image" in capsys.readouterr().err


def test_dq_names_flags(capsys):
    assert main(["dq", "2304", "0"]) == 0
    out = capsys.readouterr().out
    assert "SATURATED | ZERO_READ_SIGNAL" in out and "GOOD" in out


def test_console_script_exit_codes(tmp_path):
    missing = tmp_path / "nope_raw.fits"
    done = subprocess.run([sys.executable, "-m", "hstramp.cli", "xray", str(missing),
                           "--pixel", "1", "1"], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "nope_raw.fits does not exist" in done.stderr
    assert "Traceback" not in done.stderr


def test_top_level_help_imports_no_subcommand_module():
    """``hstramp --help`` lists every subcommand without importing one (or numpy)."""
    code = ("import sys\nfrom hstramp.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('numpy', 'hstramp.cli.'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    *help_lines, imported = done.stdout.strip().splitlines()
    assert imported == "[]"
    assert all(name in "\n".join(help_lines) for name in ("stats", "xray", "stis-demo"))


@pytest.mark.parametrize("command", ["demo", "xray", "stats", "tvb", "batch", "dq", "stis-demo"])
def test_every_subcommand_describes_its_arguments(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: hstramp {command} ") and "options:" in out


def test_python_dash_m_hstramp_is_the_hstramp_command():
    result = subprocess.run([sys.executable, "-m", "hstramp", "dq", "8192"],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert "CR_RAMP" in result.stdout


@pytest.mark.hostile("traceback")
@pytest.mark.parametrize(("setting", "message"), [
    ("fortran", "HSTRAMP_KERNELS='fortran': must be one of auto, numpy, native"),
])
def test_a_bad_kernel_setting_is_one_line_and_exit_2(exposure, tmp_path, monkeypatch, capsys,
                                                     setting, message):
    monkeypatch.setenv("iref", str(exposure.iref))
    monkeypatch.setenv("HSTRAMP_KERNELS", setting)
    out = tmp_path / "out"
    status = main(["run", "wfc3ir_pipeline", str(exposure.raw_path), f"--output_dir={out}"])
    assert status == 2
    assert f"hstramp run: error: {message}" in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())  # nothing written


@pytest.mark.parametrize("status", [0, 2])
def test_the_program_freezes_its_objects_before_it_ends(monkeypatch, status):
    """The console script (``command``) returns main's status, and only then freezes the
    objects out of the exit's garbage collections (main alone, as the tests call it, does
    not: it would change the collections of the caller's process)."""
    import gc

    import hstramp.cli as cli

    calls = []
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or status)
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    assert cli.command() == status
    assert calls == ["main", "freeze"]


def test_main_leaves_the_callers_collections_alone(monkeypatch, capsys):
    import gc

    frozen = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    assert main(["dq", "4"]) == 0
    assert frozen == []


def test_the_console_script_and_python_m_run_the_program():
    """pyproject's console script and both ``__main__`` modules name ``command``."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["hstramp"] == "hstramp.cli:command"
    for module in ("hstramp/__main__.py", "hstramp/cli/__main__.py"):
        assert "sys.exit(command())" in (root / module).read_text()
