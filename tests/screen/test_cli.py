"""`rempart screen` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from rempart.assess.management.commands.screen import main

from ._osmwrite import write_osm


def test_screen_writes_ranked_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    nodes = [
        (1, 0.0, 0.0, {}),
        (2, 0.002, 0.0, {"amenity": "marketplace", "name": "Market"}),
        (3, 0.004, 0.0, {}),
    ]
    src = write_osm(tmp_path / "r.osm", nodes, [(10, [1, 2, 3], {"highway": "primary"})])
    out = tmp_path / "out"
    assert main(["--osm", str(src), "--out", str(out), "--workers", "0", "--geojson"]) == 0
    lines = (out / "ranked.csv").read_text().splitlines()
    assert lines[0].startswith("rank,site_id,kind,name")
    assert lines[1].startswith("1,n2,amenity=marketplace,Market")
    assert (out / "results.geojson").is_file()
    assert "1 sites" in capsys.readouterr().out


def test_missing_osm_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--osm", str(tmp_path / "x.osm.pbf"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "x.osm.pbf does not exist" in err


def _market(tmp_path: Path) -> Path:
    nodes = [
        (1, 0.0, 0.0, {}),
        (2, 0.002, 0.0, {"amenity": "marketplace", "name": "Market"}),
        (3, 0.004, 0.0, {}),
    ]
    return write_osm(tmp_path / "r.osm", nodes, [(10, [1, 2, 3], {"highway": "primary"})])


def test_tile_size_and_node_index_options(tmp_path: Path) -> None:
    src = _market(tmp_path)
    out = tmp_path / "out"
    index = f"sparse_file_array,{tmp_path / 'nodes.idx'}"
    args = ["--osm", str(src), "--out", str(out), "--workers", "0", "--tile-km", "2"]
    assert main([*args, "--node-index", index]) == 0
    assert (out / "ranked.csv").read_text().splitlines()[1].startswith("1,n2,")


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--tile-km", "0", "expected 0.5 to 100 km"),
        ("--tile-km", "1000", "expected 0.5 to 100 km"),
        ("--node-index", "hash_map", "is not a node-location index"),
        ("--node-index", "sparse_file_array", "expected sparse_file_array,PATH"),
    ],
)
def test_bad_tile_size_or_node_index_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, words: str
) -> None:
    src = _market(tmp_path)
    out = tmp_path / "out"
    assert main(["--osm", str(src), "--out", str(out), "--workers", "0", option, value]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and "\n" not in err
    assert not out.exists() or not any(out.iterdir())


def test_an_out_dir_of_another_run_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # tiles are reused by id on resume: another tile size (or extract, or sites) in the same
    # --out would mix two runs, so it is refused before any tile is computed
    src = _market(tmp_path)
    out = tmp_path / "out"
    base = ["--osm", str(src), "--out", str(out), "--workers", "0"]
    assert main(base) == 0
    written = sorted(p.name for p in (out / "tiles").iterdir())
    assert main([*base, "--tile-km", "2"]) == 2
    err = capsys.readouterr().err
    assert "holds a screening of another run (different tile size)" in err
    assert sorted(p.name for p in (out / "tiles").iterdir()) == written
    assert main(base) == 0  # the same run resumes
