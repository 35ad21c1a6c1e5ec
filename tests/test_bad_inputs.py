"""The bad-input matrix (issue 9): every way a user can hand hstramp something wrong.

Each row spoils one thing (the input file, a header, a reference file, a parameter, the
environment or the output) in a private copy of one small simulated exposure, runs ``strun``
in-process and asserts:

* one clear error: the traceback ends in an :class:`~hstramp.errors.HstrampError` of the
  expected type whose message names the file, keyword or parameter and what was expected;
* a non-zero exit status from ``strun`` (and status 2 from ``hstramp xray`` for the rows about
  the input file itself);
* every file of the workspace (input and reference copies) unchanged (checksum);
* no product and no temporary file left behind.

The reader-level checks of the same spoilt files are in tests/datamodels/test_wfc3_fits.py
(:data:`tests.bad_files.BAD_FILES` is shared). Rows whose outcome is a warning, not an error
(a DUMMY or 'N/A' reference skips its step, as DESIGN says), are in :data:`SKIPPING`.
"""

from __future__ import annotations

import errno
import importlib
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from stpipe._cli.strun import main as strun_main

from hstramp.cli import main as hstramp_main
from hstramp.datamodels import read_multiaccum, write_ima
from hstramp.datamodels.atomic import atomic_output
from hstramp.errors import HstrampError, InputFileError, OutputFileError, ParameterError
from hstramp.reference import ReferenceFileError
from tests.bad_files import BAD_FILES, drop_extensions, edit_fits, set_sci, truncate
from tests.conftest import sha256


@pytest.fixture(scope="module")
def exposure(tmp_path_factory):
    """One small simulated exposure and its references (module-wide, never modified)."""
    from hstramp.simulate import simulate_exposure

    return simulate_exposure(tmp_path_factory.mktemp("sim"), size=64, samp_seq="SPARS10",
                             nsamp=9, seed=19)


@pytest.fixture(scope="module")
def ima_source(exposure, tmp_path_factory):
    """The exposure as an uncalibrated ``_ima.fits`` (float SCI, every switch PERFORM)."""
    path = tmp_path_factory.mktemp("ima") / f"{exposure.rootname}_ima.fits"
    return write_ima(read_multiaccum(exposure.raw_path), path)


@dataclass
class Workspace:
    """A private copy of the exposure: the raw (or ima) and the ``iref`` directory.

    Reference files are symbolic links to the module's files until a row spoils one
    (:meth:`spoil_reference` replaces the link by a copy). Products go to :attr:`out`.
    """

    root: Path
    exposure: object
    ima_source: Path
    monkeypatch: pytest.MonkeyPatch
    #: the file handed to strun / hstramp
    input: Path = None
    #: extra strun arguments
    args: list = field(default_factory=list)

    def __post_init__(self):
        self.iref = self.root / "iref"
        self.data = self.root / "data"
        self.out = self.root / "out"
        for directory in (self.iref, self.data, self.out):
            directory.mkdir()
        for path in self.exposure.reference_paths.values():
            (self.iref / path.name).symlink_to(path)
        self.raw = self.data / self.exposure.raw_path.name
        shutil.copyfile(self.exposure.raw_path, self.raw)
        self.input = self.raw
        self.monkeypatch.setenv("iref", str(self.iref))
        self.monkeypatch.delenv("IREF", raising=False)

    def use_ima(self, directory=None):
        """Hand the pipeline the ima instead of the raw (in ``data``, or ``directory``)."""
        self.input = (directory or self.data) / self.ima_source.name
        shutil.copyfile(self.ima_source, self.input)
        return self.input

    def reference(self, keyword):
        """The workspace path of reference ``keyword`` (``DARKFILE``)."""
        return self.iref / self.exposure.reference_paths[keyword].name

    def spoil_reference(self, keyword, spoil):
        """Replace the link of ``keyword`` by a copy and call ``spoil(path)`` on it."""
        path = self.reference(keyword)
        path.unlink()
        shutil.copyfile(self.exposure.reference_paths[keyword], path)
        spoil(path)
        return path

    def edit_reference(self, keyword, edit):
        """Copy reference ``keyword`` and call ``edit(hdulist)`` on it, opened for update."""
        return self.spoil_reference(keyword, lambda p: edit_fits(p, edit))

    def set_header(self, keyword, value, ext=0):
        """Set one keyword of the input's header."""
        edit_fits(self.input, lambda h: h[ext].header.set(keyword, value))

    def snapshot(self):
        """Every name in the workspace, with the checksum of each regular file."""
        return {str(p.relative_to(self.root)): sha256(p) if _checkable(p) else None
                for p in sorted(self.root.rglob("*"))}


