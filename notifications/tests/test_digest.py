"""Weekly emails: on time in each person's zone, exactly once, through a real SMTP server."""

import asyncio
import re
import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.db import connection as db_connection
from django.test import Client

from cramptrack.celery import app
from diary.models import CheckIn, Episode, Profile
from insights.models import Finding
from notifications import delivery, tasks
from notifications.digest import rotating_tip
from notifications.emails import email_token
from notifications.models import DigestDelivery

from .weekly import MONDAY_0800_LONDON, analysed, log_week, patient, run_tick

pytestmark = pytest.mark.django_db


def test_the_weekly_email_arrives_with_both_parts_and_one_click_unsubscribe(smtp_server):
    alice = patient()
    log_week(alice, date(2026, 11, 2), {0: 2, 1: 0, 2: 1, 4: 0, 5: 0})
    assert run_tick(MONDAY_0800_LONDON) == ["sent"]

    [message] = smtp_server.messages
    assert message["To"] == "alice@example.org"
    assert str(message["Subject"]).strip() == "Your cramp week: 3 cramps on 2 of 5 logged nights (2 Nov – 8 Nov)"
    assert str(message["List-Unsubscribe"]).strip().startswith("<http://localhost:8000/email/unsubscribe/")
    assert str(message["List-Unsubscribe-Post"]).strip() == "List-Unsubscribe=One-Click"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for fragment in ("Cramps: 3", "Nights with cramps: 2", "Cramp-free nights: 3", "Nights not logged: 2"):
        assert fragment in text
    assert "Typical severity: 6/10" in text
    shown = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "3 cramps 2 cramp nights 3 cramp-free 2 not logged" in shown
    assert "Typical cramp: severity 6/10, 2.0 min." in shown
    assert "http://localhost:8000/insights/" in html
    assert DigestDelivery.objects.get(user=alice).status == "sent"


def test_text_parts_are_sent_as_written_and_only_the_html_is_escaped(smtp_server):
    _pattern(patient(), "Possible pattern: after < 6 hours' sleep & cold feet")
    assert run_tick(MONDAY_0800_LONDON) == ["sent"]
    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Possible pattern: after < 6 hours' sleep & cold feet" in text
    assert "Possible pattern: after &lt; 6 hours&#x27; sleep &amp; cold feet" in html
    assert "&" not in str(message["Subject"])


def test_a_second_run_sends_nothing(smtp_server):
    patient()
    run_tick(MONDAY_0800_LONDON)
    assert run_tick(MONDAY_0800_LONDON) == []
    assert run_tick(MONDAY_0800_LONDON + timedelta(hours=1)) == []
    assert len(smtp_server.messages) == 1


def test_two_beats_and_a_redelivered_task_still_send_once(smtp_server):
    patient()
    first, second = delivery.plan(now=MONDAY_0800_LONDON), delivery.plan(now=MONDAY_0800_LONDON)
    assert first == second  # the same delivery row: the unique (person, week) guard
    outcomes = [delivery.send(i, now=MONDAY_0800_LONDON) for i in first + second + first]
    assert outcomes.count("sent") == 1
    assert len(smtp_server.messages) == 1


def test_one_tick_plans_everyone_due_in_bounded_transactions(smtp_server, settings):
    settings.DIGEST_PLAN_BATCH = 2
    emails = [f"p{i}@example.org" for i in range(5)]
    for email in emails:
        patient(email)
    batches = list(delivery.plan_all(now=MONDAY_0800_LONDON))
    assert [len(ids) for ids in batches] == [2, 2, 1]  # each batch queued as it commits, each id once
    outcomes = [delivery.send(i, now=MONDAY_0800_LONDON) for ids in batches for i in ids]
    assert outcomes == ["sent"] * 5
    assert sorted(m["To"] for m in smtp_server.messages) == emails
    assert list(delivery.plan_all(now=MONDAY_0800_LONDON)) == []
    assert DigestDelivery.objects.count() == 5


def test_a_non_utc_user_gets_it_at_local_0800(smtp_server):
    patient("kenji@example.org", zone="Asia/Tokyo", after=datetime(2026, 11, 8, 23, 0, tzinfo=UTC))
    assert run_tick(datetime(2026, 11, 8, 22, 59, tzinfo=UTC)) == []  # 07:59 Monday in Tokyo
    assert run_tick(datetime(2026, 11, 8, 23, 0, tzinfo=UTC)) == ["sent"]  # 08:00 Monday in Tokyo
    assert "(26 Oct – 1 Nov)" not in smtp_server.messages[0]["Subject"]
    assert "(2 Nov – 8 Nov)" in smtp_server.messages[0]["Subject"]


