"""Hard-stop rules: red flags fire on the first report (R12, R13); walking pain (R05); atypical
cramps (R14); the quinine guardrail.

A red flag stays until the person says they have seen a clinician about it
(DiaryStats.red_flags holds those reported since their last acknowledgement).
Its message says when it was reported, and its counts name the flag and the
dates, so the insights page can offer the acknowledgement.
"""

from datetime import date

from diary.choices import DrugClass

from ..diary_stats import LONG_CRAMPS, SPREAD, WALKING_PAIN, DiaryStats, Reported
from ..findings import (
    ESCALATION,
    INFO,
    Finding,
    active_course,
    escalate,
)

# The level each red flag raises, whatever else the diary holds (a statin changes the words for weakness and
# dark urine, never the level). The checklist's E0 and E1 boxes need no statistics: the phone app shows
# them the moment they are ticked and saved (insights.red_flags.urgent_checklist).
FLAG_LEVELS = {
    "breathless_chest_pain": "E0",
    "saddle_numbness": "E0",
    "calf_swelling": "E1",
    "weakness": "E1",
    "dark_urine": "E1",
    "foot_pale_cold": "E1",
    "numbness_tingling": "E2",
    "tingling_mouth_fingers": "E2",
    "pain_between_cramps": "E2",
    SPREAD: "E2",
    WALKING_PAIN: "E2",
    LONG_CRAMPS: "E2",
}

# What to do meanwhile, beside the level's action.
MEANWHILE = {"calf_swelling": "Don't massage that calf in the meantime."}


def day(value: date) -> str:
    return f"{value.day} {value:%b %Y}"


def when(reported: Reported) -> str:
    """ "on 3 Dec 2026", or "on 3 Dec 2026 and again up to 9 Dec 2026"."""
    if reported.first == reported.last:
        return f"on {day(reported.first)}"
    return f"on {day(reported.first)} and again up to {day(reported.last)}"


def flag_finding(name: str, reported: Reported, rule, trigger, key, what, extra="") -> Finding:
    finding = escalate(rule, trigger, key, FLAG_LEVELS[name], what, extra)
    finding.counts = {
        "flag": name,
        "first_reported": reported.first.isoformat(),
        "last_reported": reported.last.isoformat(),
        "reports": reported.times,
    }
    return finding


def red_flags(d: DiaryStats) -> list[Finding]:
    """R12 and R13 fire on the first report and stay until acknowledged (DiaryStats.red_flags)."""
    flags = d.red_flags
    out: list[Finding] = []

    def flag(name, *args):
        out.append(flag_finding(name, flags[name], *args))

    if "breathless_chest_pain" in flags:
        flag(
            "breathless_chest_pain",
            "R13",
            "rf_dvt",
            "R13:breathless",
            f"You reported breathlessness or chest pain with your leg symptoms {when(flags['breathless_chest_pain'])}."
            " Together these can be a sign of a blood clot that has moved to the lungs.",
        )
    if "calf_swelling" in flags:
        flag(
            "calf_swelling",
            "R13",
            "rf_dvt",
            "R13:swelling",
            f"You reported a swollen, red or warm calf {when(flags['calf_swelling'])}. That can be a sign of a "
            "blood clot (DVT), which a clinician should check.",
            MEANWHILE["calf_swelling"],
        )
    if "saddle_numbness" in flags:
        flag(
            "saddle_numbness",
            "R12",
            "rf_cauda_equina",
            "R12:saddle",
            f"You reported numbness between your legs or a new bladder or bowel problem "
            f"{when(flags['saddle_numbness'])}. With back or leg symptoms this needs urgent checking.",
        )
    statin_or_niacin = active_course(d, {DrugClass.STATIN, DrugClass.NICOTINIC_ACID}, d.today)
    for name, words in (("weakness", "new muscle weakness"), ("dark_urine", "dark or cola-coloured urine")):
        if name not in flags:
            continue
        if statin_or_niacin is not None:
            flag(
                name,
                "R06",
                "rf_statin_severe_myopathy",
                f"R06:{name}",
                f"You reported {words} {when(flags[name])} while taking {statin_or_niacin.name}. With this kind "
                "of medicine that needs checking promptly.",
                "Tell the clinician which medicines you take; don't stop a prescribed medicine on your own.",
            )
        else:
            trigger = "rf_neuro_disorder" if name == "weakness" else "rf_statin_severe_myopathy"
            flag(
                name,
                "R12",
                trigger,
                f"R12:{name}",
                f"You reported {words} with your cramps {when(flags[name])}. A clinician should look into that.",
            )
    if "foot_pale_cold" in flags:
        flag(
            "foot_pale_cold",
            "R05",
            "rf_pad_claudication",
            "R05:rest_pain",
            f"You reported a foot that was pale, blue or cold and painful at rest {when(flags['foot_pale_cold'])}. "
            "That can be a sign of poor blood flow, which a clinician should check.",
        )
    if "numbness_tingling" in flags:
        trigger = "rf_diabetic_neuropathy" if d.profile.get("has_diabetes") else "rf_neuro_disorder"
        flag(
            "numbness_tingling",
            "R12",
            trigger,
            "R12:numbness",
            f"You reported numbness or tingling in your leg or foot {when(flags['numbness_tingling'])}. This can "
            "come from a nerve problem that a clinician can check.",
        )
    if "tingling_mouth_fingers" in flags:
        flag(
            "tingling_mouth_fingers",
            "R12",
            "rf_hypocalcemia",
            "R12:perioral",
            f"You reported tingling around your mouth or in your fingers {when(flags['tingling_mouth_fingers'])}. "
            "A simple blood test can check the salts (such as calcium) that can cause it.",
        )
    if "pain_between_cramps" in flags:
        flag(
            "pain_between_cramps",
            "R13",
            "pat_duration",
            "R13:persistent_pain",
            f"You reported pain that stays between cramps {when(flags['pain_between_cramps'])}. Ordinary cramps "
            "ease completely, so this is worth having checked.",
        )
    return out