def _checkable(path):
    """A regular file of the workspace that can be read (the module's links are not)."""
    return path.is_file() and not path.is_symlink() and path.stat().st_mode & 0o444


# --------------------------------------------------------------------------- spoilers
def _crop_images(extnames, keep):
    """An ``edit(hdulist)`` cropping every image extension named in ``extnames`` to
    ``[:keep, :keep]``."""
    def edit(hdul):
        for hdu in hdul[1:]:
            if hdu.name in extnames and hdu.data is not None:
                hdu.data = hdu.data[:keep, :keep].copy()
    return edit


def _end_inside_last_array(path):
    """Cut the file one FITS block (2880 bytes) into the data of its last non-empty array:
    every header is whole, an array is not (astropy only warns about that)."""
    with fits.open(path) as hdul:
        last = [h.fileinfo() for h in hdul if h.fileinfo()["datSpan"] > 2880][-1]
    path.write_bytes(path.read_bytes()[: last["datLoc"] + 2880])


def _set_table_column(name, value):
    def edit(hdul):
        hdul[1].data[name][:] = value
    return edit


def _unreadable(ws, keyword):
    """Make a reference unreadable. root reads any file whatever its mode, so when the tests
    run as root the refusal of the operating system is simulated on ``Path.open``."""
    path = ws.spoil_reference(keyword, lambda p: None)
    path.chmod(0)
    if os.geteuid() == 0:
        real_open = Path.open

        def refusing_open(self, *args, **kwargs):
            if self == path:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real_open(self, *args, **kwargs)

        ws.monkeypatch.setattr(Path, "open", refusing_open)


def _read_only_output(ws):
    """A read-only output directory. os.access says every directory is writable for root, so
    the refusal is simulated by monkeypatching os.access for the output directory."""
    real_access = os.access

    def access(path, mode, *args, **kwargs):
        if Path(path) == ws.out and mode & os.W_OK:
            return False
        return real_access(path, mode, *args, **kwargs)

    ws.monkeypatch.setattr(os, "access", access)


def _failing_write(ws, suffix):
    """Writing the ``suffix`` product fails half way: some bytes reach the temporary file,
    then the disk is full."""
    from hstramp.datamodels.fits_writer import FitsProduct

    def failing(real):
        def write(self, name, *args, **kwargs):
            if f"_{suffix}.fits" not in Path(name).name:
                return real(self, name, *args, **kwargs)
            Path(name).write_bytes(b"SIMPLE  =                    T" + b" " * 2000)
            raise OSError(errno.ENOSPC, "No space left on device")
        return write

    # astropy's writeto (STIS, fallbacks) and the direct writer of the WFC3 products
    ws.monkeypatch.setattr(fits.HDUList, "writeto", failing(fits.HDUList.writeto))
    ws.monkeypatch.setattr(FitsProduct, "write", failing(FitsProduct.write))


def _existing_product(ws):
    (ws.out / f"{ws.exposure.rootname}_flt.fits").write_bytes(b"an earlier product")


def _product_is_input(ws):
    ws.use_ima(directory=ws.out)
    ws.args.append("--overwrite=true")


# --------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Bad:
    """One row: ``spoil(workspace)`` makes the case; strun must fail with ``error`` matching
    ``message`` (``error`` None: strun's argument parser refuses, ``message`` is searched in
    its output); ``hstramp`` says whether ``hstramp xray`` is run too."""

    spoil: object
    error: type
    message: str
    hstramp: bool = False
    marks: tuple = ()


def _file_row(spoil, message, marks=()):
    return Bad(lambda ws: spoil(ws.input), InputFileError, message, hstramp=True, marks=marks)


ROOT = "isim0019q"
ANY_PATH = r"\S*"

