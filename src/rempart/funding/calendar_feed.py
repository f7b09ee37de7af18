"""A funded project's deadlines as an iCalendar feed (RFC 5545, written by the icalendar
library): one event per deliverable, milestone or report, at its due moment in UTC, with a
reminder 7 days before."""

from __future__ import annotations

import datetime as dt

import icalendar

from rempart.funding.models import FundedProject


def feed(project: FundedProject, site_url: str) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//rempart//funding deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", f"{project.acronym}: deadlines")
    host = site_url.split("//", 1)[-1].split("/", 1)[0] or "rempart"
    for deadline in project.deadlines.all():
        event = icalendar.Event()
        event.add("uid", f"funding-deadline-{deadline.pk}@{host}")
        event.add("dtstamp", dt.datetime.now(dt.UTC))
        event.add("dtstart", deadline.due_at.astimezone(dt.UTC))
        event.add("dtend", deadline.due_at.astimezone(dt.UTC))
        event.add("summary", f"{project.acronym} {deadline.get_kind_display()} {deadline}".strip())
        event.add("status", "CONFIRMED" if not deadline.done else "CANCELLED")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", str(deadline))
        alarm.add("trigger", dt.timedelta(days=-7))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
