"""The analysis is honest over time: few false alarms however often a diary is looked at, missing is never zero."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from insights import stats
from insights.analysis import ESCALATION, HIGHER, INSUFFICIENT, LOWER, analyse
from insights.panel import Course, build_panel
from insights.rules import exposures
from insights.tests.synthetic import PROFILE, Plan, daily_looks, episode_row, simulate, synthetic_panel

EXPOSURE_KEYS = {rule.key for rule in exposures.ALL_RULES}


def _pattern_statuses(findings):
    return {f.key: f.status for f in findings}


def _ever(plan_for_seed, seeds, *, first=28):
    """Per seed: (ever shown a false exposure pattern, ever shown an E0-E2 escalation) over its daily looks."""
    out = []
    for seed in seeds:
        pattern = escalation = False
        for _, findings in daily_looks(plan_for_seed(seed), seed, first=first):
            pattern |= any(f.key in EXPOSURE_KEYS and f.status in (HIGHER, LOWER) for f in findings)
            escalation |= any(f.escalation in ("E0", "E1", "E2") for f in findings)
        out.append((pattern, escalation))
    return out


@pytest.mark.slow
def test_null_diaries_looked_at_every_day_rarely_ever_show_a_false_pattern_or_escalation():
    # No planted effect, a statin started with no effect, clustered counts, 90% completeness, looked at after every
    # logged night for 200 nights. A single-look gate showed a false pattern to about a third of such people and a
    # false E2 to a third; bench/honesty.py runs the full year on 1,000 diaries.
    def plan(seed):
        rate = float(np.random.default_rng(seed).uniform(0.3, 1.0))
        return Plan(nights=200, base_rate=rate, clustering_k=1.0, missing_share=0.1, statin_start=90)

    results = _ever(plan, range(40))
    assert sum(p for p, _ in results) <= 4, f"{sum(p for p, _ in results)} of 40 ever shown a false pattern"
    assert sum(e for _, e in results) <= 1, f"{sum(e for _, e in results)} of 40 ever shown a false escalation"


def test_a_planted_rate_ratio_of_2_5_is_found_within_the_year():
    detected = 0
    for seed in range(30):
        rate = float(np.random.default_rng(seed).uniform(0.3, 1.0))
        plan = Plan(nights=330, base_rate=rate, clustering_k=1.0, missing_share=0.1, effects={"exercise": 2.5})
        detected += _pattern_statuses(analyse(synthetic_panel(plan, seed)))["R02"] == HIGHER
    assert detected >= 26, f"detected in {detected} of 30 diaries"


def test_clustered_counts_do_not_inflate_false_positives_thanks_to_the_dispersion_correction():
    false = 0
    for seed in range(200):
        panel = synthetic_panel(Plan(nights=120, base_rate=1.0, clustering_k=1.0), seed)
        exposure = np.random.default_rng(10_000 + seed).random(panel.logged_nights) < 0.5
        c = stats.compare(panel.cramps, exposure.astype(float))
        false += stats.confidence_sequence(c, 0.05)[0] > 1
    assert false / 200 <= 0.03


def test_the_exact_interval_matches_the_conditional_binomial_interval_without_dispersion():
    from scipy.stats import binomtest

    low, high = stats.exact_interval(stats.Comparison(30, 40, 20, 50, 1.0), 0.05)
    p = binomtest(30, 50).proportion_ci(method="exact")
    assert low == pytest.approx(p.low / (1 - p.low) * 50 / 40)
    assert high == pytest.approx(p.high / (1 - p.high) * 50 / 40)


def test_the_confidence_sequence_is_wider_than_a_single_look_interval_and_narrows_with_data():
    small, large = stats.Comparison(30, 40, 20, 50, 1.0), stats.Comparison(300, 400, 200, 500, 1.0)
    single = stats.exact_interval(small, 0.05)
    low, high = stats.confidence_sequence(small, 0.05)
    assert low < single[0] and high > single[1]
    assert low < small.rate_ratio < high
    big_low, big_high = stats.confidence_sequence(large, 0.05)
    assert big_high - big_low < high - low


def test_the_error_budgets_are_shared_out_not_overspent():
    from insights.rules import descriptive, medications

    assert sum(rule.alpha for rule in exposures.ALL_RULES) <= stats.ALPHA_PATTERNS + 1e-12
    made = {value.key for value in vars(exposures).values() if isinstance(value, exposures.ExposureRule)}
    assert made == {rule.key for rule in exposures.ALL_RULES}, "a rule missing from ALL_RULES escapes the budget"
    assert medications.ALPHA_PER_CHANGE + descriptive.ALPHA_TREND <= stats.ALPHA_ESCALATION
    assert stats.obrien_fleming_spent(0.01, 1.0) == pytest.approx(0.01)
    assert sum(stats.block_alpha(0.01, look) for look in range(1, 10_000)) < 0.01


def test_too_few_nights_says_how_many_more_this_diary_needs_at_its_own_pace():
    panel = synthetic_panel(Plan(nights=30), seed=1)
    r03 = next(f for f in analyse(panel) if f.key == "R03")
    assert r03.status == INSUFFICIENT
    # About 40% of nights have cold feet: 28 of them takes about 70 nights, not the 56 of 28 + 28.
    share = r03.counts["nights_exposed"] / (r03.counts["nights_exposed"] + r03.counts["nights_other"])
    assert r03.nights_needed == pytest.approx(max(28 / share, 28 / (1 - share)) - 30, abs=2)
    assert r03.nights_needed > 56 - 30
    assert f"about {r03.nights_needed} more logged nights with cold feet recorded" in r03.message


def test_a_field_never_recorded_gets_no_number_only_what_to_record():
    panel = synthetic_panel(Plan(nights=60), seed=1)
    panel.context["stress"][:] = np.nan
    r16 = next(f for f in analyse(panel) if f.key == "R16")
    assert r16.status == INSUFFICIENT and r16.nights_needed is None
    assert "needs your check-in answer on stress" in r16.message


def test_missing_nights_are_not_counted_as_cramp_free():
    dense = synthetic_panel(Plan(nights=60, missing_share=0.0), seed=7)
    sparse = synthetic_panel(Plan(nights=60, missing_share=0.5), seed=7)
    assert dense.logged_nights == sparse.logged_nights == 60
    # The sparse diary spans about twice the calendar nights but logs only its 60.
    assert (sparse.nights[-1] - sparse.nights[0]).astype(int) > 100
    assert set(np.unique(sparse.cramps)) <= set(range(20))


def test_a_context_field_left_blank_is_not_read_as_no():
    panel = synthetic_panel(Plan(nights=80), seed=3)
    panel.context["feet_cold"][:40] = np.nan
    r03 = next(f for f in analyse(panel) if f.key == "R03")
    assert r03.counts["nights_exposed"] + r03.counts["nights_other"] == 40


def test_red_flags_fire_on_the_first_report_and_suppress_tips():
    plan = Plan(nights=120, base_rate=0.6, effects={"exercise": 3.0})
    panel = synthetic_panel(plan, seed=2)
    assert any(f.tip for f in analyse(panel) if f.status == HIGHER)
    night = plan.end - timedelta(days=3)
    swelling = episode_row(
        night, datetime.combine(night, datetime.min.time(), tzinfo=UTC) + timedelta(hours=26), calf_swelling=True
    )
    flagged = _with_episode(plan, 2, swelling)
    findings = analyse(flagged)
    assert findings[0].key == "R13:swelling" and findings[0].escalation == "E1"
    assert "Don't massage" in findings[0].message
    assert all(not f.tip for f in findings if f.status != ESCALATION)


def test_an_e0_flag_outranks_an_e1_flag():
    plan = Plan(nights=20)
    night = plan.end - timedelta(days=2)
    when = datetime.combine(night, datetime.min.time(), tzinfo=UTC) + timedelta(hours=27)
    panel = _with_episode(plan, 4, episode_row(night, when, calf_swelling=True, breathless_chest_pain=True))
    levels = [f.escalation for f in analyse(panel) if f.escalation]
    assert levels[:2] == ["E0", "E1"]


def test_walking_pain_twice_in_30_days_escalates_once_does_not():
    plan = Plan(nights=40)
    rows = []
    for back in (5, 12):
        night = plan.end - timedelta(days=back)
        when = datetime.combine(night, datetime.min.time(), tzinfo=UTC) + timedelta(hours=15)
        rows.append(episode_row(night, when, context="walking", walking_pain_relief="standing_still"))
    once = {f.key: f for f in analyse(_with_episode(plan, 5, rows[0]))}
    twice = {f.key: f for f in analyse(_with_episode(plan, 5, *rows))}
    assert once["R05:walking"].status == "info"
    assert twice["R05:walking"].escalation == "E2"
    assert twice["R05:walking"].trigger == "rf_pad_claudication"


def test_a_statin_start_followed_by_more_cramps_is_flagged_for_the_prescriber():
    plan = Plan(nights=110, base_rate=0.3)
    start = plan.end - timedelta(days=50)
    panel = synthetic_panel(plan, seed=11, courses=[Course("c1", "Atorvastatin", "statin", start, None)])
    after = panel.nights > np.datetime64(start)
    panel.cramps[after] = panel.cramps[after] * 3 + 1
    r06 = next(f for f in analyse(panel) if f.rule == "R06" and f.key.startswith("R06:c1"))
    assert r06.escalation == "E2"
    assert "don't stop it on your own" in r06.message
    assert "prescriber" in r06.message


def test_a_medicine_started_before_the_diary_is_only_noted():
    plan = Plan(nights=60)
    course = Course("c2", "Bendroflumethiazide", "thiazide_diuretic", plan.end - timedelta(days=200), None)
    r06 = next(f for f in analyse(synthetic_panel(plan, 1, courses=[course])) if f.rule == "R06")
    assert r06.status == "info" and "can't compare" in r06.message


def test_fluid_rule_is_not_run_on_a_diuretic_and_says_why_without_an_alarm():
    plan = Plan(nights=120)
    course = Course("c3", "Furosemide", "loop_diuretic", plan.end - timedelta(days=400), None)
    findings = analyse(synthetic_panel(plan, 1, courses=[course]))
    r04 = [f for f in findings if f.key == "R04"]
    assert len(r04) == 1 and r04[0].status == "info" and "diuretic" in r04[0].message
    assert not any(f.escalation == "E2" for f in findings)


def test_under_18_blocks_the_analysis():
    findings = analyse(synthetic_panel(Plan(), 1, profile={"birth_year": 2012}))
    assert [f.rule for f in findings] == ["R15"]


def test_pregnancy_mode_keeps_only_the_restricted_tips():
    plan = Plan(nights=120, effects={"exercise": 3.0})
    findings = analyse(synthetic_panel(plan, 2, profile={"pregnant": True, "due_date": plan.end + timedelta(days=60)}))
    r11 = next(f for f in findings if f.rule == "R11")
    assert "midwife" in r11.tip
    assert all(not f.tip for f in findings if f.rule not in ("R11", "R01"))


def test_firmer_words_rest_on_stronger_evidence_not_on_a_count_of_nights():
    strong = synthetic_panel(Plan(nights=330, base_rate=0.8, effects={"exercise": 3.0}), seed=2)
    r02 = next(f for f in analyse(strong) if f.key == "R02")
    assert r02.status == HIGHER and r02.firm and r02.message.startswith("A pattern that has held up")
    early = synthetic_panel(Plan(nights=120, base_rate=0.6, effects={"exercise": 2.5}), seed=1)
    first = next(f for f in analyse(early) if f.key == "R02")
    assert first.status == HIGHER and not first.firm and first.message.startswith("Possible pattern")
    # Having been seen before (20 nights ago) changes nothing by itself.
    again = next(f for f in analyse(early, {"R02": (HIGHER, early.logged_nights - 20)}) if f.key == "R02")
    assert not again.firm and again.first_detected_nights == early.logged_nights - 20


def test_an_interval_wholly_below_one_is_never_called_no_clear_difference():
    panel = synthetic_panel(Plan(nights=330, base_rate=0.8, effects={"exercise": 0.2}), seed=4)
    r02 = next(f for f in analyse(panel) if f.key == "R02")
    assert r02.interval[1] < 1
    assert r02.status == "no_clear_pattern" and r02.message.startswith("Fewer cramps on") and not r02.tip


def test_one_night_of_thirty_cramps_is_not_a_time_of_night_cluster():
    plan = Plan(nights=60, base_rate=0.2)
    night = plan.end - timedelta(days=5)
    start = datetime.combine(night + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    rows = [episode_row(night, start + timedelta(minutes=2 * i)) for i in range(30)]
    r08 = next(f for f in analyse(_with_episode(plan, 3, *rows)) if f.rule == "R08")
    assert r08.status != "info" and not r08.tip


def test_one_night_of_thirty_left_cramps_is_not_a_side_pattern():
    plan = Plan(nights=80, base_rate=0.3)
    night = plan.end - timedelta(days=5)
    start = datetime.combine(night + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=1)
    rows = [episode_row(night, start + timedelta(minutes=2 * i), side="left") for i in range(30)]
    r09 = next(f for f in analyse(_with_episode(plan, 3, *rows)) if f.key == "R09")
    assert r09.status in ("no_clear_pattern", "insufficient_data")


def test_the_trend_escalates_only_on_a_completed_block_with_enough_cramps():
    plan = Plan(nights=112, base_rate=0.3)
    panel = synthetic_panel(plan, seed=5)
    panel.cramps[-28:] = panel.cramps[-28:] * 3 + 2
    r07 = next(f for f in analyse(panel) if f.key == "R07")
    assert r07.escalation == "E2" and "becoming more frequent" in r07.message
    quiet = synthetic_panel(Plan(nights=60, base_rate=0.05), seed=5)
    r07 = next(f for f in analyse(quiet) if f.key == "R07")
    assert r07.status == INSUFFICIENT and "too few cramps" in r07.message


def test_cramps_after_a_cramp_free_fortnight_are_not_an_escalation_without_statistics():
    # The old rule: 0 cramps before and >= 3 cramp nights in the 28 after raised an E2.
    plan = Plan(nights=60, base_rate=0.0)
    start = plan.end - timedelta(days=30)
    panel = synthetic_panel(plan, seed=1, courses=[Course("c9", "Simvastatin", "statin", start, None)])
    after = np.flatnonzero(panel.nights > np.datetime64(start))[:3]
    panel.cramps[after] = 1
    r06 = next(f for f in analyse(panel) if f.rule == "R06")
    assert r06.escalation is None or r06.escalation == ""


def test_messages_never_claim_a_cause_or_suggest_forbidden_things():
    from insights.catalogue import FORBIDDEN_WORDS

    for seed in range(20):
        plan = Plan(nights=120, effects={"exercise": 2.5, "cold": 2.0, "stress": 2.0})
        for f in analyse(synthetic_panel(plan, seed)):
            text = f"{f.message} {f.tip}".lower()
            assert "causes your cramps" not in text
            assert not [word for word in FORBIDDEN_WORDS if word in f.tip.lower()]


def _with_episode(plan, seed, *rows):
    """A synthetic diary plus hand-made episodes (their nights lose any "no cramps" answer)."""
    checkins, episodes = simulate(plan, seed)
    episodes = sorted([*episodes, *rows], key=lambda row: row[1])
    counts: dict = {}
    for row in episodes:
        counts[row[0]] = counts.get(row[0], 0) + 1
    checkins = [row for row in checkins if row[0] not in {r[0] for r in rows}]
    return build_panel(1, ZoneInfo(plan.zone), plan.end, PROFILE, counts, checkins, episodes, [])


def test_the_light_p_values_agree_with_scipy_stats():
    # scipy.stats costs about 100 MB in every process that imports the analysis; these use scipy.special.
    from scipy.stats import binomtest, chisquare

    for k, n in [(8, 10), (9, 10), (10, 10), (5, 10), (30, 40), (3, 17), (12, 12)]:
        assert stats.binomial_half_p(k, n) == pytest.approx(binomtest(k, n, 0.5).pvalue, abs=1e-12)
    for observed in ([4.0, 22.5, 3.5], [5.0, 5.0, 5.0], [10.0, 2.0, 3.0]):
        assert stats.chi_square_p(np.array(observed)) == pytest.approx(chisquare(observed).pvalue, abs=1e-12)
