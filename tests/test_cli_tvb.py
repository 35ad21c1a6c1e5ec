"""``hstramp stats`` and ``hstramp tvb`` on every real file and on simulated twins."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.cli import main
from hstramp.cli._common import parse_region
from hstramp.cli.stats import file_statistics
from hstramp.cli.tvb import file_detection
from hstramp.core.tvb import SkyParameters
from hstramp.errors import ParameterError
from tests.conftest import SHARED_DATA, sha256

REAL_FILES = sorted(p.name for p in SHARED_DATA.glob("*_r*.fits")) + sorted(
    p.name for p in SHARED_DATA.glob("*_ima.fits"))


def test_the_real_files_are_all_here():
    if not SHARED_DATA.is_dir():
        pytest.skip("no real WFC3 files")
    assert len(REAL_FILES) == 5  # 3 raw, 2 calwf3 ima


@pytest.mark.parametrize("name", REAL_FILES)
def test_stats_on_every_real_file(name, real_file, tmp_path, capsys):
    path = real_file(name)
    before = sha256(path)
    assert main(["stats", str(path), "--plot-dir", str(tmp_path), "--units", "rate"]) == 0
    out = capsys.readouterr().out
    nsamp = fits.getheader(path)["NSAMP"]
    rows = [line.split() for line in out.splitlines() if line[:6].strip().isdigit()]
    assert [int(r[0]) for r in rows] == list(range(nsamp))
    assert rows[0][3] == "nan"  # no rate at the zeroth read
    assert all(float(r[5]) > 0 for r in rows[2:])  # median rate: the sky is positive
    png = tmp_path / f"{name.removesuffix('.fits')}_stats.png"
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert sha256(path) == before


@pytest.mark.parametrize("name", REAL_FILES)
def test_tvb_on_every_real_file(name, real_file, tmp_path, capsys):
    path = real_file(name)
    assert main(["tvb", str(path), "--plot-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "summary" in out and name in out.split("summary")[1]
    verdict = out.split("summary")[1]
    assert ("TVB DETECTED" in verdict) or ("no TVB" in verdict)
    assert (tmp_path / f"{name.removesuffix('.fits')}_tvb.png").read_bytes()[:4] == b"\x89PNG"


def test_as_stored_statistics_are_pstats_on_a_calwf3_ima(real_file):
    """Stored values of a calwf3 ima, time order, divided by SAMPTIME: what pstat computes."""
    path = real_file("iccz11q4q_ima.fits")
    params = SkyParameters(clip_sigma=0, dq_mask=0)
    ramp, stats = file_statistics(path, units="counts", as_stored=True, region=(20, 120, 30, 90),
                                  params=params)
    with fits.open(path) as hdul:
        nsamp = hdul[0].header["NSAMP"]
        for t in range(1, nsamp):  # time order: EXTVER nsamp - t
            sci = hdul["SCI", nsamp - t]
            expected = np.median(sci.data[30:90, 20:120]) * sci.header["SAMPTIME"]
            assert stats.median[t] == pytest.approx(expected, rel=1e-5)
            assert stats.times[t] == sci.header["SAMPTIME"]
    assert ramp.in_rates and ramp.unit == "ELECTRONS"


def test_raw_and_calwf3_ima_detection_agree_on_the_quiet_sky(real_file):
    """The calwf3 ima in e-/s, 4 RAPID reads: less than 1 e- of sky, nothing detectable."""
    _ramp, levels, result = file_detection(real_file("iccz11q4q_ima.fits"))
    assert not result.affected and result.significance < 3
    assert np.all(np.isfinite(levels.sky))


@pytest.fixture(scope="module")
def raw_twins(tmp_path_factory):
    from hstramp.simulate import simulate_tvb_twins

    return simulate_tvb_twins(tmp_path_factory.mktemp("cli_twins"), seed=3, size=64,
                              samp_seq="SPARS100", nsamp=12)


def test_tvb_flags_the_affected_twin_only(raw_twins, tmp_path, capsys):
    steady, affected = raw_twins
    assert main(["tvb", str(steady.raw_path), str(affected.raw_path),
                 "--plot-dir", str(tmp_path)]) == 0
    summary = capsys.readouterr().out.split("summary")[1].splitlines()
    lines = {line.split()[0]: line for line in summary if line.strip()}
    assert "no TVB" in lines[steady.raw_path.name]
    assert "TVB DETECTED" in lines[affected.raw_path.name]
    with fits.open(affected.truth_path) as truth:
        rate, times = truth["READS"].data["TVB_RATE"], truth["READS"].data["SAMPTIME"]
    reads = {int(r) for r in lines[affected.raw_path.name].split("background: ")[1].split(",")}
    # the simulator's rise: from 40 % to 60 % of the exposure, then 1 e-/s more
    after_onset = set(np.flatnonzero(times > 0.4 * times[-1]))
    after_rise = {k for k in range(1, times.size) if times[k - 1] >= 0.6 * times[-1]}
    assert after_rise <= reads <= after_onset
    assert rate[-1] == 1.0
    assert len(list(tmp_path.glob("*_tvb.png"))) == 2


@pytest.mark.parametrize(("option", "value", "attribute", "expected"), [
    ("--threshold", "0.5", "threshold", 0.5),
    ("--read-threshold", "0.9", "read_threshold", 0.9),
    ("--nsigma", "7", "nsigma", 7.0),
])
def test_tvb_options_reach_the_detection(option, value, attribute, expected, raw_twins,
                                         capsys, monkeypatch):
    import hstramp.cli.tvb as module

    seen = []
    original = module.detect_tvb

    def spy(times, sky, noise, params, **kwargs):
        seen.append(params)
        return original(times, sky, noise, params, **kwargs)

    monkeypatch.setattr(module, "detect_tvb", spy)
    assert main(["tvb", str(raw_twins[1].raw_path), "--no-plot", option, value]) == 0
    assert getattr(seen[0], attribute) == expected


@pytest.mark.parametrize(("option", "value", "attribute", "expected"), [
    ("--region", "10:40,12:50", "region", (10, 40, 12, 50)),
    ("--clip-sigma", "4", "clip_sigma", 4.0),
    ("--clip-iterations", "2", "clip_iterations", 2),
    ("--dq-mask", "0", "dq_mask", 0),
    ("--statistic", "mean", "statistic", "mean"),
])
def test_sky_options_reach_the_statistics(option, value, attribute, expected, raw_twins,
                                          capsys, monkeypatch):
    import hstramp.cli.tvb as module

    seen = []
    original = module.sky_levels

    def spy(counts, times, **kwargs):
        seen.append(kwargs["params"])
        return original(counts, times, **kwargs)

    monkeypatch.setattr(module, "sky_levels", spy)
    assert main(["tvb", str(raw_twins[0].raw_path), "--no-plot", option, value]) == 0
    assert getattr(seen[0], attribute) == expected


def test_stats_as_stored_of_a_raw_are_raw_dn(raw_twins, capsys):
    steady = raw_twins[0]
    assert main(["stats", str(steady.raw_path), "--no-plot", "--as-stored"]) == 0
    out = capsys.readouterr().out
    first = next(line.split() for line in out.splitlines() if line.strip().startswith("0 "))
    assert float(first[5]) > 5000  # a raw zeroth read: bias level, about 11,000 DN
    assert "stored values" in out


@pytest.mark.parametrize("command", ["stats", "tvb"])
def test_a_missing_file_is_one_line_with_status_2(command, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main([command, "missing_raw.fits"]) == 2
    err = capsys.readouterr().err
    assert f"hstramp {command}: error:" in err and "does not exist" in err


def test_a_bad_region_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["stats", "x_raw.fits", "--region", "1:2"])
    assert exit_info.value.code == 2
    assert "X1:X2,Y1:Y2" in capsys.readouterr().err


def test_parse_region():
    assert parse_region(" 0:10, 5:20 ") == (0, 10, 5, 20)
    with pytest.raises(ParameterError, match="X1:X2,Y1:Y2"):
        parse_region("0:10")
