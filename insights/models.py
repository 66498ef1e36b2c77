"""Stored results of the analysis, read by the PWA, the weekly email and clinicians."""

from django.conf import settings
from django.db import models


class AnalysisState(models.Model):
    """When a diary was last analysed, and when the planner last queued it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="analysis_state"
    )
    analysed_at = models.DateTimeField(null=True, blank=True)
    version = models.CharField(max_length=16, blank=True)
    # Claimed with a conditional UPDATE so two planners never queue the same diary twice.
    planned_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"analysis state of {self.user_id}"


class Finding(models.Model):
    """One rule's result for one diary; replaced wholesale by each analysis."""

    class Status(models.TextChoices):
        INSUFFICIENT_DATA = "insufficient_data", "Not enough data yet"
        NO_CLEAR_PATTERN = "no_clear_pattern", "No clear pattern"
        POSSIBLE_PATTERN_HIGHER = "possible_pattern_higher", "Possible pattern: more cramps"
        POSSIBLE_PATTERN_LOWER = "possible_pattern_lower", "Possible pattern: fewer cramps"
        ESCALATION = "escalation", "Talk to a clinician"
        INFO = "info", "Information"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="findings")
    key = models.CharField(max_length=120)
    rule = models.CharField(max_length=8)
    trigger = models.CharField(max_length=64)
    status = models.CharField(max_length=32, choices=Status.choices)
    escalation = models.CharField(max_length=2, blank=True)
    rank = models.PositiveSmallIntegerField(help_text="0 = most urgent")
    counts = models.JSONField(default=dict)
    rate_ratio = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    nights_needed = models.PositiveIntegerField(null=True)
    message = models.TextField()
    tip = models.TextField(blank=True)
    source = models.TextField(blank=True)
    firm = models.BooleanField(default=False)
    # When the current status was first seen, for "possible" vs firmer wording.
    first_detected_at = models.DateTimeField(null=True)
    first_detected_nights = models.PositiveIntegerField(null=True)
    analysis_version = models.CharField(max_length=16)
    analysed_at = models.DateTimeField()

    class Meta:
        ordering = ["user", "rank"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="finding_key_unique_per_user")]
        # The (user, key) unique index also serves "this person's findings in rank order" lists.

    def __str__(self):
        return f"{self.rule} {self.status} for {self.user_id}"


# Every red flag a person can acknowledge (insights.diary_stats.FLAGS), in the words of the insights
# page's history and the clinician's pages: the checklist boxes, spreading cramps and two count rules.
RED_FLAG_CHOICES = [
    ("breathless_chest_pain", "Breathlessness or chest pain"),
    ("calf_swelling", "A swollen, red or warm calf"),
    ("saddle_numbness", "Numbness between the legs or a new bladder or bowel problem"),
    ("weakness", "New muscle weakness"),
    ("dark_urine", "Dark or cola-coloured urine"),
    ("foot_pale_cold", "A foot pale, blue or cold and painful at rest"),
    ("numbness_tingling", "Numbness or tingling in the leg or foot"),
    ("tingling_mouth_fingers", "Tingling around the mouth or in the fingers"),
    ("pain_between_cramps", "Pain that stays between cramps"),
    ("spread_beyond_legs", "Cramps spreading to the arms or body"),
    ("walking_pain", "Pain on walking that eases with rest, twice within 30 days"),
    ("long_cramps", "Cramps over 10 minutes, three times within 30 days"),
]


class RedFlagAcknowledgement(models.Model):
    """The person says they have seen a clinician about a red flag.

    The flag leaves the active findings and stays in the history; a report of it
    in an episode that starts after `reported_until` raises it again.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="red_flag_acknowledgements"
    )
    flag = models.CharField(max_length=32, choices=RED_FLAG_CHOICES)
    first_reported_on = models.DateField(help_text="the person's local date of the first report it covers")
    last_reported_on = models.DateField()
    reported_until = models.DateTimeField(help_text="start of the latest report it covers")
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [
            # One acknowledgement per report: a repeated or concurrent POST adds nothing. Its index also
            # serves the panel's "latest acknowledged report per flag" query for a chunk of people.
            models.UniqueConstraint(fields=["user", "flag", "reported_until"], name="one_acknowledgement_per_report")
        ]

    def __str__(self):
        return f"{self.flag} acknowledged by {self.user_id} on {self.acknowledged_at:%Y-%m-%d}"
