"""The diary: cramp episodes, nightly check-ins, medication courses and the profile.

Rows that a phone may create offline carry a client-generated `uuid`, unique per
owner, so a retried sync can never create a duplicate. Internal primary keys
never leave the server; the API addresses rows by `uuid` (or check-ins by date).
"""

import re
import uuid
from collections.abc import Collection
from datetime import date
from uuid import UUID
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from . import choices
from .localtime import is_valid_zone, next_weekly, night_of

# The cup that CheckIn.fluids_cups counts: a metric cup, 250 ml (about 8.5 US fl oz).
CUP_ML = 250


def validate_zone(value: str) -> None:
    if not is_valid_zone(value):
        raise ValidationError(f'"{value}" is not an IANA time zone name (for example "Europe/London").')


def validate_phone_number(value: str) -> None:
    digits = sum(ch.isdigit() for ch in value)
    if not re.fullmatch(r"\+?[0-9][0-9 ().-]*", value) or not 2 <= digits <= 15:
        raise ValidationError(
            'Enter a phone number: digits, spaces and an optional leading + (for example "999" or "+44 20 7946 0000").'
        )


def field_label(model: type[models.Model], name: str) -> str:
    """A column's verbose name, as people read it (forms, exports, the clinician's pages)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field), f"{model.__name__}.{name} is not a column"
    return str(field.verbose_name)


def zero_to_ten():
    return [MinValueValidator(0), MaxValueValidator(10)]


# The conditions on a profile (risk factors in insights.catalogue; some switch rules off), in the
# order the API, the analysis panel and the clinician's dashboard use.
CONDITION_FIELDS = (
    "has_diabetes",
    "has_thyroid_disease",
    "has_pad",
    "has_lumbar_stenosis_or_disc",
    "has_liver_disease",
    "has_kidney_disease",
    "has_heart_failure",
    "has_neurological_disease",
    "on_fluid_restriction",
)


class Profile(models.Model):
    """Who the diary belongs to: time zone, the context the analysis needs, email choices."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_zone])
    # Whether a phone or the person has said which zone this is. Until then `timezone` is only the default,
    # and the phone app sets it to the phone's zone on first use, whatever page the person came in by.
    timezone_confirmed = models.BooleanField(default=False)
    # What the phone app offers to call beside a red flag; blank, it names "your local emergency number".
    emergency_number = models.CharField(max_length=20, blank=True, validators=[validate_phone_number])
    non_emergency_number = models.CharField(
        "non-emergency medical line", max_length=20, blank=True, validators=[validate_phone_number]
    )
    # How the phone app asks for and shows fluids and times; what is stored doesn't change.
    fluid_unit = models.CharField(max_length=8, choices=choices.FluidUnit.choices, default=choices.FluidUnit.ML)
    clock = models.CharField(max_length=3, choices=choices.Clock.choices, blank=True, default=choices.Clock.PHONE)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    sex = models.CharField(max_length=8, choices=choices.Sex.choices, blank=True)
    pregnant = models.BooleanField(default=False)
    due_date = models.DateField(null=True, blank=True)
    postmenopausal = models.BooleanField(default=False)

    # Conditions that change what the analysis may suggest (the catalogue's risk factors).
    has_diabetes = models.BooleanField(default=False)
    has_thyroid_disease = models.BooleanField(default=False)
    has_pad = models.BooleanField("peripheral arterial disease", default=False)
    has_lumbar_stenosis_or_disc = models.BooleanField(default=False)
    has_liver_disease = models.BooleanField(default=False)
    has_kidney_disease = models.BooleanField(default=False)
    has_heart_failure = models.BooleanField(default=False)
    has_neurological_disease = models.BooleanField(default=False)
    on_fluid_restriction = models.BooleanField(default=False)

    # Weekly pattern email: local weekday (0 = Monday) and hour in `timezone`. Monday 18:00 by default:
    # the week's last night, Sunday's, runs until Monday 12:00 and its check-in is made that morning, so
    # an earlier hour would report the week before that night is in.
    digest_enabled = models.BooleanField(default=True)
    digest_weekday = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(6)])
    digest_hour = models.PositiveSmallIntegerField(default=18, validators=[MaxValueValidator(23)])
    # The next send time in UTC, so "who is due" is one indexed comparison.
    digest_next_at = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)
    # Paused after several weeks without entries (notifications.delivery), until the diary changes again
    # (digest_paused): any entry, a profile save or an acknowledgement resumes it.
    digest_paused_at = models.DateTimeField(null=True, blank=True, editable=False)
    # An address the mail server refused for good (user unknown): no email goes to it again until the
    # person changes their address or turns the email back on (resume_digest).
    email_bounced_address = models.EmailField(blank=True, editable=False)
    email_bounced_at = models.DateTimeField(null=True, blank=True, editable=False)

    # R17: the person's own bedtime-stretch trial (alternating two-week blocks), if they opted in.
    stretch_trial_started_on = models.DateField(null=True, blank=True)

    # Durable "analyse me again" marker, written in the same transaction as the
    # change; the insights planner sweeps it, so a broker outage loses nothing.
    # Not indexed: every diary write updates it, and an indexed column makes each of those
    # updates a new index entry (not HOT), a profile row that bloats and a slow tail on
    # episode creates; the planner reads it once per tick and scans profiles
    # (README, "Architecture notes").
    diary_changed_at = models.DateTimeField(null=True, blank=True, editable=False)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"profile of {self.user}"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def schedule_digest(self, after=None) -> None:
        """Set the next weekly email time from the person's local day, hour and zone."""
        after = after or timezone.now()
        self.digest_next_at = next_weekly(after, self.zone, self.digest_weekday, self.digest_hour)

    @property
    def digest_paused(self) -> bool:
        return self.digest_paused_at is not None and not (
            self.diary_changed_at is not None and self.diary_changed_at > self.digest_paused_at
        )

    @property
    def email_bounced(self) -> bool:
        """The weekly email's address is the one that bounced (a new address starts afresh)."""
        return bool(self.email_bounced_address) and self.email_bounced_address == self.user.email

    def resume_digest(self) -> None:
        """The person turns the weekly email on: no longer paused, and their address is tried again."""
        self.digest_paused_at, self.email_bounced_address, self.email_bounced_at = None, "", None