CASES = {
    # ------------------------------------------------------------------ the input file
    **{f"file: {name}": _file_row(spoil, rf"{ROOT}_raw\.fits.*{message}|{message}.*{ROOT}")
       for name, (spoil, message) in BAD_FILES.items()},
    "file: empty": _file_row(lambda p: p.write_bytes(b""), rf"{ROOT}_raw\.fits"),
    "file: missing": Bad(lambda ws: ws.raw.unlink(), InputFileError,
                         rf"input file {ANY_PATH}{ROOT}_raw\.fits does not exist", hstramp=True),
    "file: a directory": Bad(lambda ws: (ws.raw.unlink(), ws.raw.mkdir()), InputFileError,
                             rf"{ROOT}_raw\.fits is a directory, not a file", hstramp=True),
    "file: missing imset": _file_row(
        lambda p: (drop_extensions(p, {(n, 4) for n in ("SCI", "ERR", "DQ", "SAMP", "TIME")}),
                   edit_fits(p, lambda h: h[0].header.set("NSAMP", 8))),
        r"imset 4 is incomplete: extension SCI,4 is missing"),
    "file: extension of another shape": _file_row(
        lambda p: edit_fits(p, lambda h: setattr(h["SCI", 2], "data", h["SCI", 2].data[:-1])),
        r"extension SCI,2 has shape \(73, 74\), the SCI arrays \(74, 74\)"),
    "file: NaN in SCI": _file_row(
        lambda p: set_sci(p, 3, lambda d: np.where(np.eye(*d.shape, dtype=bool), np.nan, d)),
        r"extension SCI,3 has 74 NaN pixel value\(s\) \(first at x=0, y=0\)"),
    "file: inf in SCI": _file_row(
        lambda p: set_sci(p, 9, lambda d: np.where(d > np.median(d), d, -np.inf)),
        r"extension SCI,9 has \d+ infinite pixel value\(s\)"),
    "file: all-zero data": _file_row(
        lambda p: [set_sci(p, v, np.zeros_like) for v in range(1, 10)],
        r"every pixel of all 9 SCI extensions is zero"),
    "file: NaN in an ima": Bad(
        lambda ws: set_sci(ws.use_ima(), 5, lambda d: np.where(d > 0, np.nan, d)),
        InputFileError, rf"{ROOT}_ima\.fits: extension SCI,5 has \d+ NaN", hstramp=True),
    # ------------------------------------------------------------------ headers
    "header: SAMPTIME missing": _file_row(
        lambda p: edit_fits(p, lambda h: h["SCI", 3].header.remove("SAMPTIME")),
        r"keyword SAMPTIME is missing from the SCI,3 header"),
    "header: NEXTEND wrong": _file_row(
        lambda p: edit_fits(p, lambda h: h[0].header.set("NEXTEND", 44)),
        r"NEXTEND = 44 but the file has 45 extensions"),
    "header: SAMPTIME='abc' (issue 17)": _file_row(
        lambda p: edit_fits(p, lambda h: h["SCI", 3].header.set("SAMPTIME", "abc")),
        r"SAMPTIME = 'abc' in the SCI,3 header is not a number"),
    "header: LTV1='left' (issue 17)": _file_row(
        lambda p: edit_fits(p, lambda h: [h["SCI", v].header.set("LTV1", "left")
                                          for v in range(1, 10)]),
        r"LTV1 = 'left' in the SCI,1 header is not a number"),
    "file: duplicated imset (issue 17)": _file_row(
        lambda p: edit_fits(p, lambda h: (h.append(h["SCI", 3].copy()),
                                          h[0].header.set("NEXTEND", 46))),
        r"extension SCI,3 appears twice"),
    "header: DARKFILE keyword missing": Bad(
        lambda ws: edit_fits(ws.raw, lambda h: h[0].header.remove("DARKFILE")),
        ReferenceFileError, rf"{ROOT}_raw\.fits: DARKFILE is not in the header; give the file "
                            "with override_darkfile"),
    # ------------------------------------------------------------------ reference files
    "reference: iref unset": Bad(
        lambda ws: ws.monkeypatch.delenv("iref"), ReferenceFileError,
        r"= 'iref\$\S+': environment variable 'iref' is not set"),
    "reference: iref points nowhere": Bad(
        lambda ws: ws.monkeypatch.setenv("iref", str(ws.root / "nowhere")), ReferenceFileError,
        rf"[A-Z]+ = 'iref\$\S+': file {ANY_PATH}nowhere/{ROOT}_\w+\.fits does not exist"),
    "reference: file missing": Bad(
        lambda ws: ws.reference("DARKFILE").unlink(), ReferenceFileError,
        rf"DARKFILE = 'iref\${ROOT}_drk\.fits': file \S+ does not exist"),
    "reference: unreadable": Bad(
        lambda ws: _unreadable(ws, "DARKFILE"), ReferenceFileError,
        rf"DARKFILE = 'iref\${ROOT}_drk\.fits': cannot read \S+: .*Permission denied"),
    "reference: not FITS": Bad(
        lambda ws: ws.spoil_reference("BPIXTAB", lambda p: p.write_text("no FITS here\n")),
        ReferenceFileError, rf"BPIXTAB = 'iref\${ROOT}_bpx\.fits': \S+ is not a FITS file"),
    "reference: truncated": Bad(
        lambda ws: ws.spoil_reference("DARKFILE", _end_inside_last_array), ReferenceFileError,
        rf"(DARKFILE|reference) file \S+{ROOT}_drk\.fits is not a readable FITS file: File may "
        "have been truncated"),
    "reference: header cut short": Bad(
        lambda ws: ws.spoil_reference("CCDTAB", truncate), ReferenceFileError,
        rf"(CCDTAB|reference) file \S+{ROOT}_ccd\.fits is not a readable FITS file: Header "
        "missing END card"),
    "reference: wrong FILETYPE": Bad(
        lambda ws: ws.set_header("DARKFILE", f"iref${ROOT}_pfl.fits"), ReferenceFileError,
        rf"DARKFILE \S+{ROOT}_pfl\.fits has FILETYPE='PIXEL-TO-PIXEL FLAT'; "
                            "expected 'DARK'"),
    "reference: wrong DETECTOR": Bad(
        lambda ws: ws.edit_reference("OSCNTAB", lambda h: h[0].header.set("DETECTOR", "UVIS")),
        ReferenceFileError, rf"OSCNTAB \S+{ROOT}_osc\.fits has DETECTOR='UVIS'; expected 'IR'"),
    "reference: dark of another size": Bad(
        lambda ws: ws.edit_reference("DARKFILE", _crop_images({"SCI", "ERR", "DQ"}, 64)),
        ReferenceFileError, rf"DARKFILE \S+{ROOT}_drk\.fits imset \d+ is 64x64 but the "
                            r"science image is 74x74; a matching subarray dark is needed"),
    "reference: flat of another subarray": Bad(
        lambda ws: ws.edit_reference("PFLTFILE", _crop_images({"SCI", "ERR", "DQ"}, 512)),
        ReferenceFileError, rf"PFLTFILE \S+{ROOT}_pfl\.fits cannot be cut for the science "
                            "image"),
    "reference: dark of another subarray": Bad(
        lambda ws: ws.edit_reference("DARKFILE", lambda h: h[0].header.set("SUBTYPE", "SQ128SUB")),
        ReferenceFileError, r"DARKFILE \S+ has SUBTYPE='SQ128SUB' but the science exposure has "
                            r"SUBTYPE='SQ64SUB'"),
    "reference: dark of another SAMP_SEQ": Bad(
        lambda ws: ws.edit_reference("DARKFILE", lambda h: h[0].header.set("SAMP_SEQ", "STEP25")),
        ReferenceFileError, r"DARKFILE \S+ has SAMP_SEQ='STEP25' but the science exposure has "
                            r"SAMP_SEQ='SPARS10'"),
    "reference: CCDTAB without a matching row": Bad(
        lambda ws: ws.edit_reference("CCDTAB", _set_table_column("CCDGAIN", 4.0)),
        ReferenceFileError, rf"no row of CCDTAB \S+{ROOT}_ccd\.fits matches CCDGAIN=2\.5"),
    "reference: zero gain": Bad(
        lambda ws: ws.edit_reference("CCDTAB", _set_table_column("ATODGNC", 0.0)),
        ReferenceFileError, rf"CCDTAB \S+{ROOT}_ccd\.fits row \d+ has ATODGNC = 0; a gain "
                            "must be a positive number"),
    "reference: negative gain": Bad(
        lambda ws: ws.edit_reference("CCDTAB", _set_table_column("ATODGNA", -2.5)),
        ReferenceFileError, r"CCDTAB \S+ row \d+ has ATODGNA = -2\.5; a gain must be a positive"),
    "reference: NLINFILE NODE = NaN (issue 17)": Bad(
        lambda ws: ws.edit_reference("NLINFILE", lambda h: h["NODE", 1].data.fill(np.nan)),
        ReferenceFileError, rf"NLINFILE \S+{ROOT}_lin\.fits extension NODE has \d+ NaN"),
    "reference: CCDTAB read noise < 0 (issue 17)": Bad(
        lambda ws: ws.edit_reference("CCDTAB", _set_table_column("READNSEA", -5.0)),
        ReferenceFileError, r"CCDTAB \S+ row \d+ has READNSEA = -5\.0; it must be a finite "
                            "number >= 0"),
    "reference: override names a missing file": Bad(
        lambda ws: ws.args.append(f"--steps.dark.override_darkfile={ws.root}/my_drk.fits"),
        ReferenceFileError, r"DARKFILE = '\S+/my_drk\.fits': file \S+ does not exist"),
    # ------------------------------------------------------------------ parameters
    "parameter: unknown switch value": Bad(
        lambda ws: ws.args.append("--steps.dark.switch=maybe"), ParameterError,
        r"parameter 'steps/dark/switch': .*maybe.*allowed: option\('header', 'perform', "
        r"'omit'\)"),
    "parameter: not a boolean": Bad(
        lambda ws: ws.args.append("--save_flt=perhaps"), ParameterError,
        r"parameter 'save_flt': .*perhaps.*allowed: boolean"),
    "parameter: out of range": Bad(
        lambda ws: ws.args.append("--steps.jump.rejection_threshold=-4"), ParameterError,
        r"'steps/jump/rejection_threshold': the value \"-4\.0\" is too small; "
        r"allowed: float\(min=0\)"),
    "parameter: unknown step": Bad(
        lambda ws: ws.args.append("--steps.drak.skip=true"), None,
        r"strun: error: unrecognized arguments: --steps\.drak\.skip=true"),
    # ------------------------------------------------------------------ output and environment
    "output: read-only directory": Bad(
        _read_only_output, OutputFileError, r"output directory \S+/out is not writable"),
    "output: product exists": Bad(
        _existing_product, OutputFileError,
        rf"output file \S+/{ROOT}_flt\.fits exists already; remove it or ask for overwrite"),
    "output: product would replace the input": Bad(
        _product_is_input, OutputFileError,
        rf"\S+/{ROOT}_ima\.fits is the input file; products never replace their input"),
    "output: write fails half way (ima)": Bad(
        lambda ws: _failing_write(ws, "ima"), OutputFileError,
        rf"writing \S+/{ROOT}_ima\.fits failed: No space left on device; nothing was written"),
    "output: write fails half way (flt, after the ima)": Bad(
        lambda ws: _failing_write(ws, "flt"), OutputFileError,
        rf"writing \S+/{ROOT}_flt\.fits failed: No space left on device"),
}