def test_a_dst_week_is_sent_at_local_0800_on_both_sides(smtp_server):
    # New York leaves daylight time on Sunday 1 November 2026.
    before = datetime(2026, 10, 26, 12, 0, tzinfo=UTC)  # Monday 08:00 EDT
    user = patient("ny@example.org", zone="America/New_York", after=before)
    assert run_tick(before) == ["sent"]
    assert Profile.objects.get(user=user).digest_next_at == datetime(2026, 11, 2, 13, 0, tzinfo=UTC)  # 08:00 EST
    log_week(user, date(2026, 10, 26), {5: 1, 6: 0})  # the 25-hour night of Saturday 31 October
    assert run_tick(datetime(2026, 11, 2, 12, 59, tzinfo=UTC)) == []
    assert run_tick(datetime(2026, 11, 2, 13, 0, tzinfo=UTC)) == ["sent"]
    assert DigestDelivery.objects.filter(user=user).order_by("week_start").values_list("week_start", flat=True)[1] == (
        date(2026, 10, 26)
    )
    assert "Cramps: 1" in smtp_server.messages[1].get_body(preferencelist=("plain",)).get_content()


def test_another_persons_data_never_appears(smtp_server):
    alice, bob = patient("alice@example.org"), patient("bob@example.org")
    log_week(alice, date(2026, 11, 2), {0: 4, 1: 3})
    log_week(bob, date(2026, 11, 2), {0: 0, 1: 1})
    run_tick(MONDAY_0800_LONDON)
    by_recipient = {m["To"]: m.get_body(preferencelist=("plain",)).get_content() for m in smtp_server.messages}
    assert "Cramps: 7" in by_recipient["alice@example.org"]
    assert "Cramps: 1" in by_recipient["bob@example.org"]
    assert "Cramps: 7" not in by_recipient["bob@example.org"]
    assert email_token(alice.pk) not in by_recipient["bob@example.org"]


def test_smtp_down_then_up_sends_exactly_one(smtp_server):
    patient()
    smtp_server.stop()
    assert run_tick(MONDAY_0800_LONDON) == ["failed"]
    row = DigestDelivery.objects.get()
    assert row.status == "failed" and "Connection" in row.last_error
    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=1)) == []  # backing off
    smtp_server.start()
    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=6)) == ["sent"]
    assert run_tick(MONDAY_0800_LONDON + timedelta(hours=1)) == []
    assert len(smtp_server.messages) == 1


def test_a_refusing_server_is_retried_then_given_up_visibly(smtp_server):
    patient()
    smtp_server.refuse = True
    now, outcomes = MONDAY_0800_LONDON, []
    for _ in range(12):
        outcomes += run_tick(now)
        now += timedelta(hours=7)
    assert outcomes == ["failed"] * (delivery.MAX_ATTEMPTS - 1) + ["abandoned"]
    row = DigestDelivery.objects.get()
    assert row.status == "abandoned" and "451" in row.last_error
    assert smtp_server.messages == []


def test_a_worker_that_died_mid_send_is_taken_over_after_the_lease(smtp_server, settings):
    settings.DIGEST_CLAIM_SECONDS = 120
    patient()
    [delivery_id] = delivery.plan(now=MONDAY_0800_LONDON)
    assert delivery.claim(delivery_id, MONDAY_0800_LONDON)  # ...and then the worker was killed
    assert run_tick(MONDAY_0800_LONDON + timedelta(seconds=119)) == []
    assert run_tick(MONDAY_0800_LONDON + timedelta(seconds=121)) == ["sent"]
    assert run_tick(MONDAY_0800_LONDON + timedelta(hours=1)) == []
    [message] = smtp_server.messages
    # The same Message-ID whichever attempt sends it: a repeat after a crash is recognisably one email.
    assert message["Message-ID"] == f"<digest-{delivery_id}-20261102@localhost>"  # SITE_URL's host


def test_a_duplicate_task_waits_out_the_backoff(smtp_server):
    """A second beat, a backlog or a redelivered task naming a row that just failed must not try it
    again before its backoff: an outage would otherwise use up every attempt within minutes."""
    patient()
    ids = delivery.plan(now=MONDAY_0800_LONDON)
    smtp_server.refuse = True
    assert list(delivery.send_batch(ids, now=MONDAY_0800_LONDON).values()) == ["failed"]
    for minutes in (0, 1, 4):
        duplicate = delivery.send_batch(ids, now=MONDAY_0800_LONDON + timedelta(minutes=minutes))
        assert list(duplicate.values()) == ["not_claimed"]
    assert DigestDelivery.objects.get().attempts == 1
    smtp_server.refuse = False
    assert list(delivery.send_batch(ids, now=MONDAY_0800_LONDON + timedelta(minutes=5)).values()) == ["sent"]
    assert len(smtp_server.messages) == 1


