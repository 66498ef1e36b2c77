"""Small formatting filters for the sharing and clinician pages."""

from django import template

from diary import choices
from sharing import alerts, figures

register = template.Library()

_LABELS = {
    "muscle": dict(choices.Muscle.choices),
    "side": dict(choices.Side.choices),
    "drug_class": dict(choices.DrugClass.choices),
    "context": dict(choices.OnsetContext.choices),
}


@register.filter
def label(value, vocabulary: str) -> str:
    """{{ episode.muscle|label:"muscle" }} -> "Calf"."""
    return str(_LABELS.get(vocabulary, {}).get(value, value or ""))


@register.filter
def rate(value) -> str:
    """Cramps per logged night, or a dash when no night was logged."""
    return "–" if value is None else f"{value:.2f}"


@register.filter
def window_rate(window) -> str:
    """A window's cramps per logged night, or why it is withheld: "logged 3 of 30 nights: too few for a rate"."""
    if window is None:
        return "–"
    if not window.enough:
        return figures.too_few(window)
    return f"{window.rate:.2f}/night"


@register.filter
def urgency(level: str) -> str:
    """An escalation level in words: "E1" -> "Same day"."""
    return alerts.URGENCY.get(level, level)


@register.filter
def ratio(value) -> str:
    return "–" if value is None else f"{value:.1f}×"


@register.filter
def percent(value) -> str:
    return "–" if value is None else f"{round(100 * value)}%"


@register.filter
def number(value) -> str:
    """A median or quartile: no trailing .0."""
    if value is None:
        return "–"
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


@register.filter
def interval(finding) -> str:
    if finding.ci_low is None and finding.ci_high is None:
        return ""
    low = "–" if finding.ci_low is None else f"{finding.ci_low:.2f}"
    high = "∞" if finding.ci_high is None else f"{finding.ci_high:.2f}"
    return f"{low}–{high}"


@register.filter
def flag_labels(names) -> str:
    """An episode's ticked warning signs, in words."""
    from diary.models import Episode, field_label

    def words(name: str) -> str:
        try:
            return field_label(Episode, name)
        except Exception:
            return name.replace("_", " ")

    return "; ".join(words(name) for name in names or ())
