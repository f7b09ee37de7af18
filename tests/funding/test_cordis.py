"""CORDIS bulk files: the quirks of the real exports, and all-or-nothing loading."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from rempart.funding.cordis import CordisError, read_organisations, read_projects
from rempart.funding.models import CordisParticipation, CordisProject

PROJECT_HEADER = (
    '"id";"acronym";"status";"title";"startDate";"endDate";"totalCost";"ecMaxContribution";'
    '"legalBasis";"topics";"ecSignatureDate";"frameworkProgramme";"masterCall";"subCall";'
    '"fundingScheme";"nature";"objective";"contentUpdateDate";"rcn";"grantDoi"'
)
PRACTICIES = (
    '"740072";"PRACTICIES";"CLOSED";"Partnership against violent radicalisation in the cities";'
    '"2017-05-01";"2020-04-30";"3499995,00";"3499995,00";"H2020-EU.3.7.";'
    '"SEC-06-FCT-2016";"2017-04-07";"H2020";"H2020-FCT-2016-2017";"H2020-FCT-2016";"RIA";"";'
    '"Understanding the human roots of radicalisation; prevention in cities.\nSecond line.";'
    '"2022-08-01 12:00:00";"210222";"10.3030/740072"'
)
ICARUS = (
    '"882749";"IcARUS";"CLOSED";"Innovative AppRoaches to Urban Security";"2020-09-01";'
    '"2024-08-31";"5053443,75";"4999996,25";"H2020-EU.3.7.";"SU-GM01-2018-2019-2020";'
    '"2020-07-01";"H2020";"H2020-SU-SEC-2018-2019-2020";"H2020-SU-SEC-2020";"RIA";"";'
    '"Urban security; design thinking; six pilot cities.";"2024-01-01";"229002";""'
)
OTHER = (
    '"101000001";"GREENROOF";"SIGNED";"Roofs";"2021-01-01";"2023-12-31";"1000000";"1000000";'
    '"HORIZON.2.5";"HORIZON-CL5-2021-D1-01";"";"HORIZON";"";"";"RIA";"";"Green roofs.";"";"1";""'
)
ORG_HEADER = (
    '"projectID";"projectAcronym";"organisationID";"vatNumber";"name";"shortName";"SME";'
    '"activityType";"street";"postCode";"city";"country";"nutsCode";"geolocation";"role";'
    '"ecContribution";"netEcContribution";"totalCost";"endOfParticipation";"active"'
)


def org(project: int, oid: str, name: str, kind: str, country: str, role: str, ec: str) -> str:
    return (
        f'"{project}";"X";"{oid}";"";"{name}";"";"false";"{kind}";"";"";"";"{country}";"";"";'
        f'"{role}";"{ec}";"{ec}";"{ec}";"false";"true"'
    )


ORGS = [
    org(
        740072,
        "999975787",
        "UNIVERSITE TOULOUSE - JEAN JAURES",
        "HES",
        "FR",
        "coordinator",
        "1000000,50",
    ),
    org(
        740072,
        "999643455",
        "FORUM EUROPEEN POUR LA SECURITE URBAINE",
        "OTH",
        "FR",
        "participant",
        "500000",
    ),
    org(
        882749,
        "999643455",
        "FORUM EUROPEEN POUR LA SECURITE URBAINE",
        "OTH",
        "FR",
        "coordinator",
        "900000",
    ),
    org(882749, "999000001", "COMUNE DI TORINO", "PUB", "IT", "participant", "300000"),
    org(882749, "999000002", "POLITIE NEDERLAND", "PUB", "NL", "participant", "250000"),
    org(882749, "999000003", "LANDESHAUPTSTADT STUTTGART", "PUB", "DE", "participant", "200000"),
    org(101000001, "999000009", "ROOFS GMBH", "PRC", "DE", "coordinator", "1000000"),
]


def write(tmp_path: Path, name: str, lines: list[str], encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def test_the_quirks_of_real_exports(tmp_path: Path) -> None:
    projects = read_projects(
        write(tmp_path, "project.csv", [PROJECT_HEADER, PRACTICIES, ICARUS, OTHER])
    )
    practicies, icarus, other = projects
    assert practicies.grant_id == 740072 and practicies.acronym == "PRACTICIES"
    assert practicies.total_cost_eur == Decimal("3499995.00")  # decimal comma
    assert icarus.ec_max_contribution_eur == Decimal("4999996.25")
    assert practicies.start_date == dt.date(2017, 5, 1)
    assert "; prevention in cities.\nSecond line." in practicies.objective  # ; and newline quoted
    assert practicies.security_related and icarus.security_related and not other.security_related
    parts = read_organisations(write(tmp_path, "organization.csv", [ORG_HEADER, *ORGS]))
    assert parts[0].ec_contribution_eur == Decimal("1000000.50")
    assert [p.role for p in parts[:3]] == ["coordinator", "beneficiary", "coordinator"]
    assert [p.legal_type for p in parts] == [
        "university",
        "other",
        "other",
        "municipality",
        "police",
        "municipality",
        "company",
    ]


def test_columns_are_found_by_header_in_any_order(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", ['"title";"acronym";"id"', '"T";"A";"12"'])
    (project,) = read_projects(path)
    assert (project.grant_id, project.acronym, project.title) == (12, "A", "T")


@pytest.mark.parametrize(
    "lines, message",
    [
        (['"id";"title"', '"1";"x"'], "no column acronym"),
        ([PROJECT_HEADER, PRACTICIES, '"2";"B";"x"'], r"line 4: 3 fields, expected 20"),
        (
            [PROJECT_HEADER, PRACTICIES.replace('"3499995,00"', '"3.499.995,00"', 1)],
            "column totalCost",
        ),
        (
            [PROJECT_HEADER, PRACTICIES.replace('"2017-05-01"', '"01/05/2017"', 1)],
            "column startDate",
        ),
        ([PROJECT_HEADER, PRACTICIES.replace('"740072"', '"abc"', 1)], "column id: 'abc'"),
        ([PROJECT_HEADER, PRACTICIES, PRACTICIES], "project 740072 appears twice"),
        ([], "is empty"),
    ],
)
def test_bad_project_files_name_the_line(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(CordisError, match=message):
        read_projects(write(tmp_path, "project.csv", lines))


def test_latin1_and_huge_fields_are_refused(tmp_path: Path) -> None:
    latin = write(
        tmp_path,
        "project.csv",
        [PROJECT_HEADER, PRACTICIES.replace("Partnership", "Été")],
        "latin-1",
    )
    with pytest.raises(CordisError, match=r"line 2: not UTF-8"):
        read_projects(latin)
    huge = write(
        tmp_path, "p2.csv", [PROJECT_HEADER, PRACTICIES.replace("Second line.", "x" * 200_000)]
    )
    with pytest.raises(CordisError, match="characters"):
        read_projects(huge)


@pytest.mark.django_db
def test_import_is_all_or_nothing(tmp_path: Path) -> None:
    projects = write(tmp_path, "project.csv", [PROJECT_HEADER, PRACTICIES, ICARUS, OTHER])
    orgs = write(tmp_path, "organization.csv", [ORG_HEADER, *ORGS])
    broken = write(
        tmp_path,
        "broken.csv",
        [ORG_HEADER, *ORGS, org(882749, "1", "X", "PUB", "FRA", "participant", "1")],
    )
    with pytest.raises(CommandError, match=r"line 9, column country: 'FRA'"):
        call_command("funding", "import-cordis", str(projects), str(broken))
    assert CordisProject.objects.count() == 0 and CordisParticipation.objects.count() == 0
    orphan = write(
        tmp_path, "orphan.csv", [ORG_HEADER, org(5, "1", "X", "PUB", "FR", "participant", "1")]
    )
    with pytest.raises(CommandError, match="names project 5"):
        call_command("funding", "import-cordis", str(projects), str(orphan))
    assert CordisProject.objects.count() == 0
    call_command("funding", "import-cordis", str(projects), str(orgs))
    assert CordisProject.objects.count() == 3
    assert CordisParticipation.objects.filter(project_id=882749).count() == 4
    # Loading again replaces, never duplicates.
    call_command("funding", "import-cordis", str(projects), str(orgs))
    assert CordisParticipation.objects.count() == len(ORGS)