@pytest.mark.parametrize(
    ("status", "attempts", "next_attempt", "claimed", "claimable"),
    [
        ("pending", 0, 0, None, True),
        ("pending", 0, 1, None, False),  # planned for later
        ("failed", 1, -1, None, True),  # backoff over
        ("failed", 1, 1, None, False),  # still backing off
        ("failed", delivery.MAX_ATTEMPTS, -1, None, False),  # out of attempts
        ("sending", 1, -20, -5, False),  # another worker holds it
        ("sending", 1, -20, -11, True),  # its worker died: the lease (10 minutes) ran out
        ("sent", 1, -20, -15, False),
        ("abandoned", 3, -20, None, False),
    ],
)
def test_which_rows_can_be_claimed(db, settings, status, attempts, next_attempt, claimed, claimable):
    settings.DIGEST_CLAIM_SECONDS = 600
    minutes = lambda n: None if n is None else MONDAY_0800_LONDON + timedelta(minutes=n)  # noqa: E731
    row = DigestDelivery.objects.create(
        user=patient(after=MONDAY_0800_LONDON + timedelta(days=7)),  # not due: plan() only sweeps
        week_start=date(2026, 11, 2),
        status=status,
        attempts=attempts,
        next_attempt_at=minutes(next_attempt),
        claimed_at=minutes(claimed),
    )
    assert (row.pk in delivery.plan(now=MONDAY_0800_LONDON)) is claimable
    assert delivery.claim(row.pk, MONDAY_0800_LONDON) is claimable
    assert delivery.claim(row.pk, MONDAY_0800_LONDON) is False  # a second claim never succeeds


@pytest.mark.django_db(transaction=True)
def test_a_worker_stuck_mid_batch_holds_only_the_email_it_is_sending(smtp_server):
    """A worker stops dead on the first email of its batch (killed, or its server hung): another
    worker given the same batch sends the rest at once, not after the stuck worker's lease."""
    emails = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    for email in emails:
        patient(email)
    ids = delivery.plan(now=MONDAY_0800_LONDON)
    held, release, handle_data = threading.Event(), threading.Event(), smtp_server.handle_DATA

    async def hold_the_first(server, session, envelope):
        if not held.is_set():
            held.set()
            while not release.is_set():
                await asyncio.sleep(0.02)
            return "451 4.3.0 Sender went away"
        return await handle_data(server, session, envelope)

    smtp_server.handle_DATA = hold_the_first
    stuck_outcomes: dict = {}

    def stuck_worker():
        try:
            stuck_outcomes.update(delivery.send_batch(ids, now=MONDAY_0800_LONDON))
        finally:
            db_connection.close()

    stuck = threading.Thread(target=stuck_worker)
    stuck.start()
    try:
        assert held.wait(10)
        other = delivery.send_batch(ids, now=MONDAY_0800_LONDON + timedelta(seconds=1))
    finally:
        release.set()
        stuck.join(10)
    assert [other[i] for i in ids] == ["not_claimed", "sent", "sent", "sent"]
    assert [stuck_outcomes[i] for i in ids] == ["failed", "not_claimed", "not_claimed", "not_claimed"]
    assert sorted(m["To"] for m in smtp_server.messages) == emails[1:]


@pytest.mark.parametrize(
    "change",
    ["unverified", "opted_out", "deleted", "kill_switch", "inactive"],
)
def test_nobody_gets_an_email_they_should_not(smtp_server, settings, change):
    user = patient(verified=change != "unverified")
    if change == "opted_out":
        Profile.objects.filter(user=user).update(digest_enabled=False)
    elif change == "deleted":
        user.delete()
    elif change == "kill_switch":
        settings.DIGESTS_ENABLED = False
    elif change == "inactive":
        type(user).objects.filter(pk=user.pk).update(is_active=False)
    assert run_tick(MONDAY_0800_LONDON) == []
    assert smtp_server.messages == []


def test_unsubscribing_between_plan_and_send_sends_nothing(smtp_server):
    user = patient()
    [delivery_id] = delivery.plan(now=MONDAY_0800_LONDON)
    Profile.objects.filter(user=user).update(digest_enabled=False)
    assert delivery.send(delivery_id, now=MONDAY_0800_LONDON) == "skipped"
    assert smtp_server.messages == []


