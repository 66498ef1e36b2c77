"""The per-row baseline of bench/analysis_throughput.py: every finding of one diary, the straightforward way.

Model instances one row at a time (the profile, every check-in, every episode, the courses and dose
increases), dicts and plain Python loops for every statistic the rules read; then the same interval
function (insights.stats) and the same wording (insights.analysis.findings_from) as the analysis. The
benchmark checks that its findings equal the chunked path's on the same rows.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

from diary.models import CheckIn, DoseChange, Episode, MedicationCourse, Profile
from insights import stats
from insights.analysis import findings_from
from insights.diary_stats import (
    FLAG_COUNTS,
    FLAGS,
    LONG_CRAMPS,
    RECENT_DAYS,
    TREND_NIGHTS,
    WALKING_PAIN,
    Burden,
    DiaryStats,
    Reported,
)
from insights.models import RedFlagAcknowledgement
from insights.panel import PROFILE_FIELDS, Course, microseconds
from insights.panel_stats import DEFAULT_BED, DEFAULT_WAKE, TRIMESTERS
from insights.rules.exposures import fluid_rule_blocked
from insights.rules.medications import medication_changes, supplement_changes


def loop_findings(user_id: int, now) -> list:
    return findings_from(loop_stats(user_id, now))


def loop_stats(user_id: int, now) -> DiaryStats:
    profile_row = Profile.objects.get(user_id=user_id)
    profile = {name: getattr(profile_row, name) for name in PROFILE_FIELDS}
    zone = ZoneInfo(profile_row.timezone)
    today = now.astimezone(zone).date()

    checkins = {checkin.date: checkin for checkin in CheckIn.objects.filter(user_id=user_id)}
    episodes = list(Episode.objects.filter(user_id=user_id).order_by("started_at"))
    courses = []
    for course in MedicationCourse.objects.filter(user_id=user_id):
        item = Course(str(course.uuid), course.name, course.drug_class, course.started_on, course.stopped_on)
        for change in DoseChange.objects.filter(course=course, direction="increase").order_by("changed_on", "pk"):
            item.increases.append(change.changed_on)
        courses.append(item)
    courses.sort(key=lambda c: c.started_on)

    # Logged nights: an answered check-in or an episode; cramps per night.
    cramps: dict = {}
    for day, checkin in checkins.items():
        if checkin.no_cramps is True:
            cramps[day] = 0
        elif checkin.no_cramps is False:
            cramps[day] = 1
    for night, n in Counter(episode.night for episode in episodes).items():
        cramps[night] = n
    nights = sorted(cramps)

    def value(day, name):
        checkin = checkins.get(day)
        raw = getattr(checkin, name) if checkin is not None else None
        return None if raw is None else float(raw)

    column = {name: [value(day, name) for day in nights] for name in _CONTEXT}
    d = DiaryStats(
        user_id=user_id,
        today=today,
        profile=profile,
        courses=courses,
        logged_nights=len(nights),
        red_flags={},
        walking_pain=0,
        walking_pain_sitting=0,
        walking_pain_30=0,
        context_n=0,
        at_rest=0,
        walking=0,
        rls_like=0,
        exposures={},
        trend=None,
        burden=Burden(False, 0, math.nan, 0),
        thirds=(0, 0, 0),
        episodes=len(episodes),
        left=0,
        one_sided=0,
        both=0,
        nerve_left=False,
        nerve_right=False,
        thigh=0,
    )
    d.exposures = _exposures(nights, cramps, column, d)
    if len(nights) >= 2 * TREND_NIGHTS:
        last = nights[-2 * TREND_NIGHTS :]
        d.trend = _compare([(cramps[day], 1.0 if i >= TREND_NIGHTS else 0.0) for i, day in enumerate(last)])
    d.burden = _burden(nights, cramps, column, today)
    acknowledged: dict = {}
    for ack in RedFlagAcknowledgement.objects.filter(user_id=user_id):
        acknowledged[ack.flag] = max(ack.reported_until, acknowledged.get(ack.flag, ack.reported_until))
    _episode_counts(d, episodes, checkins, zone, today, acknowledged)
    due = profile.get("due_date")
    if due:
        for name, low, high in TRIMESTERS:
            total = nights_in = 0
            for day in nights:
                weeks = 40 - (due - day).days / 7
                if low <= weeks < high:
                    total += cramps[day]
                    nights_in += 1
            d.trimesters[name] = {"cramps": total, "nights": nights_in}
    for change in medication_changes(courses):
        d.changes.append(_change(nights, cramps, change))
    for change in supplement_changes(courses):
        d.supplements.append(_change(nights, cramps, change)[0])
    return d


_CONTEXT = (
    "exercise_minutes",
    "harder_than_usual",
    "fluids_cups",
    "heavy_sweating",
    "vomiting_diarrhoea",
    "feet_cold",
    "hours_sitting",
    "hours_standing",
    "stress",
    "sleep_disturbance",
    "stretched_before_bed",
)


def _compare(pairs) -> stats.Comparison:
    """(cramps, 1/0/None) per night -> the comparison, summed in a loop."""
    s1 = q1 = n1 = s0 = q0 = n0 = 0
    for y, exposed in pairs:
        if exposed is None:
            continue
        if exposed:
            s1, q1, n1 = s1 + y, q1 + y * y, n1 + 1
        else:
            s0, q0, n0 = s0 + y, q0 + y * y, n0 + 1
    return stats.compare_many([s1], [q1], [n1], [s0], [q0], [n0])[0]


def _quantile(values, q):
    """numpy.quantile's default (linear) method, for 8+ known values that are not all equal."""
    known = sorted(v for v in values if v is not None)
    if len(known) < 8 or known[0] == known[-1]:
        return None
    index = (len(known) - 1) * q
    low = math.floor(index)
    high = min(low + 1, len(known) - 1)
    t = index - low
    a, b = known[low], known[high]
    return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t


