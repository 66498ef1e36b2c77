"""DiaryStats for a chunk of diaries at once: PostgreSQL aggregates, NumPy does the maths.

Python receives one row of sufficient statistics per diary (per exposure rule:
cramps, squared cramps and nights on each side), never the nights themselves;
stats.compare_many then computes every dispersion and interval of the chunk in
one pass. The definitions mirror insights.panel_stats (the per-diary NumPy
reference) line by line; insights/tests/test_chunk.py checks that the two
give identical findings.

Personal cut-offs are percentile_cont, which interpolates as numpy.quantile
does up to the last bit of the float; a cut-off lies between two adjacent
order statistics, so no diary value can fall on the other side of it.
"""

from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from . import stats
from .diary_stats import RECENT_DAYS, RED_FLAG_DAYS, RED_FLAGS, TREND_NIGHTS, Burden, DiaryStats
from .panel import Course, load_courses, load_profiles
from .panel_stats import DEFAULT_BED, DEFAULT_WAKE, TRIMESTERS
from .rules.medications import medication_changes, supplement_changes

# The logged nights of the chunk (panel.build_panel): an answered check-in or an episode makes a night logged;
# cramps are the episodes that night, else 0 for "no cramps", 1 for "I had cramps". Context is that day's.
_NIGHTS = """
ep AS (
    -- OFFSET 0: the grouping keeps a copy of each night's first row, narrow here, not the index's ~20 columns.
    SELECT user_id, night, count(*)::int AS n
    FROM (SELECT user_id, night FROM diary_episode WHERE user_id = ANY(%(ids)s) OFFSET 0) e GROUP BY user_id, night
), ci AS (
    SELECT user_id, date, no_cramps, exercise_minutes, harder_than_usual, fluids_cups, heavy_sweating,
           vomiting_diarrhoea, feet_cold, hours_sitting, hours_standing, stress{burden_ci}
    FROM diary_checkin WHERE user_id = ANY(%(ids)s)
), nt AS (
    SELECT coalesce(ci.user_id, ep.user_id) AS user_id, coalesce(ci.date, ep.night) AS night,
           coalesce(ep.n, CASE WHEN ci.no_cramps THEN 0 ELSE 1 END) AS y,
           ci.exercise_minutes::float8 AS m, ci.harder_than_usual AS harder, ci.fluids_cups::float8 AS fl,
           ci.heavy_sweating AS sweat, ci.vomiting_diarrhoea AS vomit, ci.feet_cold AS cold,
           ci.hours_sitting::float8 AS sit, ci.hours_standing::float8 AS stand, ci.stress::float8 AS stress{burden_nt}
    FROM ci FULL JOIN ep ON ep.user_id = ci.user_id AND ep.night = ci.date
    WHERE ep.n IS NOT NULL OR ci.no_cramps IS NOT NULL
)"""
NIGHTS_SQL = _NIGHTS.format(
    burden_ci=", sleep_disturbance, stretched_before_bed",
    burden_nt=",\n           ci.sleep_disturbance::float8 AS disturbance, ci.stretched_before_bed AS stretched",
)
# NIGHT_STATS_SQL materializes the nights (read twice): without the two columns only R07's burden and R17 use.
CONTEXT_NIGHTS_SQL = _NIGHTS.format(burden_ci="", burden_nt="")

# Personal cut-offs: a quantile needs 8 known values that are not all equal (rules.exposures._quantile).
CUTS_SQL = """
cuts AS (
    -- today comes along, so that the nights join one table, not two.
    SELECT u.today, c.* FROM u JOIN (
        SELECT user_id, count(*) AS logged,
               -- R07: the last TREND_NIGHTS logged nights start at the TREND_NIGHTS-th most recent one.
               (array_agg(night ORDER BY night DESC))[%(trend)s] AS recent_from,
               (array_agg(night ORDER BY night DESC))[2 * %(trend)s] AS before_from,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY m) FILTER (WHERE m > 0) AS m_median,
               CASE WHEN count(m) >= 8 AND max(m) > min(m) THEN percentile_cont(%(third)s) WITHIN GROUP (ORDER BY m) END
                   AS m_cut,
               CASE WHEN count(fl) >= 8 AND max(fl) > min(fl) THEN percentile_cont(0.25) WITHIN GROUP (ORDER BY fl) END
                   AS fl_cut,
               CASE WHEN count(sit) >= 8 AND max(sit) > min(sit)
                    THEN percentile_cont(0.75) WITHIN GROUP (ORDER BY sit) END AS sit_cut,
               CASE WHEN count(stand) >= 8 AND max(stand) > min(stand)
                    THEN percentile_cont(0.75) WITHIN GROUP (ORDER BY stand) END AS stand_cut
        FROM nt GROUP BY user_id
    ) c USING (user_id)
)"""

