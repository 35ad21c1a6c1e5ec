"""Issue 17, output class: product names, input protection, all-or-nothing commit, leftovers."""

import os

import pytest

from hstramp.datamodels.atomic import staged_outputs
from hstramp.datamodels.products import (
    check_not_input,
    check_product_path,
    clean_leftovers,
    commit_products,
    product_path,
    temporary_path,
)
from hstramp.errors import InputFileError, OutputFileError

ESCAPING_ROOTNAMES = ["../escaped", "/abs/x", "a/b", "..", ".hidden", "", " ", "a\x00b",
                      "x" * 65, "a b", "..\\x"]


@pytest.mark.hostile("security")
@pytest.mark.parametrize("rootname", ESCAPING_ROOTNAMES)
def test_rootname_is_never_a_path(rootname, tmp_path):
    with pytest.raises(InputFileError, match=r"ROOTNAME .* is not a plain name"):
        product_path(tmp_path, rootname, "flt", source="x_raw.fits")


@pytest.mark.parametrize("rootname", ["IBXY01AAQ", "odj_01.b-2"])
def test_plain_rootname_stays_inside(rootname, tmp_path):
    assert product_path(tmp_path, rootname, "flt").parent == tmp_path


@pytest.mark.hostile("data-loss")
@pytest.mark.parametrize("link", ["symlink", "hardlink", "same"])
def test_input_is_never_a_product(link, tmp_path):
    source = tmp_path / "in.fits"
    source.write_bytes(b"x")
    product = tmp_path / "out.fits"
    {"symlink": lambda: product.symlink_to(source), "hardlink": lambda: os.link(source, product),
     "same": lambda: None}[link]()
    with pytest.raises(OutputFileError, match="is the input file"):
        check_not_input(source if link == "same" else product, [source])


@pytest.mark.hostile("data-loss")
@pytest.mark.parametrize("case", ["loop", "dangling", "directory", "dir-is-file", "exists"])
def test_unwritable_product_paths(case, tmp_path):
    path = tmp_path / "p_flt.fits"
    if case == "loop":
        path.symlink_to(path)
    elif case == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    elif case == "directory":
        path.mkdir()
    elif case == "dir-is-file":
        (tmp_path / "f").write_text("")
        path = tmp_path / "f" / "p_flt.fits"
    else:
        path.write_text("old")
    with pytest.raises(OutputFileError):
        check_product_path(path, overwrite=case not in ("exists",))


def _stage(tmp_path, names):
    staged = []
    for name in names:
        final = tmp_path / name
        tmp = temporary_path(final)
        tmp.write_text("new " + name)
        staged.append((tmp, final))
    return staged


@pytest.mark.hostile("data-loss")
@pytest.mark.parametrize("fail_at", [0, 1])
def test_failed_commit_leaves_old_set_whole(fail_at, tmp_path, monkeypatch):
    for name in ("r_ima.fits", "r_flt.fits"):
        (tmp_path / name).write_text("old " + name)
    staged = _stage(tmp_path, ["r_ima.fits", "r_flt.fits"])
    real_link, calls = os.link, []

    def link(src, dst):
        calls.append(dst)
        if len(calls) - 1 == fail_at:
            raise OSError(28, "No space left on device", str(dst))
        return real_link(src, dst)

    monkeypatch.setattr(os, "link", link)
    with pytest.raises(OutputFileError, match="previous products are whole"):
        commit_products(staged, overwrite=True)
    for name in ("r_ima.fits", "r_flt.fits"):
        assert (tmp_path / name).read_text() == "old " + name
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_flt.fits", "r_ima.fits"]


@pytest.mark.hostile("data-loss")
def test_no_clobber_is_atomic(tmp_path):
    staged = _stage(tmp_path, ["r_ima.fits", "r_flt.fits"])
    (tmp_path / "r_flt.fits").write_text("other run")  # appears after the checks
    with pytest.raises(OutputFileError, match="appeared while this run was writing"):
        commit_products(staged, overwrite=False)
    assert (tmp_path / "r_flt.fits").read_text() == "other run"
    assert not (tmp_path / "r_ima.fits").exists()


@pytest.mark.hostile("leftover")
def test_leftovers_of_dead_runs_are_cleaned(tmp_path):
    dead = 2**22 + 12345  # above the default pid_max
    (tmp_path / f".a_flt.fits.hstramp-{dead}.tmp").write_text("half")
    (tmp_path / f".b_flt.fits.hstramp-{dead}.old").write_text("old b")
    live = tmp_path / f".c_flt.fits.hstramp-{os.getpid()}.tmp"
    live.write_text("mine")
    clean_leftovers(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["b_flt.fits", live.name])
    assert (tmp_path / "b_flt.fits").read_text() == "old b"


@pytest.mark.hostile("leftover")
def test_exception_while_staging_removes_temporaries(tmp_path):
    with pytest.raises(KeyboardInterrupt), staged_outputs([tmp_path / "r_flt.fits"]) as (tmp,):
        tmp.write_text("half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []
