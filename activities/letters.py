"""The texts the customer and operations receive, from Jinja2 templates."""

from datetime import datetime

from jinja2 import Environment, PackageLoader, StrictUndefined

from complaints.dates import LocalDates
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
        self._dates = LocalDates(settings.timezone, settings.locale)
        self._language = settings.locale.split("_")[0]

    def last_day(self, due_at: datetime | str) -> str:
        """The last day of a deadline due at `due_at` (LocalDates.last_day)."""
        return self._dates.last_day(due_at)

    def render(self, template_name: str, **values: object) -> tuple[str, str]:
        """Render `template_name` in the configured language: (subject, body).
        The template's first line is the subject."""
        template = _templates.get_template(f"{template_name}.{self._language}.txt")
        text = template.render(
            organisation=self._settings.organisation_name,
            date=self._dates.date,
            moment=self._dates.moment,
            last_day=self.last_day,
            outcome_labels=OUTCOME_LABELS,
            compensation_labels=COMPENSATION_LABELS,
            **values,
        )
        subject, _, body = text.partition("\n")
        return subject.strip(), body.lstrip("\n")
