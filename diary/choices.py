"""The coded vocabularies of the diary: muscles, sides, contexts, relief, drug classes and the rest."""

from django.db import models


class Muscle(models.TextChoices):
    CALF = "calf", "Calf"
    FOOT = "foot", "Foot"
    TOES = "toes", "Toes"
    HAMSTRING = "hamstring", "Hamstring (back of thigh)"
    QUADRICEPS = "quadriceps", "Quadriceps (front of thigh)"
    SHIN = "shin", "Shin"
    OTHER = "other", "Other"


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    BOTH = "both", "Both"


class OnsetContext(models.TextChoices):
    WOKE_FROM_SLEEP = "woke_from_sleep", "Woke me from sleep"
    LYING_AWAKE = "lying_awake", "Lying awake"
    SITTING = "sitting", "Sitting"
    STANDING = "standing", "Standing"
    WALKING = "walking", "Walking"
    EXERCISING = "exercising", "Exercising"


class Relief(models.TextChoices):
    STRETCH = "stretch", "Stretching"
    WALK = "walk", "Walking it off"
    MASSAGE = "massage", "Massage"
    HEAT = "heat", "Heat"
    RESOLVED_ALONE = "resolved_alone", "It went by itself"
    OTHER = "other", "Something else"


class WalkingPainRelief(models.TextChoices):
    """For pain that came on while walking: what made it ease (claudication screen, R05)."""

    STANDING_STILL = "standing_still", "Eased within minutes of standing still"
    SITTING_OR_BENDING = "sitting_or_bending", "Eased only by sitting or bending forward"


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"


class FluidUnit(models.TextChoices):
    # Entry and display only: check-ins store cups of CUP_ML (CheckIn.fluids_cups).
    ML = "ml", "Millilitres (ml)"
    US_FL_OZ = "us_fl_oz", "US fluid ounces (fl oz)"


class Clock(models.TextChoices):
    # Blank follows the phone's language and region (the browser's locale).
    PHONE = "", "As the phone"
    H24 = "24h", "24-hour (23:30)"
    H12 = "12h", "12-hour (11:30 pm)"


class DrugClass(models.TextChoices):
    # Medicines that guidance associates with cramps (R06; insights.catalogue has the references).
    THIAZIDE_DIURETIC = "thiazide_diuretic", "Thiazide or thiazide-like diuretic"
    POTASSIUM_SPARING_DIURETIC = "potassium_sparing_diuretic", "Potassium-sparing diuretic"
    LOOP_DIURETIC = "loop_diuretic", "Loop diuretic"
    STATIN = "statin", "Statin"
    RALOXIFENE = "raloxifene", "Raloxifene"
    NIFEDIPINE = "nifedipine", "Nifedipine"
    OTHER_CALCIUM_CHANNEL_BLOCKER = "other_calcium_channel_blocker", "Other calcium-channel blocker"
    NICOTINIC_ACID = "nicotinic_acid", "Nicotinic acid (niacin)"
    INHALED_LABA = "inhaled_laba", "Inhaled long-acting beta-agonist"
    CONJUGATED_OESTROGENS = "conjugated_oestrogens", "Conjugated oestrogens"
    TERIPARATIDE = "teriparatide", "Teriparatide"
    IV_IRON = "iv_iron", "Intravenous iron"
    NAPROXEN = "naproxen", "Naproxen"
    QUININE = "quinine", "Quinine or tonic water"
    OTHER_MEDICINE = "other_medicine", "Other medicine"
    # Supplements and therapies are recorded neutrally (R06b).
    MAGNESIUM = "magnesium", "Magnesium supplement"
    CALCIUM = "calcium", "Calcium supplement"
    OTHER_SUPPLEMENT = "other_supplement", "Other supplement"
    ACUPUNCTURE = "acupuncture", "Acupuncture"
    MASSAGE_THERAPY = "massage_therapy", "Massage therapy"
    CHIROPRACTIC = "chiropractic", "Chiropractic"
    OTHER_THERAPY = "other_therapy", "Other therapy"


SUPPLEMENTS = frozenset({DrugClass.MAGNESIUM, DrugClass.CALCIUM, DrugClass.OTHER_SUPPLEMENT})
THERAPIES = frozenset(
    {DrugClass.ACUPUNCTURE, DrugClass.MASSAGE_THERAPY, DrugClass.CHIROPRACTIC, DrugClass.OTHER_THERAPY}
)


def course_kind(drug_class: str) -> str:
    if drug_class in SUPPLEMENTS:
        return "supplement"
    if drug_class in THERAPIES:
        return "therapy"
    return "medicine"


class DoseDirection(models.TextChoices):
    INCREASE = "increase", "Increased"
    DECREASE = "decrease", "Decreased"
    OTHER = "other", "Changed"
