"""Grants (a patient's permission for one clinician, or one practice, to read their diary),
practices and their members, and the access log.

A grant starts as an offer: an emailed invitation (a link carrying a random
token) or a short share code the patient reads out. Only hashes of the token and
the code are stored. A clinician accepts the offer once, for themself or for a
practice they belong to; from then until `expires_at` or `revoked_at` the grant is
active, and every read of the patient's data through it writes an AccessLog row
naming the clinician who read.
"""

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from diary.models import field_label

DEFAULT_DAYS = 90
MAX_DAYS = 365
CODE_VALID_FOR = timedelta(hours=24)
INVITATION_VALID_FOR = timedelta(days=7)


class Practice(models.Model):
    """A GP surgery or a clinic: patients share with it, and every current member reads."""

    # The public id in the clinician's URLs.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self):
        return self.name


class PracticeMembership(models.Model):
    """A clinician account in a practice. Removing a member deletes the row: their access ends
    with it, on their next request; the access log keeps what they read."""

    class Role(models.TextChoices):
        MEMBER = "member", "Member"
        ADMIN = "admin", "Admin"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships", db_index=False)
    # Its own index serves "the practices of this clinician" in every access check.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="practice_memberships")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.MEMBER)
    added_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            # Also the index for "the members of this practice".
            models.UniqueConstraint(fields=["practice", "user"], name="one_membership_per_practice_and_user"),
        ]

    def __str__(self):
        return f"{self.user} in {self.practice} ({self.role})"

    def clean(self):
        # Django admin's check; sharing.practices adds clinician accounts only.
        if self.user_id and not self.user.is_clinician:
            raise ValidationError({"user": "Only clinician accounts can be members of a practice."})

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class GrantQuerySet(models.QuerySet):
    def active(self, now: datetime | None = None) -> "GrantQuerySet":
        """Accepted, not revoked, not expired: checked in SQL on every request, never cached."""
        now = now or timezone.now()
        accepted = Q(clinician__isnull=False) | Q(practice__isnull=False)
        return self.filter(accepted, revoked_at__isnull=True, expires_at__gt=now)

    def active_for(self, clinician, patient=None, now: datetime | None = None) -> "GrantQuerySet":
        """Grants to the clinician, and to every practice they are a member of at this moment."""
        practices = PracticeMembership.objects.filter(user=clinician).values("practice_id")
        grants = self.active(now).filter(Q(clinician=clinician) | Q(practice__in=practices))
        return grants.filter(patient=patient) if patient is not None else grants

    def open_offers(self, now: datetime | None = None) -> "GrantQuerySet":
        """Invitations and codes that can still be accepted."""
        now = now or timezone.now()
        return self.filter(
            clinician__isnull=True,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            offer_expires_at__gt=now,
            expires_at__gt=now,
        )