def _any_of(*values):
    known = [v for v in values if v is not None]
    if not known:
        return None
    return 1.0 if any(known) else 0.0


def _exposures(nights, cramps, column, d) -> dict:
    minutes = column["exercise_minutes"]
    positive = [m for m in minutes if m is not None and m > 0]
    median = statistics.median(positive) if positive else math.inf
    low_cut = _quantile(minutes, 1 / 3)
    fluid_cut = _quantile(column["fluids_cups"], 0.25)
    sit_cut = _quantile(column["hours_sitting"], 0.75)
    stand_cut = _quantile(column["hours_standing"], 0.75)
    trial = d.profile.get("stretch_trial_started_on")
    rows = {key: [] for key in ("R02", "R02s", "R03", "R04", "R04s", "R10", "R16", "R17")}
    for i, day in enumerate(nights):
        y = cramps[day]
        m = minutes[i]
        harder, cold = column["harder_than_usual"][i], column["feet_cold"][i]
        sweat, vomit = column["heavy_sweating"][i], column["vomiting_diarrhoea"][i]
        fluids, sit, stand = column["fluids_cups"][i], column["hours_sitting"][i], column["hours_standing"][i]
        stress, stretched = column["stress"][i], column["stretched_before_bed"][i]
        rows["R02"].append(
            (
                y,
                _any_of(
                    None if m is None else m >= 60,
                    None if m is None else m >= 1.5 * median,
                    None if harder is None else harder == 1,
                ),
            )
        )
        rows["R02s"].append((y, None if m is None or low_cut is None else float(m <= low_cut)))
        rows["R03"].append((y, cold))
        rows["R04"].append((y, None if fluids is None or fluid_cut is None else float(fluids <= fluid_cut)))
        rows["R04s"].append((y, _any_of(None if sweat is None else sweat == 1, None if vomit is None else vomit == 1)))
        rows["R10"].append(
            (
                y,
                _any_of(
                    None if sit is None or sit_cut is None else sit >= sit_cut,
                    None if stand is None or stand_cut is None else stand >= stand_cut,
                ),
            )
        )
        rows["R16"].append((y, None if stress is None else float(stress >= 7)))
        if trial:
            rows["R17"].append((y, stretched if day >= trial else None))
    keys = ["R02", "R02s", "R03", "R04s", "R10", "R16"]
    if not fluid_rule_blocked(d):
        keys.append("R04")
    if trial:
        keys.append("R17")
    return {key: _compare(rows[key]) for key in keys}


