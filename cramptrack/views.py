"""The phone app: server-rendered page shells that static ES modules enhance,
plus its service worker and web app manifest.

Shells hold no diary data (the modules fetch it from /api/v1/ and keep a copy
in IndexedDB), so the service worker can cache them and the app opens offline.
"""

import hashlib
import json
from functools import cache

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_safe

from diary import choices
from diary.models import CHECKLIST_FIELDS, Episode, field_label
from insights.catalogue import CATALOGUE, ESCALATION_LEVELS, KEY_TITLES, RULES
from insights.red_flags import urgent_checklist

STATIC_DIR = settings.BASE_DIR / "static"

# The pages the service worker caches at install, so each opens offline.
SHELL_PAGES = ["/", "/diary/", "/checkin/", "/episode/", "/insights/", "/settings/"]

RED_FLAG_FIELDS = list(CHECKLIST_FIELDS)


def split_label(label: str) -> tuple[str, str]:
    """ "Hamstring (back of thigh)" -> ("Hamstring", "back of thigh") for a two-line button."""
    main, _, detail = str(label).partition(" (")
    return main, detail.rstrip(")")


def vocabulary() -> dict:
    """Choice labels the modules need to describe rows (lists, the outbox)."""
    return {
        "muscle": dict(choices.Muscle.choices),
        "side": dict(choices.Side.choices),
        "context": dict(choices.OnsetContext.choices),
        "relief": dict(choices.Relief.choices),
        "drug_class": dict(choices.DrugClass.choices),
    }


def page(template: str, script: str, **context):
    """A logged-in app page; the CSRF cookie is set so the modules can write."""

    @login_required
    @ensure_csrf_cookie
    @require_safe
    def view(request):
        # Messages show on the page they lead to (an email confirmed, a confirmation sent), once:
        # a page carrying one is never stored by the service worker (no-store) as the cached shell.
        notices = list(messages.get_messages(request))
        response = render(
            request,
            template,
            {"script": f"js/{script}.js", "vocab": json.dumps(vocabulary()), "notices": notices, **context},
        )
        if notices:
            response["Cache-Control"] = "no-store"
        return response

    return view


def episode_form_context() -> dict:
    return {
        "muscles": [(value, *split_label(label)) for value, label in choices.Muscle.choices],
        "sides": choices.Side.choices,
        "contexts": choices.OnsetContext.choices,
        "reliefs": choices.Relief.choices,
        "walking_reliefs": choices.WalkingPainRelief.choices,
        "red_flags": [(name, field_label(Episode, name).capitalize()) for name in RED_FLAG_FIELDS],
        # Static, so in the cached page: the advice shows offline, the moment a box is ticked and saved.
        "urgent_flags": json.dumps(urgent_checklist()),
        "scale": range(11),
    }


def insights_context() -> dict:
    titles = {
        "triggers": {key: entry.title for key, entry in CATALOGUE.items()},
        "rules": {key: rule.title for key, rule in RULES.items()},
        "keys": KEY_TITLES,
        "levels": {key: {"label": label, "action": action} for key, (label, action) in ESCALATION_LEVELS.items()},
    }
    return {"titles": json.dumps(titles)}


def settings_context() -> dict:
    classes = choices.DrugClass.choices
    return {
        "drug_groups": [
            ("Medicines", [(v, label) for v, label in classes if choices.course_kind(v) == "medicine"]),
            ("Supplements", [(v, label) for v, label in classes if choices.course_kind(v) == "supplement"]),
            ("Therapies", [(v, label) for v, label in classes if choices.course_kind(v) == "therapy"]),
        ],
        "sexes": choices.Sex.choices,
        "fluid_units": [(choices.FluidUnit.ML, "ml"), (choices.FluidUnit.US_FL_OZ, "US fl oz")],
        "clocks": [
            (choices.Clock.PHONE, "As the phone"),
            (choices.Clock.H24, "24 h: 23:30"),
            (choices.Clock.H12, "12 h: 11:30 pm"),
        ],
        # Kept on the device (localStorage), not on the server: see layout.html.
        "themes": [("system", "As the phone"), ("light", "Light"), ("dark", "Dark")],
        "weekdays": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
        "hours": range(24),
        "nudge_hours": range(1, 7),
    }


home = page("log.html", "log", **episode_form_context())
episode = page("episode.html", "episode", **episode_form_context())
checkin = page("checkin.html", "checkin", scale=range(11))
diary = page("diary.html", "diary")
insights = page("insights.html", "insights", **insights_context())
settings_page = page("settings.html", "settings", **settings_context())
welcome = page("welcome.html", "welcome")


# --- Service worker and manifest ------------------------------------------------


def precached_assets() -> list[str]:
    """Every file the app shell needs: the stylesheet, the modules and the icons."""
    return sorted(
        path.relative_to(STATIC_DIR).as_posix()
        for pattern in ("css/*.css", "js/*.js", "icons/*.png")
        for path in STATIC_DIR.glob(pattern)
    )


@cache
def _cached_version() -> str:
    return _version()


def _version() -> str:
    """Changes whenever a cached file or the worker itself changes, so phones update."""
    digest = hashlib.sha256()
    for path in [*(STATIC_DIR / name for name in precached_assets()), settings.BASE_DIR / "templates" / "sw.js"]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


@require_safe
def service_worker(request):
    context = {
        "version": _version() if settings.DEBUG else _cached_version(),
        "precache": json.dumps([*SHELL_PAGES, *(static(name) for name in precached_assets())], indent=2),
        "shell_pages": json.dumps(SHELL_PAGES),
    }
    response = render(request, "sw.js", context, content_type="text/javascript; charset=utf-8")
    # Browsers check for a new worker on navigation; a cached copy would pin an old app.
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


THEME_DARK = "#0d111c"


@require_safe
def manifest(request):
    icon = {"type": "image/png"}
    body = {
        "id": "/",
        "name": "CrampTrack: leg-cramp diary",
        "short_name": "CrampTrack",
        "description": "Log night leg cramps in seconds, even offline, and see what goes with them.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": THEME_DARK,
        "theme_color": THEME_DARK,
        "categories": ["health", "medical", "lifestyle"],
        "icons": [
            {**icon, "src": static("icons/icon-192.png"), "sizes": "192x192", "purpose": "any"},
            {**icon, "src": static("icons/icon-512.png"), "sizes": "512x512", "purpose": "any"},
            {**icon, "src": static("icons/icon-maskable-512.png"), "sizes": "512x512", "purpose": "maskable"},
        ],
        "shortcuts": [
            {
                "name": "Cramp now",
                "short_name": "Cramp now",
                "url": "/?now",
                "description": "Log a cramp happening now",
            },
            {
                "name": "Morning check-in",
                "short_name": "Check-in",
                "url": "/checkin/?morning",  # last night's question first, then yesterday's context
                "description": "Any cramps last night?",
            },
        ],
    }
    response = HttpResponse(json.dumps(body, indent=2), content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