def touch_diary(user_id: int) -> None:
    """Mark a diary as changed so the insights planner analyses it again."""
    Profile.objects.filter(user_id=user_id).update(diary_changed_at=timezone.now())


def diary_written(user_id: int, nights: Collection[date] = frozenset()) -> None:
    """What every diary write does, first thing in the row's own transaction.

    The diary is marked changed (touch_diary), and an episode's night can no longer be
    "no cramps" (correct_no_cramp_answers). DiaryRow.save and .delete call it, so the API,
    the sync, the importer and the admin all do, whichever way they reach the ORM.
    Marking updates the owner's profile row, which makes it the diary's write lock: a second
    write to the same diary waits until the first commits, so writes that touch several of
    its rows (a sync, a check-in upsert, an episode correcting a check-in) queue rather than
    deadlock. Hence first, before the row.
    """
    touch_diary(user_id)
    correct_no_cramp_answers(user_id, nights)


class DiaryRow(models.Model):
    """An owned diary row: saving or deleting it marks the diary for re-analysis (diary_written)."""

    class Meta:
        abstract = True

    # savepoint=False: inside a caller's transaction (create_once's savepoint) this adds no round trips;
    # a failure still undoes the row and its marker together.
    def save(self, *args, **kwargs):
        self.fill_derived()
        with transaction.atomic(savepoint=False):
            diary_written(self.owner_id(), self.nights())
            super().save(*args, **kwargs)

    @classmethod
    def create_all(cls, owner_id: int, rows: list) -> None:
        """Insert many new rows of one diary (an import): what saving each would do, in a few statements."""
        if not rows:
            return
        for row in rows:
            row.fill_derived()
        with transaction.atomic(savepoint=False):
            diary_written(owner_id, set().union(*(row.nights() for row in rows)))
            cls._default_manager.bulk_create(rows, batch_size=1000)

    def fill_derived(self) -> None:
        """Set the fields computed from others, before the row is written."""

    def delete(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            diary_written(self.owner_id())
            return super().delete(*args, **kwargs)

    def nights(self) -> set[date]:
        """The nights this row says had cramps."""
        return set()

    # Every diary row carries a client uuid (see the module docstring).
    uuid: UUID

    def owner_id(self) -> int:
        """The user whose diary this row is in."""
        raise NotImplementedError


# The checklist shown with every cramp: the flags the analysis, the clinician
# view and the exports all read. urge_to_move and spread_beyond_legs are features, not red flags.
CHECKLIST_FIELDS = (
    "numbness_tingling",
    "tingling_mouth_fingers",
    "weakness",
    "calf_swelling",
    "pain_between_cramps",
    "back_pain_radiating",
    "foot_pale_cold",
    "saddle_numbness",
    "dark_urine",
    "breathless_chest_pain",
    "urge_to_move",
    "spread_beyond_legs",
)


class Episode(DiaryRow):
    """One cramp. Minimal at 3 a.m. (when, muscle, side); details may follow."""

    uuid = models.UUIDField(default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="episodes")
    started_at = models.DateTimeField()
    time_approximate = models.BooleanField(default=False)
    # The zone the night was lived in: the phone's when it logged the cramp, else the profile's at that
    # moment. A later change of profile zone (a move, a trip) never moves a past cramp to another night.
    timezone = models.CharField(max_length=64, validators=[validate_zone])
    # Derived from started_at in the episode's own zone on save; see diary.localtime.
    night = models.DateField(editable=False)
    muscle = models.CharField(max_length=16, choices=choices.Muscle.choices)
    side = models.CharField(max_length=8, choices=choices.Side.choices)
    duration_minutes = models.DecimalField(
        max_digits=4,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(180)],
    )
    severity = models.PositiveSmallIntegerField(null=True, blank=True, validators=zero_to_ten())
    context = models.CharField(max_length=20, choices=choices.OnsetContext.choices, blank=True)
    hard_knot = models.BooleanField(null=True, blank=True)
    relief = models.CharField(max_length=16, choices=choices.Relief.choices, blank=True)
    soreness_hours = models.DecimalField(
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(72)],
    )

    # The red-flag checklist; each box is a report, unticked is "not reported".
    numbness_tingling = models.BooleanField("numbness or tingling in the leg or foot", default=False)
    tingling_mouth_fingers = models.BooleanField("tingling around the mouth or in the fingers", default=False)
    weakness = models.BooleanField(default=False)
    calf_swelling = models.BooleanField("calf swelling, redness or warmth", default=False)
    pain_between_cramps = models.BooleanField("pain that stays between cramps", default=False)
    back_pain_radiating = models.BooleanField("back pain radiating down the leg", default=False)
    foot_pale_cold = models.BooleanField("foot pale, blue or cold at rest", default=False)
    walking_pain_relief = models.CharField(max_length=20, choices=choices.WalkingPainRelief.choices, blank=True)
    saddle_numbness = models.BooleanField("saddle numbness or new bladder/bowel change", default=False)
    dark_urine = models.BooleanField(default=False)
    breathless_chest_pain = models.BooleanField("breathlessness or chest pain", default=False)
    urge_to_move = models.BooleanField("an urge to move that eased by moving", default=False)
    spread_beyond_legs = models.BooleanField("cramps spreading to arms or trunk", default=False)

    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "uuid"], name="episode_uuid_unique_per_user"),
            models.CheckConstraint(
                condition=Q(severity__isnull=True) | Q(severity__lte=10), name="episode_severity_0_10"
            ),
            models.CheckConstraint(
                condition=Q(duration_minutes__isnull=True)
                | (Q(duration_minutes__gte=0) & Q(duration_minutes__lte=180)),
                name="episode_duration_0_180",
            ),
        ]
        indexes = [
            # Episodes by night: the API's since/until filter, the check-in's "you logged cramps that
            # night" check, the weekly email's nights (notifications.digest) and the per-night counts of the panel.
            models.Index(fields=["user", "night"], name="episode_user_night"),
            # The newest-first list.
            models.Index(fields=["user", "-started_at"], name="episode_user_started"),
        ]

    def __str__(self):
        return f"{self.side} {self.muscle} cramp at {self.started_at:%Y-%m-%d %H:%M}"

    def fill_derived(self) -> None:
        if not self.timezone:
            self.timezone = self.user.profile.timezone
        self.night = night_of(self.started_at, self.zone)

    def owner_id(self) -> int:
        return self.user_id

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def nights(self) -> set[date]:
        return {self.night}

    @property
    def red_flags(self) -> list[str]:
        names = [name for name in CHECKLIST_FIELDS if name not in ("urge_to_move", "spread_beyond_legs")]
        flags = [name for name in names if getattr(self, name)]
        if self.walking_pain_relief:
            flags.append("walking_pain_relief")
        return flags