def _burden(nights, cramps, column, today) -> Burden:
    last = today - timedelta(days=1)
    week_counts = [0, 0, 0, 0]
    for day in nights:
        ago = (last - day).days
        if 0 <= ago < 28 and cramps[day] > 0:
            week_counts[ago // 7] += 1
    if min(week_counts) < 4:
        return Burden(False, 0, math.nan, 0)
    disturbance, stretched = [], 0
    for i, day in enumerate(nights):
        if 0 <= (last - day).days < 28:
            if column["sleep_disturbance"][i] is not None:
                disturbance.append(column["sleep_disturbance"][i])
            stretched += column["stretched_before_bed"][i] == 1
    median = float(statistics.median(disturbance)) if disturbance else math.nan
    return Burden(True, len(disturbance), median, stretched)


def _episode_counts(d: DiaryStats, episodes, checkins, zone, today, acknowledged) -> None:
    reports: dict = {}  # flag -> [(start, local date)] since its last acknowledgement
    thirds = [0, 0, 0]
    recent_since = today - timedelta(days=RECENT_DAYS)
    for e in episodes:
        local = e.started_at.astimezone(zone)
        started_on = local.date()
        for name in FLAGS:
            if name == WALKING_PAIN:
                ticked = bool(e.walking_pain_relief)
            elif name == LONG_CRAMPS:
                ticked = e.duration_minutes is not None and e.duration_minutes > 10
            else:
                ticked = getattr(e, name)
            if ticked and (name not in acknowledged or e.started_at > acknowledged[name]):
                reports.setdefault(name, []).append((e.started_at, started_on))
        if e.walking_pain_relief and (WALKING_PAIN not in acknowledged or e.started_at > acknowledged[WALKING_PAIN]):
            d.walking_pain += 1
            d.walking_pain_sitting += e.walking_pain_relief == "sitting_or_bending"
            d.walking_pain_30 += started_on > recent_since
        if e.context:
            d.context_n += 1
            d.at_rest += e.context in ("woke_from_sleep", "lying_awake")
            d.walking += e.context == "walking"
        d.rls_like += e.hard_knot is False and e.urge_to_move
        checkin = checkins.get(e.night)
        bed = _hours(checkin.bedtime) if checkin is not None and checkin.bedtime is not None else DEFAULT_BED
        wake = _hours(checkin.wake_time) if checkin is not None and checkin.wake_time is not None else DEFAULT_WAKE
        in_bed = (wake - bed) % 24
        since = (local.hour + local.minute / 60 - bed) % 24
        if not e.time_approximate and since < in_bed and in_bed > 0:
            third = math.floor(3 * since / in_bed)
            if third < 3:
                thirds[third] += 1
        d.left += e.side == "left"
        d.one_sided += e.side in ("left", "right")
        d.both += e.side == "both"
        nerve = e.back_pain_radiating or e.numbness_tingling
        d.nerve_left = d.nerve_left or (nerve and e.side == "left")
        d.nerve_right = d.nerve_right or (nerve and e.side == "right")
        d.thigh += e.muscle in ("hamstring", "quadriceps")
    for name, rows in reports.items():
        days = sorted(day for _, day in rows)
        need = FLAG_COUNTS.get(name, 1)
        if any((days[i + need - 1] - days[i]).days < RECENT_DAYS for i in range(len(days) - need + 1)):
            d.red_flags[name] = Reported(days[0], days[-1], len(rows), microseconds(max(t for t, _ in rows)))
    d.thirds = tuple(thirds)


def _hours(value) -> float:
    return value.hour + value.minute / 60


def _change(nights, cramps, change):
    pairs, new_cramp_nights = [], 0
    for day in nights:
        if change.post[0] <= day <= change.post[1]:
            pairs.append((cramps[day], 1.0))
        elif change.pre[0] <= day <= change.pre[1]:
            pairs.append((cramps[day], 0.0))
        if change.early[0] <= day <= change.early[1] and cramps[day] > 0:
            new_cramp_nights += 1
    return _compare(pairs), new_cramp_nights
