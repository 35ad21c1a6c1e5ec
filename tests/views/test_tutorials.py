"""The tutorials stay true: their build script runs every page's commands (quick variant)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TUTORIALS = ROOT / "docs" / "tutorials"
SHARED = ROOT.parent / "shared"


def _build_module():
    spec = importlib.util.spec_from_file_location("tutorial_build", TUTORIALS / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_page_is_built_linked_and_shows_committed_figures():
    build = _build_module()
    index = (ROOT / "docs" / "index.md").read_text()
    for page in build.PAGES:
        text = (TUTORIALS / page).read_text()
        assert f"tutorials/{page}" in index
        assert build.page_blocks(text), page
        for figure in build.page_figures(text):
            assert (TUTORIALS / "figures" / figure).is_file(), figure
    total = sum(p.stat().st_size for p in (TUTORIALS / "figures").glob("*.png"))
    assert total <= build.FIGURE_BUDGET


def test_quick_build_runs_every_page(tmp_path, capsys):
    if not (SHARED / "data" / "wfc3ir").is_dir():
        pytest.skip(f"the real data directory {SHARED} is not available")
    build = _build_module()
    before = {p.name: p.stat().st_mtime for p in (TUTORIALS / "figures").glob("*.png")}
    status = build.main(["--quick", "--shared", str(SHARED), "--keep", str(tmp_path)])
    out = capsys.readouterr()
    assert status == 0, out.err
    assert all(f"{page}: ok" in out.out for page in build.PAGES)
    made = {p.name for p in (tmp_path / "project" / "docs" / "tutorials" / "figures").glob("*")}
    assert made == set(before)
    after = {p.name: p.stat().st_mtime for p in (TUTORIALS / "figures").glob("*.png")}
    assert after == before  # quick never touches the repository


def test_a_failing_command_fails_the_build(tmp_path, monkeypatch):
    build = _build_module()
    page = tmp_path / "broken.md"
    page.write_text("# broken\n\n```python\nraise RuntimeError('stale')\n```\n"
                    "![x](figures/never.png)\n")
    project = tmp_path / "project"
    (project / "docs" / "tutorials" / "figures").mkdir(parents=True)
    problems = build.run_page(page, project)
    assert len(problems) == 1 and "stale" in problems[0]
    page.write_text("# no figure\n\n```python\nx = 1\n```\n![x](figures/never.png)\n")
    problems = build.run_page(page, project)
    assert problems == ["broken.md shows figures/never.png, which its commands did not make"]