_ERROR_LINE = re.compile(r"^(?P<cls>[A-Za-z_][\w.]*): (?P<message>.*)$", re.MULTILINE)


def run_strun(monkeypatch, capsys, ws):
    """Run strun's own ``main`` in-process; return (exit status, stderr)."""
    capsys.readouterr()
    argv = ["strun", "wfc3ir_pipeline", str(ws.input), f"--output_dir={ws.out}", *ws.args]
    monkeypatch.setattr(sys, "argv", argv)
    try:
        strun_main()
        status = 0
    except SystemExit as done:
        status = done.code
    return status, capsys.readouterr().err


def final_error(stderr):
    """The class and message of the exception a traceback ends with."""
    lines = list(_ERROR_LINE.finditer(stderr))
    assert lines, f"no exception in:\n{stderr[-3000:]}"
    module, _, name = lines[-1]["cls"].rpartition(".")
    return getattr(importlib.import_module(module), name), lines[-1]["message"]


#: the class of a row in docs/errors.md's reliability table (tests/hostile.py); the others
#: guard against a bare traceback
_KINDS = {"file: duplicated imset (issue 17)": "silent",
          "reference: NLINFILE NODE = NaN (issue 17)": "silent",
          "reference: CCDTAB read noise < 0 (issue 17)": "silent",
          "output: product exists": "data-loss",
          "output: product would replace the input": "data-loss",
          "output: write fails half way (ima)": "leftover",
          "output: write fails half way (flt, after the ima)": "leftover"}