class Grant(models.Model):
    class Kind(models.TextChoices):
        INVITATION = "invitation", "Email invitation"
        CODE = "code", "Share code"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be accepted"
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    # The public id: it names this patient to this clinician only (URLs, API), never a user id.
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Not indexed alone: the (patient, -created_at) index below serves lookups by patient.
    patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grants_given", db_index=False
    )
    # Null until accepted. A clinician who deletes their account leaves the grant (and its log) behind, inactive.
    # Its own index serves that SET NULL and "this clinician's grants, revoked ones too".
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="grants_received"
    )
    # Or to a practice (never both): every current member reads. Practices are not deleted
    # while a grant names one, so the grant and its log always say which practice it was.
    practice = models.ForeignKey(
        Practice, on_delete=models.PROTECT, null=True, blank=True, related_name="grants", db_index=False
    )
    clinician_email = models.EmailField(blank=True, help_text="the accepting clinician's address, kept for the patient")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    invited_email = models.EmailField(blank=True)
    # sha256 of the invitation token / keyed HMAC of the share code (sharing.codes); never the secret itself.
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    code_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    offer_expires_at = models.DateTimeField(help_text="until when the invitation or code can be accepted")

    episodes_checkins = models.BooleanField("episodes and check-ins", default=True)
    insights = models.BooleanField("findings and red flags", default=True)
    medications = models.BooleanField("medications", default=True)
    notes = models.BooleanField("free-text notes", default=False)

    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Claimed with a conditional UPDATE so the patient's "first view" email goes out once.
    first_viewed_at = models.DateTimeField(null=True, blank=True)
    first_view_notified_at = models.DateTimeField(null=True, blank=True)

    objects = GrantQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")), name="grant_expires_after_creation"),
            models.CheckConstraint(
                condition=(Q(kind="invitation") & Q(token_hash__isnull=False) & ~Q(invited_email=""))
                | (Q(kind="code") & Q(code_hash__isnull=False)),
                name="grant_offer_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(clinician__isnull=True) | Q(accepted_at__isnull=False),
                name="grant_clinician_only_once_accepted",
            ),
            # To a clinician or to a practice, never both. "Exactly one" holds from acceptance
            # until a clinician deletes their account, which sets `clinician` to NULL.
            models.CheckConstraint(
                condition=Q(clinician__isnull=True) | Q(practice__isnull=True), name="grant_to_clinician_or_practice"
            ),
            models.CheckConstraint(
                condition=Q(practice__isnull=True) | Q(accepted_at__isnull=False),
                name="grant_practice_only_once_accepted",
            ),
            models.CheckConstraint(condition=~Q(patient=F("clinician")), name="grant_not_to_oneself"),
            # One open grant per patient and clinician, so a clinician's URL names one patient.
            # Accepting a new offer revokes the previous grant of the pair in the same transaction.
            models.UniqueConstraint(
                fields=["patient", "clinician"],
                condition=Q(clinician__isnull=False, revoked_at__isnull=True),
                name="one_open_grant_per_patient_and_clinician",
            ),
            models.UniqueConstraint(
                fields=["patient", "practice"],
                condition=Q(practice__isnull=False, revoked_at__isnull=True),
                name="one_open_grant_per_patient_and_practice",
            ),
        ]
        indexes = [
            # The patient's list of grants, newest first.
            models.Index(fields=["patient", "-created_at"], name="grant_patient_created"),
            # The clinician's dashboard and every access check: unrevoked grants of one clinician by expiry.
            models.Index(
                fields=["clinician", "expires_at"], condition=Q(revoked_at__isnull=True), name="grant_clinician_open"
            ),
            # The same for a practice's grants (and PROTECT's check when a practice is deleted).
            models.Index(
                fields=["practice", "expires_at"], condition=Q(practice__isnull=False), name="grant_practice_open"
            ),
        ]

    def __str__(self):
        return f"{self.patient} → {self.recipient} ({self.status()})"

    @property
    def recipient(self) -> str:
        """Who reads (or was offered) the diary, in words for the patient."""
        return self.practice_name or self.clinician_email or self.invited_email or "share code"

    @property
    def practice_name(self) -> str | None:
        return self.practice.name if self.practice is not None else None

    def status(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.revoked_at:
            return self.Status.REVOKED
        if self.expires_at <= now:
            return self.Status.EXPIRED
        if self.accepted_at is None:
            return self.Status.EXPIRED if self.offer_expires_at <= now else self.Status.PENDING
        if self.clinician_id is None and self.practice_id is None:  # the clinician deleted their account
            return self.Status.REVOKED
        return self.Status.ACTIVE

    def is_active(self, now: datetime | None = None) -> bool:
        return self.status(now) == self.Status.ACTIVE

    @property
    def last_day(self):
        """The last day of access in the patient's zone (access ends at the midnight after it)."""
        local = self.expires_at.astimezone(self.patient.profile.zone)
        return (local - timedelta(microseconds=1)).date()

    @property
    def scope_names(self) -> list[str]:
        return [field_label(Grant, name) for name in SCOPES if getattr(self, name)]


# The scope flags, in the order they are shown.
SCOPES = ("episodes_checkins", "insights", "medications", "notes")


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("The access log is append-only.")

    def delete(self):
        raise TypeError("The access log is append-only; rows go only with the patient's account.")


class AccessLog(models.Model):
    """One clinician read of one patient's data. Append-only: rows are never changed or removed
    (a database trigger refuses UPDATE); they go only when the patient erases their account."""

    class What(models.TextChoices):
        DASHBOARD = "dashboard", "Dashboard summary"
        PATIENT_PAGE = "patient_page", "Patient page"
        REPORT = "report", "Report"
        REPORT_PDF = "report_pdf", "Report (PDF download)"
        EXPORT_CSV = "export_csv", "CSV export"
        EXPORT_FHIR = "export_fhir", "FHIR export"
        API_PATIENTS = "api:patients", "API: patient list"
        API_PATIENT = "api:patient", "API: patient summary"
        API_EPISODES = "api:episodes", "API: episodes"
        API_CHECKINS = "api:checkins", "API: check-ins"
        API_MEDICATIONS = "api:medications", "API: medications"
        API_FINDINGS = "api:findings", "API: findings"

    # The two composite indexes below lead with grant and patient, so no single-column ones.
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="access_log", db_index=False)
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    # No database constraint and no cascade: a clinician deleting their account must not rewrite the log.
    clinician = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    clinician_email = models.EmailField()
    what = models.CharField(max_length=32, choices=What.choices)
    detail = models.CharField(max_length=200, blank=True, help_text="e.g. the date range of a report")
    at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            # The patient's access log, newest first.
            models.Index(fields=["patient", "-at"], name="accesslog_patient_at"),
            # Per-grant view counts and last view on the patient's list of grants.
            models.Index(fields=["grant", "-at"], name="accesslog_grant_at"),
        ]

    def __str__(self):
        return f"{self.clinician_email} read {self.what} of {self.patient_id} at {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("The access log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("The access log is append-only; rows go only with the patient's account.")


def default_expiry(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(days=DEFAULT_DAYS)
