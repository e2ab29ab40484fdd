"""The texts the customer and operations receive, from Jinja2 templates."""

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined

from complaints.settings import Settings

_templates = Environment(
    loader=PackageLoader("activities", "templates"),
    undefined=StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,  # plain-text mail; HTML templates set their own escaping
)


OUTCOME_LABELS = {
    "accepted": "votre réclamation est acceptée",
    "partially_accepted": "votre réclamation est partiellement acceptée",
    "rejected": "nous ne pouvons pas donner une suite favorable à votre réclamation",
}
COMPENSATION_LABELS = {
    "credit_note": "un avoir",
    "refund": "un remboursement",
    "complimentary_service": "une prestation complémentaire",
    "commercial_gesture": "un geste commercial",
    "apology": "nos excuses",
}


class Letters:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._tz = ZoneInfo(settings.timezone)
        self._language = settings.locale.split("_")[0]

    def render(self, template_name: str, **values: object) -> tuple[str, str]:
        """Render `template_name` in the configured language: (subject, body).
        The template's first line is the subject."""
        template = _templates.get_template(f"{template_name}.{self._language}.txt")
        text = template.render(
            organisation=self._settings.organisation_name,
            date=self.date,
            moment=self.moment,
            outcome_labels=OUTCOME_LABELS,
            compensation_labels=COMPENSATION_LABELS,
            **values,
        )
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")

    def date(self, value: datetime | str) -> str:
        value = _as_datetime(value)
        return format_date(value.astimezone(self._tz), format="long", locale=self._settings.locale)

    def moment(self, value: datetime | str) -> str:
        value = _as_datetime(value)
        return format_datetime(value.astimezone(self._tz), format="d MMMM y, HH:mm", locale=self._settings.locale)


def _as_datetime(value: datetime | str) -> datetime:
    """Values carried through workflow payloads arrive as ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value