# Each exposure per night: 1, 0, or NULL where not recorded (rules.exposures.exposures). "a OR b" then
# "a or b known" is _any_of: 1 if any known condition holds, 0 if all known ones are false.
EXPOSURES = {
    "R02": "CASE WHEN nt.m >= 60 OR nt.m >= 1.5 * coalesce(c.m_median, 'Infinity') OR nt.harder THEN 1"
    " WHEN nt.m IS NOT NULL OR nt.harder IS NOT NULL THEN 0 END",
    "R02s": "(nt.m <= c.m_cut)::int",
    "R03": "nt.cold::int",
    "R04": "(nt.fl <= c.fl_cut)::int",
    "R04s": "CASE WHEN nt.sweat OR nt.vomit THEN 1 WHEN nt.sweat IS NOT NULL OR nt.vomit IS NOT NULL THEN 0 END",
    "R10": "CASE WHEN nt.sit >= c.sit_cut OR nt.stand >= c.stand_cut THEN 1"
    " WHEN (nt.sit >= c.sit_cut) IS NOT NULL OR (nt.stand >= c.stand_cut) IS NOT NULL THEN 0 END",
    "R16": "(nt.stress >= 7)::int",
    # R07: the last TREND_NIGHTS logged nights against the TREND_NIGHTS before, once there are twice as many.
    "trend": "CASE WHEN c.before_from IS NULL THEN NULL WHEN nt.night >= c.recent_from THEN 1"
    " WHEN nt.night >= c.before_from THEN 0 END",
}
COMPARISONS = list(EXPOSURES)


def _sums(column: str) -> str:
    """The sufficient statistics of one comparison (stats.sums): cramps, squares and nights on each side."""
    parts = []
    for side in (1, 0):
        where = f"FILTER (WHERE x.{column} = {side})"
        parts += [f"coalesce(sum(x.y) {where}, 0)", f"coalesce(sum(x.y * x.y) {where}, 0)", f"count(*) {where}"]
    return ", ".join(parts)


def _trimesters() -> str:
    parts = []
    for _, low, high in TRIMESTERS:
        where = f"FILTER (WHERE x.weeks >= {low} AND x.weeks < {high})"
        parts += [f"coalesce(sum(x.y) {where}, 0)", f"count(*) {where}"]
    return ", ".join(parts)


# R17 and R11 concern few diaries: separate aggregates over just those diaries' nights.
TRIAL_SQL = f"""
WITH u AS (SELECT * FROM unnest(%(ids)s::int[], %(trial)s::date[]) AS u(user_id, trial)), {NIGHTS_SQL}
SELECT x.user_id, {_sums("x")}
FROM (
    SELECT nt.user_id, nt.y, CASE WHEN nt.night >= u.trial THEN nt.stretched::int END AS x
    FROM nt JOIN u USING (user_id)
) x
GROUP BY x.user_id
"""  # noqa: S608 (built from this module's constants only)

TRIMESTERS_SQL = f"""
WITH u AS (SELECT * FROM unnest(%(ids)s::int[], %(due)s::date[]) AS u(user_id, due)), {NIGHTS_SQL}
SELECT x.user_id, {_trimesters()}
FROM (SELECT nt.user_id, nt.y, 40 - (u.due - nt.night)::float8 / 7 AS weeks FROM nt JOIN u USING (user_id)) x
GROUP BY x.user_id
"""  # noqa: S608 (built from this module's constants only)


