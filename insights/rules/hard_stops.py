"""Hard-stop rules: red flags fire on the first report (R12, R13); walking pain (R05); atypical
cramps (R14); the quinine guardrail."""

from diary.choices import DrugClass

from ..diary_stats import DiaryStats
from ..findings import (
    ESCALATION,
    INFO,
    Finding,
    active_course,
    escalate,
)


def red_flags(panel: DiaryStats) -> list[Finding]:
    """R12 and R13 fire on the first report within the last 28 days (DiaryStats.red_flags)."""

    def reported(name):
        return name in panel.red_flags

    out: list[Finding] = []
    if reported("breathless_chest_pain"):
        out.append(
            escalate(
                "R13",
                "rf_dvt",
                "R13:breathless",
                "E0",
                "You reported breathlessness or chest pain with your leg symptoms. Together these can be a sign of "
                "a blood clot that has moved to the lungs.",
            )
        )
    if reported("calf_swelling"):
        out.append(
            escalate(
                "R13",
                "rf_dvt",
                "R13:swelling",
                "E1",
                "You reported a swollen, red or warm calf. That can be a sign of a blood clot (DVT), which a "
                "clinician should check.",
                "Don't massage that calf in the meantime.",
            )
        )
    if reported("saddle_numbness"):
        out.append(
            escalate(
                "R12",
                "rf_cauda_equina",
                "R12:saddle",
                "E0",
                "You reported numbness between your legs or a new bladder or bowel problem. With back or leg "
                "symptoms this needs urgent checking.",
            )
        )
    statin_or_niacin = active_course(panel, {DrugClass.STATIN, DrugClass.NICOTINIC_ACID}, panel.today)
    for name, words in (("weakness", "new muscle weakness"), ("dark_urine", "dark or cola-coloured urine")):
        if not reported(name):
            continue
        if statin_or_niacin is not None:
            out.append(
                escalate(
                    "R06",
                    "rf_statin_severe_myopathy",
                    f"R06:{name}",
                    "E1",
                    f"You reported {words} while taking {statin_or_niacin.name}. With this kind of medicine that "
                    "needs checking promptly.",
                    "Tell the clinician which medicines you take; don't stop a prescribed medicine on your own.",
                )
            )
        else:
            trigger = "rf_neuro_disorder" if name == "weakness" else "rf_statin_severe_myopathy"
            out.append(
                escalate(
                    "R12",
                    trigger,
                    f"R12:{name}",
                    "E1",
                    f"You reported {words} with your cramps. A clinician should look into that.",
                )
            )
    if reported("foot_pale_cold"):
        out.append(
            escalate(
                "R05",
                "rf_pad_claudication",
                "R05:rest_pain",
                "E1",
                "You reported a foot that was pale, blue or cold and painful at rest. That can be a sign of poor "
                "blood flow, which a clinician should check.",
            )
        )
    if reported("numbness_tingling"):
        trigger = "rf_diabetic_neuropathy" if panel.profile.get("has_diabetes") else "rf_neuro_disorder"
        out.append(
            escalate(
                "R12",
                trigger,
                "R12:numbness",
                "E2",
                "You reported numbness or tingling in your leg or foot. This can come from a nerve problem that a "
                "clinician can check.",
            )
        )
    if reported("tingling_mouth_fingers"):
        out.append(
            escalate(
                "R12",
                "rf_hypocalcemia",
                "R12:perioral",
                "E2",
                "You reported tingling around your mouth or in your fingers. A simple blood test can check the "
                "salts (such as calcium) that can cause it.",
            )
        )
    if reported("pain_between_cramps"):
        out.append(
            escalate(
                "R13",
                "pat_duration",
                "R13:persistent_pain",
                "E2",
                "You reported pain that stays between cramps. Ordinary cramps ease completely, so this is worth "
                "having checked.",
            )
        )
    return out


def r05_claudication(d: DiaryStats) -> list[Finding]:
    """Pain that comes with walking and eases with rest, twice in 30 days (R05)."""
    count, sitting = d.walking_pain_30, d.walking_pain_sitting_30
    if count == 0:
        return []
    trigger = "rf_lumbar_stenosis" if sitting > count - sitting else "rf_pad_claudication"
    if count >= 2:
        return [
            escalate(
                "R05",
                trigger,
                "R05:walking",
                "E2",
                f"Twice or more in 30 days ({count} times) you logged pain that came on while walking and eased "
                "with rest. Pain like that should be checked by a clinician: it can come from the blood flow or "
                "the nerves in the back, and both can be treated.",
            )
        ]
    return [
        Finding(
            "R05",
            trigger,
            "R05:walking",
            INFO,
            "Once in the last 30 days you logged pain that came on while walking and eased with rest. If it "
            "happens again, CrampTrack will suggest having it checked.",
            counts={"episodes": count},
        )
    ]


def r14_atypical(d: DiaryStats) -> list[Finding]:
    long_ones = d.long_30
    out = []
    if long_ones >= 3:
        out.append(
            escalate(
                "R14",
                "pat_duration",
                "R14:long",
                "E2",
                f"{long_ones} of your cramps in the last 30 days lasted over 10 minutes. Ordinary cramps usually "
                "last seconds to a few minutes, so a clinician should take a look.",
            )
        )
    if d.spread_30:
        out.append(
            escalate(
                "R14",
                "pat_muscle_site",
                "R14:spread",
                "E2",
                "You reported cramps spreading to your arms or body. That is unusual for leg cramps and worth "
                "having checked.",
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
