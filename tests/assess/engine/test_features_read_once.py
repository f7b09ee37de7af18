"""The obstacles read in one pass (docs/performance.md, cityperf): the area manager's pass over
the multipolygon relations is done while the road network is read (:func:`osm.read_osm` with
``areas``), and :func:`drivable.read_features` then reads the file once. The result must be
the features of the two-pass read: the same geometries (WKB), in the same order, of the same
kinds, including areas assembled from multipolygon relations."""

from __future__ import annotations

import osmium
import shapely

from rempart.assess.engine.drivable import read_features
from rempart.assess.engine.graph import build_network
from rempart.assess.engine.osm import read_osm
from rempart.demo.helsinki import helsinki_pbf_path


def test_one_read_gives_the_features_of_two() -> None:
    path = helsinki_pbf_path()
    areas = osmium.area.AreaManager()
    osm = read_osm(path, areas=areas)
    assert osm.way_ids.size == read_osm(path).way_ids.size
    project = build_network(osm).project
    once = read_features(path, project, areas=areas)
    twice = read_features(path, project)
    # the Helsinki extract has multipolygon relations: areas not from a single closed way
    relation_areas = sum(
        1
        for a in osmium.FileProcessor(path)
        .with_areas()
        .with_filter(osmium.filter.EntityFilter(osmium.osm.AREA))
        if not a.from_way()
    )
    assert relation_areas > 0
    for kind in ("areas", "lines", "kerbs", "footways", "mapped"):
        a, b = getattr(once, kind), getattr(twice, kind)
        assert len(a) == len(b) > 0, kind
        assert list(shapely.to_wkb(a)) == list(shapely.to_wkb(b)), kind
    assert once.area_kinds == twice.area_kinds
    assert once.line_kinds == twice.line_kinds