# Two steps: nights are first counted per (diary, cramps that night, week of the last four): one count of
# exposed and of recorded nights per exposure, no FILTER. The few groups per diary then give each comparison's
# sums (sum y = sum over groups of y * nights, and so on), so the per-night work is 2 aggregates per exposure, not 6.
def _group_counts() -> str:
    return ", ".join(f"sum(x.{k})::int AS {k}_1, count(x.{k})::int AS {k}_n" for k in COMPARISONS)


def _comparison_sums() -> str:
    parts = []
    for k in COMPARISONS:
        exposed, other = f"g.{k}_1", f"(g.{k}_n - g.{k}_1)"
        for nights in (exposed, other):
            parts += [f"sum(g.y * {nights})", f"sum(g.y * g.y * {nights})", f"sum({nights})"]
    return ", ".join(f"coalesce({part}, 0)" for part in parts)


def _weeks() -> str:
    # R07 burden: each of the 4 weeks before today has >= 4 nights with cramps.
    return " AND ".join(f"coalesce(sum(g.n) FILTER (WHERE g.y > 0 AND g.week = {w}), 0) >= 4" for w in range(4))


NIGHT_STATS_SQL = f"""
WITH u AS (
    SELECT * FROM unnest(%(ids)s::int[], %(today)s::date[]) AS u(user_id, today)
), {CONTEXT_NIGHTS_SQL}, {CUTS_SQL}
SELECT g.user_id, sum(g.n), {_comparison_sums()}, {_weeks()}
FROM (
    SELECT x.user_id, x.y, x.week, count(*)::int AS n, {_group_counts()}
    FROM (
        SELECT nt.user_id, nt.y,
               CASE WHEN nt.night BETWEEN c.today - 28 AND c.today - 1 THEN (c.today - 1 - nt.night) / 7 END AS week,
               {", ".join(f"{sql} AS {name}" for name, sql in EXPOSURES.items())}
        FROM nt JOIN cuts c USING (user_id)
        OFFSET 0  -- not flattened: each exposure is computed once per night, not once per aggregate
    ) x
    GROUP BY x.user_id, x.y, x.week
) g
GROUP BY g.user_id
"""  # noqa: S608 (built from this module's constants only)

# R07 burden, for the diaries with 4 cramp nights in each of the last 4 weeks: sleep disturbance and stretching.
BURDEN_SQL = f"""
WITH u AS (SELECT * FROM unnest(%(ids)s::int[], %(today)s::date[]) AS u(user_id, today)), {NIGHTS_SQL}
SELECT nt.user_id, array_agg(nt.disturbance) FILTER (WHERE nt.disturbance IS NOT NULL),
       count(*) FILTER (WHERE nt.stretched)
FROM nt JOIN u USING (user_id)
WHERE nt.night BETWEEN u.today - 28 AND u.today - 1
GROUP BY nt.user_id
"""  # noqa: S608 (built from this module's constants only)

# Hours since local midnight, as Python's t.hour + t.minute / 60, and NumPy's float % 24 for x in (-24, 24).
HOURS = "(date_part('hour', {0}) + date_part('minute', {0}) / 60)"
MOD24 = "(CASE WHEN {0} < 0 THEN {0} + 24 ELSE {0} END)"


# MOD24 names its argument three times: the differences are columns of the step before, so that each
# date_part runs once per episode.
IN_BED = MOD24.format("e.bed_to_wake")
SINCE_BED = MOD24.format("e.bed_to_cramp")
BEDTIME = HOURS.format("ci.bedtime")
WAKE_TIME = HOURS.format("ci.wake_time")


EPISODE_COLUMNS = ", ".join(
    dict.fromkeys(
        (
            "user_id",
            "started_at",
            "night",
            "time_approximate",
            "muscle",
            "side",
            "context",
            "duration_minutes",
            "hard_knot",
            "urge_to_move",
            "walking_pain_relief",
            "spread_beyond_legs",
            "back_pain_radiating",
            "numbness_tingling",
            *RED_FLAGS,
        )
    )
)


def _red_flag_columns() -> str:
    return ", ".join(f"e.{name}" for name in RED_FLAGS)