def r05_claudication(d: DiaryStats) -> list[Finding]:
    """Pain that comes with walking and eases with rest, twice within 30 days (R05), until acknowledged."""
    sitting = d.walking_pain_sitting
    trigger = "rf_lumbar_stenosis" if sitting > d.walking_pain - sitting else "rf_pad_claudication"
    reported = d.red_flags.get(WALKING_PAIN)
    if reported is not None:
        return [
            flag_finding(
                WALKING_PAIN,
                reported,
                "R05",
                trigger,
                "R05:walking",
                f"Twice or more within 30 days you logged pain that came on while walking and eased with rest "
                f"({reported.times} times, first on {day(reported.first)}, last on {day(reported.last)}). Pain "
                "like that should be checked by a clinician: it can come from the blood flow or the nerves in the "
                "back, and both can be treated.",
            )
        ]
    if d.walking_pain_30 == 0:
        return []
    return [
        Finding(
            "R05",
            trigger,
            "R05:walking",
            INFO,
            "Once in the last 30 days you logged pain that came on while walking and eased with rest. If it "
            "happens again, CrampTrack will suggest having it checked.",
            counts={"episodes": d.walking_pain_30},
        )
    ]


def r14_atypical(d: DiaryStats) -> list[Finding]:
    """Three cramps over 10 minutes within 30 days, or cramps spreading beyond the legs (R14), until acknowledged."""
    out = []
    if (long := d.red_flags.get(LONG_CRAMPS)) is not None:
        out.append(
            flag_finding(
                LONG_CRAMPS,
                long,
                "R14",
                "pat_duration",
                "R14:long",
                f"{long.times} of your cramps lasted over 10 minutes, three or more within 30 days (first on "
                f"{day(long.first)}, last on {day(long.last)}). Ordinary cramps usually last seconds to a few "
                "minutes, so a clinician should take a look.",
            )
        )
    if (spread := d.red_flags.get(SPREAD)) is not None:
        out.append(
            flag_finding(
                SPREAD,
                spread,
                "R14",
                "pat_muscle_site",
                "R14:spread",
                f"You reported cramps spreading to your arms or body {when(spread)}. That is unusual for leg cramps "
                "and worth having checked.",
            )
        )
    return out


def quinine_guardrail(panel: DiaryStats) -> list[Finding]:
    course = active_course(panel, {DrugClass.QUININE}, panel.today)
    if course is None:
        return []
    return [
        Finding(
            "R06b",
            "rx_quinine",
            f"guardrail:{course.uuid}",
            ESCALATION,
            "You logged quinine or tonic water. Quinine is no longer advised for ordinary cramps because of rare "
            "but serious side effects, such as bleeding problems. Please discuss it with your doctor. Get "
            "medical help today if you notice easy bruising, nosebleeds, blood in urine or stool, or purple or "
            "red spots on the skin.",
            escalation="E2",
        )
    ]
