"""Camera tokens limited to lanes or zones (issue 9 item 5, issue 11 item 6).

A limited token posts reads only to its lanes (403, audited, on the camera path as on the
general one), reads only its lanes' decisions and states, and never sets a zone's mode,
commands a barrier or answers a referral, whatever scopes it carries.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from rempart.access import services
from rempart.access.models import AccessDecision
from rempart.core.audit_models import AuditEntry
from rempart.core.models import ApiToken
from tests.access.test_models_fixtures import camera_read as read
from tests.access.test_models_fixtures import lyon_supervisor, make_zone, token_for, zone  # noqa: F401

pytestmark = pytest.mark.django_db

URL = "/api/v1/access/requests"


def bearer(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def post(client: Client, secret: str, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, content_type="application/json", **bearer(secret))


@pytest.fixture
def port(city: Any) -> Any:
    """A second zone of the same city."""
    return make_zone(city, "port")


# --- the form ---------------------------------------------------------------------------------


def test_the_token_form_limits_a_token_to_lanes_and_zones_of_the_owners_cities(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    port: Any,
    other_city: Any,
) -> None:
    make_zone(other_city, "lyon")
    operator = make_user("operator", modules=("access",))
    client.force_login(operator)
    form = client.get("/tokens/").context["form"]
    lanes = [value for value, _label in form.fields["lanes"].choices]
    assert "old-town-in" in lanes and "port-out" in lanes and "lyon-in" not in lanes
    scopes = ["access:request", "access:read"]
    response = client.post(
        "/tokens/", {"name": "north camera", "scopes": scopes, "lanes": ["old-town-in"]}
    )
    assert response.status_code == 200
    token = ApiToken.objects.get(name="north camera")
    assert token.constraints == {"lanes": ["old-town-in"]}
    client.post("/tokens/", {"name": "port cameras", "scopes": scopes, "zones": ["port"]})
    assert ApiToken.objects.get(name="port cameras").constraints == {"zones": ["port"]}
    # another city's lane is no choice
    refused = client.post("/tokens/", {"name": "x", "scopes": scopes, "lanes": ["lyon-in"]})
    assert refused.status_code == 400
    # lanes outside the zones chosen
    outside = {"name": "x", "scopes": scopes, "lanes": ["old-town-in"], "zones": ["port"]}
    response = client.post("/tokens/", outside)
    assert response.status_code == 400
    assert "old-town-in" in str(response.context["form"].errors["lanes"])
    # a limited token never commands
    client.force_login(make_user("supervisor", modules=("access",)))
    commanding = {"name": "x", "scopes": ["access:command"], "lanes": ["old-town-in"]}
    response = client.post("/tokens/", commanding)
    assert response.status_code == 400
    assert "access:command" in str(response.context["form"].errors["scopes"])
    assert ApiToken.objects.filter(name="x").count() == 0


# --- what a limited token may do -------------------------------------------------------------


def test_a_lane_limited_token_never_sets_the_mode_nor_commands(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    supervisor = make_user("supervisor", modules=("access",))
    everything = ["access:request", "access:read", "access:command"]
    limited = token_for(supervisor, everything, ["old-town-in"])
    mode = post(
        client,
        limited,
        "/api/v1/access/zones/old-town/mode",
        {"mode": "emergency_open", "reason": "x"},
    )
    assert mode.status_code == 403 and "limited to lanes old-town-in" in mode.json()["detail"]
    action = {"reason": "test"}
    assert post(client, limited, "/api/v1/access/lanes/old-town-in/open", action).status_code == 403
    assert (
        post(client, limited, "/api/v1/access/lanes/old-town-in/close", action).status_code == 403
    )
    referred = services.submit_request("old-town-in", plate="EM-112-AA", confidence=0.5).decision
    answer = {"grant": True, "reason": "x"}
    path = f"{URL}/{referred.request_id.hex}/answer"
    assert post(client, limited, path, answer).status_code == 403
    zone.refresh_from_db()
    assert zone.mode == "normal"
    assert AccessDecision.objects.count() == 1  # nothing decided by the refused commands
    assert AuditEntry.objects.filter(action="permission_denied").count() == 4
    # the same owner's token without limits may
    unlimited = token_for(supervisor, everything)
    mode = post(
        client,
        unlimited,
        "/api/v1/access/zones/old-town/mode",
        {"mode": "maintenance", "reason": "x"},
    )
    assert mode.status_code == 200


def test_a_lane_limited_token_reads_only_its_lanes(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    port: Any,
) -> None:
    mine = services.submit_request("old-town-in", plate="ZZ-999-ZZ", confidence=0.97).decision
    other = services.submit_request("old-town-out", plate="ZZ-999-ZZ", confidence=0.97).decision
    operator = make_user("operator", modules=("access",))
    camera = token_for(operator, ["access:request", "access:read"], ["old-town-in"])
    own = client.get(f"{URL}/{mine.request_id.hex}", **bearer(camera))
    assert own.status_code == 200 and own.json()["lane"] == "old-town-in"
    refused = client.get(f"{URL}/{other.request_id.hex}", **bearer(camera))
    assert refused.status_code == 403
    lanes = client.get("/api/v1/access/lanes", **bearer(camera)).json()
    assert [lane["id"] for lane in lanes] == ["old-town-in"]
    # limited to a zone: that zone's lanes
    port_camera = token_for(operator, ["access:read"])
    ApiToken.objects.filter(key_id=port_camera.split("_")[1]).update(
        constraints={"zones": ["port"]}
    )
    lanes = client.get("/api/v1/access/lanes", **bearer(port_camera)).json()
    assert {lane["id"] for lane in lanes} == {"port-in", "port-2f", "port-out"}
    assert client.get(f"{URL}/{mine.request_id.hex}", **bearer(port_camera)).status_code == 403


def test_a_zone_limited_token_posts_reads_only_to_its_zones_lanes(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    port: Any,
) -> None:
    operator = make_user("operator", modules=("access",))
    camera = token_for(operator, ["access:request"])
    ApiToken.objects.filter(key_id=camera.split("_")[1]).update(constraints={"zones": ["port"]})
    assert post(client, camera, URL, read("port-in")).status_code == 200
    refused = post(client, camera, URL, read("old-town-in"))
    assert refused.status_code == 403
    assert refused.json()["detail"] == (
        "this token may not act on lane 'old-town-in'; it is limited to zones port"
    )
    denied = AuditEntry.objects.get(action="permission_denied")
    assert denied.detail["lane"] == "old-town-in" and denied.city == "nice"
    assert AccessDecision.objects.filter(lane__zone=zone).count() == 0


def test_the_camera_path_sees_a_new_limit_at_the_next_read(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
) -> None:
    camera = token_for(make_user("operator", modules=("access",)), ["access:request"])
    assert post(client, camera, URL, read("old-town-in")).status_code == 200  # kept by the path
    token = ApiToken.objects.get(key_id=camera.split("_")[1])
    token.constraints = {"lanes": ["old-town-out"]}
    token.save()
    assert post(client, camera, URL, read("old-town-in")).status_code == 403
    assert post(client, camera, URL, read("old-town-out")).status_code == 200


def test_another_citys_lane_is_as_no_lane_on_the_camera_path(
    client: Client,
    make_user: Any,
    zone: Any,  # noqa: F811
    other_city: Any,
) -> None:
    lyon_camera = token_for(lyon_supervisor(make_user, other_city), ["access:request"])
    foreign = post(client, lyon_camera, URL, read("old-town-in"))
    missing = post(client, lyon_camera, URL, read("no-such-lane"))
    assert (foreign.status_code, missing.status_code) == (404, 404)
    assert foreign.json()["detail"] == "lane 'old-town-in' does not exist"
    refusal = AuditEntry.objects.get(action="permission_denied")
    assert refusal.city == "nice" and refusal.detail["answered"] == 404