def _params():
    return [pytest.param(name, id=name,
                         marks=(*row.marks, pytest.mark.hostile(_KINDS.get(name, "traceback"))))
            for name, row in CASES.items()]


@pytest.mark.parametrize("name", _params())
def test_bad_input_gives_one_clear_error(name, exposure, ima_source, tmp_path, monkeypatch,
                                         capsys):
    row = CASES[name]
    ws = Workspace(tmp_path, exposure, ima_source, monkeypatch)
    row.spoil(ws)
    before = ws.snapshot()

    status, stderr = run_strun(monkeypatch, capsys, ws)
    assert status not in (0, None), stderr[-3000:]
    if row.error is None:  # refused by strun's own argument parser
        assert status == 2 and re.search(row.message, stderr), stderr[-3000:]
    else:
        cls, message = final_error(stderr)
        assert issubclass(cls, HstrampError) and issubclass(cls, row.error), (cls, message)
        assert re.search(row.message, message), message
    if row.hstramp:
        status = hstramp_main(["xray", str(ws.input), "--pixel", "10", "10",
                               "--output-dir", str(ws.out)])
        stderr = capsys.readouterr().err
        assert status == 2, stderr[-3000:]
        assert re.search("hstramp xray: error: .*" + row.message, stderr), stderr[-3000:]
    assert ws.snapshot() == before


