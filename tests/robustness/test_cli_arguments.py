"""Issue 17, command-line class: every subcommand refuses a bad argument with exit status 2
and ONE line, ``hstramp <command>: error: <message>``, never a Python traceback, and leaves
the workspace as it was.

Each row is ``(argv, message)``, or ``(argv, message, class)`` when the case is not of the
"bare traceback" class (tests/hostile.py). The argv is run in a workspace holding a good raw
(``raw.fits``), an ACS raw, a STIS raw, a text file, a directory, an empty file, a plain file
and a symbolic-link loop. ``message`` is a regular expression searched in the error line.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
from astropy.io import fits

from hstramp.cli import main as hstramp_main
from tests.conftest import sha256

LOOP = "loop"
OUTSIDE = r"region must be inside the 74x74 frame"

CASES = {
    "stats": [
        ("stats raw.fits --region 100:200,0:10 --no-plot", OUTSIDE),
        ("stats raw.fits --region 0:75,0:10 --no-plot", OUTSIDE),
        ("stats raw.fits --region 10:5,0:10 --no-plot", r"0 <= x1 < x2"),
        ("stats raw.fits --region abc --no-plot", r"argument --region: .*X1:X2,Y1:Y2"),
        ("stats raw.fits --region -1:5,0:5 --no-plot", r"argument --region"),
        ("stats raw.fits --clip-sigma nan --no-plot", r"clip_sigma must be a number >= 0"),
        ("stats raw.fits --clip-sigma -1 --no-plot", r"clip_sigma must be a number >= 0"),
        ("stats raw.fits --clip-iterations -3 --no-plot", r"clip_iterations must be an integer"),
        ("stats raw.fits --dq-mask -1 --no-plot", r"dq_mask must be an integer in 0\.\.65535"),
        ("stats raw.fits --dq-mask abc --no-plot", r"argument --dq-mask: invalid int value"),
        ("stats raw.fits --units furlongs --no-plot", r"argument --units: invalid choice"),
        ("stats raw.fits --plot-dir afile", r"argument --plot-dir: afile is a file"),
        (f"stats raw.fits --plot-dir {LOOP}", r"argument --plot-dir: loop is a symbolic link"),
        ("stats raw.fits --plot-dir afile/below", r"afile is a file, not a directory"),
        ("stats nothere.fits --no-plot", r"input file nothere\.fits does not exist"),
        ("stats adir --no-plot", r"adir"),
        ("stats notfits.fits --no-plot", r"notfits\.fits is not a readable FITS file"),
        ("stats empty.fits --no-plot", r"empty\.fits is not a readable FITS file"),
        ("stats acs_raw.fits --no-plot", r"INSTRUME is 'ACS'"),
        ("stats stis_raw.fits --no-plot", r"INSTRUME is 'STIS'"),
    ],
    "tvb": [
        ("tvb raw.fits --threshold nan --no-plot", r"threshold must be a finite number >= 0"),
        ("tvb raw.fits --nsigma -1 --no-plot", r"nsigma must be a finite number >= 0"),
        ("tvb raw.fits --read-threshold abc --no-plot", r"argument --read-threshold"),
        ("tvb raw.fits --statistic best --no-plot", r"argument --statistic: invalid choice"),
        ("tvb raw.fits --region 0:500,0:5 --no-plot", OUTSIDE),
        ("tvb raw.fits --plot-dir afile", r"argument --plot-dir: afile is a file"),
        ("tvb nothere.fits --no-plot", r"nothere\.fits does not exist"),
        ("tvb adir --no-plot", r"adir"),
        ("tvb notfits.fits --no-plot", r"not a readable FITS file"),
        ("tvb acs_raw.fits --no-plot", r"INSTRUME is 'ACS'"),
    ],
    "dq": [
        ("dq -- -5", r"argument values: -5 is not an integer from 0 to 65535"),
        ("dq 70000", r"70000 is not an integer from 0 to 65535", "silent"),
        ("dq abc", r"'abc' is not an integer"),
        ("dq 2.5", r"'2\.5' is not an integer"),
        ("dq", r"the following arguments are required: values"),
    ],
    "demo": [
        ("demo --size 100 --out d", r"argument --size: size must be one of \[64, 128, 256, 512, "
                                    r"1014\], got 100"),
        ("demo --size 0 --out d", r"argument --size: 0 is not an integer >= 1"),
        ("demo --size 63.5 --out d", r"argument --size: '63\.5' is not an integer"),
        ("demo --nsamp 1 --size 64 --out d", r"argument --nsamp: 1 is not an integer from 2 "
                                             "to 16"),
        ("demo --nsamp 40 --size 64 --out d", r"argument --nsamp: 40 is not"),
        ("demo --samp-seq FOO --size 64 --out d", r"argument --samp-seq: 'FOO' is not one of"),
        ("demo --size 64 --out afile", r"argument --out: afile is a file, not a directory"),
        ("demo --size 64 --out afile/x", r"afile is a file, not a directory"),
        (f"demo --size 64 --out {LOOP}", r"argument --out: loop is a symbolic link"),
        ("demo --size 64 --out d --steps.jump.rejection_threshold=abc",
         r"parameter 'steps/jump/rejection_threshold': the value \"abc\" is of the wrong type"),
        ("demo --size 64 --out d --steps.jump.rejection_threshold=-1",
         r"rejection_threshold.*too small"),
        ("demo --size 64 --out d --steps.nope.x=1", r"unknown step 'nope'"),
        ("demo --size 64 --out d --steps.jump=1", r"write step options as"),
        ("demo --size 64 --out d --save_flt=perhaps", r"unrecognized arguments: --save_flt"),
        ("demo --size 64 --out d --config nothere.asdf", r"--config nothere\.asdf"),
    ],
    "xray": [
        ("xray raw.fits --pixel 80 10", r"--pixel 80 10 is outside the 74x74 image"),
        ("xray raw.fits --pixel -1 10", r"--pixel -1 10 is outside"),
        ("xray raw.fits --pixel a b", r"argument --pixel: invalid int value"),
        ("xray raw.fits", r"the following arguments are required: --pixel"),
        ("xray raw.fits --pixel 10 10 --output-dir afile", r"argument --output-dir: afile is a "
                                                           "file"),
        ("xray raw.fits --pixel 10 10 --plot adir", r"argument --plot: adir is a directory"),
        (f"xray raw.fits --pixel 10 10 --plot {LOOP}", r"argument --plot: loop is a symbolic"),
        ("xray raw.fits --pixel 10 10 --plot nodir/x.png", r"directory nodir does not exist"),
        ("xray raw.fits --pixel 10 10 --steps.dark.switch=maybe",
         r"'steps/dark/switch': the value \"maybe\" is unacceptable"),
        ("xray raw.fits --pixel 10 10 --steps.jump.rejection_threshold=x",
         r"the value \"x\" is of the wrong type"),
        ("xray raw.fits --pixel 10 10 --steps.jump.skip=sometimes", r"'steps/jump/skip'"),
        ("xray raw.fits --pixel 10 10 --config nothere.asdf", r"--config nothere\.asdf"),
        ("xray raw.fits --pixel 10 10 --output-dir loopdir",
         r"output path \S+isim0019q_ima\.fits is a symbolic link"),
        ("xray nothere.fits --pixel 1 1", r"input file nothere\.fits does not exist"),
        ("xray adir --pixel 1 1", r"input adir is a directory, not a file"),
        ("xray notfits.fits --pixel 1 1", r"notfits\.fits is not a readable FITS file"),
        ("xray acs_raw.fits --pixel 1 1", r"neither a WFC3/IR raw|INSTRUME is 'ACS'"),
        ("xray stis_raw.fits --pixel 1 1", r"WFC3IRPipeline takes a"),
    ],
    "batch": [  # argument parsing only (the batch itself is tested in tests/test_batch.py)
        ("batch", r"the following arguments are required: FILE_OR_ASN"),
        ("batch raw.fits --workers abc", r"argument --workers: 'abc' is not an integer"),
        ("batch raw.fits --workers 0", r"argument --workers: 0 is not an integer >= 1"),
        ("batch raw.fits --workers -3", r"argument --workers: -3 is not an integer >= 1"),
        ("batch raw.fits --output-dir afile", r"argument --output-dir: afile is a file"),
        (f"batch raw.fits --output-dir {LOOP}", r"argument --output-dir: loop is a symbolic link"),
        ("batch raw.fits --dask-timeout nan", r"argument --dask-timeout: nan is not a finite"),
        ("batch nothere.fits", r"input files missing: nothere\.fits"),
        ("batch raw.fits --frobnicate", r"unrecognized arguments: --frobnicate"),
    ],
    "refs": [
        ("refs nothere.fits", r"nothere\.fits is not a readable FITS file"),
        ("refs adir", r"adir is not a readable FITS file"),
        ("refs notfits.fits", r"notfits\.fits is not a readable FITS file"),
        ("refs raw.fits --in-place", r"--in-place only goes with --update-bestrefs"),
        ("refs raw.fits --simulate", r"--simulate takes one exposure and --out DIR"),
        ("refs raw.fits --out d", r"--out goes with --update-bestrefs or --simulate"),
        ("refs raw.fits --simulate --out d --seed x", r"argument --seed: invalid int value"),
    ],
    "stis-demo": [
        ("stis-demo --crsplit 1 --out s", r"argument --crsplit: 1 is not an integer from 2 to 4"),
        ("stis-demo --crsplit 9 --out s", r"argument --crsplit: 9 is not"),
        ("stis-demo --crsplit x --out s", r"argument --crsplit: 'x' is not an integer"),
        ("stis-demo --binning 3 --out s", r"argument --binning: invalid choice"),
        ("stis-demo --exptime -5 --out s", r"argument --exptime: -5 is not a finite number > 0"),
        ("stis-demo --exptime nan --out s", r"argument --exptime: nan is not a finite number"),
        ("stis-demo --exptime 0 --out s", r"argument --exptime: 0 is not a finite number > 0"),
        ("stis-demo --out afile", r"argument --out: afile is a file, not a directory"),
        (f"stis-demo --out {LOOP}", r"argument --out: loop is a symbolic link"),
    ],
    "report": [
        ("report nothere", r"nothere does not exist"),
        ("report adir --out adir", r"argument --out: adir is a directory"),
        ("report adir --out nodir/r.html", r"directory nodir does not exist"),
        (f"report adir --out {LOOP}", r"argument --out: loop is a symbolic link"),
        ("report adir --out afile/r.html", r"afile is a file, not a directory"),
        ("report adir", r"adir holds no hstramp_batch\.json"),
        ("report notfits.fits", r"notfits\.fits is not a readable FITS file", "unclear"),
        ("report empty.fits", r"empty\.fits is not a readable FITS file", "unclear"),
        ("report acs_raw.fits", r"neither a WFC3/IR raw|INSTRUME is 'ACS'", "unclear"),
    ],
    "run": [  # strun's arguments; stpipe runs the step, hstramp reports its error
        ("run wfc3ir_pipeline raw.fits --output_dir=existing",
         r"output file existing/isim0019q_flt\.fits exists already"),
        ("run os.system raw.fits", r"'os\.system' is neither a parameter file nor an hstramp",
         "security"),
        ("run antigravity.Fly raw.fits", r"is neither a parameter file nor an hstramp step",
         "security"),
        ("run notfits.fits raw.fits", r"parameter file notfits\.fits is not readable"),
        ("run wfc3ir_pipeline nothere.fits", r"input file nothere\.fits does not exist"),
        ("run wfc3ir_pipeline adir", r"input adir is a directory, not a file"),
        ("run wfc3ir_pipeline notfits.fits", r"notfits\.fits is not a readable FITS file"),
        ("run wfc3ir_pipeline acs_raw.fits", r"neither a WFC3/IR raw|INSTRUME is 'ACS'"),
        ("run wfc3ir_pipeline stis_raw.fits", r"WFC3IRPipeline takes a"),
        ("run wfc3ir_pipeline raw.fits --output_dir=o --steps.dark.switch=maybe",
         r"'steps/dark/switch': the value \"maybe\" is unacceptable"),
        ("run wfc3ir_pipeline raw.fits --output_dir=o --steps.jump.rejection_threshold=-3",
         r"too small"),
        ("run stis_ccd_pipeline stis_raw.fits --output_dir=adir --steps.crreject.crthresh=nan",
         r"crthresh must be a finite number"),
    ],
    "hstramp": [
        ("frobnicate", r"argument COMMAND: invalid choice: 'frobnicate'"),
        ("--verbose-ish stats raw.fits", r"unrecognized arguments|invalid choice"),
    ],
}


@pytest.fixture
def workspace(wfc3, stis, tmp_path, monkeypatch):
    shutil.copyfile(wfc3.raw_path, tmp_path / "raw.fits")
    shutil.copyfile(wfc3.raw_path, tmp_path / "acs_raw.fits")
    fits.setval(tmp_path / "acs_raw.fits", "INSTRUME", value="ACS")
    shutil.copyfile(stis.raw_path, tmp_path / "stis_raw.fits")
    (tmp_path / "notfits.fits").write_text("SIMPLE = nonsense\n" * 10)
    (tmp_path / "empty.fits").write_bytes(b"")
    (tmp_path / "afile").write_text("a plain file")
    (tmp_path / "adir").mkdir()
    (tmp_path / LOOP).symlink_to(LOOP)
    (tmp_path / "loopdir").mkdir()
    (tmp_path / "loopdir" / "isim0019q_ima.fits").symlink_to("isim0019q_ima.fits")
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing" / "isim0019q_flt.fits").write_text("an earlier product")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("iref", str(wfc3.raw_path.parent))
    monkeypatch.setenv("oref", str(stis.oref))
    return tmp_path


def _snapshot(root):
    return {str(p.relative_to(root)): sha256(p) if p.is_file() and not p.is_symlink() else None
            for p in sorted(root.rglob("*"))}


def _error_lines(stderr):
    """stderr without log records: hstramp's (``<date> <time> LEVEL logger: ...``), stpipe's
    (``<date> <time> - logger - LEVEL - ...``) and the indented lines of a multi-line one (the
    parameters stpipe logs)."""
    log = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (- \S+ - )?[A-Z]+ ")
    return [line for line in stderr.splitlines()
            if line.strip() and not log.match(line) and not line[0].isspace()]


def _rows():
    return [pytest.param(command, argv, message, id=f"{command}: {argv}",
                         marks=pytest.mark.hostile(kind[0] if kind else "traceback"))
            for command, rows in CASES.items() for argv, message, *kind in rows]


@pytest.mark.parametrize(("command", "argv", "message"), _rows())
def test_bad_argument_gives_one_line_and_status_2(command, argv, message, workspace, capsys):
    before = _snapshot(workspace)
    try:
        status = hstramp_main(argv.split())
    except SystemExit as done:  # argparse
        status = done.code
    stderr = capsys.readouterr().err
    lines = _error_lines(stderr)
    assert status == 2, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]
    assert len(lines) == 1, stderr[-3000:]
    # an option no subcommand knows is refused by the top-level parser ("hstramp: error:")
    assert re.match(rf"hstramp( {command})?: error: ", lines[0]), lines[0]
    assert re.search(message, lines[0]), lines[0]
    assert _snapshot(workspace) == before


@pytest.mark.hostile("traceback")
def test_console_script_prints_one_line(workspace):
    """The installed entry point, in a process of its own: status 2, one line on stderr."""
    done = subprocess.run([sys.executable, "-m", "hstramp.cli", "dq", "--", "-5"],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "hstramp dq: error: argument values: -5 is not an integer from 0 to 65535 "
        "(see hstramp dq --help)"]