def _flags() -> str:
    return ", ".join(f"coalesce(bool_or(e.{name}) FILTER (WHERE e.in_28), false)" for name in RED_FLAGS)


EPISODE_STATS_SQL = f"""
WITH u AS (
    SELECT * FROM unnest(%(ids)s::int[], %(today)s::date[], %(zone)s::text[]) AS u(user_id, today, zone)
),
ep AS (SELECT {EPISODE_COLUMNS} FROM diary_episode WHERE user_id = ANY(%(ids)s)),
ci AS (SELECT user_id, date, bedtime, wake_time FROM diary_checkin WHERE user_id = ANY(%(ids)s))
SELECT e.user_id, {_flags()},
       count(*) FILTER (WHERE e.in_30 AND e.walking_pain_relief <> ''),
       count(*) FILTER (WHERE e.in_30 AND e.walking_pain_relief = 'sitting_or_bending'),
       count(*) FILTER (WHERE e.in_30 AND e.duration_minutes > 10),
       coalesce(bool_or(e.spread_beyond_legs) FILTER (WHERE e.in_30), false),
       count(*) FILTER (WHERE e.context <> ''),
       count(*) FILTER (WHERE e.context IN ('woke_from_sleep', 'lying_awake')),
       count(*) FILTER (WHERE e.context = 'walking'),
       count(*) FILTER (WHERE e.hard_knot = false AND e.urge_to_move),
       count(*) FILTER (WHERE e.timed AND e.third = 0),
       count(*) FILTER (WHERE e.timed AND e.third = 1),
       count(*) FILTER (WHERE e.timed AND e.third = 2),
       count(*),
       count(*) FILTER (WHERE e.side = 'left'),
       count(*) FILTER (WHERE e.side IN ('left', 'right')),
       count(*) FILTER (WHERE e.side = 'both'),
       coalesce(bool_or(e.nerve) FILTER (WHERE e.side = 'left'), false),
       coalesce(bool_or(e.nerve) FILTER (WHERE e.side = 'right'), false),
       count(*) FILTER (WHERE e.muscle IN ('hamstring', 'quadriceps'))
FROM (
    SELECT e.user_id, e.muscle, e.side, e.context, e.duration_minutes, e.hard_knot, e.urge_to_move,
           e.walking_pain_relief, e.spread_beyond_legs, {_red_flag_columns()}, e.in_28, e.in_30, e.nerve,
           NOT e.time_approximate AND {SINCE_BED} < {IN_BED} AND {IN_BED} > 0 AS timed,
           floor(3 * {SINCE_BED} / nullif({IN_BED}, 0)) AS third
    FROM (
        SELECT e.user_id, e.muscle, e.side, e.context, e.duration_minutes, e.hard_knot, e.urge_to_move,
               e.walking_pain_relief, e.spread_beyond_legs, e.time_approximate, {_red_flag_columns()},
               e.local::date > e.today - {RED_FLAG_DAYS} AS in_28, e.local::date > e.today - {RECENT_DAYS} AS in_30,
               e.back_pain_radiating OR e.numbness_tingling AS nerve,
               e.wake - e.bed AS bed_to_wake, {HOURS.format("e.local")} - e.bed AS bed_to_cramp
        FROM (
            SELECT e.*, u.today, e.started_at AT TIME ZONE u.zone AS local,
                   coalesce({BEDTIME}, {DEFAULT_BED}) AS bed,
                   coalesce({WAKE_TIME}, {DEFAULT_WAKE}) AS wake
            FROM ep e JOIN u ON u.user_id = e.user_id
            LEFT JOIN ci ON ci.user_id = e.user_id AND ci.date = e.night
            OFFSET 0
        ) e
        OFFSET 0
    ) e
    -- each step computed once per episode, not once per use; only the columns used above go on
    OFFSET 0
) e
GROUP BY e.user_id
"""  # noqa: S608 (built from this module's constants only)

