"""The trigger catalogue: every trigger, risk factor, medicine, mechanism, pattern, symptom,
red flag, remedy and guardrail CrampTrack knows about, in plain words, with the evidence
for each claim and the references behind it.

Pure Python, no Django. The analyser (insights.analysis) looks entries up by id
to word its messages, pick tips and end each message with a source line.

Where the claims come from. Many entries answer claims that popular health web
articles make (`web_articles` says which kinds of article); the grade and the
references come from clinical guidance and trials (`sources`, full references in
SOURCES). An entry with no sources rests on web articles alone, and says so.

How the grades were chosen. Where the evidence splits (guidance and trials
disagree, or a claim is partly right), each entry keeps one grade for the claim
the app acts on, picks the more cautious reading when in doubt, and says what
the split is in `evidence_note`. "not-supported": no reputable support was
found, but nothing directly refutes the claim either.

Tips. Three kinds of tip exist:
- GENERAL_TIPS: safe for anyone, at any time, as a rotating weekly tip;
- TIP_CONDITIONS: every other tip, with the only situation it may be sent in;
- CAUTION_TIPS (a subset of TIP_CONDITIONS): sentences that warn or correct a
  belief rather than recommend something. Only these may be attached to an
  entry graded "contradicted".
No tip may contain any of FORBIDDEN_WORDS. Guardrail warnings that must name
the thing they warn against (quinine) are not tips; they live in
GUARDRAIL_MESSAGES.
"""

import re
from dataclasses import dataclass

KINDS = (
    "trigger",
    "risk_factor",
    "medication",
    "mechanism",
    "pattern",
    "symptom",
    "red_flag",
    "remedy",
    "guardrail",
)
EVIDENCE_GRADES = ("strong", "some", "weak", "weak-traditional", "contradicted", "not-supported")
RULE_KINDS = ("statistical", "hard_stop", "descriptive", "count")

# The kinds of popular health web article whose claims the catalogue answers. They are not
# evidence: they record where a claim is made, so that its grade can answer it.
TCM_CLINIC = "a traditional Chinese medicine clinic's web article"
ACUPUNCTURE_CLINIC = "an acupuncture clinic's web article"
HEALTH_PORTAL = "an article on a Chinese health portal"
CHIROPRACTIC_CLINIC = "a chiropractic and functional-medicine clinic's web article"
MIND_BODY_BLOG = "a mind-body (tension myositis) blog post"
WEB_ARTICLE_KINDS = (TCM_CLINIC, ACUPUNCTURE_CLINIC, HEALTH_PORTAL, CHIROPRACTIC_CLINIC, MIND_BODY_BLOG)


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    title: str
    meaning: str
    diary_signal: str
    rules: tuple[str, ...]
    evidence: str
    evidence_note: str
    sources: tuple[str, ...]  # codes of SOURCES: the guidance and trials behind the grade
    web_articles: tuple[str, ...]  # WEB_ARTICLE_KINDS that make the claim; not evidence
    tip: str
    escalation: str


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    trigger_ids: tuple[str, ...]
    kind: str
    description: str


# The full reference behind each short code in Entry.sources (the codes are what a message's
# "Based on:" line shows). A DOI or web address is given where one is known for certain.
SOURCES: dict[str, str] = {
    "AAFP 2012": "Allen RE, Kirby KA. Nocturnal leg cramps. Am Fam Physician. 2012;86(4):350-355. PMID 22963024.",
    "AAFP FPIN 2017": "FPIN's Help Desk Answers: Treatments for nocturnal leg cramps. Am Fam Physician. "
    "2017;96(7):online. http://www.aafp.org/afp/2017/1001/od3.html",
    "AAFP FPIN 2023": "FPIN Clinical Inquiries: Magnesium for nocturnal leg cramps. Am Fam Physician. "
    "2023;108(6):619-620. https://www.aafp.org/pubs/afp/issues/2023/1200/fpin-ci-magnesium-nocturnal-leg-cramps.html",
    "NICE CKS": "NICE Clinical Knowledge Summaries: Leg cramps (last revised September 2012).",
    "BMJ CE": "Young G. Leg cramps. BMJ Clin Evid. 2015;2015:1113.",
    "Cochrane 2020": "Garrison SR, Korownyk CS, Kolber MR, et al. Magnesium for skeletal muscle cramps. Cochrane "
    "Database Syst Rev. 2020;9:CD009402. doi:10.1002/14651858.CD009402.pub3",
    "Roguin Maor 2017": "Roguin Maor N, Alperin M, Shturman E, et al. Effect of magnesium oxide supplementation on "
    "nocturnal leg cramps: a randomized clinical trial. JAMA Intern Med. 2017;177(5):617-623. "
    "doi:10.1001/jamainternmed.2016.9261",
    "Luo 2020": "Luo L, et al. Interventions for leg cramps in pregnancy. Cochrane Database Syst Rev. 2020;CD010655. "
    "doi:10.1002/14651858.CD010655.pub3",
    "FDA": "US Food and Drug Administration. FDA Drug Safety Communication: New risk management plan and patient "
    "Medication Guide for Qualaquin (quinine sulfate). 8 July 2010.",
    "MHRA 2010": "Medicines and Healthcare products Regulatory Agency. Quinine: not to be used routinely for nocturnal "
    "leg cramps. Drug Safety Update, June 2010.",
    "Hallegraeff 2012": "Hallegraeff JM, van der Schans CP, de Ruiter R, de Greef MH. Stretching before sleep reduces "
    "the frequency and severity of nocturnal leg cramps in older adults: a randomised trial. J Physiother. "
    "2012;58(1):17-22. doi:10.1016/S1836-9553(12)70068-1",
    "Coppin 2005": "Coppin RJ, Wicke DM, Little PS. Managing nocturnal leg cramps: calf-stretching exercises and "
    "cessation of quinine treatment: a factorial randomised controlled trial. Br J Gen Pract. 2005;55(512):186-191. "
    "PMID 15808033.",
    "Hallegraeff 2017": "Hallegraeff J, de Greef M, Krijnen W, van der Schans C. Criteria in diagnosing nocturnal leg "
    "cramps: a systematic review. BMC Fam Pract. 2017;18:29. doi:10.1186/s12875-017-0600-x",
    "Garrison 2012": "Garrison SR, Dormuth CR, Morrow RL, Carney GA, Khan KM. Nocturnal leg cramps and prescription "
    "use that precedes them: a sequence symmetry analysis. Arch Intern Med. 2012;172:120. "
    "doi:10.1001/archinternmed.2011.1029",
    "Garrison 2015": "Garrison SR, et al. Seasonal effects on the occurrence of nocturnal leg cramps: a prospective "
    "cohort study. CMAJ. 2015;187(4):248-253. doi:10.1503/cmaj.140497",
    "Schwellnus 2009": "Schwellnus MP. Cause of exercise associated muscle cramps (EAMC): altered neuromuscular "
    "control, dehydration or electrolyte depletion? Br J Sports Med. 2009. doi:10.1136/bjsm.2008.050401",
    "Miller 2015": "Miller KC. Rethinking the cause of exercise-associated muscle cramping: moving beyond dehydration "
    "and electrolyte losses. Curr Sports Med Rep. 2015;14(5). doi:10.1249/JSR.0000000000000183",
    "Miller 2022": "Miller KC, McDermott BP, Yeargin SW, Fiol A, Schwellnus MP. An evidence-based review of the "
    "pathophysiology, treatment, and prevention of exercise-associated muscle cramps. J Athl Train. 2022;57(1):5-15. "
    "doi:10.4085/1062-6050-0696.20",
    "Bergeron 2008": "Bergeron MF. Muscle cramps during exercise: is it fatigue or electrolyte deficit? Curr Sports "
    "Med Rep. 2008;7(4 Suppl):S50-S55. doi:10.1249/JSR.0b013e31817f476a",
    "Delacour 2020": "Delacour C, Chambe J, Lefebvre F, et al. Association between physical activity and nocturnal leg "
    "cramps in patients over 60 years old: a case-control study. Sci Rep. 2020;10:2638. "
    "doi:10.1038/s41598-020-59312-9",
    "Grandner 2017": "Grandner MA, Winkelman JW. Nocturnal leg cramps: prevalence and associations with demographics, "
    "sleep disturbance symptoms, medical conditions, and cardiometabolic risk factors. PLoS One. "
    "2017;12(6):e0178465. doi:10.1371/journal.pone.0178465",
    "Arshad 2023": "Arshad S, Kanwal A, Ijaz M, Maqbool S, Ilyas T. Nocturnal leg cramps in young adults (a "
    "cross-sectional study). Pak BioMed J. 2023;6(10):19-24. doi:10.54393/pbmj.v6i10.894",
    "EAS 2015": "Stroes ES, Thompson PD, Corsini A, et al. Statin-associated muscle symptoms: impact on statin "
    "therapy. European Atherosclerosis Society Consensus Panel Statement on Assessment, Aetiology and Management. "
    "Eur Heart J. 2015;36(17):1012-1022. doi:10.1093/eurheartj/ehv043",
    "NLA 2014": "Rosenson RS, Baker SK, Jacobson TA, Kopecky SL, Parker BA. An assessment by the Statin Muscle Safety "
    "Task Force: 2014 update. J Clin Lipidol. 2014;8(3 Suppl):S58-S71.",
    "Drugs.com niacin": "Drugs.com: Niacin side effects (consumer and professional drug information; lists muscle "
    "aching or cramping with high doses). https://www.drugs.com/sfx/niacin-side-effects.html",
    "Guyton 2007": "Guyton JR, Bays HE. Safety considerations with niacin therapy. Am J Cardiol. 2007;99(6A):22C-31C.",
    "MSD Manual": "Moley PJ. Lumbar spinal stenosis (with cauda equina syndrome). MSD Manual Professional Version, "
    "2019. https://www.msdmanuals.com/professional/musculoskeletal-and-connective-tissue-disorders/neck-and-back-pain/"
    "lumbar-spinal-stenosis",
    "NHS Devon": "NHS Devon. Devon Formulary and Referral: Intermittent claudication, referral guidance (2015, updated "
    "2024). https://southwest.devonformularyguidance.nhs.uk/referral-guidance/south-devon-torbay/vascular/"
    "intermittent-claudication",
    "Merck": "Merck Manual Consumer Version: Conditions that cause or contribute to muscle cramps (table). "
    "https://www.merckmanuals.com/home/multimedia/table/v6592963",
    "Harrison's": "Loscalzo J, Fauci AS, Kasper DL, et al., eds. Harrison's Principles of Internal Medicine. 21st ed. "
    "McGraw Hill; 2022: disorders of calcium metabolism (hypocalcaemia).",
    "NHS DVT": "NHS: Deep vein thrombosis (DVT), symptoms and when to get help. "
    "https://www.nhs.uk/conditions/deep-vein-thrombosis-dvt/",
    "TMS (Wikipedia)": "Wikipedia: Tension myositis syndrome (a diagnosis not accepted by mainstream medicine). "
    "https://en.wikipedia.org/wiki/Tension_myositis_syndrome",
    "Goodyear-Smith 2006": "Goodyear-Smith F, Arroll B. Growing pains. BMJ. 2006;333(7566):456-457.",
    "Evans 2008": "Evans AM. Growing pains: contemporary knowledge and recommended practice. J Foot Ankle Res. "
    "2008;1:4. doi:10.1186/1757-1146-1-4",
    "Lee 2018": "Lee CH, Kim BS, Kim KS, Kwak MA, Kim SM. Effects of electroacupuncture on the muscle cramps of liver "
    "cirrhosis patients: a randomized controlled study. J Int Korean Med. 2018;39(4). "
    "doi:10.22246/jikm.2018.39.4.511",
    "Mohamadi Jahromi 2024": "Mohamadi Jahromi LS, Vejdanpak M, Ghaderpanah R, et al. Efficacy of acupuncture on pain "
    "severity and frequency of calf cramps in dialysis patients: a randomized clinical trial. J Acupunct Meridian "
    "Stud. 2024;17(2). doi:10.51507/j.jams.2024.17.2.47",
    "Kwon 2017": "Kwon CY, Lee B, Cho JH. Conventional Western medicine and complementary and alternative medicine on "
    "leg cramps: a literature review. J Korean Med. 2017;38(3):13-29. doi:10.13048/jkm.17022",
    "Keating 2005": "Keating JC Jr, Charlton KH, Grod JP, Perle SM, Sikorski D, Winterstein JF. Subluxation: dogma or "
    "science? Chiropr Osteopat. 2005.",
    "Hu 2022": "Hu H, Wang C, Liang K, et al. Relationship between muscle cramps and diabetic retinopathy in patients "
    "with type 2 diabetes. Diabetes Metab Syndr Obes. 2022;15:827-837. doi:10.2147/DMSO.S352735",
    "Li 2023": "Li J, Gao M, Yan F, Dong M. Frequency and risk factors of muscle cramp in 136 cases of type 2 "
    "diabetes mellitus. J Shandong Univ (Health Sci). 2023;61(5):20-24. doi:10.6040/j.issn.1671-7554.0.2022.1164",
    "KidsHealth": "Nemours KidsHealth (for parents): How can I relieve my pregnancy leg cramps? Reviewed April 2015.",
    "Tipton 2017": "Tipton PW, Wszolek ZK. Restless legs syndrome and nocturnal leg cramps: a review and guide to "
    "diagnosis and treatment. Pol Arch Intern Med. 2017;127(12):865-872. doi:10.20452/pamw.4148",
}

