"""Escalations in a clinician's words, from hand-made findings and episodes (no database)."""

from datetime import date

from insights.models import Finding
from insights.panel import Course
from sharing import alerts

TODAY = date(2026, 12, 7)


def escalation(key, rule, level, trigger="", counts=None, message="Written to the patient.", **fields):
    return Finding(
        key=key,
        rule=rule,
        trigger=trigger,
        status="escalation",
        escalation=level,
        counts=counts or {},
        message=message,
        **fields,
    )


def flag(name, first, last, reports=1):
    return {"flag": name, "first_reported": first.isoformat(), "last_reported": last.isoformat(), "reports": reports}


def test_a_flag_reported_on_both_legs_says_so_and_a_count_flag_says_how_often():
    calf = escalation(
        "R13:swelling", "R13", "E1", "rf_dvt", flag("calf_swelling", date(2026, 11, 2), date(2026, 11, 9))
    )
    long = escalation(
        "R14:long", "R14", "E2", "pat_duration", flag("long_cramps", date(2026, 11, 1), date(2026, 11, 20), 4)
    )
    episodes = [
        alerts.FlagEpisode(date(2026, 11, 2), "left", frozenset({"calf_swelling"})),
        alerts.FlagEpisode(date(2026, 11, 9), "right", frozenset({"calf_swelling"})),
    ]
    first, second = alerts.current([calf, long], [], episodes, TODAY)
    assert (first.urgency, first.what, first.query, first.when) == (
        "Same day",
        "Swollen, red or warm calf, both sides",
        "?DVT",
        "reported 2 Nov and 9 Nov",
    )
    assert (second.urgency, second.when) == ("Within 2 weeks", "reported 4 times, 1 Nov to 20 Nov")
    assert second.what == "Cramps lasting over 10 minutes, 3 or more within 30 days"


def test_statistical_escalations_name_the_change_and_give_the_numbers():
    statin = Course("c0ffee", "Simvastatin", "statin", date(2026, 9, 1), None)
    counts = {"cramps_exposed": 40, "nights_exposed": 30, "cramps_other": 12, "nights_other": 40}
    rise = escalation(
        "R06:c0ffee:2026-10-01", "R06", "E2", "med_statin", counts, rate_ratio=4.4, ci_low=2.1, ci_high=9.0
    )
    trend = escalation("R07", "R07", "E2", "pat_frequent_severe", counts, rate_ratio=4.4, ci_low=2.1)
    up, more = alerts.current([rise, trend], [statin], [], TODAY)
    assert (up.what, up.when) == ("Cramps up after a dose increase of Simvastatin", "since 1 Oct")
    assert up.numbers == "40 cramps in 30 logged nights after vs 12 in 40 before; rate ratio 4.4 (2.1–9.0)"
    assert more.what == "Cramps becoming more frequent" and more.numbers.endswith("(2.1–∞)")
    # Without the grant's medicines the same finding names none.
    [hidden] = alerts.current([rise], [], [], TODAY)
    assert "Simvastatin" not in hidden.what and "a medicine (not shared with you)" in hidden.what


def test_an_escalation_without_clinician_words_gets_its_rules_title_never_the_patients_message():
    odd = escalation("R13:something_new", "R13", "E1", "rf_dvt", message="Don't massage that calf.")
    [alert] = alerts.current([odd], [], [], TODAY)
    assert alert.what == "Blood clot screen" and "massage" not in alert.what


def test_walking_pain_from_the_back_asks_about_the_spine():
    walking = escalation(
        "R05:walking", "R05", "E2", "rf_lumbar_stenosis", flag("walking_pain", date(2025, 12, 30), date(2026, 1, 4), 3)
    )
    [alert] = alerts.current([walking], [], [], TODAY)
    assert alert.query == "?spinal stenosis" and alert.when == "reported 3 times, 30 Dec 2025 to 4 Jan"