# R06/R06b: nights before and after each course start or dose increase.
CHANGE_STATS_SQL = f"""
WITH {NIGHTS_SQL}
SELECT ch.i, {_sums("x")}, count(*) FILTER (WHERE nt.y > 0 AND nt.night BETWEEN ch.post_first AND ch.early_last)
FROM unnest(%(i)s::int[], %(user)s::int[], %(pre_first)s::date[], %(pre_last)s::date[], %(post_first)s::date[],
            %(post_last)s::date[], %(early_last)s::date[])
    AS ch(i, user_id, pre_first, pre_last, post_first, post_last, early_last)
JOIN nt ON nt.user_id = ch.user_id AND nt.night BETWEEN ch.pre_first AND ch.post_last
CROSS JOIN LATERAL (
    SELECT nt.y, CASE WHEN nt.night >= ch.post_first THEN 1 WHEN nt.night <= ch.pre_last THEN 0 END AS x
) x
GROUP BY ch.i
"""  # noqa: S608 (built from this module's constants only)


def chunk_stats(user_ids: list[int], now=None) -> list[DiaryStats]:
    """DiaryStats of every diary in the chunk (with a profile), in user_ids order: a fixed handful of queries."""
    now = now or timezone.now()
    profiles = load_profiles(user_ids)
    ids = [uid for uid in user_ids if uid in profiles]
    if not ids:
        return []
    courses = load_courses(ids)
    zones = [profiles[uid]["timezone"] for uid in ids]
    today = [now.astimezone(ZoneInfo(zone)).date() for zone in zones]
    params = {"ids": ids, "today": today, "zone": zones, "third": 1 / 3, "trend": TREND_NIGHTS}
    trials = {
        uid: profiles[uid]["stretch_trial_started_on"] for uid in ids if profiles[uid]["stretch_trial_started_on"]
    }
    dues = {uid: profiles[uid]["due_date"] for uid in ids if profiles[uid]["due_date"]}
    with transaction.atomic(), connection.cursor() as cursor:
        # Chunks already run in parallel (one per worker process): parallel plans only add start-up cost.
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        # A chunk's statements run for tens of milliseconds; when a plan's estimated cost crosses
        # jit_above_cost, compiling it takes longer than that (measured: about 1 s for a variant of
        # the nights statement), so JIT can only lose here.
        cursor.execute("SET LOCAL jit = off")
        # Every join here is set against set (a whole chunk). The planner underestimates the rows of a join
        # with the unnest()ed ids and, on a large database, probed the check-in index once per episode:
        # 3 times slower at 10,000 diaries than the hash join it picks when nested loops are off.
        cursor.execute("SET LOCAL enable_nestloop = off")
        cursor.execute(NIGHT_STATS_SQL, params)
        nights = {row[0]: row[1:] for row in cursor.fetchall()}
        busy = [i for i, uid in enumerate(ids) if uid in nights and nights[uid][-1]]  # 4 busy weeks (R07)
        burden = _by_user(cursor, BURDEN_SQL, {"ids": [ids[i] for i in busy], "today": [today[i] for i in busy]})
        busy_ids = {ids[i] for i in busy}
        # Episodes arrive in user order, yet the planner sorts all of them (every column) before grouping: a
        # hash aggregate (100 groups) does without the sort.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(EPISODE_STATS_SQL, params)
        episodes = {row[0]: row[1:] for row in cursor.fetchall()}
        cursor.execute("SET LOCAL enable_sort TO DEFAULT")  # back to the server's setting for the rest
        trial_sums = _by_user(cursor, TRIAL_SQL, {"ids": list(trials), "trial": list(trials.values())})
        trimester_sums = _by_user(cursor, TRIMESTERS_SQL, {"ids": list(dues), "due": list(dues.values())})
        changes, supplements = _changes(cursor, ids, courses)

    # Every comparison of the chunk in one array each: one dispersion and one interval computation.
    width = 6 * len(COMPARISONS)
    empty_nights = (0, *([0] * width))
    sums = [nights.get(uid, empty_nights)[1 : 1 + width] for uid in ids]
    flat = [v for row in sums for v in row]
    trial_ids = list(trials)
    flat += [v for uid in trial_ids for v in trial_sums.get(uid, (0,) * 6)]
    columns = [flat[k::6] for k in range(6)]
    compared = stats.compare_many(*columns)
    trial_compared = dict(zip(trial_ids, compared[len(ids) * len(COMPARISONS) :], strict=True))

    out = []
    per = len(COMPARISONS)
    for i, (uid, day) in enumerate(zip(ids, today, strict=True)):
        n_row = nights.get(uid)
        e_row = episodes.get(uid)
        comparisons = dict(zip(COMPARISONS, compared[i * per : (i + 1) * per], strict=True))
        trend = comparisons.pop("trend")
        logged = n_row[0] if n_row else 0
        disturbance, stretched = burden.get(uid, (None, 0))
        disturbance = np.array(disturbance or (), dtype=float)
        trimesters = {}
        if uid in dues:
            row = trimester_sums.get(uid, (0,) * 6)
            for k, (name, _, _) in enumerate(TRIMESTERS):
                trimesters[name] = {"cramps": int(row[2 * k]), "nights": int(row[2 * k + 1])}
        if e_row is None:
            e_row = NO_EPISODES
        flags, e = e_row[: len(RED_FLAGS)], e_row[len(RED_FLAGS) :]
        if uid in trial_compared:
            comparisons["R17"] = trial_compared[uid]
        out.append(
            DiaryStats(
                user_id=uid,
                today=day,
                profile=profiles[uid],
                courses=courses.get(uid, []),
                logged_nights=logged,
                red_flags=frozenset(name for name, hit in zip(RED_FLAGS, flags, strict=True) if hit),
                walking_pain_30=e[0],
                walking_pain_sitting_30=e[1],
                long_30=e[2],
                spread_30=e[3],
                context_n=e[4],
                at_rest=e[5],
                walking=e[6],
                rls_like=e[7],
                exposures=comparisons,
                trend=trend if logged >= 2 * TREND_NIGHTS else None,
                burden=Burden(
                    uid in busy_ids,
                    int(disturbance.size),
                    float(np.median(disturbance)) if disturbance.size else np.nan,
                    stretched,
                ),
                thirds=(e[8], e[9], e[10]),
                episodes=e[11],
                left=e[12],
                one_sided=e[13],
                both=e[14],
                nerve_left=e[15],
                nerve_right=e[16],
                thigh=e[17],
                trimesters=trimesters,
                changes=changes.get(uid, []),
                supplements=supplements.get(uid, []),
            )
        )
    return out


