"""Erasing an account. Every row with a foreign key to the user (or to one of their rows)
is deleted by Django's cascade in the same transaction; this module adds what no foreign
key reaches: the admin's history entries about the user and their rows, whose
object_repr (the row's str()) would otherwise outlive them.

The clinician-access log is the one deliberate exception, documented in docs/sharing.md: when
a *clinician* erases their account, the patients' logs of what they read stay (with the
clinician's email), because they are the patients' record, not the clinician's.
"""

from functools import cache

from django.apps import apps
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q
from django.db.models.functions import Cast
from django.db.models.signals import pre_delete
from django.dispatch import receiver

MAX_HOPS = 3


@cache
def user_lookups() -> dict:
    """{model: [lookup, ...]}: every chain of foreign keys (up to MAX_HOPS) from a model to the
    user model, as ORM lookups ("user", "course__user", "email_address__user")."""
    user_model = apps.get_model(settings.AUTH_USER_MODEL)
    reach: dict = {user_model: {""}}
    for _ in range(MAX_HOPS):
        for model in apps.get_models(include_auto_created=True):
            for field in model._meta.concrete_fields:
                if not (field.many_to_one or field.one_to_one):
                    continue
                for rest in list(reach.get(field.related_model, ())):
                    reach.setdefault(model, set()).add(f"{field.name}__{rest}" if rest else field.name)
    reach.pop(user_model)
    return {model: sorted(lookups) for model, lookups in reach.items()}


@receiver(pre_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="accounts.erase_admin_history")
def erase_admin_history(sender, instance, using, **kwargs):
    history = LogEntry.objects.using(using)
    history.filter(content_type=ContentType.objects.get_for_model(sender), object_id=str(instance.pk)).delete()
    for model, lookups in user_lookups().items():
        if model is LogEntry or model._meta.auto_created:
            continue
        owned = Q()
        for lookup in lookups:
            owned |= Q(**{lookup: instance.pk})
        ids = model._base_manager.using(using).filter(owned).annotate(text_pk=Cast("pk", CharField())).values("text_pk")
        history.filter(content_type=ContentType.objects.get_for_model(model), object_id__in=ids).delete()
