"""The analysis finds what the demo planted (diary/demo.py), whichever weekday the demo ends on:
`make demo` shows the exercise and statin patterns, and nothing else as a pattern."""

from datetime import date, datetime, time, timedelta

import pytest

from accounts.models import User
from diary import demo
from insights.analysis import analyse
from insights.panel import load_panels

PLANTED = {("R02", "tr_overuse_exertion"), ("R06", "med_statin")}


@pytest.mark.parametrize("weekday_shift", range(7))
def test_the_analysis_finds_the_two_planted_patterns_and_no_other(db, weekday_shift):
    today = date(2026, 3, 2) + timedelta(days=weekday_shift)
    demo.seed_demo(today=today)
    patient = User.objects.get(email=demo.PATIENT_EMAIL)
    (panel,) = load_panels([patient.pk], now=datetime.combine(today, time(9), tzinfo=demo.ZONE))
    raised = [f for f in analyse(panel) if f.status in ("possible_pattern_higher", "escalation")]
    assert {(f.rule, f.trigger) for f in raised} == PLANTED
    assert {f.rule: f.escalation or None for f in raised} == {"R02": None, "R06": "E2"}  # R06: see the prescriber
