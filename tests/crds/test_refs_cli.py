"""``hstramp refs`` with the real crds client against a cache the tests build (no network)."""

import shutil

import pytest
from astropy.io import fits

from hstramp.cli import main
from tests.conftest import sha256
from tests.crds.conftest import hdu0, name_of


def refs(*args):
    return main(["refs", *map(str, args)])


def test_lists_the_files_the_rules_select_and_that_they_are_cached(cache, wfc3_sim, builder,
                                                                    capsys):
    assert refs(wfc3_sim.raw_path) == 0
    out = capsys.readouterr().out
    header = hdu0(wfc3_sim.raw_path)
    dark = name_of(builder, "WFC3", "darkfile", header)
    assert f"DARKFILE  {dark}" in out  # the SPARS10 dark, not the STEP25 one
    assert "CRDS context hst_0001.pmap" in out
    for reftype in ("ccdtab", "oscntab", "bpixtab", "nlinfile", "pfltfile", "lfltfile",
                    "imphttab"):
        line = next(x for x in out.splitlines() if x.strip().startswith(reftype.upper()))
        assert name_of(builder, "WFC3", reftype, header) in line and line.endswith("cached")
    assert "DFLTFILE  N/A" in out
    assert "CRREJTAB" in out  # the jump step reads its threshold there, as calwf3 does
    assert refs(wfc3_sim.raw_path, "--all-types") == 0


def test_stis_references_come_from_the_stis_rules(cache, stis_sim, builder, capsys):
    assert refs(stis_sim.raw_path) == 0
    out = capsys.readouterr().out
    header = hdu0(stis_sim.raw_path)
    for reftype in ("biasfile", "darkfile", "pfltfile", "crrejtab"):
        assert name_of(builder, "STIS", reftype, header) in out


def test_a_file_missing_from_the_cache_is_listed_with_the_command_that_fetches_it(
        builder, offline, wfc3_sim, capsys):
    dark = name_of(builder, "WFC3", "darkfile", hdu0(wfc3_sim.raw_path))
    builder.write(offline, include=set(builder.files) - {dark})
    assert refs(wfc3_sim.raw_path) == 0
    out = capsys.readouterr().out
    assert f"DARKFILE  {dark}" in out and "NOT IN CACHE" in out
    assert f"fetch with: hstramp refs --sync {wfc3_sim.raw_path}" in out


def test_sync_fetches_missing_files_from_a_crds_server(builder, offline, wfc3_sim, tmp_path,
                                                       monkeypatch, capsys):
    """The server is a second directory the client reads through CRDS_CONFIG_URI and
    file:// URLs: the client's real download path (size and sha1sum checked)."""
    server = tmp_path / "server"
    builder.write(server, flat=True,
                  reference_url=(server / "references" / "hst").as_uri() + "/")
    builder.write(offline, include=set())
    monkeypatch.setenv("CRDS_CONFIG_URI", str(server / "config" / "hst"))
    assert refs(wfc3_sim.raw_path, "--sync") == 0
    out = capsys.readouterr().out
    dark = name_of(builder, "WFC3", "darkfile", hdu0(wfc3_sim.raw_path))
    assert f"fetched {dark}" in out
    assert (offline / "references" / "hst" / "wfc3" / dark).is_file()
    assert "NOT IN CACHE" not in out


def test_sync_without_a_server_says_how_to_configure_one(builder, offline, wfc3_sim, capsys):
    builder.write(offline, include=set())
    assert refs(wfc3_sim.raw_path, "--sync") == 2
    err = capsys.readouterr().err
    assert "no CRDS server is configured" in err and "CRDS_SERVER_URL=" in err


def test_update_bestrefs_writes_a_copy_and_leaves_the_input_alone(cache, wfc3_sim, builder,
                                                                 tmp_path, capsys):
    before = sha256(wfc3_sim.raw_path)
    out = tmp_path / "updated"
    assert refs(wfc3_sim.raw_path, "--update-bestrefs", "--out", out) == 0
    assert sha256(wfc3_sim.raw_path) == before
    header = hdu0(out / wfc3_sim.raw_path.name)
    dark = name_of(builder, "WFC3", "darkfile", hdu0(wfc3_sim.raw_path))
    assert header["DARKFILE"] == f"iref${dark}"
    assert header["DFLTFILE"] == "N/A"
    assert header["CRDS_CTX"] == "hst_0001.pmap"
    assert sorted(p.name for p in out.iterdir()) == [wfc3_sim.raw_path.name]
    assert refs(wfc3_sim.raw_path, "--update-bestrefs", "--out", out) == 2  # no overwrite
    assert "exist already" in capsys.readouterr().err


