"""Which weekly email each person gets, read from the message a real SMTP server received: a new user,
an empty week, a pause after empty weeks, thin data, a pattern, red flags E0 to E2, pregnancy."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from diary.models import CheckIn, Episode, Profile
from insights.models import Finding, RedFlagAcknowledgement
from notifications.models import DigestDelivery

from .weekly import analysed, log_week, parts, patient, run_tick

pytestmark = pytest.mark.django_db

WEEK = date(2026, 11, 2)  # the covered week: the nights of Monday 2 to Sunday 8 November 2026
# The default send time, Monday 18:00 in London (GMT in November): after Sunday night's check-in.
MONDAY_1800 = datetime(2026, 11, 9, 18, 0, tzinfo=UTC)


def established(email="alice@example.org", **kwargs):
    """Someone on the default send time, with the four weeks before the covered one logged: 2 cramps a week."""
    user = patient(email, after=MONDAY_1800, hour=None, **kwargs)
    for weeks_back in range(1, 5):
        log_week(user, WEEK - timedelta(days=7 * weeks_back), {0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0})
    return user


def me(user) -> APIClient:
    """The API as this person, signed in afresh (as each real request is)."""
    api = APIClient()
    api.force_authenticate(type(user).objects.get(pk=user.pk))
    return api


def received(smtp_server, now=MONDAY_1800):
    before = len(smtp_server.messages)
    assert run_tick(now) == ["sent"]
    [message] = smtp_server.messages[before:]
    return parts(message)


def shown(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def never_says_nothing_as_zero(subject, text, html):
    for part in (subject, text, shown(html)):
        assert "0 cramps on 0 nights" not in part and "seed" not in part.lower()


def test_the_default_time_is_monday_evening_and_includes_sunday_nights_check_in(smtp_server):
    user = patient(after=MONDAY_1800, hour=None)
    assert (user.profile.digest_weekday, user.profile.digest_hour) == (0, 18)
    log_week(user, WEEK, {0: 1, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0})
    # Sunday night's answer, given on Monday morning.
    CheckIn.objects.create(user=user, date=date(2026, 11, 8), no_cramps=True)
    assert run_tick(MONDAY_1800 - timedelta(minutes=1)) == []
    subject, text, _ = received(smtp_server)
    assert "Sun 8 Nov   no cramps" in text
    assert "Nights not logged: 0" in text
    assert subject == "Your cramp week: 1 cramp on 1 of 7 logged nights (2 Nov – 8 Nov)"


def test_a_new_user_gets_a_welcome_and_nights_before_joining_are_not_missing(smtp_server):
    # Joined on Friday evening: the nights of Monday to Thursday were before the account existed.
    user = patient(after=MONDAY_1800, hour=None, joined=datetime(2026, 11, 6, 20, 0, tzinfo=UTC))
    log_week(user, WEEK, {4: 0, 5: 1})
    subject, text, html = received(smtp_server)
    assert subject == "Welcome to CrampTrack: your first week, 1 cramp on 1 of 2 logged nights (2 Nov – 8 Nov)"
    assert "WELCOME TO CRAMPTRACK" in text and "Answer the morning check-in" in text
    assert "Mon 2 Nov   before you joined" in text and "Thu 5 Nov   before you joined" in text
    assert "Fri 6 Nov   no cramps" in text and "Sat 7 Nov   # 1" in text and "Sun 8 Nov   not logged" in text
    assert "Nights not logged: 1" in text and "Nights before you joined: 4" in text
    page = shown(html)
    assert "Welcome to CrampTrack" in page and "before you joined" in page
    assert "1 cramps 1 cramp nights 1 cramp-free 1 not logged" in page
    assert "A TIP" not in text and "Next to test" not in text
    never_says_nothing_as_zero(subject, text, html)
    assert DigestDelivery.objects.get().kind == "welcome"


def test_a_week_that_ended_before_the_account_existed_is_not_emailed(smtp_server):
    # Signed up on Monday afternoon: the first email covers the week they start in, a week later.
    patient(after=MONDAY_1800, hour=None, joined=datetime(2026, 11, 9, 13, 0, tzinfo=UTC))
    assert run_tick(MONDAY_1800) == ["skipped"]
    assert smtp_server.messages == []
    subject, text, _ = received(smtp_server, MONDAY_1800 + timedelta(days=7))
    assert subject.startswith("Welcome to CrampTrack: your first week (9 Nov – 15 Nov)")
    assert "Mon 9 Nov" not in text  # an empty first week: the how-to, no table of empty nights


def test_an_empty_week_gets_a_short_we_missed_you_with_the_one_tap_check_in(smtp_server):
    established()
    subject, text, html = received(smtp_server)
    assert subject == "We missed you: nothing logged this week (2 Nov – 8 Nov)"
    assert "Any cramps last night? Answer in one tap: http://localhost:8000/" in text
    assert "not logged" not in text and "THE WEEK IN NUMBERS" not in text and "A TIP" not in text
    assert "We missed you this week" in shown(html) and 'href="http://localhost:8000/"' in html
    never_says_nothing_as_zero(subject, text, html)


def test_after_three_empty_weeks_it_says_so_pauses_and_any_entry_resumes_it(smtp_server):
    user = patient(after=datetime(2026, 10, 26, 18, 0, tzinfo=UTC), hour=None)
    log_week(user, date(2026, 10, 12), {0: 1, 1: 0})
    subjects = [received(smtp_server, MONDAY_1800 - timedelta(days=7 * weeks))[0] for weeks in (2, 1, 0)]
    assert subjects == [
        "We missed you: nothing logged this week (19 Oct – 25 Oct)",
        "We missed you: nothing logged this week (26 Oct – 1 Nov)",
        "Pausing your weekly cramp email after 3 weeks without entries",
    ]
    text = parts(smtp_server.messages[-1])[1]
    assert "This is the last weekly email for now: after 3 weeks without entries we've paused it." in text
    assert me(user).get("/api/v1/me/").json()["digest_paused_at"] is not None

    assert run_tick(MONDAY_1800 + timedelta(days=7)) == []  # paused: nothing planned, nothing sent
    CheckIn.objects.create(user=user, date=date(2026, 11, 17), no_cramps=True)  # any entry resumes it
    assert me(user).get("/api/v1/me/").json()["digest_paused_at"] is None
    subject, text, _ = received(smtp_server, MONDAY_1800 + timedelta(days=14))
    assert subject == "Your cramp week: no cramps on 1 logged night (16 Nov – 22 Nov)"


def test_an_open_red_flag_is_never_paused_into_silence(smtp_server):
    user = patient(after=datetime(2026, 10, 26, 18, 0, tzinfo=UTC), hour=None)
    log_week(user, date(2026, 10, 12), {0: 1, 1: 0})
    _episode(user, date(2026, 10, 14), calf_swelling=True)
    subjects = [received(smtp_server, MONDAY_1800 - timedelta(days=7 * weeks))[0] for weeks in (2, 1, 0)]
    assert subjects == ["Please read today: you reported a swollen, red or warm calf (14 Oct)"] * 3
    assert "the last weekly email for now" not in parts(smtp_server.messages[-1])[1]
    assert me(user).get("/api/v1/me/").json()["digest_paused_at"] is None


def test_resuming_from_the_app_restarts_the_count_of_empty_weeks(smtp_server):
    user = established()
    Profile.objects.filter(user=user).update(digest_paused_at=datetime(2030, 1, 1, tzinfo=UTC))
    assert run_tick(MONDAY_1800) == []
    assert me(user).get("/api/v1/me/").json()["digest_paused_at"] is not None
    assert me(user).patch("/api/v1/me/", {"digest_enabled": True}, format="json").status_code == 200
    assert me(user).get("/api/v1/me/").json()["digest_paused_at"] is None
    subject, _, _ = received(smtp_server, MONDAY_1800 + timedelta(days=7))
    assert subject.startswith("We missed you")  # one empty week since resuming, not a pause again


def test_a_thin_week_shows_its_nights_and_asks_for_the_morning_check_in(smtp_server):
    user = established()
    log_week(user, WEEK, {1: 1, 3: 0})
    subject, text, html = received(smtp_server)
    assert subject == "Your cramp week: 1 cramp on 1 of 2 logged nights (2 Nov – 8 Nov)"
    assert "Nights not logged: 5" in text and "Wed 4 Nov   not logged" in text
    assert 'You logged 2 of 7 nights this week. A one-tap morning check-in, even "no cramps"' in text
    assert "than your usual week" not in text  # two nights are too few to compare
    assert "You logged 2 of 7 nights this week." in shown(html)
    never_says_nothing_as_zero(subject, text, html)


def _finding(user, key, rule, trigger, status, **fields):
    defaults = {"rank": 5, "message": f"{key} message", "analysis_version": "1", "analysed_at": MONDAY_1800}
    return Finding.objects.create(user=user, key=key, rule=rule, trigger=trigger, status=status, **defaults | fields)


def test_a_pattern_week_leads_with_the_change_and_says_what_it_cannot_tell_yet(smtp_server):
    user = established()
    log_week(user, WEEK, {0: 2, 1: 0, 2: 1, 3: 0, 4: 2, 5: 0, 6: 0})
    analysed(user)
    _finding(
        user,
        "R02",
        "R02",
        "tr_overuse_exertion",
        "possible_pattern_higher",
        rank=0,
        message="Possible pattern: on nights after harder exercise you logged cramps about 2.1× as often "
        "(30 cramps in 40 nights vs 28 in 80 other nights; plausible range 1.2 to 3.6).",
        tip="Build up training gradually, and stretch your calves after exercise and at bedtime.",
        source="Based on: Miller 2022; Schwellnus 2009; Delacour 2020",
    )
    recorded = {"cramps_exposed": 4, "nights_exposed": 10, "cramps_other": 9, "nights_other": 50}
    _finding(user, "R02s", "R02", "tr_overuse_exertion", "insufficient_data", nights_needed=2, counts=recorded)
    _finding(user, "R03", "R03", "tr_cold_exposure", "insufficient_data", nights_needed=38, counts=recorded)
    _finding(user, "R10", "R10", "tr_prolonged_position", "no_clear_pattern", counts=recorded)
    never = {"cramps_exposed": 0, "nights_exposed": 0, "cramps_other": 0, "nights_other": 0}
    _finding(user, "R04s", "R04", "tr_sweat_electrolyte_loss", "insufficient_data", counts=never)

    subject, text, html = received(smtp_server)
    assert subject == "3 more cramps than your usual week (2 Nov – 8 Nov)"
    lead = "5 cramps in 7 logged nights; at your rate over 4 earlier weeks that would be about 2."
    assert text.index("3 MORE CRAMPS THAN YOUR USUAL WEEK\n" + lead) < text.index("THE WEEK IN NUMBERS")
    page = shown(html)
    assert page.index("3 more cramps than your usual week " + lead) < page.index("Cramps per night")
    assert "30 cramps in 40 nights vs 28 in 80 other nights" in text
    assert "Build up training gradually" in text and "Based on: Miller 2022; Schwellnus 2009" in text
    # The nudge: the soonest comparison about something not already a pattern, and the answer it needs.
    assert "Next to test: cold feet. At your pace that needs about 38 more logged nights with cold feet" in text
    assert "2 more" not in text and "least active" not in text
    assert "No clear difference so far with long sitting or standing." in text
    assert "Not testable yet: heavy sweating or stomach upsets, because your check-ins haven't recorded it." in text
    assert "No clear difference so far with long sitting or standing." in page
    never_says_nothing_as_zero(subject, text, html)


def test_the_bar_chart_is_a_table_without_images_that_keeps_its_colours_in_dark_mode(smtp_server):
    user = established()
    log_week(user, WEEK, {0: 4, 1: 2, 2: 1, 3: 0})
    _, text, html = received(smtp_server)
    bars = re.findall(r'<td width="(\d+)%" height="14" bgcolor="#1565c0"', html)
    assert bars == ["100", "50", "25"]  # as wide as the night's cramps, the worst night the full width
    assert "<img" not in html and "inline-block;height" not in html
    assert '<meta name="color-scheme" content="light dark">' in html and "prefers-color-scheme: dark" in html
    assert "Mon 2 Nov   #### 4\nTue 3 Nov   ## 2\nWed 4 Nov   # 1\nThu 5 Nov   no cramps\n" in text


def _episode(user, day: date, **flag):
    return Episode.objects.create(
        user=user,
        started_at=datetime(day.year, day.month, day.day, 3, 0, tzinfo=UTC),
        muscle="calf",
        side="left",
        **flag,
    )


@pytest.mark.parametrize(
    ("flag", "subject", "label", "what"),
    [
        (
            "breathless_chest_pain",
            "Please read now: you reported breathlessness or chest pain (5 Nov)",
            "IMPORTANT: Breathlessness or chest pain",
            "What to do (now): Call your emergency number (999 in the UK, 112 in the EU, 911 in the US and Canada)",
        ),
        (
            "calf_swelling",
            "Please read today: you reported a swollen, red or warm calf (5 Nov)",
            "IMPORTANT: A swollen, red or warm calf",
            "What to do (today): Call your GP or doctor's surgery and ask to be seen today. If they can't see you, "
            "go to an urgent care or walk-in centre (in the UK, call 111 or go to 111.nhs.uk).",
        ),
        (
            "numbness_tingling",
            "Your cramp week: 1 cramp on 1 of 3 logged nights, and something to show a clinician (2 Nov – 8 Nov)",
            "WORTH ACTING ON: Numbness or tingling in the leg or foot",
            "What to do (in the next week or two): Book an appointment with your GP or doctor",
        ),
    ],
    ids=["E0", "E1", "E2"],
)
def test_a_red_flag_is_dated_says_what_to_do_and_where_and_nothing_else_nudges(smtp_server, flag, subject, label, what):
    user = established()
    log_week(user, WEEK, {0: 0, 1: 0})
    _episode(user, date(2026, 11, 5), **{flag: True})  # the night of 4 November, at 03:00 on the 5th
    got_subject, text, html = received(smtp_server)  # the diary changed, so it is analysed before sending
    assert got_subject == subject
    assert f"{label}\nReported on 5 Nov 2026.\nYou reported" in text
    assert what in text
    assert "Seen someone about it already? Tell CrampTrack: http://localhost:8000/email/red-flag/" in text
    for nudge in ("A TIP", "Next to test", "You logged", "Not testable yet", "No clear difference"):
        assert nudge not in text  # three logged nights would otherwise earn a nudge
    page = shown(html)
    assert label.split(": ", 1)[1] in page and "Reported on 5 Nov 2026" in page
    assert "I've seen someone about this" in page
    assert "R12" not in text + page and "R13" not in text + page


def test_ive_seen_someone_from_the_email_confirms_on_get_and_records_on_post(smtp_server):
    user = established()
    _episode(user, date(2026, 11, 5), calf_swelling=True)
    _, text, _ = received(smtp_server)
    link = re.search(r"Tell CrampTrack: (http://localhost:8000(\S+))", text).group(2)
    client = Client(enforce_csrf_checks=True)
    page = client.get(link)
    assert page.status_code == 200 and b"A swollen, red or warm calf" in page.content
    assert b"You reported it on 5 Nov 2026" in page.content
    assert not RedFlagAcknowledgement.objects.exists()  # a GET (a link scanner, a preview) changes nothing
    token = page.cookies["csrftoken"].value
    done = client.post(link, {"csrfmiddlewaretoken": token})
    assert done.status_code == 200 and b"recorded" in done.content
    acknowledgement = RedFlagAcknowledgement.objects.get(user=user)
    assert (acknowledgement.flag, acknowledgement.first_reported_on) == ("calf_swelling", date(2026, 11, 5))
    assert not Finding.objects.filter(user=user, escalation="E1").exists()
    assert client.post(link, {"csrfmiddlewaretoken": token}).status_code == 200  # a second tap adds nothing
    assert RedFlagAcknowledgement.objects.count() == 1
    log_week(user, WEEK + timedelta(days=7), {0: 0, 1: 1})
    next_subject, next_text, _ = received(smtp_server, MONDAY_1800 + timedelta(days=7))
    assert "IMPORTANT" not in next_text and not next_subject.startswith("Please read")


def test_a_red_flag_link_is_refused_when_tampered_or_for_someone_else():
    from notifications.emails import red_flag_token

    alice = established()
    _episode(alice, date(2026, 11, 5), calf_swelling=True)
    bob = established("bob@example.org")
    token = red_flag_token(alice.pk, "calf_swelling")
    assert Client().get(f"/email/red-flag/{token[:-2]}xx/").status_code == 400
    # Bob never reported it: his own valid link shows nothing to confirm and records nothing.
    assert Client().post(f"/email/red-flag/{red_flag_token(bob.pk, 'calf_swelling')}/").status_code == 400
    assert not RedFlagAcknowledgement.objects.exists()


def test_pregnancy_mode_gives_only_the_pregnancy_tip(smtp_server):
    user = established()
    Profile.objects.filter(user=user).update(pregnant=True)
    log_week(user, WEEK, {0: 1, 1: 0, 2: 0, 3: 1, 4: 0, 5: 0, 6: 0})
    subject, text, html = received(smtp_server)
    assert subject == "About your usual week (2 Nov – 8 Nov)"
    tip = text[text.index("A TIP") :]
    assert tip.startswith("A TIP\nStretch your calves before bed; warmth or gentle massage can help")
    assert "Ask your midwife before taking any supplement." in tip
    assert "Based on: AAFP 2012; Luo 2020; KidsHealth" in tip
    assert DigestDelivery.objects.get().tip_id == ""  # not a rotating general tip
    never_says_nothing_as_zero(subject, text, html)
