"""The working-day calendar and the regimes' deadlines, counted as the texts
count them (docs/deadlines.md). No server: pure functions of the policy."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from complaints.holidays_fr import calendar_around, working_calendar
from complaints.policy import ComplaintPolicy, CountsFrom, Regime, RegimeRules, RegulatoryDeadline, Span, UnknownRegime
from complaints.settings import Settings
from complaints.working_days import Counting, WorkingCalendar

PARIS = ZoneInfo("Europe/Paris")
FRANCE = working_calendar("Europe/Paris", "", [], 2025, 2029)
POLICY = ComplaintPolicy(calendar=FRANCE)


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def end_of_day_paris(year: int, month: int, day: int) -> datetime:
    """24:00 of that day in Paris: the first instant past a deadline ending that day."""
    return datetime.combine(date(year, month, day) + timedelta(days=1), datetime.min.time(), tzinfo=PARIS)


# --- spans as people write them ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("10 working days", Span(days=10, counting=Counting.WORKING)),
        ("10 jours ouvrables", Span(days=10, counting=Counting.WORKING)),
        ("15 business days", Span(days=15, counting=Counting.BUSINESS)),
        ("15 jours ouvrés", Span(days=15, counting=Counting.BUSINESS)),
        ("2 calendar months", Span(months=2, counting=Counting.CALENDAR)),
        ("1 calendar month", Span(months=1, counting=Counting.CALENDAR)),
        ("10 calendar days", Span(days=10, counting=Counting.CALENDAR)),
        ("2 calendar weeks", Span(days=14, counting=Counting.CALENDAR)),
        ("30 jours calendaires", Span(days=30, counting=Counting.CALENDAR)),
        ("  10  Working   Days ", Span(days=10, counting=Counting.WORKING)),
    ],
)
def test_counted_spans_read_as_people_write_them(text: str, span: Span) -> None:
    assert Span.model_validate(text) == span
    assert Span.model_validate(str(span)) == span  # what it says of itself reads back


@pytest.mark.parametrize(
    "text", ["2 working months", "1.5 working days", "3 business weeks", "10 jours ouvrés et demi"]
)
def test_a_counted_span_that_cannot_be_counted_is_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        Span.model_validate(text)


def test_a_counted_span_has_no_hours() -> None:
    with pytest.raises(ValidationError, match="no hours"):
        Span(days=2, delta=timedelta(hours=3), counting=Counting.WORKING)


# --- the calendar table ----------------------------------------------------------


def test_sent_on_christmas_eve_acknowledged_by_the_end_of_7_january_in_jours_ouvrables() -> None:
    # From Friday 25 December 2026 (a holiday): Sat 26 (1), Mon 28-Thu 31 (2-5),
    # Fri 1 January a holiday, Sat 2 (6), Mon 4-Thu 7 (7-10); Sundays never count.
    sent = paris(2026, 12, 24, 16, 45)
    due = Span.model_validate("10 working days").after(sent, FRANCE)
    assert due == end_of_day_paris(2027, 1, 7)
    assert FRANCE.last_day(due) == date(2027, 1, 7)
    assert POLICY.acknowledgement_due_for("acpr", sent, sent + timedelta(days=6)) == end_of_day_paris(2027, 1, 7)


def test_the_same_in_jours_ouvres_ends_on_monday_11_january() -> None:
    # Mon 28-Thu 31 (1-4), Mon 4-Fri 8 (5-9), Mon 11 (10): Saturdays do not count either.
    sent = paris(2026, 12, 24, 16, 45)
    assert Span.model_validate("10 business days").after(sent, FRANCE) == end_of_day_paris(2027, 1, 11)


def test_alsace_moselle_closes_26_december_and_good_friday_too() -> None:
    alsace = working_calendar("Europe/Paris", "alsace-moselle", [], 2026, 2027)
    sent = paris(2026, 12, 24, 16, 45)
    assert Span.model_validate("10 working days").after(sent, alsace) == end_of_day_paris(2027, 1, 8)
    assert alsace.is_closed(date(2027, 3, 26)) and not FRANCE.is_closed(date(2027, 3, 26))  # Good Friday


def test_a_count_across_ascension_and_whit_monday_2027() -> None:
    # Ascension Thursday 6 May, Whit Monday 17 May 2027 (and 8 May, a Saturday).
    # From Wed 5 May: 7, 10-15, 18, 19, 20 → the 10th working day is Thursday 20 May.
    sent = paris(2027, 5, 5, 11, 0)
    assert Span.model_validate("10 working days").after(sent, FRANCE) == end_of_day_paris(2027, 5, 20)
    # jours ouvrés: 7, 10-14, 18-21 → Friday 21 May.
    assert Span.model_validate("10 business days").after(sent, FRANCE) == end_of_day_paris(2027, 5, 21)


def test_a_count_across_the_october_change_of_time_ends_at_paris_midnight() -> None:
    # Clocks go back on Sunday 25 October 2026; Paris midnight is 22:00 UTC
    # before it and 23:00 UTC after it.
    sent = paris(2026, 10, 20, 23, 30)  # 21:30 UTC: still the 20th in Paris
    due = Span.model_validate("10 working days").after(sent, FRANCE)
    # 21-24 (1-4), 26-31 (5-10)
    assert due == end_of_day_paris(2026, 10, 31) == datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
    assert Span.model_validate("3 working days").after(sent, FRANCE) == datetime(2026, 10, 23, 22, 0, tzinfo=UTC)


def test_the_day_counted_is_the_day_in_paris_not_in_utc() -> None:
    # 23:30 UTC on Thursday 24 December 2026 is already Friday 25 in Paris.
    late = datetime(2026, 12, 24, 23, 30, tzinfo=UTC)
    assert Span.model_validate("1 working day").after(late, FRANCE) == end_of_day_paris(2026, 12, 26)


def test_payment_services_answer_in_15_working_days_and_at_most_35_after_a_holding_reply() -> None:
    received = paris(2027, 3, 1, 10, 0)  # Monday; Easter Monday 29 March 2027
    # March 2-6, 8-13, 15-18: the 15th working day is Thursday 18 March.
    assert POLICY.regulatory_due("payment_services", None, received) == end_of_day_paris(2027, 3, 18)
    # 19, 20, 22-27 (16-23), Easter Monday 29 March skipped, 30, 31, April 1-3 (24-28),
    # 5-10 (29-34), Sunday 11: the 35th is Monday 12 April.
    assert POLICY.holding_reply_max("payment_services", None, received) == end_of_day_paris(2027, 4, 12)


def test_payment_services_count_the_answer_from_receipt_and_the_acknowledgement_from_sending() -> None:
    sent, received = paris(2027, 3, 1, 10, 0), paris(2027, 3, 4, 9, 0)
    dates = POLICY.regulatory_dates("payment_services", sent, received)
    assert dates.acknowledgement_due == end_of_day_paris(2027, 3, 12)  # 10 working days from Monday 1
    assert dates.answer_due == end_of_day_paris(2027, 3, 22)  # 15 working days from Thursday 4
    assert dates.holding_reply_max is not None


def test_acpr_and_amf_answer_two_calendar_months_after_sending_in_paris() -> None:
    # 1 December at 00:30 in Paris is still 30 November in UTC: the months are counted in Paris.
    sent = paris(2026, 12, 1, 0, 30)
    for regime in ("acpr", "investment_services"):
        due = POLICY.regulatory_due(regime, sent, paris(2026, 12, 3, 9, 0))
        assert due == end_of_day_paris(2027, 2, 1)
        assert FRANCE.last_day(due) == date(2027, 2, 1)


def test_calendar_months_clamp_to_the_months_last_day() -> None:
    assert Span.model_validate("2 calendar months").after(paris(2026, 12, 31, 12, 0), FRANCE) == end_of_day_paris(
        2027, 2, 28
    )


def test_the_general_regime_is_the_policys_own_from_receipt_as_always() -> None:
    sent, received = paris(2026, 12, 1, 0, 30), paris(2026, 12, 3, 9, 0)
    assert POLICY.regulatory_due("general", sent, received) == POLICY.response_due(received)
    assert POLICY.acknowledgement_due_for(None, sent, received) == POLICY.acknowledgement_due(received)
    assert POLICY.acknowledgement_due(received) == received + timedelta(days=10)  # elapsed, unchanged
    assert POLICY.holding_reply_max("general", sent, received) is None


def test_the_elapsed_months_are_counted_as_before_from_the_instant() -> None:
    sent = paris(2026, 12, 1, 0, 30)  # 30 November 23:30 UTC
    assert ComplaintPolicy().response_due(sent.astimezone(UTC)) == datetime(2027, 1, 30, 23, 30, tzinfo=UTC)


def test_todays_two_months_are_added_in_paris_a_complaint_of_1_december_0030_due_on_1_february() -> None:
    # 30 November 23:30 UTC is already 1 December in Paris: the months are added there.
    received = paris(2026, 12, 1, 0, 30).astimezone(UTC)
    policy = Settings(_env_file=None).complaint_policy_at(received)
    assert policy.response_due(received) == paris(2027, 2, 1, 0, 30)
    assert policy.regulatory_due("general", received, received) == paris(2027, 2, 1, 0, 30)
    assert policy.priority_response_due("P4", received, received) == paris(2027, 2, 1, 0, 30)
    # Across the change of time, the same local hour: 1 March 12:00 + 1 month is 1 April 12:00 in Paris.
    march = paris(2027, 3, 1, 12, 0).astimezone(UTC)
    assert policy.end_of(Span(months=1), march) == paris(2027, 4, 1, 12, 0) == datetime(2027, 4, 1, 10, 0, tzinfo=UTC)
    assert policy.acknowledgement_due(received) == received + timedelta(days=10)  # days stay elapsed


def test_mediation_can_be_requested_for_a_year_after_the_written_complaint() -> None:
    sent = paris(2026, 12, 24, 16, 45)
    assert POLICY.mediation_until(sent, sent + timedelta(days=3)) == end_of_day_paris(2027, 12, 24)


def test_a_regime_without_an_acknowledgement_keeps_the_policys() -> None:
    policy = ComplaintPolicy(
        calendar=FRANCE,
        regimes={"contractual": Regime(answer=RegulatoryDeadline.model_validate("1 calendar month"))},
    )
    received = paris(2027, 3, 1, 10, 0)
    assert policy.acknowledgement_due_for("contractual", None, received) == received + timedelta(days=10)
    assert policy.regulatory_due("contractual", None, received) == end_of_day_paris(2027, 4, 1)


def test_an_unknown_regime_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownRegime, match="acpr, general, investment_services, payment_services"):
        POLICY.regime("bank")
    with pytest.raises(ValidationError, match="unknown regime"):
        ComplaintPolicy(default_regime="bank")


def test_the_sending_date_unknown_a_sending_count_starts_at_receipt() -> None:
    received = paris(2027, 3, 1, 10, 0)
    deadline = RegulatoryDeadline(span=Span.model_validate("10 working days"), counts_from=CountsFrom.SENDING)
    assert deadline.start(None, received) == received


# --- beyond the years the calendar covers ---------------------------------------------


def test_beyond_its_years_the_calendar_skips_only_sundays_never_later() -> None:
    short = working_calendar("Europe/Paris", "", [], 2026, 2026)
    sent = paris(2027, 12, 24, 12, 0)
    assert not short.covers(date(2027, 12, 25))
    legal = Span.model_validate("10 working days").after(sent, FRANCE)
    assert Span.model_validate("10 working days").after(sent, short) < legal


# --- the closed days travel in the policy ------------------------------------------------


def test_the_closed_days_travel_in_the_policy_and_the_count_reads_only_them() -> None:
    policy = Settings(_env_file=None).complaint_policy_at(paris(2026, 12, 24, 16, 45))
    carried = ComplaintPolicy.model_validate_json(policy.model_dump_json())
    assert carried.calendar == policy.calendar
    assert date(2026, 12, 25) in carried.calendar.closed_days and date(2027, 5, 17) in carried.calendar.closed_days
    # The same policy without its closed days counts differently: nothing else is read.
    bare = carried.model_copy(update={"calendar": WorkingCalendar()})
    sent = paris(2026, 12, 24, 16, 45)
    assert carried.regulatory_due("payment_services", sent, sent) != bare.regulatory_due("payment_services", sent, sent)


def test_the_calendar_covers_the_year_before_and_three_after() -> None:
    calendar = calendar_around("Europe/Paris", "", [], 2027)
    assert (calendar.first_year, calendar.last_year) == (2026, 2030)
    assert calendar.closed_days == sorted(calendar.closed_days)


def test_the_organisations_closed_days_every_year_or_once() -> None:
    calendar = working_calendar("Europe/Paris", "", ["12-24", "2027-05-07"], 2026, 2027)
    assert {date(2026, 12, 24), date(2027, 12, 24), date(2027, 5, 7)} <= set(calendar.closed_days)
    with pytest.raises(ValueError, match="2026-13-01"):
        working_calendar("Europe/Paris", "", ["2026-13-01"], 2026, 2027)


# --- regimes chosen by the settings ------------------------------------------------------------


def test_the_rules_choose_by_category_then_product_then_channel() -> None:
    rules = RegimeRules(
        category={"Paiement": "payment_services"},
        product={"PEA": "investment_services", "carte": "payment_services"},
        channel={"letter": "acpr"},
    )
    policy = ComplaintPolicy(regime_rules=rules)
    assert policy.regime_for(channel="letter", product="pea") == "investment_services"
    assert policy.regime_for(channel="letter", product="pea", category="paiement") == "payment_services"
    assert policy.regime_for(channel="letter", product="livret") == "acpr"
    assert policy.regime_for(channel="web", product="livret") == "general"


def test_settings_define_a_contractual_regime_and_the_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "COMPLAINTS_REGIME_DEFINITIONS",
        '{"contractual": {"title": "Contrat cadre", "acknowledgement": "5 business days",'
        ' "answer": {"span": "1 calendar month", "counts_from": "sending"}}}',
    )
    monkeypatch.setenv("COMPLAINTS_REGIMES", '{"product": {"Assurance": "contractual"}}')
    monkeypatch.setenv("COMPLAINTS_DEFAULT_REGIME", "acpr")
    policy = Settings(_env_file=None).complaint_policy_at(paris(2027, 3, 1, 10, 0))
    assert policy.regime_for(product="assurance") == "contractual"
    assert policy.regime_for(product="livret") == "acpr"
    sent, received = paris(2027, 3, 1, 10, 0), paris(2027, 3, 3, 10, 0)
    assert policy.acknowledgement_due_for("contractual", sent, received) == end_of_day_paris(2027, 3, 10)
    assert policy.regulatory_due("contractual", sent, received) == end_of_day_paris(2027, 4, 1)


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("COMPLAINTS_DEFAULT_REGIME", "bank", "unknown regime"),
        ("COMPLAINTS_REGIMES", '{"product": {"PEA": "amf"}}', "unknown regime"),
        ("COMPLAINTS_REGIME_DEFINITIONS", '{"acpr": {"answer": "1 calendar month"}}', "built-in regime"),
        ("COMPLAINTS_HOLIDAY_REGION", "Bretagne", "unknown holiday region"),
        ("COMPLAINTS_CLOSED_DAYS", "24/12", "is not a day"),
    ],
)
def test_a_regime_setting_that_cannot_be_used_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError, match=says):
        Settings(_env_file=None)


# --- properties ------------------------------------------------------------------------

moments = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
kinds = st.sampled_from([Counting.WORKING, Counting.BUSINESS])


@settings(max_examples=300, deadline=None)
@given(start=moments, days=st.integers(min_value=1, max_value=40), counting=kinds)
def test_a_working_day_deadline_never_ends_on_a_closed_day_nor_before_as_many_calendar_days(
    start: datetime, days: int, counting: Counting
) -> None:
    due = Span(days=days, counting=counting).after(start, FRANCE)
    last = FRANCE.last_day(due)
    assert last.weekday() != 6
    assert not FRANCE.is_closed(last)
    if counting is Counting.BUSINESS:
        assert last.weekday() < 5
    assert due >= Span(days=days, counting=Counting.CALENDAR).after(start, FRANCE)
    assert due >= start + timedelta(days=days)
    assert due.astimezone(PARIS).time() == datetime.min.time()  # 24:00 of the last day, in Paris


@settings(max_examples=200, deadline=None)
@given(start=moments, days=st.integers(min_value=0, max_value=30))
def test_one_more_working_day_is_always_later(start: datetime, days: int) -> None:
    span, longer = Span(days=days, counting=Counting.WORKING), Span(days=days + 1, counting=Counting.WORKING)
    assert longer.after(start, FRANCE) > span.after(start, FRANCE)
