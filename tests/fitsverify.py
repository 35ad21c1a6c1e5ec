"""Run HEASARC's ``fitsverify`` (Debian package ``fitsverify``; `.ci/run` installs it) on a
product: the FITS-standard check STScI's own products pass."""

import os
import re
import shutil
import subprocess

import pytest


def fitsverify_counts(path):
    """``(warnings, errors)`` fitsverify finds in ``path``; skips (fails in CI) without it."""
    program = shutil.which("fitsverify")
    if program is None:
        if os.environ.get("CI"):
            pytest.fail("fitsverify is not installed; .ci/run installs Debian's fitsverify")
        pytest.skip("fitsverify is not installed (apt-get install fitsverify)")
    done = subprocess.run([program, "-e", str(path)], capture_output=True, text=True,
                          check=False)
    found = re.search(r"Verification found (\d+) warning\(s\) and (\d+) error\(s\)",
                      done.stdout)
    assert found, done.stdout[-2000:] + done.stderr[-2000:]
    return int(found.group(1)), int(found.group(2))
