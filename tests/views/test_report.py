"""``hstramp report``: the page's content, and the page as headless Chromium renders it."""

import json
import re
import shutil
import subprocess
import tempfile

import numpy as np
import pytest
from astropy.io import fits

from hstramp.cli import main
from hstramp.report import BATCH_RECORD, exposure_rows, read_batch_record

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


@pytest.fixture(scope="module")
def batch_directory(tmp_path_factory):
    """``hstramp batch`` over 3 exposures, the last one failing in the flat field."""
    from hstramp.simulate import simulate_exposure

    inputs = tmp_path_factory.mktemp("report_inputs")
    raws = [simulate_exposure(inputs, size=64, samp_seq="SPARS10", nsamp=5, seed=seed).raw_path
            for seed in (21, 22)]
    bad = simulate_exposure(inputs, size=64, samp_seq="SPARS10", nsamp=5, seed=23)
    with fits.open(bad.reference_paths["PFLTFILE"], mode="update") as flat:
        for hdu in flat[1:]:
            if hdu.data is not None:
                hdu.data = np.ones((3, 3), hdu.data.dtype)
    out = tmp_path_factory.mktemp("report_batch")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(inputs))
        status = main(["batch", *map(str, raws), str(bad.raw_path), "--output-dir", str(out),
                       "--workers", "1", "--no-progress"])
    assert status == 1  # one exposure failed
    return out


@pytest.fixture(scope="module")
def report(batch_directory, tmp_path_factory):
    page = tmp_path_factory.mktemp("report_page") / "report.html"
    assert main(["report", str(batch_directory), "--out", str(page)]) == 0
    return page


def test_batch_leaves_a_record_with_the_failure(batch_directory):
    entries = read_batch_record(batch_directory)
    assert [e["status"] for e in entries] == ["done", "done", "failed"]
    assert entries[2]["step"] == "flat" and "FLTFILE" in entries[2]["error"]
    assert json.loads((batch_directory / BATCH_RECORD).read_text())["format"].startswith(
        "hstramp batch record")


def test_page_is_self_contained_with_a_row_per_exposure(report):
    text = report.read_text()
    assert text.count('<tr class="') == 3
    assert '<tr class="failed"' in text and "ReferenceFileError" in text
    assert text.count('src="data:image/png;base64,') == 5  # 2 thumbnails x 2 + the raw's sky
    assert not re.search(r'(src|href)="(http|//|file:)', text)  # nothing fetched from outside
    assert "<script>" in text and "sortBy" in text


def test_rows_of_one_exposure_and_of_a_directory_without_record(batch_directory, tmp_path):
    flt = next(batch_directory.glob("*_flt.fits"))
    rows = exposure_rows(flt)
    assert len(rows) == 1 and set(rows[0].products) == {"flt", "ima"}
    copy = tmp_path / "products"
    copy.mkdir()
    for product in batch_directory.glob("*.fits"):
        shutil.copy(product, copy)
    rows = exposure_rows(copy)
    assert [row.status for row in rows] == ["found", "found"]


def test_report_of_nothing_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "holds no hstramp_batch.json" in capsys.readouterr().err


def _chromium():
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _browse(browser, *arguments):
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                               *arguments], capture_output=True, text=True, timeout=120,
                              check=True)


def test_headless_chromium_renders_three_rows_with_images(report, tmp_path):
    browser = _chromium()
    if browser is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    dom = _browse(browser, "--dump-dom", report.as_uri()).stdout
    assert "<title>hstramp report: " in dom
    rows = re.findall(r'<tr class="(\w+)" data-rootname="(\w+)"', dom)
    assert [status for status, _name in rows] == ["done", "done", "failed"]
    body = re.search(r"<body([^>]*)>", dom).group(1)
    assert 'data-images-loaded="5"' in body and 'data-images-total="5"' in body
    assert dom.count('data-loaded="yes"') == 5
    shot = tmp_path / "report.png"  # kept as the test's artefact
    _browse(browser, "--window-size=1400,1000", f"--screenshot={shot}", report.as_uri())
    assert shot.read_bytes()[:4] == b"\x89PNG" and shot.stat().st_size > 10_000