def test_update_bestrefs_in_place_only_when_asked(cache, wfc3_sim, tmp_path, capsys):
    raw = tmp_path / wfc3_sim.raw_path.name
    shutil.copyfile(wfc3_sim.raw_path, raw)
    before = sha256(raw)
    assert refs(raw, "--update-bestrefs") == 2
    assert "--out DIR" in capsys.readouterr().err and sha256(raw) == before
    assert refs(raw, "--update-bestrefs", "--in-place") == 0
    assert hdu0(raw)["DARKFILE"].startswith("iref$s")
    with fits.open(raw) as hdul, fits.open(wfc3_sim.raw_path) as original:
        assert len(hdul) == len(original)  # still a complete raw


def _spoiled(wfc3_sim, tmp_path, **changes):
    raw = tmp_path / "in" / wfc3_sim.raw_path.name
    raw.parent.mkdir()
    shutil.copyfile(wfc3_sim.raw_path, raw)
    with fits.open(raw, mode="update") as hdul:
        for keyword, value in changes.items():
            if value is None:
                del hdul[0].header[keyword]
            else:
                hdul[0].header[keyword] = value
    return raw


@pytest.mark.parametrize(("changes", "message"), [
    ({"INSTRUME": "ACS"}, r"INSTRUME = 'ACS'; hstramp looks up references for WFC3 and STIS"),
    ({"INSTRUME": None}, r"no INSTRUME keyword"),
    ({"SUBTYPE": "SQ512SUB"}, r"DARKFILE: .*SUBTYPE.*SQ512SUB"),
    ({"DETECTOR": None}, r"CCDTAB: .*DETECTOR"),
])
def test_bad_exposures_are_one_clear_error_and_nothing_is_written(
        cache, wfc3_sim, tmp_path, capsys, changes, message):
    import re

    raw = _spoiled(wfc3_sim, tmp_path, **changes)
    before = sha256(raw)
    out = tmp_path / "out"
    assert refs(raw, "--update-bestrefs", "--out", out) == 2
    err = capsys.readouterr().err
    assert re.search(message, err), err
    assert str(raw) in err and "Traceback" not in err
    assert not out.exists() and sha256(raw) == before


@pytest.mark.parametrize("damage", ["missing", "garbled", "no cache"])
def test_an_unusable_cache_is_one_clear_error(builder, offline, wfc3_sim, capsys, damage):
    if damage != "no cache":
        builder.write(offline)
        config = offline / "config" / "hst" / "server_config"
        if damage == "missing":
            config.unlink()
        else:
            config.write_text("{'observatory': 'hst', ")
    assert refs(wfc3_sim.raw_path) == 2
    err = capsys.readouterr().err
    assert str(offline) in err and "crds sync" in err and "Traceback" not in err


def test_rules_that_crds_cannot_load_are_one_clear_error(cache, wfc3_sim, capsys):
    rmap = cache / "mappings" / "hst" / "hst_wfc3_darkfile_0001.rmap"
    rmap.write_text(rmap.read_text().replace("UseAfter", "UseBefore"))
    assert refs(wfc3_sim.raw_path) == 2
    err = capsys.readouterr().err
    assert "CRDS failed" in err and "Traceback" not in err


def test_contradictory_options_are_refused(cache, wfc3_sim, tmp_path, capsys):
    assert refs(wfc3_sim.raw_path, "--in-place") == 2
    assert refs(wfc3_sim.raw_path, "--out", tmp_path) == 2
    assert refs(wfc3_sim.raw_path, "--simulate") == 2
    assert refs(wfc3_sim.raw_path, "--simulate", "--out", tmp_path / "s", "--sync") == 2
    assert not (tmp_path / "s").exists()