ESCALATION_LEVELS: dict[str, tuple[str, str]] = {
    "E0": ("Emergency", "Call emergency services now."),
    "E1": ("Same day", "Get medical help today."),
    "E2": ("Soon", "Book a visit with a clinician within the next 1-2 weeks."),
    "E3": ("Routine", "Mention it at your next routine visit."),
}

_PRESCRIBER = "Talk to your prescriber about it; don't stop it yourself."

_ENTRIES = (
    # --- Triggers, causes and risk factors ----------------------------------------------
    Entry(
        id="rf_older_age",
        kind="risk_factor",
        title="Getting older",
        meaning="Night leg cramps become more common with age; about a third of people over 60 have them.",
        diary_signal="Date of birth (context only).",
        rules=(),
        evidence="strong",
        evidence_note="Guidance agrees that night cramps are common in older adults and usually harmless.",
        sources=("NICE CKS", "AAFP 2012"),
        web_articles=(TCM_CLINIC,),
        tip="Night cramps get more common as we get older, and they are usually harmless.",
        escalation="",
    ),
    Entry(
        id="rf_pregnancy",
        kind="risk_factor",
        title="Pregnancy",
        meaning="Leg cramps are common in pregnancy, especially in the later months and at night.",
        diary_signal="Pregnant (yes/no) and due date, from which the week and trimester are worked out.",
        rules=("R11",),
        evidence="strong",
        evidence_note="The link with pregnancy is well established, but the popular idea that low calcium or "
        "magnesium is behind it is unsupported and supplement trials are inconsistent.",
        sources=("AAFP 2012", "Luo 2020", "KidsHealth"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="Stretch your calves gently before bed, and use warmth or gentle rubbing during a cramp unless the "
        "calf is swollen. Ask your midwife before taking any supplement.",
        escalation="E0: call emergency services if a swollen or painful leg comes with breathlessness or chest "
        "pain. E1: get medical help today for one swollen, red or warm calf, or pain that doesn't go away.",
    ),
    Entry(
        id="tr_overuse_exertion",
        kind="trigger",
        title="Hard or unusual exercise",
        meaning="Working the leg muscles harder or for longer than usual, such as a long walk, a run or a "
        "tough training session.",
        diary_signal="Exercise minutes, type and effort (0-10) or steps in the 24 h before bed, and a 'harder "
        "than usual' flag; R02 also checks nights after inactive days.",
        rules=("R02",),
        evidence="some",
        evidence_note="Tired muscles are linked with cramps during or just after exercise, but for night cramps "
        "the link is untested and one study ties them more to an inactive lifestyle; the 'waste build-up' and "
        "'lack of oxygen' explanations are outdated.",
        sources=("Miller 2022", "Schwellnus 2009", "Delacour 2020"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, HEALTH_PORTAL, MIND_BODY_BLOG),
        tip="Build up exercise gradually, stretch your calves after a workout and at bedtime, and stay active on "
        "most days.",
        escalation="E1: get medical help today for severe muscle pain with dark urine after heavy exercise. "
        "E2: book a clinician visit if cramp-like pain keeps coming back at a similar walking distance and "
        "eases within minutes of stopping.",
    ),
    Entry(
        id="tr_dehydration",
        kind="trigger",
        title="Low fluid intake",
        meaning="Drinking less than usual, or losing fluid through heat, vomiting or diarrhoea, on the day "
        "before a night.",
        diary_signal="Cups of fluid the day before; heavy sweating or heat; vomiting or diarrhoea (R04).",
        rules=("R04",),
        evidence="weak",
        evidence_note="Guidance thinks night cramps come mainly from muscle fatigue and nerve changes rather "
        "than fluid or salt problems, and studies of exercise cramps don't back the dehydration theory.",
        sources=("AAFP 2012", "Schwellnus 2009", "Miller 2015", "Merck"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="Drink to thirst, with a little extra in heat or exercise. Forcing down large amounts doesn't "
        "prevent cramps and can be harmful.",
        escalation="E2: if you take a water tablet or have been told to limit fluids, ask your clinician about "
        "fluids and blood salts instead of changing how much you drink.",
    ),
    Entry(
        id="tr_sweat_electrolyte_loss",
        kind="trigger",
        title="Heavy sweating",
        meaning="Losing a lot of sweat, and the salt in it, on hot days or during long exercise.",
        diary_signal="Heat or heavy sweating (yes/no) and exercise in heat: the 'sweaty day' exposure in R04.",
        rules=("R04",),
        evidence="weak",
        evidence_note="Graded weak to some: a salt-loss type of exercise cramp has been proposed but is "
        "disputed, and it has not been shown for night cramps.",
        sources=("Bergeron 2008", "Miller 2015", "Merck"),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="On long, sweaty days, eat and salt your food as normal; a sports drink is optional.",
        escalation="",
    ),
    Entry(
        id="tr_dietary_mineral_low",
        kind="trigger",
        title="Diet low in minerals",
        meaning="The idea that too little potassium, calcium or magnesium in food brings on cramps.",
        diary_signal="Optional diet checklist and any supplements (name, dose, start date); no rule, because "
        "a diary can't measure a deficiency.",
        rules=(),
        evidence="contradicted",
        evidence_note="Trials and reviews find extra minerals don't prevent ordinary cramps; only a deficiency "
        "proven by a blood test is a real cause.",
        sources=("Cochrane 2020", "Roguin Maor 2017", "AAFP 2012", "Merck", "Harrison's"),
        web_articles=(TCM_CLINIC, CHIROPRACTIC_CLINIC),
        tip="A balanced diet is good for you, but extra minerals haven't been shown to prevent ordinary night cramps.",
        escalation="E2: if you take a water tablet and your cramps started or got worse, ask your clinician "
        "whether a blood test is needed.",
    ),
    Entry(
        id="tr_cold_exposure",
        kind="trigger",
        title="Cold feet or cold nights",
        meaning="Feet that are cold or uncovered in bed, or a cold bedroom or night.",
        diary_signal="Feet cold or uncovered at bedtime (yes/no); bedroom temperature; optional overnight "
        "outdoor low, with consent (R03).",
        rules=("R03",),
        evidence="contradicted",
        evidence_note="Across the population cramps peak in summer at about twice the winter level, so cold is "
        "not the main trigger web articles claim; whether it matters for one person is untested, so R03 checks "
        "both directions.",
        sources=("Garrison 2015",),
        web_articles=(TCM_CLINIC, HEALTH_PORTAL),
        # The warm-socks tip belongs to rx_keep_feet_warm and needs a personal R03 pattern.
        tip="",
        escalation="E1: get medical help today if a foot is cold, pale or blue and hurts at rest, especially "
        "if hanging the leg down eases it.",
    ),
    Entry(
        id="tr_dampness",
        kind="trigger",
        title="Damp (a traditional Chinese medicine idea)",
        meaning="A traditional Chinese medicine idea that 'dampness' from outside upsets the legs and brings on "
        "cramps.",
        diary_signal="",
        rules=(),
        evidence="weak-traditional",
        evidence_note="This is traditional theory with no trials behind it and no way to measure it in a diary.",
        sources=(),
        web_articles=(TCM_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="tr_prolonged_position",
        kind="trigger",
        title="Long sitting or standing",
        meaning="Spending many hours in one position, such as sitting at a desk, standing at work or on a long "
        "journey.",
        diary_signal="Hours sitting and standing; long journeys of more than 4 hours (R10).",
        rules=("R10",),
        evidence="some",
        evidence_note="A medical reference lists long sitting as a cause and one low-quality study links long "
        "standing, so support is modest.",
        sources=("Merck", "Arshad 2023"),
        web_articles=(TCM_CLINIC,),
        tip="Break up long spells of sitting or standing: every hour or so, walk for a minute or do some ankle "
        "circles and calf raises.",
        escalation="E1: get medical help today for one swollen, red or warm calf after a long journey or time laid up.",
    ),
    Entry(
        id="tr_muscle_injury",
        kind="trigger",
        title="Leg muscle injury",
        meaning="A strain, tear, sprain or sports injury in a leg muscle, which can leave it prone to cramping "
        "for a while.",
        diary_signal="Injury log (date, muscle, side); the app shows the share of cramps in the injured muscle "
        "in the 6 weeks after.",
        rules=(),
        evidence="some",
        evidence_note="Clinical references accept muscle and joint problems as causes of cramps, but this rests "
        "on expert consensus rather than trials.",
        sources=("Merck",),
        web_articles=(TCM_CLINIC, CHIROPRACTIC_CLINIC, MIND_BODY_BLOG),
        tip="After an injury, follow the rehab advice you were given and stretch the muscle gently.",
        escalation="E2: book a clinician visit for swelling, bruising, or if you can't put weight on the leg.",
    ),
    Entry(
        id="tr_stress",
        kind="trigger",
        title="Stressful days",
        meaning="Feeling under a lot of stress in the evening before a night.",
        diary_signal="Evening stress rating 0-10 and sleep quality; R16 compares nights after ratings of 7 or "
        "more with the rest.",
        rules=("R16",),
        evidence="weak",
        evidence_note="Surveys link night cramps with low mood and poor sleep, but it is unclear which comes first.",
        sources=("Grandner 2017",),
        web_articles=(ACUPUNCTURE_CLINIC, MIND_BODY_BLOG),
        tip="A calm wind-down routine before bed can't hurt and may help you sleep.",
        escalation="",
    ),
    Entry(
        id="med_diuretic",
        kind="medication",
        title="Water tablets (diuretics)",
        meaning="Diuretics, often prescribed for blood pressure or fluid build-up, are one of the medicine "
        "groups linked with leg cramps.",
        diary_signal="Medication list with class and start, stop and dose-change dates; R06 compares cramp "
        "nights before and after a start or dose increase.",
        rules=("R06",),
        evidence="some",
        evidence_note="A prescription-sequence study found cramp treatment became more likely after starting "
        "thiazide-type or potassium-sparing diuretics (less clearly for loop diuretics), though older reviews "
        "did not implicate them.",
        sources=("Garrison 2012", "AAFP 2012", "NICE CKS"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC),
        tip="Cramps can follow a new water tablet. " + _PRESCRIBER,
        escalation="E2: book a clinician visit if cramps started or got worse after starting or increasing a "
        "water tablet; don't stop it yourself.",
    ),
    Entry(
        id="med_statin",
        kind="medication",
        title="Statins (cholesterol medicines)",
        meaning="Statins lower cholesterol; muscle aches and cramps are known side effects, usually starting "
        "within weeks to months.",
        diary_signal="Medication list as for water tablets; R06 looks at days 1-56 after a start.",
        rules=("R06",),
        evidence="some",
        evidence_note="The link with cramps is small, and doctors judge statin muscle symptoms by their timing "
        "around starting, stopping and restarting the medicine.",
        sources=("Garrison 2012", "EAS 2015", "NLA 2014"),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="Cramps can follow a new cholesterol medicine. " + _PRESCRIBER,
        escalation="E1: get medical help today for muscle weakness, dark urine or fever. E2: otherwise book a "
        "clinician visit if cramps began or got worse after starting it; don't stop it yourself.",
    ),
    Entry(
        id="med_raloxifene",
        kind="medication",
        title="Raloxifene (a bone medicine)",
        meaning="Raloxifene, used to protect the bones after the menopause, is among the medicines most often "
        "linked with leg cramps.",
        diary_signal="Medication list with start and dose-change dates (R06).",
        rules=("R06",),
        evidence="some",
        evidence_note="Graded some to strong: guidance lists it among the drugs most strongly associated with "
        "cramps, though only a small share of users get them.",
        sources=("AAFP 2012",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="Cramps can follow a new bone medicine. " + _PRESCRIBER,
        escalation="E2: book a clinician visit if cramps began or got worse after starting it; don't stop it yourself.",
    ),
    Entry(
        id="med_nifedipine",
        kind="medication",
        title="Nifedipine (a blood pressure medicine)",
        meaning="Nifedipine is a blood pressure and angina medicine that now and then brings on cramps.",
        diary_signal="Medication list with start and dose-change dates (R06).",
        rules=("R06",),
        evidence="some",
        evidence_note="UK guidance lists it among medicines that can cause cramps, mainly on the strength of "
        "case reports.",
        sources=("NICE CKS",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="Cramps can follow a new blood pressure medicine. " + _PRESCRIBER,
        escalation="E2: book a clinician visit if cramps began or got worse after starting it; don't stop it yourself.",
    ),
    Entry(
        id="med_nicotinic_acid",
        kind="medication",
        title="Niacin (nicotinic acid)",
        meaning="Niacin is taken in high doses for cholesterol, on prescription or bought over the counter, and "
        "its label mentions muscle aches and cramps.",
        diary_signal="Medication list including over-the-counter niacin, with start and dose-change dates (R06).",
        rules=("R06",),
        evidence="weak",
        evidence_note="Drug information lists muscle aches or cramps at high doses, but muscle damage appears mainly "
        "in case reports and a 2007 review found no general muscle harm.",
        sources=("Drugs.com niacin", "Guyton 2007"),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="Cramps can follow starting niacin. Talk to your prescriber or pharmacist about it; don't stop a "
        "prescribed medicine yourself.",
        escalation="E1: get medical help today for weakness or dark urine, especially if you also take a "
        "statin. E2: otherwise book a clinician visit if cramps began after starting it.",
    ),
    Entry(
        id="rf_liver_disease",
        kind="risk_factor",
        title="Liver disease",
        meaning="Long-term liver disease such as cirrhosis, in which cramps are very common.",
        diary_signal="Conditions list (context only); it switches off fluid and salt tips.",
        rules=(),
        evidence="strong",
        evidence_note="About 6 in 10 people with cirrhosis report cramps.",
        sources=("AAFP 2012",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="Your liver team can advise on cramps, so mention them at your next appointment.",
        escalation="E2: book a clinician visit if cramps are frequent or getting worse.",
    ),
    Entry(
        id="rf_neuro_disorder",
        kind="risk_factor",
        title="Nerve or nervous-system conditions",
        meaning="Conditions affecting the nerves that supply the muscles can cause cramps, often with weakness, "
        "muscle thinning or twitching.",
        diary_signal="Conditions; weakness; visible muscle thinning; twitching outside cramps (R12).",
        rules=("R12",),
        evidence="strong",
        evidence_note="UK guidance treats nerve problems, muscle wasting and twitching as signs that cramps may "
        "have another cause worth checking.",
        sources=("NICE CKS",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="E1: get medical help today for new or quickly worsening weakness. E2: book a clinician "
        "visit for muscle thinning or twitching outside cramps.",
    ),
    Entry(
        id="rf_infection_toxins",
        kind="risk_factor",
        title="Infections and toxins",
        meaning="Some infections and poisons affect muscles and nerves and can bring on cramps.",
        diary_signal="Recent illness or fever; exposures (context only).",
        rules=(),
        evidence="weak",
        evidence_note="This appears only as a general listing, with nothing specific about everyday night cramps.",
        sources=(),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="E1: get medical help today for fever with severe muscle pain or weakness.",
    ),
    Entry(
        id="rf_hypocalcemia",
        kind="risk_factor",
        title="Low blood calcium",
        meaning="A truly low calcium level in the blood, found on a blood test, makes muscles over-excitable and "
        "can cause tingling and spasms.",
        diary_signal="Tingling around the mouth or in the fingertips; hand or foot spasm; menopause status; "
        "past thyroid or neck surgery (R12).",
        rules=("R12",),
        evidence="strong",
        evidence_note="A low calcium proven on a blood test clearly causes tingling, cramps and spasms, but "
        "nothing supports the popular claim that it explains ordinary cramps in older or post-menopausal people.",
        sources=("Harrison's", "AAFP 2012"),
        web_articles=(HEALTH_PORTAL,),
        tip="Calcium-rich foods are good for your bones, but they haven't been shown to stop cramps.",
        escalation="E0: call emergency services for a seizure or a tight, spasming throat. E1: get medical help "
        "today for hand or foot spasms. E2: book a clinician visit for tingling around the mouth or in the "
        "fingers.",
    ),
    Entry(
        id="rf_postmenopausal",
        kind="risk_factor",
        title="After the menopause",
        meaning="The idea that hormone changes after the menopause upset calcium balance and so cause cramps.",
        diary_signal="Menopause status (context only).",
        rules=(),
        evidence="not-supported",
        evidence_note="No reputable source was found that supports menopause-related calcium change as a cause "
        "of cramps.",
        sources=(),
        web_articles=(HEALTH_PORTAL,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rf_lumbar_disc_radiculopathy",
        kind="risk_factor",
        title="Trapped nerve in the lower back",
        meaning="A bulging disc in the lower back can press on a nerve root, giving leg pain, numbness or "
        "cramps, often with back pain.",
        diary_signal="Back pain; pain running down one leg (which side); numbness; weakness; numbness between "
        "the legs; bladder or bowel change (R09, R12).",
        rules=("R09", "R12"),
        evidence="some",
        evidence_note="Pressure on a nerve root is a recognised cause of leg symptoms, and guidance notes a link "
        "between a narrowed lower spinal canal and cramps.",
        sources=("Merck", "AAFP 2012", "MSD Manual"),
        web_articles=(HEALTH_PORTAL, CHIROPRACTIC_CLINIC),
        tip="",
        escalation="E0: call emergency services for numbness between the legs or around the buttocks, or new "
        "bladder or bowel trouble. E2: book a clinician visit for one-sided cramps with back pain, pain running "
        "down the leg, or numbness.",
    ),
    Entry(
        id="rf_lumbar_stenosis",
        kind="risk_factor",
        title="Narrowed spinal canal",
        meaning="Narrowing of the spinal canal in the lower back can cause cramp-like leg pain that builds the "
        "longer you walk and eases when you sit or lean forward.",
        diary_signal="Pain while walking; distance or minutes until it starts; whether standing still, or only "
        "sitting or bending forward, relieves it (R05, nerve branch).",
        rules=("R05",),
        evidence="strong",
        evidence_note="Guidance links it with cramps, and it has a recognised pattern: walking pain relieved by "
        "sitting or bending forward rather than by standing still.",
        sources=("AAFP 2012", "MSD Manual"),
        web_articles=(TCM_CLINIC,),
        tip="",
        escalation="E2: book a clinician visit if leg pain comes on with walking and only eases when you sit or "
        "bend forward.",
    ),
    Entry(
        id="rf_pad_claudication",
        kind="risk_factor",
        title="Narrowed leg arteries",
        meaning="Narrowed arteries can starve the leg muscles of blood while walking, giving cramp-like pain "
        "that fades within a few minutes of stopping.",
        diary_signal="Pain while walking; distance; relief within minutes of standing still; smoking; diabetes "
        "(R05, blood-vessel branch).",
        rules=("R05",),
        evidence="strong",
        evidence_note="This is a well-described condition that mimics cramps, with pain easing after 1-5 "
        "minutes' rest; a clinic article's claim that it works by disturbing electrolytes is wrong, since the "
        "problem is reduced blood flow.",
        sources=("NHS Devon", "AAFP 2012"),
        web_articles=(TCM_CLINIC, CHIROPRACTIC_CLINIC, MIND_BODY_BLOG),
        tip="",
        escalation="E0: call emergency services for a sudden cold, pale, painful leg. E1: get medical help today "
        "for foot pain at rest, pain eased by hanging the leg down, or a foot sore. E2: book a clinician visit "
        "for leg pain that comes on with walking and settles with rest.",
    ),
    Entry(
        id="rf_diabetic_neuropathy",
        kind="risk_factor",
        title="Nerve damage from diabetes",
        meaning="Years of high blood sugar can damage the nerves in the feet and legs, giving numbness, "
        "tingling and cramps.",
        diary_signal="Diabetes (yes/no); optional HbA1c; numbness or tingling and where (R12).",
        rules=("R12",),
        evidence="some",
        evidence_note="Surveys find about half of people with type 2 diabetes report cramps and nerve damage is "
        "a listed cause, but the data are observational.",
        sources=("Hu 2022", "Li 2023", "Merck"),
        web_articles=(HEALTH_PORTAL,),
        tip="Tell your diabetes team about cramps, especially with numbness or tingling; regular foot checks matter.",
        escalation="E2: book a clinician visit for numbness or tingling in the feet or legs.",
    ),
    Entry(
        id="rf_hypothyroidism",
        kind="risk_factor",
        title="Underactive thyroid",
        meaning="When the thyroid makes too little hormone, muscles can ache and cramp, often with tiredness, "
        "feeling cold and weight gain.",
        diary_signal="Thyroid diagnosis; checklist of tiredness, feeling cold and weight gain (R12).",
        rules=("R12",),
        evidence="some",
        evidence_note="Guidance lists thyroid disease as a cause worth testing for, though it acts mainly on the "
        "muscles rather than through the nerve damage a clinic article describes.",
        sources=("NICE CKS", "Merck"),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="E2: book a clinician visit and ask whether a thyroid blood test makes sense if you also "
        "feel tired or cold or are gaining weight.",
    ),
    Entry(
        id="rf_spinal_misalignment",
        kind="risk_factor",
        title="'Spinal misalignment' (a chiropractic idea)",
        meaning="The chiropractic claim that small misalignments of the vertebrae pinch nerves and cause spasms "
        "in the back of the thigh.",
        diary_signal="",
        rules=(),
        evidence="not-supported",
        evidence_note="Graded contradicted to unsupported: the 'subluxation' idea behind it has little "
        "experimental evidence, while real nerve pressure from a disc or a narrow canal is a separate, genuine "
        "cause.",
        sources=("Keating 2005",),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="E2: book a clinician visit for one-sided cramps with back pain, pain running down the leg, "
        "or numbness.",
    ),
    Entry(
        id="rf_shortened_tendons_age",
        kind="risk_factor",
        title="Tighter tendons with age",
        meaning="The idea that tendons shorten as we age, which may make the calf easier to cramp; the app uses "
        "it only as a plain reason for stretching.",
        diary_signal="Age.",
        rules=(),
        evidence="weak",
        evidence_note="This is a theory found in patient leaflets rather than a tested cause.",
        sources=(),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="mech_nerve_activity_sleep",
        kind="mechanism",
        title="Overactive nerves during sleep",
        meaning="The nerves that drive a muscle fire abnormally during sleep and set off a cramp.",
        diary_signal="",
        rules=(),
        evidence="some",
        evidence_note="Guidance names nerve changes plus muscle fatigue as the most likely explanation for night "
        "cramps, though it isn't proven.",
        sources=("AAFP 2012",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="mech_blood_supply_restriction",
        kind="mechanism",
        title="Sudden drop in blood supply",
        meaning="The idea that a sudden cut in blood flow to the muscle sets off a night cramp.",
        diary_signal="",
        rules=(),
        evidence="not-supported",
        evidence_note="Night calf pain is not the typical picture of poor blood flow, so this explanation lacks "
        "support for ordinary night cramps.",
        sources=("NHS Devon",),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rf_growing_pains",
        kind="risk_factor",
        title="Growing pains (children)",
        meaning="Aching legs in children, usually both legs in the evening or at night; a different condition "
        "from adult leg cramps.",
        diary_signal="Age under 18 at sign-up: R15 blocks analysis and shows guidance for parents.",
        rules=("R15",),
        evidence="contradicted",
        evidence_note="Contrary to a popular claim, growing pains are a harmless childhood pain condition that is not "
        "tied to growth spurts.",
        sources=("Goodyear-Smith 2006", "Evans 2008"),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="E1: get medical help today if a child's leg pain comes with fever. E2: book a clinician "
        "visit if the pain is on one side only, causes a limp, happens in the day or morning, or a joint is "
        "swollen.",
    ),
    Entry(
        id="mech_psychosomatic_ischemia",
        kind="mechanism",
        title="Mind-driven blood-flow theory (TMS)",
        meaning="The mind-body claim that the mind cuts blood flow to the legs and that this drives most "
        "long-lasting cramps.",
        diary_signal="",
        rules=(),
        evidence="contradicted",
        evidence_note="The tension myositis idea is not accepted by mainstream medicine, night calf pain is not "
        "typical of poor blood flow, and the accepted explanation involves nerves and muscles.",
        sources=("TMS (Wikipedia)", "NHS Devon", "AAFP 2012"),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="",
    ),
    Entry(
        id="mech_recline_circulation",
        kind="mechanism",
        title="Less blood flow when lying down",
        meaning="The claim that lying down reduces blood flow to the legs, so cramps strike at rest.",
        diary_signal="",
        rules=(),
        evidence="contradicted",
        evidence_note="This doesn't explain ordinary night cramps; only advanced artery disease gives pain at "
        "rest that eases with the leg hanging down, and that needs urgent review.",
        sources=("NHS Devon",),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="E1: get medical help today for foot pain at rest that eases when you hang the leg over the "
        "side of the bed.",
    ),
    Entry(
        id="tcm_organ_deficiency",
        kind="mechanism",
        title="Weak organs (a traditional Chinese medicine idea)",
        meaning="The traditional Chinese medicine view that a weak liver, spleen or kidney fails to nourish the "
        "muscles and tendons.",
        diary_signal="",
        rules=(),
        evidence="weak-traditional",
        evidence_note="This is traditional theory rather than a biomedical idea, and a diary can't test it.",
        sources=(),
        web_articles=(TCM_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="tcm_night_blood_to_liver",
        kind="mechanism",
        title="Blood returning to the liver at night (a traditional Chinese medicine idea)",
        meaning="The traditional Chinese medicine view that blood flows back to the liver at night, leaving the "
        "muscles short of it and prone to cramp.",
        diary_signal="",
        rules=(),
        evidence="weak-traditional",
        evidence_note="This is traditional theory; biomedical accounts point to nerve and muscle changes instead.",
        sources=("AAFP 2012",),
        web_articles=(TCM_CLINIC,),
        tip="",
        escalation="",
    ),
    # --- Symptom patterns ----------------------------------------------------------------
    Entry(
        id="pat_nocturnal_rest",
        kind="pattern",
        title="Cramps at night or at rest",
        meaning="Most cramps come on while resting or asleep, often waking the person up.",
        diary_signal="Clock time and context of each cramp (woke from sleep, lying awake, sitting, standing, "
        "walking, exercising); R01 share at rest, R08 time of night.",
        rules=("R01", "R08"),
        evidence="strong",
        evidence_note="This is the typical picture of night leg cramps in guidance and in diagnostic criteria.",
        sources=("NICE CKS", "AAFP 2012", "Hallegraeff 2017"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC, MIND_BODY_BLOG),
        tip="Cramps that come on at night or at rest are the usual pattern. A short calf stretch before bed is "
        "worth trying.",
        escalation="E2: book a clinician visit if most of your cramp-like pain comes on while walking and eases "
        "with rest.",
    ),
    Entry(
        id="pat_duration",
        kind="pattern",
        title="How long a cramp lasts",
        meaning="A typical cramp lasts from a few seconds to several minutes, up to about 10 minutes.",
        diary_signal="Duration in minutes; R14 flags cramps over 10 minutes on 3 or more occasions in 30 days.",
        rules=("R14",),
        evidence="strong",
        evidence_note="Guidance and diagnostic criteria describe cramps as lasting up to about 10 minutes.",
        sources=("NICE CKS", "Hallegraeff 2017"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="Most cramps pass within a few minutes; stretching the muscle while it cramps helps it let go.",
        escalation="E2: book a clinician visit if cramps often last longer than 10 minutes or pain stays between them.",
    ),
    Entry(
        id="pat_residual_soreness",
        kind="pattern",
        title="Soreness afterwards",
        meaning="The muscle can stay tender for hours after a cramp, sometimes for up to a day.",
        diary_signal="Hours of soreness the next day (descriptive).",
        rules=(),
        evidence="strong",
        evidence_note="Lasting soreness after a cramp is one of the published diagnostic features of night cramps.",
        sources=("Hallegraeff 2017", "NICE CKS"),
        web_articles=(ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="Warmth on the sore muscle can ease next-day soreness; if the calf looks swollen or red, get it "
        "checked instead.",
        escalation="E1: get medical help today if the pain becomes constant and the calf swells.",
    ),
    Entry(
        id="pat_muscle_site",
        kind="pattern",
        title="Which muscle cramps",
        meaning="Night cramps usually affect the calf or foot; the thigh is much less common.",
        diary_signal="Muscle for each cramp (calf, foot, toes, hamstring, quadriceps, other); R09 share of "
        "thigh cramps, R14 spread to arms or body.",
        rules=("R09", "R14"),
        evidence="strong",
        evidence_note="Calf and foot cramps are typical while thigh-led night cramps are rare, so web articles' "
        "weight on the thigh is only partly supported.",
        sources=("Hallegraeff 2017",),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="",
        escalation="E2: book a clinician visit if cramps spread to your arms or body. E3: mention it at your "
        "next routine visit if most cramps are in the thigh.",
    ),
    Entry(
        id="pat_foot_toe_cramps",
        kind="pattern",
        title="Foot and toe cramps",
        meaning="Cramps in the sole of the foot or the toes, often curling the toes.",
        diary_signal="Site; whether symptoms are there every day; numbness (R09, R12).",
        rules=("R09", "R12"),
        evidence="strong",
        evidence_note="Foot cramps are a common, typical form of night cramp.",
        sources=("AAFP 2012", "Hallegraeff 2017"),
        web_articles=(HEALTH_PORTAL, MIND_BODY_BLOG),
        tip="For a foot or toe cramp, pull your toes back towards your shin to stretch the sole of the foot.",
        escalation="E2: book a clinician visit for foot symptoms that are there all the time, especially with "
        "numbness.",
    ),
    Entry(
        id="pat_side_asymmetry",
        kind="pattern",
        title="One side worse",
        meaning="Cramps happen mostly in one leg or foot.",
        diary_signal="Side of each cramp (left, right, both); R09 tests the one-sided ones.",
        rules=("R09",),
        evidence="weak",
        evidence_note="Many people cramp more on one side, so this means little alone; it matters when it comes "
        "with swelling (a possible clot) or with back pain or numbness (a possible trapped nerve).",
        sources=("NICE CKS",),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="E1: get medical help today if the cramping leg is also swollen, red or warm. E2: book a "
        "clinician visit if one-sided cramps come with back pain, pain running down the leg, or numbness.",
    ),
    Entry(
        id="sx_hardening_tightening",
        kind="symptom",
        title="Hard, tight muscle",
        meaning="During a cramp the muscle tightens into a hard, painful knot you can feel.",
        diary_signal="'Hard knot felt in the muscle' (yes/no); no knot plus an urge to move points to restless "
        "legs instead (R01 classifier).",
        rules=("R01",),
        evidence="strong",
        evidence_note="A hard knot in the muscle is part of the standard definition of a cramp used in trials.",
        sources=("Roguin Maor 2017",),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="E3: mention it at your next routine visit if you often feel an urge to move your legs that "
        "eases when you move, without a hard knot.",
    ),
    Entry(
        id="sx_twitching",
        kind="symptom",
        title="Twitching between cramps",
        meaning="Small flickering movements of a muscle at times when you are not having a cramp.",
        diary_signal="Twitching outside cramps; weakness; muscle thinning (R12).",
        rules=("R12",),
        evidence="some",
        evidence_note="Guidance treats twitching together with muscle thinning as a pointer to a nerve or muscle "
        "condition that should be checked.",
        sources=("NICE CKS",),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="E1: get medical help today for new weakness. E2: book a clinician visit for twitching "
        "outside cramps, especially with muscle thinning.",
    ),
    Entry(
        id="pat_sleep_disruption",
        kind="pattern",
        title="Cramps disturbing sleep",
        meaning="Cramps wake you or spoil your sleep, and can affect the next day.",
        diary_signal="Sleep disturbance 0-10 and awakenings; R07 checks for a lasting burden.",
        rules=("R07",),
        evidence="strong",
        evidence_note="Disturbed sleep is a recognised part of the burden of night cramps.",
        sources=("Hallegraeff 2017", "Grandner 2017"),
        web_articles=(ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC, MIND_BODY_BLOG),
        tip="Keep a regular bedtime and do a short calf stretch just before lights-out.",
        escalation="E2: book a clinician visit if cramps still disturb your sleep most nights after 4 weeks of "
        "self-care.",
    ),
    Entry(
        id="pat_idiopathic",
        kind="pattern",
        title="No clear cause",
        meaning="Most of the time no particular cause for night cramps is found, and they are harmless.",
        diary_signal="",
        rules=(),
        evidence="strong",
        evidence_note="UK guidance says most night cramps have no identifiable cause.",
        sources=("NICE CKS",),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC),
        tip="Night leg cramps are common and usually harmless, and often no particular cause is found.",
        escalation="",
    ),
    Entry(
        id="pat_frequent_severe",
        kind="pattern",
        title="Frequent or severe cramps",
        meaning="Cramps that come most nights, are very painful or last a long time.",
        diary_signal="Cramps per week and severity 0-10; R07 compares the last 28 logged nights with the 28 before.",
        rules=("R07",),
        evidence="some",
        evidence_note="Frequent cramps are common on their own (4 in 10 sufferers have three or more a week); "
        "guidance looks for another cause when there are other warning signs.",
        sources=("NICE CKS",),
        web_articles=(ACUPUNCTURE_CLINIC, CHIROPRACTIC_CLINIC),
        tip="",
        escalation="E2: book a clinician visit if cramps are becoming more frequent, or frequent cramps keep "
        "disturbing your sleep.",
    ),
    Entry(
        id="pat_daytime_at_work",
        kind="pattern",
        title="Daytime cramps",
        meaning="Cramps can also strike while awake, for example at work or during exercise.",
        diary_signal="Context of each cramp; R01 reports the share that happen in the daytime.",
        rules=("R01",),
        evidence="some",
        evidence_note="Sleep-related cramps can also happen when awake, and exercise cramps happen during the day.",
        sources=("Merck",),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="E2: book a clinician visit if daytime cramp-like pain comes on with walking and eases with rest.",
    ),
    # --- Red flags and conditions that mimic cramps ----------------------------------------
    Entry(
        id="rf_dvt",
        kind="red_flag",
        title="Possible blood clot in the leg",
        meaning="A blood clot in a deep leg vein can cause a swollen, red, warm and painful calf that can be "
        "mistaken for a cramp.",
        diary_signal="Calf swelling, redness or warmth (which side); pain that stays between cramps; recent "
        "surgery, long travel, pregnancy or oestrogen; breathlessness or chest pain (R13).",
        rules=("R13",),
        evidence="strong",
        evidence_note="Guidance lists a clot as an important condition that can look like a cramp.",
        sources=("NICE CKS", "NHS DVT"),
        web_articles=(),
        tip="Don't massage a calf that is swollen, red or warm.",
        escalation="E0: call emergency services if leg swelling comes with sudden breathlessness or chest pain. "
        "E1: get medical help today for one swollen, red or warm calf.",
    ),
    Entry(
        id="rf_exertional_claudication_pattern",
        kind="red_flag",
        title="Leg pain brought on by walking",
        meaning="Cramp-like pain that comes on with walking and settles with rest; it can be a sign of narrowed "
        "arteries or a narrowed spinal canal, which a clinician can check.",
        diary_signal="Pain that started while walking, what relieved it (standing still, or sitting or bending "
        "forward) and the distance; R05 fires on 2 or more such episodes in 30 days.",
        rules=("R05",),
        evidence="strong",
        evidence_note="This walking-and-rest pattern is well described and needs a clinician's assessment "
        "rather than self-care.",
        sources=("NHS Devon", "MSD Manual"),
        web_articles=(TCM_CLINIC, MIND_BODY_BLOG),
        tip="",
        escalation="E0: call emergency services for a sudden cold, pale, painful leg. E1: get medical help today "
        "for foot pain at rest. E2: book a clinician visit for pain that comes on with walking and settles "
        "with rest.",
    ),
    Entry(
        id="rf_cauda_equina",
        kind="red_flag",
        title="Pressure on the nerves at the base of the spine",
        meaning="Severe pressure on the bundle of nerves at the bottom of the spine, with numbness between the "
        "legs, bladder or bowel changes, or weakness in both legs; it is an emergency.",
        diary_signal="Numbness between the legs or around the buttocks; new bladder or bowel change; weakness in "
        "both legs (R12 hard stop).",
        rules=("R12",),
        evidence="strong",
        evidence_note="This is a recognised emergency that needs same-hour hospital assessment.",
        sources=("MSD Manual",),
        web_articles=(HEALTH_PORTAL,),
        tip="",
        escalation="E0: call emergency services for numbness between the legs or around the buttocks, new "
        "bladder or bowel trouble, or weakness in both legs.",
    ),
    Entry(
        id="rf_rls_mimic",
        kind="red_flag",
        title="Restless legs (not a cramp)",
        meaning="An uncomfortable urge to move the legs that eases when you move, without a hard knot in the "
        "muscle; a different condition from cramps.",
        diary_signal="Urge to move; relief by moving; no hard knot (R01 classifier).",
        rules=("R01",),
        evidence="strong",
        evidence_note="Guidance treats restless legs as a separate condition that is easily confused with cramps.",
        sources=("AAFP 2012", "Tipton 2017"),
        web_articles=(),
        tip="",
        escalation="E3: mention it at your next routine visit if you often feel an urge to move your legs that "
        "eases when you move.",
    ),
    Entry(
        id="rf_statin_severe_myopathy",
        kind="red_flag",
        title="Serious muscle problem with a statin",
        meaning="Rarely, statins cause serious muscle damage, with weakness, dark or cola-coloured urine or fever.",
        diary_signal="Weakness, dark urine or fever in someone taking a statin (R06 same-day branch, R12).",
        rules=("R06", "R12"),
        evidence="strong",
        evidence_note="Statin labels and muscle-symptom guidance treat weakness with dark urine as needing "
        "same-day assessment.",
        sources=("EAS 2015", "NLA 2014"),
        web_articles=(ACUPUNCTURE_CLINIC,),
        tip="",
        escalation="E1: get medical help today for muscle weakness, dark or cola-coloured urine, or fever while "
        "taking a statin.",
    ),
    # --- Remedies and self-care ------------------------------------------------------------
    Entry(
        id="rx_acute_stretch",
        kind="remedy",
        title="Stretch out a cramp",
        meaning="Stop what you are doing, straighten the leg and stretch the cramping muscle until it lets go.",
        diary_signal="Relief method and minutes to relief for each cramp (descriptive).",
        rules=(),
        evidence="strong",
        evidence_note="Guidance agrees that gently stretching the muscle is the first thing to do during a cramp.",
        sources=("NICE CKS", "Miller 2022"),
        web_articles=(HEALTH_PORTAL,),
        tip="During a calf cramp, straighten your knee and pull your toes up towards your shin until the cramp "
        "lets go.",
        escalation="",
    ),
    Entry(
        id="rx_stretch_strength_program",
        kind="remedy",
        title="Regular bedtime stretching",
        meaning="A routine of calf and hamstring stretches before bed, plus staying active, to try to have fewer "
        "cramps.",
        diary_signal="Stretched before bed (yes/no, minutes); strength sessions; R17 runs an optional two-week "
        "on/off stretching test.",
        rules=("R17",),
        evidence="some",
        evidence_note="Trials disagree (one found fewer cramps with bedtime stretching, a larger one found no "
        "benefit), staying active has some support, and there is no evidence for core or strength work as such.",
        sources=("Hallegraeff 2012", "Coppin 2005", "BMJ CE", "AAFP FPIN 2017", "Delacour 2020"),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="Try a 3-minute calf and hamstring stretch just before bed for two weeks, and let your diary show "
        "whether it helps you.",
        escalation="",
    ),
    Entry(
        id="rx_massage",
        kind="remedy",
        title="Rubbing the muscle",
        meaning="Rubbing or massaging the cramping muscle to help it relax.",
        diary_signal="Relief method for each cramp (descriptive).",
        rules=(),
        evidence="some",
        evidence_note="Rubbing the muscle during a cramp is standard self-care advice, but claims that massage "
        "prevents cramps or reduces inflammation are unsupported.",
        sources=("NICE CKS",),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="Rub the knotted muscle while you stretch it. Don't rub a calf that is swollen, red or warm.",
        escalation="E1: get medical help today, and don't massage, if the calf is swollen, red or warm.",
    ),
    Entry(
        id="rx_keep_feet_warm",
        kind="remedy",
        title="Keeping feet warm",
        meaning="Wearing socks or adding bedding so the feet stay warm at night.",
        diary_signal="Feet cold or uncovered at bedtime; bedroom or outdoor temperature (R03).",
        rules=("R03",),
        evidence="weak",
        evidence_note="Population data show cramps peak in summer, so warmth is only worth suggesting when your "
        "own diary shows a cold-night pattern.",
        sources=("Garrison 2015",),
        web_articles=(HEALTH_PORTAL,),
        tip="Warm socks or an extra blanket over your feet are an easy, harmless thing to try, though the "
        "evidence on cold is mixed.",
        escalation="E1: get medical help today if a foot is cold, pale or blue and hurts at rest, especially "
        "if hanging the leg down eases it.",
    ),
    Entry(
        id="rx_calcium_foods",
        kind="remedy",
        title="Calcium-rich foods",
        meaning="Eating more milk, tofu, soy, shrimp and leafy greens, which a health-portal article says prevents "
        "cramps and boosts immunity.",
        diary_signal="",
        rules=(),
        evidence="weak",
        evidence_note="A major evidence review rates calcium as of unknown effectiveness for cramps, no trial "
        "supports it for ordinary cramps, and the immunity claim is unsupported.",
        sources=("BMJ CE",),
        web_articles=(HEALTH_PORTAL,),
        tip="Calcium-rich foods belong in a healthy diet, but they haven't been shown to prevent cramps.",
        escalation="",
    ),
    Entry(
        id="rx_mg_ca_supplements",
        kind="remedy",
        title="Mineral supplements (magnesium, calcium)",
        meaning="Taking mineral tablets to fix a supposed deficiency behind cramps.",
        diary_signal="Supplement name, dose, start and stop dates; R06b shows a before/after view as data only.",
        rules=("R06b",),
        evidence="contradicted",
        evidence_note="Good trials and a Cochrane review find magnesium works no better than a dummy pill for "
        "ordinary cramps in older adults, and the evidence in pregnancy is inconsistent and of low quality.",
        sources=("Cochrane 2020", "Roguin Maor 2017", "AAFP FPIN 2023", "Luo 2020"),
        web_articles=(TCM_CLINIC, CHIROPRACTIC_CLINIC),
        tip="Supplements haven't been shown to prevent ordinary cramps; if you take one anyway, check with a "
        "pharmacist first, especially if you have kidney disease or take other medicines.",
        escalation="",
    ),
    Entry(
        id="rx_acupuncture",
        kind="remedy",
        title="Acupuncture",
        meaning="Fine needles placed in the skin, which clinic articles say relax muscles, release natural painkillers "
        "and improve circulation.",
        diary_signal="Sessions logged; R06b shows a before/after view as data only.",
        rules=("R06b",),
        evidence="weak",
        evidence_note="Only small trials in people with cirrhosis or on dialysis exist, none in ordinary night "
        "cramps, and the natural-painkiller explanation is unsupported.",
        sources=("Lee 2018", "Mohamadi Jahromi 2024", "Kwon 2017"),
        web_articles=(TCM_CLINIC, ACUPUNCTURE_CLINIC),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_moxibustion",
        kind="remedy",
        title="Moxibustion",
        meaning="Burning a dried herb on or near the skin, a traditional Chinese treatment said to calm "
        "overactive muscles.",
        diary_signal="",
        rules=(),
        evidence="weak-traditional",
        evidence_note="No trials for cramps were found, and it carries a risk of burns.",
        sources=(),
        web_articles=(TCM_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_tcm_herbal_individualized",
        kind="remedy",
        title="Traditional Chinese herbal remedies",
        meaning="Herbal mixtures chosen for each person according to a traditional Chinese diagnosis.",
        diary_signal="Herbs taken.",
        rules=(),
        evidence="weak-traditional",
        evidence_note="Only case reports exist, with no trials in cramps.",
        sources=("Kwon 2017",),
        web_articles=(TCM_CLINIC,),
        tip="Tell your doctor or pharmacist about any herbs you take, as some can interact with medicines.",
        escalation="",
    ),
    Entry(
        id="rx_tcm_patent_medicines_back",
        kind="remedy",
        title="Branded Chinese medicines for back-related cramps",
        meaning="Ready-made Chinese medicines that one health-portal article suggests, under a doctor's guidance, "
        "for cramps linked to a slipped disc; the app never names them.",
        diary_signal="",
        rules=(),
        evidence="weak-traditional",
        evidence_note="No evidence for them was found.",
        sources=(),
        web_articles=(HEALTH_PORTAL,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_glucose_control_drugs",
        kind="remedy",
        title="Diabetes medicines named in a web article",
        meaning="One health-portal article names specific blood-sugar medicines for controlling diabetes and "
        "slowing nerve damage; the app never names them.",
        diary_signal="",
        rules=(),
        evidence="not-supported",
        evidence_note="Blood-sugar treatment is for the diabetes team to decide; these medicines are not cramp "
        "remedies.",
        sources=(),
        web_articles=(HEALTH_PORTAL,),
        tip="",
        escalation="E2: book a clinician visit for numbness or tingling in the feet or legs.",
    ),
    Entry(
        id="rx_chiropractic_realignment",
        kind="remedy",
        title="Chiropractic realignment",
        meaning="Spinal adjustments that a chiropractor says take pressure off nerve roots and so relieve cramps.",
        diary_signal="Sessions logged; R06b shows a before/after view as data only.",
        rules=("R06b",),
        evidence="not-supported",
        evidence_note="No cramp trials were found, and the misalignment idea behind it lacks evidence.",
        sources=("Keating 2005",),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_diet_health_coaching",
        kind="remedy",
        title="Diet coaching for deficiencies",
        meaning="A health coach reviews your diet to fix nutritional gaps said to cause cramps.",
        diary_signal="",
        rules=(),
        evidence="weak",
        evidence_note="Diet advice is reasonable in general, but nothing shows it prevents ordinary cramps.",
        sources=(),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_bioimpedance_edema",
        kind="remedy",
        title="Body-water scans",
        meaning="A body-composition scale that estimates body water and swelling, offered by a clinic to track "
        "fluid balance.",
        diary_signal="",
        rules=(),
        evidence="not-supported",
        evidence_note="The study the clinic's article cites was in people on peritoneal dialysis and not about "
        "cramps, so it says nothing about them.",
        sources=(),
        web_articles=(CHIROPRACTIC_CLINIC,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_knowledge_therapy",
        kind="remedy",
        title="'Knowledge therapy' (TMS idea)",
        meaning="The mind-body claim that understanding cramps as mind-made is the most effective treatment, "
        "at no cost or risk.",
        diary_signal="",
        rules=(),
        evidence="contradicted",
        evidence_note="It rests on the tension myositis idea, which mainstream medicine does not accept, and its "
        "real risk is missing a treatable cause such as a clot, narrowed arteries or nerve damage.",
        sources=("TMS (Wikipedia)",),
        web_articles=(MIND_BODY_BLOG,),
        tip="",
        escalation="",
    ),
    Entry(
        id="rx_seek_medical_advice",
        kind="remedy",
        title="Getting medical advice",
        meaning="See a clinician when cramps are frequent, long-lasting or getting worse, or come with other symptoms.",
        diary_signal="The escalation level (E0-E3) that the other entries and rules reach decides how soon.",
        rules=(),
        evidence="strong",
        evidence_note="Guidance supports looking for another cause when cramps are frequent, unusual or come "
        "with warning signs.",
        sources=("NICE CKS",),
        web_articles=(ACUPUNCTURE_CLINIC, HEALTH_PORTAL, CHIROPRACTIC_CLINIC),
        tip="",
        escalation="E2: book a clinician visit for frequent, long or worsening cramps; the rules raise this to "
        "E1 or E0 when warning signs are logged.",
    ),
    # --- Guardrails ----------------------------------------------------------------------
    Entry(
        id="rx_quinine",
        kind="guardrail",
        title="Quinine (safety warning)",
        meaning="Quinine tablets, or tonic water taken for cramps, were once used for night cramps; the app "
        "never suggests them and shows a safety note if one is logged.",
        diary_signal="Quinine tablets or tonic water 'for cramps' in the medication list.",
        rules=(),
        evidence="contradicted",
        evidence_note="Regulators warn that rare but serious, sometimes fatal blood reactions outweigh its "
        "modest benefit for night cramps, and UK guidance allows it only in narrow cases under a doctor and "
        "never in pregnancy.",
        sources=("FDA", "AAFP 2012", "MHRA 2010", "AAFP FPIN 2017", "Luo 2020"),
        web_articles=(),
        tip="",  # The warning names quinine, so it is a guardrail message, not a tip.
        escalation="E1: get medical help today for easy bruising, nosebleeds, blood in urine or stool, or purple "
        "or red spots on the skin while taking quinine.",
    ),
    Entry(
        id="med_other_associated",
        kind="medication",
        title="Other medicines linked with cramps",
        meaning="Some other medicines are also linked with cramps: long-acting inhalers for asthma or COPD, "
        "oestrogens, teriparatide, iron given by drip and naproxen.",
        diary_signal="Medication list coded to these classes, with start and dose-change dates (R06).",
        rules=("R06",),
        evidence="some",
        evidence_note="A prescription-sequence study found the clearest link for long-acting inhalers, and the "
        "others appear on a guidance list of drugs most strongly associated with cramps.",
        sources=("Garrison 2012", "AAFP 2012"),
        web_articles=(),
        tip="Cramps can follow a new medicine. " + _PRESCRIBER,
        escalation="E2: book a clinician visit if cramps began or got worse after starting or increasing one of "
        "these; don't stop it yourself.",
    ),
)


def _index(entries: tuple[Entry, ...]) -> dict[str, Entry]:
    index: dict[str, Entry] = {}
    for item in entries:
        if item.id in index:
            raise ValueError(f"Duplicate catalogue id {item.id!r}")
        index[item.id] = item
    return index


CATALOGUE: dict[str, Entry] = _index(_ENTRIES)

# Findings whose title is not their trigger's: a mirror comparison on the same trigger (R02s, the
# least active days, is on the exercise trigger) and a rule sharing its trigger with another (R08,
# which third of the night, shares R01's "cramps at night or at rest").
KEY_TITLES: dict[str, str] = {
    "R02s": "Your least active days",
    "R08": "Early, middle or late in the night",
}

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "R01",
            "Night-time pattern",
            ("pat_nocturnal_rest", "pat_daytime_at_work", "rf_rls_mimic"),
            "descriptive",
            "Shows what share of cramps come at night or at rest, and spots restless-legs-like reports, once 10 "
            "or more cramps are logged.",
        ),
        Rule(
            "R02",
            "After exercise",
            ("tr_overuse_exertion",),
            "statistical",
            "Compares cramps on nights after hard or long exercise, and separately after inactive days, with "
            "other nights.",
        ),
        Rule(
            "R03",
            "Cold nights",
            ("tr_cold_exposure", "rx_keep_feet_warm"),
            "statistical",
            "Compares cramps on nights with cold feet or a cold bedroom with other nights, in both directions.",
        ),
        Rule(
            "R04",
            "Low fluid or heavy sweating",
            ("tr_dehydration", "tr_sweat_electrolyte_loss"),
            "statistical",
            "Compares cramps after low-fluid or sweaty days with other nights; it is switched off for people on "
            "water tablets or a fluid limit, or with heart, kidney or liver disease.",
        ),
        Rule(
            "R05",
            "Walking pain screen",
            ("rf_pad_claudication", "rf_lumbar_stenosis", "rf_exertional_claudication_pattern"),
            "hard_stop",
            "Advises a clinician visit when pain that comes on with walking and eases with rest is logged twice "
            "or more in 30 days.",
        ),
        Rule(
            "R06",
            "After a new medicine",
            (
                "med_diuretic",
                "med_statin",
                "med_raloxifene",
                "med_nifedipine",
                "med_nicotinic_acid",
                "med_other_associated",
            ),
            "statistical",
            "Compares cramps before and after starting or increasing a medicine that is linked with cramps.",
        ),
        Rule(
            "R06b",
            "Supplement or therapy before and after",
            ("rx_mg_ca_supplements", "rx_acupuncture", "rx_chiropractic_realignment"),
            "descriptive",
            "Shows cramps before and after starting a supplement or therapy as plain data, with a reminder that "
            "cramps often ease by themselves.",
        ),
        Rule(
            "R07",
            "Trend and burden",
            ("pat_frequent_severe", "pat_sleep_disruption"),
            "statistical",
            "Compares the last 28 logged nights with the 28 before, and checks for frequent cramps that keep "
            "disturbing sleep.",
        ),
        Rule(
            "R08",
            "Time of night",
            ("pat_nocturnal_rest",),
            "statistical",
            "Tests whether timed cramps cluster in one third of the time in bed, once 15 or more are logged.",
        ),
        Rule(
            "R09",
            "Side and muscle",
            ("pat_side_asymmetry", "pat_muscle_site", "pat_foot_toe_cramps", "rf_lumbar_disc_radiculopathy"),
            "statistical",
            "Tests whether one-sided cramps favour one side and flags thigh-led cramps, advising a check when "
            "other symptoms come with them.",
        ),
        Rule(
            "R10",
            "Long sitting or standing",
            ("tr_prolonged_position",),
            "statistical",
            "Compares cramps after days of long sitting or standing with other nights.",
        ),
        Rule(
            "R11",
            "Pregnancy mode",
            ("rf_pregnancy",),
            "descriptive",
            "Describes cramps by trimester and limits tips to stretching, warmth and gentle rubbing.",
        ),
        Rule(
            "R12",
            "Nerve, sensation and whole-body warning signs",
            (
                "rf_neuro_disorder",
                "rf_diabetic_neuropathy",
                "rf_hypothyroidism",
                "rf_hypocalcemia",
                "sx_twitching",
                "rf_cauda_equina",
                "rf_statin_severe_myopathy",
            ),
            "hard_stop",
            "Advises medical help on the first report of numbness, weakness, twitching, tingling, hand spasm, "
            "thyroid-type symptoms, numbness between the legs, bladder or bowel change, or dark urine.",
        ),
        Rule(
            "R13",
            "Blood clot screen",
            ("rf_dvt",),
            "hard_stop",
            "Advises same-day help on the first report of a swollen, red or warm calf or pain that stays between "
            "cramps.",
        ),
        Rule(
            "R14",
            "Unusual cramp features",
            ("pat_duration", "pat_muscle_site"),
            "count",
            "Flags cramps lasting over 10 minutes on 3 or more occasions in 30 days, or cramps spreading to the "
            "arms or body.",
        ),
        Rule(
            "R15",
            "Age gate",
            ("rf_growing_pains",),
            "hard_stop",
            "Blocks analysis for users under 18 and shows guidance for parents instead.",
        ),
        Rule(
            "R16",
            "Stressful evenings (exploratory)",
            ("tr_stress",),
            "statistical",
            "Compares cramps after high-stress evenings with other nights, labelled as exploratory.",
        ),
        Rule(
            "R17",
            "Bedtime stretch experiment",
            ("rx_stretch_strength_program",),
            "statistical",
            "For users who opt in, compares alternating two-week blocks with and without a bedtime stretch.",
        ),
    )
}

# Tips safe to send to anyone as a rotating weekly tip when nothing specific was found.
GENERAL_TIPS: tuple[str, ...] = (
    "pat_idiopathic",
    "rx_acute_stretch",
    "rx_stretch_strength_program",
    "pat_nocturnal_rest",
    "rx_massage",
    "pat_foot_toe_cramps",
    "pat_duration",
    "rf_older_age",
    "tr_prolonged_position",
    "tr_overuse_exertion",
    "pat_sleep_disruption",
)

# Every other tip, with the only situation in which it may be sent.
_R06_ONLY = "Only inside the R06 message for this medicine class."
TIP_CONDITIONS: dict[str, str] = {
    "rf_pregnancy": "Only in pregnancy mode (R11).",
    "tr_dehydration": "Only after R04 finds a low-fluid pattern; never for users on water tablets or a fluid limit, "
    "or with heart, kidney or liver disease.",
    "tr_sweat_electrolyte_loss": "Only after R04 finds a sweaty-day pattern; never for users on water tablets or a "
    "fluid or salt limit, or with heart, kidney or liver disease.",
    "tr_dietary_mineral_low": "Only as a reply when the user logs a diet or mineral concern.",
    "tr_muscle_injury": "Only when the user has logged a recent injury and no swelling.",
    "tr_stress": "Only after R16 finds a possible pattern, labelled exploratory.",
    "med_diuretic": _R06_ONLY,
    "med_statin": _R06_ONLY,
    "med_raloxifene": _R06_ONLY,
    "med_nifedipine": _R06_ONLY,
    "med_nicotinic_acid": _R06_ONLY,
    "med_other_associated": _R06_ONLY,
    "rf_liver_disease": "Only for users who list liver disease.",
    "rf_hypocalcemia": "Only as a reply when the user logs calcium-rich eating or a calcium concern.",
    "rf_diabetic_neuropathy": "Only for users who list diabetes.",
    "pat_residual_soreness": "Only when next-day soreness is logged and no swelling, redness or warmth.",
    "rf_dvt": "Only inside the R13 message.",
    "rx_keep_feet_warm": "Only after R03 finds a personal cold-night pattern.",
    "rx_calcium_foods": "Only as a reply when the user logs calcium-rich eating for cramps.",
    "rx_mg_ca_supplements": "Only when the user logs a supplement (R06b).",
    "rx_tcm_herbal_individualized": "Only when the user logs herbal remedies.",
}

# Tips that warn or correct a belief rather than recommend something. Only these may
# sit on an entry graded "contradicted", and none of them is a GENERAL_TIP.
CAUTION_TIPS: frozenset[str] = frozenset(
    {
        "tr_dietary_mineral_low",
        "rf_hypocalcemia",
        "rf_dvt",
        "rx_calcium_foods",
        "rx_mg_ca_supplements",
        "rx_tcm_herbal_individualized",
    }
)

# Safety notes that must name what they warn against, so they are kept apart from tips.
GUARDRAIL_MESSAGES: dict[str, str] = {
    "rx_quinine": "Quinine, including tonic water taken for cramps, is no longer advised for leg cramps because of "
    "rare but serious side effects such as bleeding problems. Please discuss it with your doctor; don't stop a "
    "prescribed medicine yourself.",
}

# Words and phrases that no TIP may contain (substring match on the lower-cased tip).
# The wording rules for tips: no quinine or tonic water, no named supplements, Chinese
# patent medicines or prescription drugs, no unproven therapies, no psychosomatic framing,
# no claims of cause and no advice to stop a medicine. They apply to tips only: the quinine
# guardrail (GUARDRAIL_MESSAGES), escalation texts and evidence notes must name quinine,
# magnesium and so on in order to warn about them.
FORBIDDEN_WORDS: tuple[str, ...] = (
    # quinine
    "quinine",
    "qualaquin",
    "tonic water",
    # named supplements
    "magnesium",
    "calcium supplement",
    "calcium tablet",
    "potassium supplement",
    "vitamin",
    # Chinese patent medicines named in a health-portal article
    "gentongping",
    "yaotongning",
    "duhuo jisheng",
    # diabetes drugs named in the same article
    "acarbose",
    "glimepiride",
    "gliquidone",
    # prescription drugs sometimes tried for cramps
    "diltiazem",
    "verapamil",
    "gabapentin",
    "orphenadrine",
    # unproven therapies that clinics' web articles promote
    "acupuncture",
    "moxibustion",
    "chiropractic",
    "knowledge therapy",
    # psychosomatic framing
    "psychosomatic",
    "psychological",
    "all in your head",
    "mind-body",
    # claims of cause
    "causes your cramps",
    "cause your cramps",
    "caused your cramps",
    "causing your cramps",
    # stopping medicines
    "stop taking",
    "stop using",
)

_LEVEL = re.compile(r"\bE[0-3](?=:)")


def entry(entry_id: str) -> Entry:
    """The catalogue entry for an id such as "tr_overuse_exertion"."""
    try:
        return CATALOGUE[entry_id]
    except KeyError:
        raise KeyError(
            f"Unknown catalogue id {entry_id!r}: expected one of the tr_, rf_, med_, mech_, tcm_, pat_, sx_ or rx_ "
            "ids in CATALOGUE"
        ) from None


def cite(entry_id: str) -> str:
    """A short source line for the end of a message: the guidance behind it ("Based on: AAFP 2012;
    Miller 2022", full references in SOURCES), or that only web articles make the claim."""
    item = entry(entry_id)
    if item.sources:
        return "Based on: " + "; ".join(item.sources)
    return "Based on: web articles only; no supporting guidance found"


def escalation_levels(entry_id: str) -> tuple[str, ...]:
    """The escalation levels an entry mentions, most urgent first, e.g. ("E1", "E2")."""
    return tuple(sorted(set(_LEVEL.findall(entry(entry_id).escalation))))


def by_kind(kind: str) -> tuple[Entry, ...]:
    """All entries of one kind, in catalogue order."""
    if kind not in KINDS:
        raise KeyError(f"Unknown kind {kind!r}: expected one of {', '.join(KINDS)}")
    return tuple(item for item in CATALOGUE.values() if item.kind == kind)
