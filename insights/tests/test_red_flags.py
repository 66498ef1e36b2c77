"""Red flags stay until the person says they have seen a clinician, then move to their history."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import make_user
from diary.localtime import local_today
from diary.models import Episode, Profile
from insights import refresh
from insights.analysis import ESCALATION, INFO, analyse
from insights.models import Finding, RedFlagAcknowledgement
from insights.panel import build_panel, load_panels, microseconds
from insights.tests.synthetic import PROFILE, episode_row

pytestmark = pytest.mark.django_db
LONDON = ZoneInfo("Europe/London")


def cramp(user, days_ago: int, hour: int = 3, **flags) -> Episode:
    """A cramp at `hour` local time, `days_ago` days before today (alice lives in London)."""
    day = local_today(LONDON) - timedelta(days=days_ago)
    started = datetime.combine(day, time(hour), tzinfo=LONDON)
    return Episode.objects.create(
        user=user, started_at=started, muscle="calf", side="left", context="woke_from_sleep", **flags
    )


def day_words(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


@pytest.fixture
def swollen_calf_40_days_ago(alice):
    """Twelve ordinary night cramps (R01 then offers its stretch tip) and a swollen calf 40 days ago."""
    for days_ago in range(2, 60, 5):
        cramp(alice, days_ago)
    return cramp(alice, 40, calf_swelling=True)


def findings(user) -> dict[str, Finding]:
    return {f.key: f for f in Finding.objects.filter(user=user)}


def acknowledge(client, flag="calf_swelling"):
    return client.post(f"/api/v1/insights/red-flags/{flag}/acknowledge/")


def test_a_red_flag_reported_40_days_ago_is_still_active_with_its_date(alice, swollen_calf_40_days_ago):
    refresh.analyse_and_store([alice.pk])
    flag = findings(alice)["R13:swelling"]
    reported_on = local_today(LONDON) - timedelta(days=40)
    assert flag.status == ESCALATION and flag.escalation == "E1"
    assert f"You reported a swollen, red or warm calf on {day_words(reported_on)}." in flag.message
    assert flag.counts["flag"] == "calf_swelling" and flag.counts["first_reported"] == reported_on.isoformat()
    assert not any(f.tip for f in Finding.objects.filter(user=alice).exclude(status=ESCALATION))


def test_acknowledging_moves_the_flag_to_the_history_and_gives_tips_back(alice, alice_api, swollen_calf_40_days_ago):
    refresh.analyse_and_store([alice.pk])
    before = timezone.now()

    response = acknowledge(alice_api)

    assert response.status_code == 201
    reported_on = (local_today(LONDON) - timedelta(days=40)).isoformat()
    assert response.data["first_reported_on"] == response.data["last_reported_on"] == reported_on
    # The findings are refreshed in the same request: the page shows the change at once.
    insights = alice_api.get("/api/v1/insights/").data
    assert "R13:swelling" not in {f["key"] for f in insights["findings"]}
    assert any(f["tip"] for f in insights["findings"])
    [past] = insights["red_flag_history"]
    assert past["flag"] == "calf_swelling" and past["label"] == "A swollen, red or warm calf"
    assert past["first_reported_on"] == reported_on
    assert datetime.fromisoformat(past["acknowledged_at"]) >= before
    # The planner sees the acknowledgement as a change to the diary.
    assert Profile.objects.get(user=alice).diary_changed_at >= before

    again = acknowledge(alice_api)
    assert again.status_code == 200 and again.data == response.data
    assert RedFlagAcknowledgement.objects.filter(user=alice).count() == 1


def test_a_new_report_after_the_acknowledgement_raises_the_flag_again(alice, alice_api, swollen_calf_40_days_ago):
    assert acknowledge(alice_api).status_code == 201
    # Logged at 3 a.m. with its details filled in after the acknowledgement: a later episode still counts.
    cramp(alice, 0, hour=3, calf_swelling=True)
    refresh.analyse_and_store([alice.pk])

    flag = findings(alice)["R13:swelling"]
    today = local_today(LONDON)
    assert flag.counts["first_reported"] == flag.counts["last_reported"] == today.isoformat()
    assert f"on {day_words(today)}." in flag.message
    assert not any(f.tip for f in Finding.objects.filter(user=alice).exclude(status=ESCALATION))
    assert acknowledge(alice_api).status_code == 201
    assert RedFlagAcknowledgement.objects.filter(user=alice).count() == 2


def test_another_users_acknowledgement_is_a_404_and_changes_nothing(alice, bob, bob_api, swollen_calf_40_days_ago):
    refresh.analyse_and_store([alice.pk, bob.pk])

    assert acknowledge(bob_api).status_code == 404
    assert acknowledge(bob_api, "not_a_flag").status_code == 404

    assert not RedFlagAcknowledgement.objects.exists()
    refresh.analyse_and_store([alice.pk])
    assert "R13:swelling" in findings(alice)
    assert bob_api.get("/api/v1/insights/").data["red_flag_history"] == []


def test_acknowledging_needs_a_login(client, alice, swollen_calf_40_days_ago):
    assert acknowledge(client).status_code in (401, 403)
    assert not RedFlagAcknowledgement.objects.exists()


# --- The live list the phone app shows on its Log page -------------------------------------------------


def test_a_flag_is_listed_the_moment_its_cramp_is_saved_and_leaves_when_acknowledged(alice, alice_api, bob_api):
    cramp(alice, 3, weakness=True)
    cramp(alice, 0, hour=3, calf_swelling=True, breathless_chest_pain=True)
    cramp(alice, 1, calf_swelling=True)
    assert not Finding.objects.exists()  # nothing analysed: the list needs no analysis run

    listed = alice_api.get("/api/v1/insights/red-flags/").data
    today = local_today(LONDON)
    assert [(f["flag"], f["level"]) for f in listed] == [
        ("breathless_chest_pain", "E0"),
        ("calf_swelling", "E1"),
        ("weakness", "E1"),
    ]
    calf = listed[1]
    assert calf["label"] == "A swollen, red or warm calf" and calf["reports"] == 2
    assert (calf["first_reported_on"], calf["last_reported_on"]) == (
        (today - timedelta(days=1)).isoformat(),
        today.isoformat(),
    )
    assert bob_api.get("/api/v1/insights/red-flags/").data == []  # another person's flags are not listed

    assert acknowledge(alice_api).status_code == 201
    assert [f["flag"] for f in alice_api.get("/api/v1/insights/red-flags/").data] == [
        "breathless_chest_pain",
        "weakness",
    ]


def test_the_phone_shows_at_once_exactly_the_boxes_the_analysis_escalates_today_or_now(alice):
    """The Log page's banner (urgent_checklist) and the analysis agree on every checklist box, with or without a
    statin, so the phone needs no statistics to show them and never shows one that the analysis would not."""
    from diary.models import CHECKLIST_FIELDS, MedicationCourse
    from insights.red_flags import urgent_checklist

    def escalations(**flags):
        Episode.objects.filter(user=alice).delete()
        RedFlagAcknowledgement.objects.filter(user=alice).delete()
        cramp(alice, 2, **flags)
        refresh.analyse_and_store([alice.pk])
        return {f.counts.get("flag"): f.escalation for f in Finding.objects.filter(user=alice, status=ESCALATION)}

    urgent = urgent_checklist()
    for statin in (False, True):
        if statin:
            MedicationCourse.objects.create(
                user=alice,
                name="Atorvastatin",
                drug_class="statin",
                started_on=local_today(LONDON) - timedelta(days=90),
            )
        for name in CHECKLIST_FIELDS:
            level = escalations(**{name: True}).get(name)
            if name in urgent:
                assert level == urgent[name]["level"], (name, statin)
            else:
                assert level not in ("E0", "E1"), (name, statin)
    assert list(urgent) == [
        "breathless_chest_pain",
        "saddle_numbness",
        "calf_swelling",
        "dark_urine",
        "foot_pale_cold",
        "weakness",
    ]
    assert urgent["calf_swelling"]["action"] == "Get medical help today."
    assert urgent["calf_swelling"]["meanwhile"] == "Don't massage that calf in the meantime."


def test_loading_acknowledgements_keeps_the_chunk_query_count_fixed(alice, bob, swollen_calf_40_days_ago):
    carol = make_user("carol@example.org")
    cramp(bob, 3, weakness=True)
    for user in (alice, bob, carol):
        RedFlagAcknowledgement.objects.create(
            user=user,
            flag="weakness",
            first_reported_on=date(2026, 1, 1),
            last_reported_on=date(2026, 1, 1),
            reported_until=datetime(2026, 1, 1, tzinfo=UTC),
            acknowledged_at=datetime(2026, 1, 2, tzinfo=UTC),
        )
    with CaptureQueriesContext(connection) as one:
        load_panels([alice.pk])
    with CaptureQueriesContext(connection) as three:
        panels = load_panels([alice.pk, bob.pk, carol.pk])
    assert len(three) == len(one)
    assert {p.user_id: p.acknowledged for p in panels} == {
        user.pk: {"weakness": microseconds(datetime(2026, 1, 1, tzinfo=UTC))} for user in (alice, bob, carol)
    }


# --- The count rules, on panels (pure) ---------------------------------------------------------------

TODAY = date(2026, 11, 1)


def walking_pain(days_ago: int):
    night = TODAY - timedelta(days=days_ago)
    when = datetime.combine(night, time(15), tzinfo=UTC)
    return episode_row(night, when, context="walking", walking_pain_relief="standing_still")


def panel_with(*episodes, acknowledged=None):
    counts: dict = {}
    for row in episodes:
        counts[row[0]] = counts.get(row[0], 0) + 1
    return build_panel(1, UTC, TODAY, PROFILE, counts, [], list(episodes), [], acknowledged)


def r05(panel):
    return next((f for f in analyse(panel) if f.key == "R05:walking"), None)


def test_walking_pain_twice_in_30_days_stays_until_acknowledged_and_needs_twice_again():
    old = [walking_pain(70), walking_pain(60)]
    escalated = r05(panel_with(*old))
    assert escalated.escalation == "E2" and escalated.counts["flag"] == "walking_pain"
    assert "first on 23 Aug 2026, last on 2 Sep 2026" in escalated.message

    covered = {"walking_pain": microseconds(old[-1][1])}
    assert r05(panel_with(*old, acknowledged=covered)) is None
    once_more = r05(panel_with(*old, walking_pain(5), acknowledged=covered))
    assert once_more.status == INFO
    twice_more = r05(panel_with(*old, walking_pain(5), walking_pain(1), acknowledged=covered))
    assert twice_more.escalation == "E2" and twice_more.counts["reports"] == 2


def test_an_acknowledgement_covers_one_flag_only():
    night = TODAY - timedelta(days=50)
    row = episode_row(night, datetime.combine(night, time(3), tzinfo=UTC), calf_swelling=True, weakness=True)
    panel = panel_with(row, acknowledged={"calf_swelling": microseconds(row[1])})
    keys = {f.key for f in analyse(panel) if f.status == ESCALATION}
    assert "R12:weakness" in keys and "R13:swelling" not in keys