# EPISODE_STATS_SQL's row for a diary without episodes.
NO_EPISODES = (False,) * len(RED_FLAGS) + (0, 0, 0, False, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, False, False, 0)


def _by_user(cursor, sql: str, params: dict) -> dict[int, tuple]:
    if not params["ids"]:
        return {}
    cursor.execute(sql, params)
    return {row[0]: row[1:] for row in cursor.fetchall()}


def _changes(cursor, ids: list[int], courses: dict[int, list[Course]]):
    """R06 and R06b comparisons of the chunk, from one aggregate over their windows."""
    events = []  # (user_id, kind, change)
    for uid in ids:
        for change in medication_changes(courses.get(uid, [])):
            events.append((uid, "medication", change))
        for change in supplement_changes(courses.get(uid, [])):
            events.append((uid, "supplement", change))
    if not events:
        return {}, {}
    params = {
        "ids": sorted({uid for uid, _, _ in events}),
        "i": list(range(len(events))),
        "user": [uid for uid, _, _ in events],
        "pre_first": [c.pre[0] for _, _, c in events],
        "pre_last": [c.pre[1] for _, _, c in events],
        "post_first": [c.post[0] for _, _, c in events],
        "post_last": [c.post[1] for _, _, c in events],
        "early_last": [c.early[1] for _, _, c in events],
    }
    cursor.execute(CHANGE_STATS_SQL, params)
    rows = {row[0]: row[1:] for row in cursor.fetchall()}
    empty = (0,) * 7
    values = [rows.get(i, empty) for i in range(len(events))]
    compared = stats.compare_many(*([row[k] for row in values] for k in range(6)))
    medications: dict[int, list] = {}
    supplements: dict[int, list] = {}
    for (uid, kind, _), row, c in zip(events, values, compared, strict=True):
        if kind == "medication":
            medications.setdefault(uid, []).append((c, row[6]))
        else:
            supplements.setdefault(uid, []).append(c)
    return medications, supplements