def test_a_pattern_is_shown_with_its_numbers_and_tip(smtp_server):
    user = patient()
    log_week(user, date(2026, 11, 2), {0: 1, 1: 0, 2: 0, 3: 0})
    analysed(user)
    Finding.objects.create(
        user=user,
        key="R02",
        rule="R02",
        trigger="tr_overuse_exertion",
        status="possible_pattern_higher",
        rank=0,
        message="Possible pattern: on nights after harder exercise you logged cramps about 2.1× as often "
        "(30 cramps in 40 nights vs 28 in 80 other nights; 95% interval 1.2 to 3.6).",
        tip="Build up training gradually.",
        source="Based on: Miller 2022",
        analysis_version="1",
        analysed_at=MONDAY_0800_LONDON,
    )
    run_tick(MONDAY_0800_LONDON)
    text = smtp_server.messages[0].get_body(preferencelist=("plain",)).get_content()
    assert "30 cramps in 40 nights vs 28 in 80 other nights; 95% interval 1.2 to 3.6" in text
    assert "Build up training gradually." in text and "Based on: Miller 2022" in text


def test_the_rotating_tip_is_never_the_same_two_weeks_running(smtp_server):
    user = patient()
    now, tips = MONDAY_0800_LONDON, []
    for week in range(6):
        log_week(user, date(2026, 11, 2) + timedelta(days=7 * week), {0: 0, 1: 1})
        run_tick(now)
        now += timedelta(days=7)
    tips = list(DigestDelivery.objects.order_by("week_start").values_list("tip_id", flat=True))
    assert len(tips) == 6 and all(tips)
    assert all(a != b for a, b in zip(tips, tips[1:], strict=False))
    monday = date(2026, 11, 2)
    assert rotating_tip(monday, rotating_tip(monday, "")) != rotating_tip(monday, "")


def test_a_thin_week_gets_a_nudge(smtp_server):
    user = patient()
    log_week(user, date(2026, 11, 2), {0: 1})
    run_tick(MONDAY_0800_LONDON)
    assert (
        "You logged 1 of 7 nights this week"
        in smtp_server.messages[0].get_body(preferencelist=("plain",)).get_content()
    )


def test_unsubscribe_link_confirms_on_get_and_unsubscribes_on_post(db):
    user = patient()
    client = Client(enforce_csrf_checks=True)
    url = f"/email/unsubscribe/{email_token(user.pk)}/"
    page = client.get(url)
    assert page.status_code == 200 and b"Stop the weekly email?" in page.content
    assert Profile.objects.get(user=user).digest_enabled
    # RFC 8058 one-click: a bare POST from the mail client, no cookies or CSRF token.
    response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert not Profile.objects.get(user=user).digest_enabled


def test_a_tampered_token_is_rejected(db):
    user = patient()
    token = email_token(user.pk)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = Client().post(f"/email/unsubscribe/{tampered}/")
    assert response.status_code == 400
    assert Profile.objects.get(user=user).digest_enabled
    assert Client().get(f"/email/preferences/{tampered}/").status_code == 400


def test_the_preferences_page_changes_day_and_hour(db):
    user = patient()
    client = Client()
    url = f"/email/preferences/{email_token(user.pk)}/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"digest_enabled": "on", "digest_weekday": "4", "digest_hour": "19"})
    assert response.status_code == 200 and b"Saved." in response.content
    profile = Profile.objects.get(user=user)
    assert (profile.digest_weekday, profile.digest_hour) == (4, 19)
    local = profile.digest_next_at.astimezone(profile.zone)
    assert (local.weekday(), local.hour) == (4, 19)


@pytest.mark.django_db(transaction=True)
def test_the_beat_tick_sends_through_a_celery_worker_on_redis(smtp_server):
    from django.utils import timezone

    user = patient(after=timezone.now() - timedelta(minutes=5))
    Profile.objects.filter(user=user).update(digest_next_at=timezone.now() - timedelta(minutes=1))
    assert tasks.plan_digests() == 1
    with start_worker(app, perform_ping_check=False, pool="solo", shutdown_timeout=10):
        deadline = time.monotonic() + 30
        while not smtp_server.messages and time.monotonic() < deadline:
            time.sleep(0.2)
    assert len(smtp_server.messages) == 1
    assert DigestDelivery.objects.get().status == "sent"