def correct_no_cramp_answers(user_id: int, nights: Collection[date]) -> None:
    """An episode is a positive fact: a "no cramps" answer for its night is corrected."""
    if nights:
        CheckIn.objects.filter(user_id=user_id, date__in=nights, no_cramps=True).update(no_cramps=False)


# The day's context on a check-in, in the order the API, the CSV files and the analysis use.
CHECKIN_CONTEXT_FIELDS = (
    "exercise_minutes",
    "exercise_intensity",
    "harder_than_usual",
    "steps",
    "fluids_cups",
    "heavy_sweating",
    "vomiting_diarrhoea",
    "feet_cold",
    "hours_sitting",
    "hours_standing",
    "long_travel",
    "stress",
    "sleep_hours",
    "sleep_disturbance",
    "stretched_before_bed",
)


class CheckIn(DiaryRow):
    """Day D's context and what happened in the night that follows it.

    `no_cramps` makes a cramp-free night a fact: True = "no cramps that night",
    False = "I had cramps", None = not answered yet (the night stays missing
    unless an episode was logged). Every context field is nullable so that
    "not recorded" is never read as "no".
    """

    uuid = models.UUIDField(default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="checkins")
    date = models.DateField()
    no_cramps = models.BooleanField(null=True, blank=True)

    bedtime = models.TimeField(null=True, blank=True)
    wake_time = models.TimeField(null=True, blank=True)
    exercise_minutes = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MaxValueValidator(24 * 60)])
    exercise_intensity = models.PositiveSmallIntegerField(null=True, blank=True, validators=zero_to_ten())
    harder_than_usual = models.BooleanField(null=True, blank=True)
    steps = models.PositiveIntegerField(null=True, blank=True, validators=[MaxValueValidator(150_000)])
    fluids_cups = models.DecimalField(
        help_text=f"cups of {CUP_ML} ml; the app asks in ml or US fl oz (Profile.fluid_unit) and stores cups",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(40)],
    )
    heavy_sweating = models.BooleanField(null=True, blank=True)
    vomiting_diarrhoea = models.BooleanField(null=True, blank=True)
    feet_cold = models.BooleanField("feet cold or uncovered at bedtime", null=True, blank=True)
    hours_sitting = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    hours_standing = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    long_travel = models.BooleanField("a journey over 4 hours", null=True, blank=True)
    stress = models.PositiveSmallIntegerField(null=True, blank=True, validators=zero_to_ten())
    sleep_hours = models.DecimalField(
        max_digits=3, decimal_places=1, null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(24)]
    )
    sleep_disturbance = models.PositiveSmallIntegerField(null=True, blank=True, validators=zero_to_ten())
    stretched_before_bed = models.BooleanField(null=True, blank=True)
    notes = models.TextField(max_length=2000, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            # One check-in per night. Its index serves the upsert's lookup by date, the API's since/until
            # filter, the "no cramps" correction (correct_no_cramp_answers) and the panel's check-ins by date.
            models.UniqueConstraint(fields=["user", "date"], name="checkin_one_per_user_and_date"),
            models.UniqueConstraint(fields=["user", "uuid"], name="checkin_uuid_unique_per_user"),
        ]

    def __str__(self):
        return f"check-in for {self.date}"

    def owner_id(self) -> int:
        return self.user_id


