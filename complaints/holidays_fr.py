"""The organisation's working-day calendar, made from the settings at intake:
French public holidays (the `holidays` library), a region's own (Alsace-Moselle:
Good Friday and 26 December; an overseas department's), and the
organisation's own closed days, for the years a complaint can span.

Only intake calls this: the calendar it returns travels in the complaint's
policy, so a run never asks the library again and a library upgrade cannot
change a date a run has counted. Workflow code never imports this module.
"""

import re
from collections.abc import Iterable
from datetime import date

from complaints.working_days import WorkingCalendar

ALSACE_MOSELLE = "alsace-moselle"
# A complaint is counted from its sending, which may be in the year before its
# receipt; its clocks may run on for a contest and a review: the calendar
# covers the year before the event and the YEARS_AHEAD after it.
YEARS_AHEAD = 3
_MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")


def region_subdivision(region: str) -> str | None:
    """The `holidays` subdivision of COMPLAINTS_HOLIDAY_REGION: none for
    metropolitan France, 6AE for Alsace-Moselle, else a code or a name the
    library knows ("974", "La Réunion")."""
    region = region.strip()
    if not region:
        return None
    import holidays  # here: every process reads the settings, only intake needs the library

    if region.lower() == ALSACE_MOSELLE:
        return "6AE"
    aliases = getattr(holidays.France, "subdivisions_aliases", {})
    code = aliases.get(region, region)
    if code not in holidays.France.subdivisions:
        known = ", ".join([ALSACE_MOSELLE, *holidays.France.subdivisions])
        raise ValueError(f"unknown holiday region {region!r}; empty (metropolitan France) or one of {known}")
    return str(code)


def parse_closed_days(items: Iterable[str]) -> list[str]:
    """The organisation's closed days: YYYY-MM-DD (that day) or MM-DD (every year)."""
    found = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        try:
            match = _MONTH_DAY.match(item)
            if match:
                date(2000, int(match[1]), int(match[2]))  # a leap year: 02-29 is a day
            else:
                date.fromisoformat(item)
        except ValueError:
            raise ValueError(f"{item!r} is not a day: write 2026-12-24 (that day) or 12-24 (every year)") from None
        found.append(item)
    return found


def working_calendar(
    timezone: str, region: str, closed_days: Iterable[str], first_year: int, last_year: int
) -> WorkingCalendar:
    """The calendar of the years `first_year` to `last_year`, both included."""
    import holidays

    years = range(first_year, last_year + 1)
    public = holidays.France(years=years, subdiv=region_subdivision(region))
    own: set[date] = set()
    for item in parse_closed_days(closed_days):
        match = _MONTH_DAY.match(item)
        if match is None:
            own.add(date.fromisoformat(item))
            continue
        for year in years:
            try:
                own.add(date(year, int(match[1]), int(match[2])))
            except ValueError:  # 02-29 in a common year
                continue
    days = {day for day in public if first_year <= day.year <= last_year} | {
        day for day in own if first_year <= day.year <= last_year
    }
    return WorkingCalendar(timezone=timezone, closed_days=sorted(days), first_year=first_year, last_year=last_year)


def calendar_around(timezone: str, region: str, closed_days: Iterable[str], year: int) -> WorkingCalendar:
    """The calendar a complaint whose first event falls in `year` needs."""
    return working_calendar(timezone, region, closed_days, year - 1, year + YEARS_AHEAD)