def test_a_batch_goes_over_one_smtp_session(smtp_server):
    emails = [f"p{i}@example.org" for i in range(5)]
    for email in emails:
        patient(email)
    outcomes = delivery.send_batch(delivery.plan(now=MONDAY_0800_LONDON), now=MONDAY_0800_LONDON)
    assert list(outcomes.values()) == ["sent"] * 5
    assert sorted(m["To"] for m in smtp_server.messages) == emails
    assert smtp_server.sessions == 1


def test_the_typical_duration_is_rounded(smtp_server):
    user = patient()
    night = date(2026, 11, 2)
    for minutes in ("1.2", "1.7"):
        Episode.objects.create(
            user=user,
            started_at=datetime(2026, 11, 3, 3, int(float(minutes) * 10), tzinfo=UTC),
            muscle="calf",
            side="left",
            duration_minutes=minutes,
        )
    CheckIn.objects.filter(user=user, date=night).delete()
    run_tick(MONDAY_0800_LONDON)
    assert "Typical duration: 1.4 min" in smtp_server.messages[0].get_body(preferencelist=("plain",)).get_content()


@pytest.mark.parametrize("failure", ["refused", "dropped"])
def test_a_failed_send_mid_batch_reopens_the_session_and_everyone_gets_one_email(smtp_server, failure):
    from collections import Counter

    emails = ["a@example.org", "b@example.org", "c@example.org", "d@example.org"]
    for email in emails:
        patient(email)
    handle_data, failed = smtp_server.handle_DATA, []

    async def fail_b_once(server, session, envelope):
        if envelope.rcpt_tos == ["b@example.org"] and not failed:
            failed.append(envelope.rcpt_tos[0])
            if failure == "dropped":  # the server goes away mid-session without a reply
                server.transport.close()
                return None
            return "451 4.3.0 Try again later"
        return await handle_data(server, session, envelope)

    smtp_server.handle_DATA = fail_b_once
    ids = delivery.plan(now=MONDAY_0800_LONDON)
    outcomes = delivery.send_batch(ids, now=MONDAY_0800_LONDON)
    by_email = dict(DigestDelivery.objects.filter(pk__in=ids).values_list("user__email", "status"))
    assert [outcomes[i] for i in ids].count("sent") == 3
    assert by_email == {**dict.fromkeys(emails, "sent"), "b@example.org": "failed"}
    assert [m["To"] for m in smtp_server.messages] == ["a@example.org", "c@example.org", "d@example.org"]
    assert smtp_server.sessions == 2  # reopened once after the failure, not once per later email

    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=1)) == []  # b backs off
    assert run_tick(MONDAY_0800_LONDON + timedelta(minutes=6)) == ["sent"]
    assert run_tick(MONDAY_0800_LONDON + timedelta(hours=1)) == []
    assert Counter(m["To"] for m in smtp_server.messages) == dict.fromkeys(emails, 1)
    assert set(DigestDelivery.objects.values_list("status", flat=True)) == {"sent"}


def _pattern(user, message):
    log_week(user, date(2026, 11, 2), {0: 1, 1: 0, 2: 0, 3: 2, 4: 0, 5: 0, 6: 0})
    analysed(user)
    Finding.objects.create(
        user=user,
        key="R02",
        rule="R02",
        trigger="tr_overuse_exertion",
        status="possible_pattern_higher",
        rank=0,
        message=message,
        tip="Build up training gradually.",
        source="Based on: Miller 2022",
        analysis_version="1",
        analysed_at=MONDAY_0800_LONDON,
    )


def test_a_line_starting_with_a_dot_arrives_intact(smtp_server):
    # SMTP ends a message with a line holding one dot: such a line in the body must reach the reader.
    _pattern(patient(), "Possible pattern: first line\n.\n.5 more nights")
    assert run_tick(MONDAY_0800_LONDON) == ["sent"]
    [message] = smtp_server.messages
    text = message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    assert "first line\n.\n.5 more nights\n" in text
    assert "Build up training gradually." in message.get_body(preferencelist=("html",)).get_content()


def test_an_over_long_line_is_sent_quoted_printable_and_arrives_whole(smtp_server):
    long_message = "Possible pattern: " + " ".join(f"nights–{i}" for i in range(200))  # one 2,000-byte line
    _pattern(patient(), long_message)
    assert run_tick(MONDAY_0800_LONDON) == ["sent"]
    [message] = smtp_server.messages
    plain = message.get_body(preferencelist=("plain",))
    assert plain["Content-Transfer-Encoding"] == "quoted-printable"  # RFC 5321 allows 998 octets a line
    assert long_message in plain.get_content()
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"