class MedicationCourse(DiaryRow):
    """A course of a medicine, supplement or therapy, with start and stop dates."""

    uuid = models.UUIDField(default=uuid.uuid4)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="medications")
    name = models.CharField(max_length=120)
    drug_class = models.CharField(max_length=32, choices=choices.DrugClass.choices)
    dose = models.CharField(max_length=60, blank=True)
    started_on = models.DateField()
    stopped_on = models.DateField(null=True, blank=True)
    notes = models.TextField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-started_on", "name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "uuid"], name="medication_uuid_unique_per_user"),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=models.F("started_on")),
                name="medication_stops_after_start",
            ),
        ]
        indexes = [
            # Date-range lists and the analysis' "courses started in this window".
            models.Index(fields=["user", "started_on"], name="medication_user_started"),
        ]

    def __str__(self):
        return f"{self.name} from {self.started_on}"

    @property
    def kind(self) -> str:
        return choices.course_kind(self.drug_class)

    def is_active_on(self, day: date) -> bool:
        return self.started_on <= day and (self.stopped_on is None or day <= self.stopped_on)

    def owner_id(self) -> int:
        return self.user_id


class DoseChange(DiaryRow):
    """A dose change within a course; an increase counts as a new exposure for R06."""

    uuid = models.UUIDField(default=uuid.uuid4)
    course = models.ForeignKey(MedicationCourse, on_delete=models.CASCADE, related_name="dose_changes")
    changed_on = models.DateField()
    direction = models.CharField(max_length=10, choices=choices.DoseDirection.choices)
    dose = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["changed_on"]
        constraints = [
            models.UniqueConstraint(fields=["course", "uuid"], name="dose_change_uuid_unique_per_course"),
        ]

    def __str__(self):
        return f"{self.direction} on {self.changed_on}"

    def owner_id(self) -> int:
        return self.course.user_id
