"""System checks: a deployment without a usable VAPID key refuses to start (check, migrate, runserver)."""

from django.core.checks import Error, register

from .vapid import configuration_problem


@register()
def vapid_configured(app_configs, **kwargs):
    problem = configuration_problem()
    return [Error(problem, id="notifications.E001")] if problem else []
