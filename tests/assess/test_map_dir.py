"""Map files only from REMPART_MAP_DIR, with one sentence for missing and forbidden (issue 9)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rempart.assess import services
from rempart.assess.maps import MapFileError, resolve_map_file
from rempart.assess.models import Assessment, CityOsmData

pytestmark = pytest.mark.django_db


@pytest.fixture
def map_dir(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "maps"
    root.mkdir()
    (root / "nice.osm.pbf").write_bytes(b"not really a pbf")
    (tmp_path / "secret.osm").write_text("<osm/>")  # exists, but outside the map directory
    (root / "link.osm").symlink_to(tmp_path / "secret.osm")
    settings.MAP_DIR = root
    return root


def test_a_file_in_the_map_directory_is_accepted_by_name_or_full_path(map_dir: Path) -> None:
    assert resolve_map_file("nice.osm.pbf") == str(map_dir / "nice.osm.pbf")
    assert resolve_map_file(str(map_dir / "nice.osm.pbf")) == str(map_dir / "nice.osm.pbf")


@pytest.mark.parametrize("name", ["../secret.osm", "link.osm", "SECRET_ABSOLUTE", "missing.osm"])
def test_outside_and_missing_files_get_the_same_sentence(map_dir: Path, name: str) -> None:
    if name == "SECRET_ABSOLUTE":
        name = str(map_dir.parent / "secret.osm")
    with pytest.raises(MapFileError) as caught:
        resolve_map_file(name)
    assert str(caught.value) == (
        f"{name}: no readable .osm.pbf or .osm file of that name in the map directory "
        f"{map_dir} (REMPART_MAP_DIR)"
    )


def test_the_form_does_not_tell_whether_a_file_exists(
    client: Client, city: Any, make_user: Any, map_dir: Path
) -> None:
    client.force_login(make_user("admin"))
    answers = []
    for path in ("/etc/passwd.osm", str(map_dir.parent / "secret.osm")):  # absent, present
        response = client.post(reverse("assess:osm_data"), {"osm_path": path, "description": ""})
        assert response.status_code == 400
        errors = re.findall(r'<ul class="errorlist.*?</ul>', response.content.decode(), re.S)
        answers.append([e.replace(path, "PATH") for e in errors])
    assert "no readable .osm.pbf or .osm file of that name" in answers[0][0]
    assert answers[0] == answers[1]
    assert not CityOsmData.objects.exists()


def test_a_stored_path_outside_the_directory_fails_the_run_with_the_sentence(
    site: Any, map_dir: Path
) -> None:
    outside = str(map_dir.parent / "secret.osm")
    CityOsmData.objects.create(city=site.city, osm_path=outside)
    run = services.execute(services.request_run(site).pk)
    assert run.status == Assessment.Status.FAILED
    assert "in the map directory (REMPART_MAP_DIR)" in run.error