# --------------------------------------------------------------------------- skipped steps
SKIPPING = {
    "reference: DUMMY pedigree": (
        lambda ws: ws.edit_reference("DARKFILE", lambda h: h[0].header.set("PEDIGREE", "DUMMY")),
        rf"dark skipped: DARKFILE \S+{ROOT}_drk\.fits has a DUMMY pedigree"),
    "reference: N/A": (lambda ws: ws.set_header("DARKFILE", "N/A"),
                       r"dark skipped: DARKFILE is N/A"),
}


@pytest.mark.parametrize("name", sorted(SKIPPING))
def test_dummy_or_na_reference_skips_its_step(name, exposure, ima_source, tmp_path,
                                              monkeypatch, capsys, caplog):
    """Not an error (DESIGN): the step is skipped with a warning and recorded SKIPPED."""
    spoil, warning = SKIPPING[name]
    ws = Workspace(tmp_path, exposure, ima_source, monkeypatch)
    spoil(ws)
    before = ws.snapshot()
    with caplog.at_level(logging.WARNING, logger="hstramp"):
        status, stderr = run_strun(monkeypatch, capsys, ws)
    assert status in (0, None), stderr[-3000:]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and re.search(warning, warnings[0]), warnings
    with fits.open(ws.out / f"{ROOT}_flt.fits") as flt:
        assert flt[0].header["DARKCORR"] == "SKIPPED"
        assert flt[0].header["FLATCORR"] == "COMPLETE"
    after = ws.snapshot()
    assert {k: v for k, v in after.items() if k in before} == before
    assert sorted(set(after) - set(before)) == [f"out/{ROOT}_flt.fits", f"out/{ROOT}_ima.fits"]


# --------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_products_get_the_mode_the_umask_gives(tmp_path, umask):
    """Not mkstemp's 0600: a product is as readable as any file the user creates."""
    old = os.umask(umask)
    try:
        with atomic_output(tmp_path / "x_flt.fits") as tmp:
            tmp.write_bytes(b"product")
        (tmp_path / "plain").write_bytes(b"plain")
    finally:
        os.umask(old)
    mode = (tmp_path / "x_flt.fits").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask == (tmp_path / "plain").stat().st_mode & 0o777


# --------------------------------------------------------------------------- SIGINT
@pytest.mark.hostile("leftover")
def test_sigint_leaves_no_product(exposure, ima_source, tmp_path, monkeypatch):
    """strun interrupted by ^C once a step has finished: non-zero exit, nothing written."""
    ws = Workspace(tmp_path, exposure, ima_source, monkeypatch)
    before = ws.snapshot()
    command = [shutil.which("strun") or "strun", "wfc3ir_pipeline", str(ws.raw),
               f"--output_dir={ws.out}"]
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                          text=True, env=dict(os.environ)) as process:
        log = []
        for line in process.stderr:
            log.append(line)
            if " done in " in line:
                process.send_signal(signal.SIGINT)
                break
        log.append(process.stderr.read())
        status = process.wait(timeout=120)
    text = "".join(log)
    assert any(" done in " in line for line in log), text[-3000:]
    assert status != 0, text[-3000:]
    assert "KeyboardInterrupt" in text
    assert ws.snapshot() == before
    assert not list(ws.root.rglob("*.tmp"))
