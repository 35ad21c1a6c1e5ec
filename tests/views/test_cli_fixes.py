"""The command-line fixes of issue 19: file names, wording, logging once, re-entry message."""

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from hstramp.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def products(simulated, tmp_path_factory):
    """The ima and flt of the simulated exposure."""
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    out = tmp_path_factory.mktemp("views_products")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(simulated.iref))
        WFC3IRPipeline(output_dir=str(out)).run(str(simulated.raw_path))
    return {suffix: out / f"{simulated.rootname}_{suffix}.fits" for suffix in ("ima", "flt")}


def test_stats_of_a_raw_and_its_ima_write_two_pngs(simulated, products, tmp_path, capsys):
    assert main(["stats", str(simulated.raw_path), str(products["ima"]),
                 "--plot-dir", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == [f"{simulated.rootname}_ima_stats.png", f"{simulated.rootname}_raw_stats.png"]
    out = capsys.readouterr().out
    assert out.count("png: ") == 2


def test_demo_states_the_bias_as_a_median_difference(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--size", "64", "--nsamp", "5"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("median of (rate - truth)"))
    bias = float(line.split(":")[1].split()[0])
    assert abs(bias) < 0.05
    assert "e-/s, true " not in out  # the old line read as a 3 % bias


def test_tvb_verdict_without_tvb_never_says_extra_background():
    from hstramp.cli.tvb import verdict
    from hstramp.core.tvb import detect_tvb

    times = np.linspace(0.0, 100.0, 11)
    sky = 10.0 * times
    sky[5:] += 15.0  # one interval 15 % brighter, a later one 15 % fainter:
    sky[7:] -= 15.0  # the interval rates vary but the ramp stays within 1.5 % of a line
    result = detect_tvb(times, sky, np.full(11, 0.01))
    assert not result.affected and result.affected_read_indices
    text = verdict(result)
    assert "no TVB" in text and "extra background" not in text
    assert "too little to bend the ramp" in text
    bent = sky.copy()
    bent[4:8] += 200.0
    text = verdict(detect_tvb(times, bent, np.full(11, 0.01)))
    assert "TVB DETECTED; reads with extra background: " in text


def test_noise_on_an_ima_says_nothing_was_computed(products, simulated, monkeypatch, caplog):
    from hstramp.steps.noise import NoiseStep

    monkeypatch.setenv("iref", str(simulated.iref))
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        NoiseStep(switch="perform").run(str(products["ima"]))
    text = caplog.text
    assert "no read computed, every error kept as it is" in text
    assert "0..-1" not in text


@pytest.mark.slow
def test_stis_demo_logs_every_line_once(tmp_path):
    run = subprocess.run([sys.executable, "-m", "hstramp.cli", "stis-demo", "--out",
                          str(tmp_path), "--binning", "4"], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    messages = [line.split(": ", 1)[-1] for line in run.stderr.splitlines()
                if "instance created" in line]
    assert messages and len(messages) == len(set(messages))


def test_errors_page_names_the_stis_alias():
    text = (ROOT / "docs" / "errors.md").read_text()
    assert "stis_pipeline`" not in text and "stis_ccd_pipeline" in text
    assert "stpipe list" in text
