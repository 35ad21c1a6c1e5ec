"""What the figures draw: labels, ranges, artists, colour bars, legends."""

import numpy as np
import pytest
from astropy.io import fits

from hstramp.cli import main
from hstramp.plots import dq_map, new_figure, robust_limits, show_image, stretch_limits


def _labels(ax):
    return [line.get_label() for line in ax.get_lines()]


@pytest.fixture(scope="module")
def cosmic_ray_xray(simulated):
    """The x-ray of the pixel hit by the largest simulated cosmic ray."""
    from hstramp.cli.xray import PixelXray
    from hstramp.pipeline.wfc3ir import WFC3IRPipeline

    with fits.open(simulated.truth_path) as truth:
        crs = truth["CRS"].data
    big = crs[np.argmax(crs["AMPLITUDE"])]
    xray = PixelXray(int(big["X"]), int(big["Y"]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("iref", str(simulated.iref))
        pipeline = WFC3IRPipeline(save_ima=False, save_flt=False)
        pipeline.add_stage_hook(xray)
        pipeline.run(str(simulated.raw_path))
    return xray, int(big["READ"])


def test_xray_of_a_cosmic_ray_shows_the_jump_and_the_fitted_ramp(cosmic_ray_xray, tmp_path):
    from hstramp.cli.xray import plot_xray

    xray, cr_read = cosmic_ray_xray
    figure = plot_xray(xray, tmp_path / "x.png")
    assert (tmp_path / "x.png").read_bytes()[:4] == b"\x89PNG"
    panels = {ax.get_title(): ax for ax in figure.axes if ax.get_title()}
    jump = panels["after jump"]
    ramp = next(row for row in xray.rows if row[0] == "ramp" and row[1] == "jump")
    times, sci = ramp[3], ramp[4]
    marker = next(line for line in jump.get_lines() if line.get_label() == "jump (CR_RAMP)")
    np.testing.assert_allclose(marker.get_xdata(), [times[cr_read]])
    fits_ = [line for line in jump.get_lines() if line.get_label() == "fitted ramp"]
    assert len(fits_) == 2  # one segment before the jump, one after
    # the segment after the jump passes through the reads after it (rate units: e/t decay)
    after = fits_[1]
    np.testing.assert_allclose(np.interp(times[cr_read + 1:], after.get_xdata(),
                                         after.get_ydata()),
                               sci[cr_read + 1:], rtol=0.05)
    for ax in panels.values():
        assert ax.get_xlabel() == "time since the zeroth read (s)"
        assert ax.get_ylabel() in ("COUNTS", "COUNTS/S", "ELECTRONS/S")
    assert "CR_RAMP" not in _labels(panels["after unit"])  # not flagged before the jump step


def test_xray_rate_panels_are_not_scaled_by_the_zeroth_reads(cosmic_ray_xray):
    from hstramp.cli.xray import plot_xray

    xray, _read = cosmic_ray_xray
    figure = plot_xray(xray)
    unit = next(ax for ax in figure.axes if ax.get_title() == "after unit")
    ramp = next(row for row in xray.rows if row[0] == "ramp" and row[1] == "unit")
    sci, err = ramp[4], ramp[5]
    low, high = unit.get_ylim()
    # read 1, 0.06 s after the zeroth read, is -69 DN/s +- 154: off the scale and marked
    assert not low <= sci[1] <= high and err[1] > 50
    assert "read off scale" in _labels(unit)
    assert all(low <= value <= high for value in sci[2:])
    assert high - low < 3 * (sci[2:].max() - sci[2:].min())


def test_robust_limits_and_stretch():
    assert robust_limits([1.0, 2.0, np.nan], pad=0.0) == (1.0, 2.0)
    assert robust_limits([np.nan]) == (0.0, 1.0)
    low, high = robust_limits([5.0, 5.0])
    assert low < 5.0 < high
    data = np.arange(1000.0)
    data[0] = -1e9  # one wild pixel does not set the range
    assert stretch_limits(data, (1, 99))[0] > 0


def test_image_has_a_colour_bar_stating_unit_and_stretch():
    rng = np.random.default_rng(1)
    data = rng.normal(1.0, 0.05, (40, 40))
    data[20, 20] = 5000.0  # a star
    _figure, ax = new_figure(figsize=(4, 4))
    image, bar = show_image(ax, data, quantity="rate", unit="e-/s")
    assert bar.ax.get_ylabel() == "rate (e-/s); asinh stretch, 0.5-99.9 percentile"
    assert ax.get_xlabel() == "x (pixel)" and ax.get_ylabel() == "y (pixel)"
    norm = image.norm
    assert norm.vmax < 5000.0  # the star does not set the range
    # asinh: the sky noise spans a good part of the grey scale (not crushed to black)
    assert norm(1.05) - norm(0.95) > 0.1
    with pytest.raises(ValueError, match="stretch"):
        show_image(ax, data, quantity="rate", unit="e-/s", stretch="log")


def test_dq_map_legend_names_the_flags():
    dq = np.zeros((10, 10), np.uint16)
    dq[1, 1] = 256
    dq[2, 2:5] = 8192 | 4
    _figure, ax = new_figure(figsize=(4, 3))
    counts = dq_map(ax, dq)
    assert counts == {"BAD_DETECTOR": 3, "SATURATED": 1, "CR_RAMP": 3}
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["BAD_DETECTOR (4): 3", "SATURATED (256): 1", "CR_RAMP (8192): 3"]
    shown = ax.images[0].get_array()
    assert shown[2, 3] == 3 and shown[1, 1] == 2 and shown[0, 0] == 0  # highest flag wins


def test_tvb_plot_draws_the_sky_curve_and_the_threshold(tmp_path):
    from hstramp.cli.tvb import plot_detection
    from hstramp.core.tvb import detect_tvb

    times = np.linspace(0.0, 100.0, 9)
    sky = times * 1.0
    sky[4:] += 10.0  # extra background in the fifth interval
    result = detect_tvb(times, sky, np.full(9, 0.1))
    figure = plot_detection(result, tmp_path / "t.png", title="t", unit="ELECTRONS")
    curve, rates, departure = figure.axes
    assert curve.get_ylabel() == "sky since the zeroth read (ELECTRONS)"
    labels = curve.get_legend_handles_labels()[1]
    assert "sky of each read" in labels and "extra background" in labels
    assert any(label.startswith("TVB threshold (+-0.03") for label in labels)
    np.testing.assert_allclose(curve.get_lines()[0].get_ydata(), sky)
    assert "threshold +-0.03" in departure.get_legend_handles_labels()[1]
    assert departure.get_xlabel() == "time since the zeroth read (s)"
    assert rates.get_ylabel() == "interval sky rate (ELECTRONS/S)"


def test_stats_plot_labels(tmp_path):
    from hstramp.cli.stats import plot_statistics
    from hstramp.core.tvb import read_statistics

    rng = np.random.default_rng(2)
    times = np.linspace(0.0, 50.0, 5)
    data = (times[:, None, None] + rng.normal(0, 1, (5, 20, 20))).astype(np.float32)
    stats = read_statistics(data, times, in_rates=False, units="counts",
                            dq=np.zeros(data.shape, np.uint16))
    figure = plot_statistics(stats, title="s", ylabel="COUNTS")
    top, bottom = figure.axes
    assert top.get_ylabel() == "COUNTS" and bottom.get_xlabel().startswith("time since")
    assert top.get_legend_handles_labels()[1] == ["midpt", "mean", "median", "mode"]


def test_demo_png_has_a_colour_bar(tmp_path):
    from hstramp.cli.demo import plot_image

    rng = np.random.default_rng(3)
    figure = plot_image(rng.normal(1, 0.1, (30, 30)), tmp_path / "d.png", title="d")
    bars = [ax for ax in figure.axes if "stretch" in ax.get_ylabel()]
    assert len(bars) == 1 and bars[0].get_ylabel().startswith("rate (e-/s); asinh stretch")


def test_xray_cli_writes_the_plot(simulated, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("iref", str(simulated.iref))
    png = tmp_path / "p.png"
    assert main(["xray", str(simulated.raw_path), "--pixel", "30", "30", "--plot",
                 str(png)]) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"
