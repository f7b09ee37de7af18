"""Reading CORDIS bulk files: ``project.csv`` and ``organization.csv`` (plain Python).

CORDIS (cordis.europa.eu, data under the Commission's reuse policy, Decision 2011/833/EU, CC BY
4.0) publishes each framework programme's projects and participants as CSV: separated by ``;``,
fields quoted with ``"`` (``;`` and line breaks occur inside quoted text), amounts with a
*decimal comma* (``3499521,25``), dates as ISO ``YYYY-MM-DD``. The columns differ between
extracts and years, so they are found by header name, case-insensitively; the ones we need are
:data:`PROJECT_COLUMNS` and :data:`ORGANISATION_COLUMNS`.

Every problem is a :class:`CordisError`: one sentence naming the file, the line, the column,
the value and what was expected. Nothing is returned for a file with any bad row, so the caller
writes all or nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

#: Columns read from project.csv: header name -> attribute. Names marked required must exist.
PROJECT_COLUMNS = {
    "id": ("grant_id", True),
    "acronym": ("acronym", True),
    "title": ("title", True),
    "status": ("status", False),
    "startdate": ("start_date", False),
    "enddate": ("end_date", False),
    "totalcost": ("total_cost_eur", False),
    "ecmaxcontribution": ("ec_max_contribution_eur", False),
    "legalbasis": ("legal_basis", False),
    "topics": ("topics", False),
    "frameworkprogramme": ("framework", False),
    "fundingscheme": ("funding_scheme", False),
    "objective": ("objective", False),
}
ORGANISATION_COLUMNS = {
    "projectid": ("project_id", True),
    "organisationid": ("organisation_id", True),
    "name": ("name", True),
    "shortname": ("short_name", False),
    "activitytype": ("activity_type", False),
    "city": ("city", False),
    "country": ("country", True),
    "role": ("role", True),
    "eccontribution": ("ec_contribution_eur", False),
    "sme": ("sme", False),
}

#: A field longer than this is refused (CORDIS objectives are a few thousand characters).
MAX_FIELD_CHARS = 100_000
#: Rows per file (the largest CORDIS file, H2020 organisations, has under 200,000).
MAX_ROWS = 2_000_000
#: Kept of a project's objective (the search needs the start of it, not the whole text).
OBJECTIVE_CHARS = 2_000

ROLES = {
    "coordinator": "coordinator",
    "participant": "beneficiary",
    "beneficiary": "beneficiary",
    "thirdparty": "affiliated_entity",
    "associatedpartner": "associated_partner",
    "partner": "associated_partner",
    "internationalpartner": "associated_partner",
}

#: CORDIS activity types (PRC private for-profit, REC research, HES higher education, PUB public
#: body, OTH other) to our legal types; police and cities are recognised by name below.
ACTIVITY_TYPES = {
    "PRC": "company",
    "REC": "research",
    "HES": "university",
    "PUB": "public_body",
    "OTH": "other",
}
_POLICE = re.compile(
    r"\b(police|polizei|politie|polisen|poliisi|politi|polici[ae]|policja|policie|gendarmerie|"
    r"guardia civil|carabinieri|ertzaintza|mossos|garda)\b|policía|polícia|polizia|rendőr",
    re.IGNORECASE,
)
_CITY = re.compile(
    r"\b(city of|ville de|commune de|comune di|stadt|landeshauptstadt|gemeente|ayuntamiento|"
    r"municipality|municipio|município|kaupunki|kommune|kommun|mairie|métropole|gmina|miasto|"
    r"dimos|concello|ajuntament)\b|\bmunicipal",
    re.IGNORECASE,
)
#: Topics and legal bases of security research: H2020 Secure Societies (SU-, SEC-, legal basis
#: H2020-EU.3.7), Horizon Europe Cluster 3 (HORIZON-CL3-), ISF Union actions (ISFP-, ISF-).
_SECURITY_TOPIC = re.compile(r"(^|[;,\s])(SU-|SEC-|HORIZON-CL3-|ISFP-|ISF-)", re.IGNORECASE)


class CordisError(ValueError):
    """A CORDIS file that cannot be read: one sentence naming file, line, column and value."""


@dataclass(frozen=True)
class Project:
    grant_id: int
    acronym: str
    title: str
    status: str = ""
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    total_cost_eur: Decimal | None = None
    ec_max_contribution_eur: Decimal | None = None
    legal_basis: str = ""
    topics: str = ""
    framework: str = ""
    funding_scheme: str = ""
    objective: str = ""

    @property
    def security_related(self) -> bool:
        """Security research: H2020 Secure Societies, Horizon Europe Cluster 3, ISF."""
        return bool(
            _SECURITY_TOPIC.search(self.topics) or self.legal_basis.startswith("H2020-EU.3.7")
        )


@dataclass(frozen=True)
class Participation:
    project_id: int
    organisation_id: str
    name: str
    country: str
    role: str  # our role code (see ROLES)
    short_name: str = ""
    activity_type: str = ""
    city: str = ""
    ec_contribution_eur: Decimal | None = None
    sme: bool | None = None

    @property
    def legal_type(self) -> str:
        """Our legal type: police and cities recognised by name, else from the activity type."""
        if _POLICE.search(self.name):
            return "police"
        if self.activity_type == "PUB" and _CITY.search(self.name):
            return "municipality"
        return ACTIVITY_TYPES.get(self.activity_type, "other")


def _decimal(value: str) -> Decimal | None:
    value = value.strip()
    if not value:
        return None
    if "," in value and "." in value:
        raise ValueError("both a comma and a point")
    amount = Decimal(value.replace(",", "."))
    if not amount.is_finite() or abs(amount) >= Decimal("1e15"):
        raise ValueError("out of range")
    return amount


def _date(value: str) -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    return dt.date.fromisoformat(value[:10])


def _rows(
    stream: IO[str], label: str, columns: dict[str, tuple[str, bool]]
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, {attribute: raw text}) for each data row of a CORDIS file."""
    reader = csv.reader(stream, delimiter=";", quotechar='"', strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise CordisError(f"{label} is empty; expected a header line") from None
    except csv.Error as error:
        raise CordisError(f"{label}, line 1: {error}") from None
    if not any(name.strip() for name in header):
        raise CordisError(f"{label} is empty; expected a header line")
    positions = {name.strip().lower().lstrip("\ufeff"): i for i, name in enumerate(header)}
    missing = [
        name for name, (_, required) in columns.items() if required and name not in positions
    ]
    if missing:
        raise CordisError(
            f"{label} has no column {', '.join(missing)}; its header is "
            f"{';'.join(header)[:200]!r} (expected CORDIS's columns, separated by ';')"
        )
    wanted = {attr: positions[name] for name, (attr, _) in columns.items() if name in positions}
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger" in str(error):
                raise CordisError(
                    f"{label}, line {line}: a field of more than {csv.field_size_limit():,} "
                    f"characters; expected at most {MAX_FIELD_CHARS:,} characters of text"
                ) from None
            raise CordisError(f"{label}, line {line}: {error}") from None
        if not row or row == [""]:
            continue
        count += 1
        if count > MAX_ROWS:
            raise CordisError(f"{label} has more than {MAX_ROWS:,} rows")
        if len(row) != len(header):
            raise CordisError(
                f"{label}, line {line}: {len(row)} fields, expected {len(header)} as in the "
                "header (an unquoted ';' or a missing quote?)"
            )
        for value in row:
            if len(value) > MAX_FIELD_CHARS or "\x00" in value:
                raise CordisError(
                    f"{label}, line {line}: a field of {len(value):,} characters or with a NUL "
                    f"byte; expected at most {MAX_FIELD_CHARS:,} characters of text"
                )
        yield line, {attr: row[i] for attr, i in wanted.items()}


def _open(source: str | Path | IO[str]) -> tuple[IO[str], str]:
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CordisError(f"cannot read {path}: {error.strerror}") from None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise CordisError(
                f"{path.name}, line {line}: not UTF-8 (byte {data[error.start]:#04x}); CORDIS "
                "files are UTF-8"
            ) from None
        return io.StringIO(text, newline=""), path.name
    return source, getattr(source, "name", "the file")


def _field_error(label: str, line: int, column: str, value: str, expected: str) -> CordisError:
    return CordisError(f"{label}, line {line}, column {column}: {value[:60]!r} is not {expected}")


def read_projects(source: str | Path | IO[str]) -> list[Project]:
    """Every project of a CORDIS ``project.csv`` (path or text stream)."""
    stream, label = _open(source)
    projects: list[Project] = []
    seen: set[int] = set()
    for line, raw in _rows(stream, label, PROJECT_COLUMNS):
        try:
            grant_id = int(raw["grant_id"].strip())
            if not 0 < grant_id < 10**12:
                raise ValueError
        except ValueError:
            raise _field_error(label, line, "id", raw["grant_id"], "a grant number") from None
        if grant_id in seen:
            raise CordisError(f"{label}, line {line}: project {grant_id} appears twice")
        seen.add(grant_id)
        values: dict[str, object] = {}
        for attr, column, parse, expected in (
            ("start_date", "startDate", _date, "a date (YYYY-MM-DD)"),
            ("end_date", "endDate", _date, "a date (YYYY-MM-DD)"),
            ("total_cost_eur", "totalCost", _decimal, "an amount (decimal comma)"),
            ("ec_max_contribution_eur", "ecMaxContribution", _decimal, "an amount (decimal comma)"),
        ):
            if attr in raw:
                try:
                    values[attr] = parse(raw[attr])  # type: ignore[operator]
                except (ValueError, InvalidOperation):
                    raise _field_error(label, line, column, raw[attr], expected) from None
        acronym = raw["acronym"].strip()
        if not acronym:
            raise _field_error(label, line, "acronym", "", "a project acronym")
        projects.append(
            Project(
                grant_id=grant_id,
                acronym=acronym[:40],
                title=raw["title"].strip()[:500],
                status=raw.get("status", "").strip()[:20],
                legal_basis=raw.get("legal_basis", "").strip()[:100],
                topics=raw.get("topics", "").strip()[:500],
                framework=raw.get("framework", "").strip()[:20],
                funding_scheme=raw.get("funding_scheme", "").strip()[:60],
                objective=raw.get("objective", "").strip()[:OBJECTIVE_CHARS],
                **values,  # type: ignore[arg-type]
            )
        )
    return projects


def read_organisations(source: str | Path | IO[str]) -> list[Participation]:
    """Every participation of a CORDIS ``organization.csv`` (path or text stream)."""
    stream, label = _open(source)
    participations: list[Participation] = []
    for line, raw in _rows(stream, label, ORGANISATION_COLUMNS):
        try:
            project_id = int(raw["project_id"].strip())
        except ValueError:
            raise _field_error(
                label, line, "projectID", raw["project_id"], "a grant number"
            ) from None
        role_text = raw["role"].strip()
        role = ROLES.get(role_text.lower().replace(" ", ""))
        if role is None:
            raise _field_error(
                label,
                line,
                "role",
                role_text,
                "coordinator, participant, thirdParty or associatedPartner",
            )
        country = raw["country"].strip().upper()
        if not (len(country) == 2 and country.isalpha()):
            raise _field_error(label, line, "country", country, "a two-letter country code")
        try:
            contribution = _decimal(raw.get("ec_contribution_eur", ""))
        except (ValueError, InvalidOperation):
            raise _field_error(
                label,
                line,
                "ecContribution",
                raw["ec_contribution_eur"],
                "an amount (decimal comma)",
            ) from None
        name = raw["name"].strip()
        if not name:
            raise _field_error(label, line, "name", "", "an organisation name")
        sme_text = raw.get("sme", "").strip().lower()
        participations.append(
            Participation(
                project_id=project_id,
                organisation_id=raw["organisation_id"].strip()[:20],
                name=name[:300],
                country=country,
                role=role,
                short_name=raw.get("short_name", "").strip()[:60],
                activity_type=raw.get("activity_type", "").strip().upper()[:3],
                city=raw.get("city", "").strip()[:100],
                ec_contribution_eur=contribution,
                sme={"true": True, "false": False}.get(sme_text),
            )
        )
    return participations
