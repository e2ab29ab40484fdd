"""A test's settings: deadlines short enough to reach in seconds, and the
environment that hands the settings to a child process."""

import os

import pytest

from complaints.policy import PriorityDeadlines, Span
from complaints.settings import Settings

# Assessments due within seconds; responses far off.
QUICK_ASSESSMENT = {
    p: PriorityDeadlines(assessment=Span.model_validate("3 seconds"), response=Span.model_validate("10 minutes"))
    for p in ("P1", "P2", "P3", "P4")
}


def spans(**values: str) -> dict[str, Span]:
    return {name: Span.model_validate(text) for name, text in values.items()}


# Response deadlines short of the regulatory maximum, so pauses and extensions show.
SHORT_RESPONSE = {
    p: PriorityDeadlines(assessment=Span.model_validate("5 days"), response=Span.model_validate("20 days"))
    for p in ("P1", "P2", "P3", "P4")
}


def tuned(settings: Settings, **changes: object) -> Settings:
    quick = spans(
        information_reminder="2 seconds",
        information_timeout="4 seconds",
        verdict_wait="60 seconds",
        survey_reminder="60 seconds",
        survey_wait="120 seconds",
        approval_wait="60 seconds",
    )
    return settings.model_copy(update={**quick, **changes})


def settings_environment(settings: Settings) -> dict[str, str]:
    """The process environment that gives a child process these settings."""
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url or "",
        "COMPLAINTS_DATA_DIR": str(settings.data_dir),
        "COMPLAINTS_TEMPORAL_ADDRESS": settings.temporal_address,
        "COMPLAINTS_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "COMPLAINTS_TASK_QUEUE": settings.task_queue,
        "COMPLAINTS_SMTP_HOST": settings.smtp_host,
        "COMPLAINTS_SMTP_PORT": str(settings.smtp_port),
        "COMPLAINTS_REFERENCE_PREFIX": settings.reference_prefix,
        "COMPLAINTS_PAYLOAD_KEYS": settings.payload_keys or "",
        "COMPLAINTS_WORKER_SHUTDOWN_GRACE_SECONDS": str(settings.worker_shutdown_grace_seconds),
        "COMPLAINTS_METRICS_ADDRESS": "",  # several workers may run at once
    }


def without_outside_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test gives: none of the settings of the shell running it."""
    for name in list(os.environ):
        if name.startswith("COMPLAINTS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
