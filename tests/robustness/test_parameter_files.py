"""Issue 17, parameter-file class: hstramp's own loading (``hstramp <command> --config``)
refuses, before stpipe or asdf build anything, what would become an endless parse or an
import of foreign code: YAML aliases ("billion laughs"), oversized files, and ``class``
entries that are not hstramp's steps or pipelines.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hstramp.errors import ParameterError
from hstramp.pipeline.parameters import (
    MAX_PARAMETER_FILE_BYTES,
    load_parameter_file,
    write_parameter_file,
)
from hstramp.pipeline.wfc3ir import WFC3IRPipeline
from tests.hostile import hostile_params

CONFIG = Path(__file__).resolve().parents[2] / "config"
WFC3 = "hstramp.pipeline.wfc3ir.WFC3IRPipeline"
HEADER = ["#ASDF 1.0.0", "#ASDF_STANDARD 1.5.0", "%YAML 1.1", "%TAG ! tag:stsci.edu:asdf/",
          "--- !core/asdf-1.1.0"]


def _asdf(path, *lines):
    path.write_text("\n".join([*HEADER, *lines, "..."]) + "\n")
    return path


def _bomb(path, depth=9):
    lines = [f"class: {WFC3}", "name: WFC3IRPipeline",
             'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, depth)]
    return _asdf(path, *lines, f"parameters: {{save_ima: *a{depth - 1}}}")


def _foreign_step(path):
    return _asdf(path, f"class: {WFC3}", "name: WFC3IRPipeline", "parameters: {}",
                 "steps:", "- class: antigravity.Fly", "  name: jump", "  parameters: {}")


CASES = {
    "billion laughs": (_bomb, r"uses a YAML alias \(\*a0\)"),
    "one harmless alias": (lambda p: _asdf(p, f"class: {WFC3}", "name: x", "a: &x 1",
                                           "parameters: {save_ima: *x}"),
                           r"uses a YAML alias \(\*x\)"),
    "foreign pipeline class": (lambda p: _asdf(p, "class: antigravity.Fly", "name: x",
                                               "parameters: {}"),
                               r"class = 'antigravity\.Fly' is not an hstramp step or "
                               "pipeline"),
    "class of the standard library": (lambda p: _asdf(p, "class: os.system", "name: x",
                                                      "parameters: {}"),
                                      r"class = 'os\.system' is not an hstramp"),
    "foreign step class": (_foreign_step, r"steps/jump/class = 'antigravity\.Fly' is not"),
    "another hstramp pipeline": (lambda p: _asdf(p, "class: stis_ccd_pipeline", "name: x",
                                                 "parameters: {}"),
                                 rf"is for stis_ccd_pipeline; this command runs {WFC3}"),
    "larger than the limit": (
        lambda p: (p.write_text("#" + "x" * MAX_PARAMETER_FILE_BYTES + "\n"), p)[1],
        r"parameter files are at most"),
    "too many nodes": (lambda p: _asdf(p, f"class: {WFC3}", "name: x",
                                       "a: [" + ", ".join(["1"] * 30_000) + "]"),
                       r"holds more than \d+ YAML nodes"),
    "not YAML": (lambda p: _asdf(p, "class: [unclosed"), r"not readable YAML/ASDF"),
    "missing": (lambda p: p, r"parameter file \S+ does not exist"),
    "a directory": (lambda p: p.mkdir() or p, r"parameter file \S+ is a directory"),
}


@pytest.mark.parametrize("case", hostile_params(sorted(CASES), "traceback", {
    "billion laughs": "hang", "one harmless alias": "hang", "larger than the limit": "hang",
    "too many nodes": "hang", "foreign pipeline class": "security",
    "class of the standard library": "security", "foreign step class": "security",
    "another hstramp pipeline": "unclear"}))
def test_parameter_file_refused_before_stpipe_reads_it(case, tmp_path):
    make, message = CASES[case]
    path = make(tmp_path / "params.asdf")
    modules = set(sys.modules)
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=message):
        load_parameter_file(path, expected=WFC3)
    assert time.perf_counter() - start < 10
    assert "antigravity" not in set(sys.modules) - modules


@pytest.mark.parametrize("case", hostile_params(["billion laughs", "foreign step class"], "hang",
                                                {"foreign step class": "security"}))
def test_command_line_config_gives_one_line(case, tmp_path):
    """``hstramp xray --config``: status 2 and one line, in seconds, nothing imported."""
    path = CASES[case][0](tmp_path / "params.asdf")
    code = ("import sys; from hstramp.cli import main; status = main(sys.argv[1:]); "
            "assert 'antigravity' not in sys.modules; sys.exit(status)")
    done = subprocess.run([sys.executable, "-c", code, "xray", "nothere_raw.fits", "--pixel",
                           "1", "1", "--config", str(path)],
                          capture_output=True, text=True, timeout=120, check=False)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2, done.stderr[-2000:]
    assert len(lines) == 1 and lines[0].startswith(f"hstramp xray: error: --config {path}: "), \
        lines
    assert re.search(CASES[case][1], lines[0]), lines[0]


@pytest.mark.parametrize("name", ["wfc3ir.asdf", "wfc3ir_last_minus_first.asdf",
                                  "wfc3ir_flatten_ramp.asdf", "wfc3ir_tvb_auto.asdf"])
def test_shipped_parameter_files_pass_the_checks(name):
    config = load_parameter_file(CONFIG / name, expected=WFC3)
    assert config["class"] == WFC3


def test_written_parameter_file_passes_the_checks(tmp_path):
    path = tmp_path / "mine.asdf"
    write_parameter_file(path, WFC3IRPipeline, steps={"jump": {"rejection_threshold": 5.0}})
    config = load_parameter_file(path, expected=WFC3)
    assert float(config["steps"]["jump"]["rejection_threshold"]) == 5.0
