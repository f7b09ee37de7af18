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
