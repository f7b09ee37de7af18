"""Demo starter catalogue: real public programmes and practices, facts only, each with its source.

Every fact comes from rempart's domain reference (section 1 for Nice, section 4 for practices),
which names its sources: CORDIS project pages, the RAN Collection of Inspiring Practices, and
press articles (europe1.fr, 20minutes.fr, montecarlonews.it). No figure is added here; where the
reference gives no address for a source the record says so. Evidence labels are left empty
except where the source itself gave one (RAN's "peer reviewed"). Every object is marked demo and
looked up by its reference, so loading twice duplicates nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from rempart.core.models import Organisation, Profile
from rempart.core.roles import grant
from rempart.practices.exchange import profile_for
from rempart.practices.models import Practice, PracticeTranslation, Status, WorkingGroup
from rempart.practices.search import index_practices

RAN_COLLECTION = (
    "https://home-affairs.ec.europa.eu/networks/radicalisation-awareness-network-ran/"
    "collection-inspiring-practices_en"
)

CATALOGUE: list[dict[str, Any]] = [
    {
        "ref": "demo-practicies",
        "title": "PRACTICIES: partnership against violent radicalisation in cities",
        "summary": (
            "Horizon 2020 project (grant 740072, 1 May 2017 - 30 April 2020) coordinated by "
            "Université Toulouse - Jean Jaurès, with Efus running the working group of cities. "
            "It surveyed youth in 12 countries (1,000 cases) and produced tools in four families "
            "(scientific, educational/psycho-social, technological/linguistic, political) and "
            "recommendations on 16 themes. Nice took part."
        ),
        "themes": ["radicalisation_prevention", "multi_agency", "education"],
        "audiences": ["local_authorities", "practitioners", "young_people"],
        "settings": ["neighbourhood", "online"],
        "organisation_name": "Université Toulouse - Jean Jaurès",
        "organisation_type": "research",
        "start_year": 2017,
        "end_year": 2020,
        "cost": "About EUR 3.5 million",
        "funding": "EU Horizon 2020 (grant 740072)",
        "source_url": "https://cordis.europa.eu/project/id/740072",
    },
    {
        "ref": "demo-icarus",
        "title": "IcARUS: innovative approaches to urban security",
        "summary": (
            "Horizon 2020 project (grant 882749, September 2020 - August 2024) coordinated by "
            "Efus with 17 partners, on juvenile delinquency, radicalisation, public spaces and "
            "trafficking/organised crime, using design thinking. Pilot cities: Turin, Lisbon, "
            "Stuttgart, Riga, Nice and Rotterdam."
        ),
        "themes": [
            "juvenile_delinquency",
            "radicalisation_prevention",
            "public_space_protection",
            "organised_crime",
        ],
        "audiences": ["local_authorities", "police", "practitioners"],
        "settings": ["public_space", "neighbourhood"],
        "organisation_name": "European Forum for Urban Security (Efus)",
        "organisation_type": "ngo",
        "start_year": 2020,
        "end_year": 2024,
        "cost": "Over EUR 5 million",
        "funding": "EU Horizon 2020 (grant 882749)",
        "source_url": "https://cordis.europa.eu/project/id/882749",
    },
    {
        "ref": "demo-promenade-des-anglais",
        "language": "fr",
        "title": "Protection de la Promenade des Anglais contre les véhicules-béliers",
        "summary": (
            "Après l'attentat du 14 juillet 2016, Nice a installé des bornes anti-bélier "
            "escamotables aux accès piétons, ainsi que des poteaux et des câbles d'acier de 25 mm : "
            "1,8 M EUR pour environ 1,2 km entre Lenval et Gambetta, 3,1 M EUR pour le bas de la "
            "Promenade et le quai des États-Unis. Deux câbles superposés sur des poteaux fixes "
            "tous les 10 m sur 3 km sont reliés au centre de supervision urbain (CSU) et à ses "
            "caméras, qui vérifient que les véhicules entrant dans les zones protégées sont "
            "autorisés. Des bornes de 90 cm à Gambetta, Verdun, Ponchettes et Phocéens envoient "
            "des alertes automatiques au CSU."
        ),
        "translations": [
            {
                "language": "en",
                "title": "Protecting the Promenade des Anglais against vehicle ramming",
                "summary": (
                    "After the attack of 14 July 2016, Nice installed retractable anti-ram "
                    "bollards at the pavement accesses plus posts and 25 mm steel cables: "
                    "EUR 1.8 M for about 1.2 km between Lenval and Gambetta, EUR 3.1 M for the "
                    "lower Promenade and the Quai des Etats-Unis. Two superimposed steel cables "
                    "on fixed posts every 10 m over 3 km are linked to the urban supervision "
                    "centre (CSU) and its cameras, which check that vehicles entering protected "
                    "areas are authorised. 90 cm bollards at Gambetta, Verdun, Ponchettes and "
                    "Phoceens send automatic alerts to the CSU."
                ),
            }
        ],
        "themes": ["public_space_protection"],
        "audiences": ["general_public", "local_authorities"],
        "settings": ["public_space", "street"],
        "country": "FR",
        "city_name": "Nice",
        "organisation_name": "Ville de Nice",
        "organisation_type": "municipality",
        "cost": "EUR 1.8 M (Lenval-Gambetta) and EUR 3.1 M (lower Promenade, Quai des Etats-Unis)",
        "source_url": (
            "https://europe1.fr/societe/"
            "nice-la-promenade-des-anglais-entierement-repensee-pour-maximiser-la-securite-3387968"
        ),
        "links": [
            {
                "url": (
                    "https://europe1.fr/societe/nice-la-promenade-des-anglais-entierement-"
                    "repensee-pour-maximiser-la-securite-3387968"
                ),
                "title": "Europe 1: two superimposed cables on posts every 10 m over 3 km, CSU cameras",
            },
            {
                "url": (
                    "https://www.20minutes.fr/nice/"
                    "1938467-20161007-nice-apres-attentat-ville-compte-securiser-promenade-anglais"
                ),
                "title": "20 Minutes (7 Oct 2016): 90 cm bollards with automatic alerts to the CSU",
            },
        ],
    },
    {
        "ref": "demo-nice-pedestrian-zone",
        "title": "Nice pedestrian zone with automatic bollards and delivery windows",
        "summary": (
            "From 1 January 2018 Nice's pedestrian zone is closed by automatic bollards: delivery "
            "lorries up to 12 t may enter only from 05:00 to 10:30, after that only emergency "
            "vehicles; panic buttons in 17 shops are wired to the urban supervision centre (CSU), "
            "with 29 cameras."
        ),
        "themes": ["public_space_protection", "crisis_response"],
        "audiences": ["general_public", "businesses"],
        "settings": ["public_space", "street"],
        "country": "FR",
        "city_name": "Nice",
        "organisation_name": "Ville de Nice",
        "organisation_type": "municipality",
        "start_year": 2018,
        "source_url": (
            "https://www.montecarlonews.it/2017/10/09/notizie/argomenti/altre-notizie-1/articolo/"
            "zone-pietonne-di-nizza-nuove-regole-per-laccesso.html"
        ),
    },
    {
        "ref": "demo-ran-collection",
        "title": "RAN Collection of Inspiring Practices",
        "summary": (
            "The Radicalisation Awareness Network, which gathers more than 6,000 practitioners, "
            "collects practices against radicalisation: over 200 in 2020, labelled 'inspiring' or "
            "'peer reviewed' (14 peer reviewed). Each record gives the country, target audience, "
            "key themes, year, organisation, type of organisation and a description."
        ),
        "themes": ["radicalisation_prevention", "evaluation"],
        "audiences": ["practitioners"],
        "settings": [],
        "organisation_name": "Radicalisation Awareness Network (RAN)",
        "source_url": RAN_COLLECTION,
    },
    {
        "ref": "demo-aggredi",
        "title": "Aggredi",
        "summary": "A Finnish practice labelled 'peer reviewed' in the RAN Collection of Inspiring Practices.",
        "themes": ["radicalisation_prevention"],
        "country": "FI",
        "evidence_label": "peer_reviewed",
        "source_url": RAN_COLLECTION,
    },
    {
        "ref": "demo-jamal-al-khatib",
        "title": "Jamal al Khatib",
        "summary": "An Austrian practice labelled 'peer reviewed' in the RAN Collection of Inspiring Practices.",
        "themes": ["radicalisation_prevention"],
        "country": "AT",
        "evidence_label": "peer_reviewed",
        "source_url": RAN_COLLECTION,
    },
    {
        "ref": "demo-aarhus-model",
        "title": "The Aarhus model",
        "summary": (
            "Danish prevention of radicalisation for people up to age 25: mentoring, an exit "
            "programme and a parents' network, with 12 info-houses."
        ),
        "themes": ["radicalisation_prevention", "disengagement", "family_support"],
        "audiences": ["young_people", "families"],
        "settings": ["neighbourhood", "family"],
        "country": "DK",
        "city_name": "Aarhus",
        "organisation_name": "Aarhus Municipality (SSP Aarhus) and East Jutland Police",
        "organisation_type": "municipality",
        "start_year": 2007,
        "source_url": (
            "https://home-affairs.ec.europa.eu/networks/radicalisation-awareness-network-ran/"
            "collection-inspiring-practices/ran-practices/"
            "aarhus-model-prevention-radicalisation-and-discrimination-aarhus_en"
        ),
        "links": [
            {
                "url": "https://www.aarhus.dk/english/collaborate-with-the-city/inclusive-citizenship/anti-radicalisation/",
                "title": "City of Aarhus: the anti-radicalisation effort (pilot project from 2007)",
            }
        ],
    },
    {
        "ref": "demo-eucpn",
        "title": "EUCPN good-practice database, toolbox series and European Crime Prevention Award",
        "summary": (
            "The European Crime Prevention Network (since 2001) keeps a good-practice database, "
            "publishes a toolbox series and runs the European Crime Prevention Award; it grades "
            "evidence as strong, moderate or limited."
        ),
        "themes": ["evaluation", "training"],
        "audiences": ["practitioners", "local_authorities"],
        "start_year": 2001,
        "organisation_name": "European Crime Prevention Network (EUCPN)",
        "source_url": "https://eucpn.org/",
    },
]

DEMO_GROUP = {
    "name": "Protecting crowded public spaces (demo)",
    "description": "Demo working group: cities compare vehicle-access protection of promenades, "
    "markets and pedestrian zones.",
    "theme": "public_space_protection",
}


#: Reviewers from outside the city's administration, so the two-reviewer path runs with demo
#: accounts: the core demo's accounts all belong to the city, which writes the practices, and a
#: reviewer may not come from the author's organisation. (username, organisation, kind, name)
DEMO_REVIEWERS = (
    (
        "demo-reviewer-university",
        "University of Helsinki, criminology (demo)",
        Organisation.Kind.RESEARCH,
        "Demo reviewer (university)",
    ),
    (
        "demo-reviewer-police",
        "Helsinki Police Department (demo)",
        Organisation.Kind.NATIONAL_POLICE,
        "Demo reviewer (police)",
    ),
)


def load_reviewers(city: Any, stdout: Any) -> None:
    """Create the missing demo reviewers (practices supervisors, core viewers) in their own
    organisations; print their password the first time only, as the core demo does."""
    user_model = get_user_model()
    missing = [r for r in DEMO_REVIEWERS if not user_model.objects.filter(username=r[0]).exists()]
    if not missing:
        return
    password = secrets.token_urlsafe(12)
    for username, organisation_name, kind, display_name in missing:
        organisation, _created = Organisation.objects.get_or_create(
            name=organisation_name, defaults={"kind": kind, "city": city, "is_demo": True}
        )
        if not organisation.cities.filter(pk=city.pk).exists():
            organisation.cities.add(city)
        user = user_model.objects.create_user(username=username, password=password)
        Profile.objects.create(user=user, organisation=organisation, is_demo=True)
        grant(user, "practices", "supervisor")
        grant(user, "core", "viewer")
        profile = profile_for(user)
        profile.display_name, profile.organisation = display_name, organisation_name
        profile.is_demo = True
        profile.save()
    stdout.write(
        "Demo reviewers of practices (outside the city's organisation): "
        + ", ".join(r[0] for r in missing)
        + f"\n  password for these demo accounts: {password}\n"
    )


def load(city: Any, stdout: Any) -> None:
    """Create the missing demo practices (published, marked demo), the demo working group (its
    coordinator: ``demo-operator`` when present) and the demo reviewers."""
    created: list[Practice] = []
    with transaction.atomic():
        load_reviewers(city, stdout)
        for item in CATALOGUE:
            if Practice.objects.filter(ref=item["ref"]).exists():
                continue
            fields = dict(item)
            translations = fields.pop("translations", [])
            practice = Practice.objects.create(
                **fields, status=Status.PUBLISHED, is_demo=True, licence="CC-BY-4.0"
            )
            for translation in translations:
                PracticeTranslation.objects.create(practice=practice, **translation)
            created.append(practice)
        group, group_created = WorkingGroup.objects.get_or_create(
            name=DEMO_GROUP["name"],
            defaults={
                "description": DEMO_GROUP["description"],
                "theme": DEMO_GROUP["theme"],
                "is_demo": True,
            },
        )
        coordinator = get_user_model().objects.filter(username="demo-operator").first()
        if group_created and coordinator is not None:
            group.members.add(coordinator)
            group.coordinators.add(coordinator)
    if created:
        index_practices(
            Practice.objects.filter(pk__in=[p.pk for p in created]).prefetch_related("translations")
        )
    stdout.write(
        f"Practices demo catalogue: {len(created)} created, "
        f"{len(CATALOGUE) - len(created)} already present.\n"
    )
