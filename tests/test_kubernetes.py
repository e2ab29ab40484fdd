"""deploy/k8s/ checked against the code it deploys, from the files themselves
(.ci/run also renders every overlay with kustomize and validates the output
against Kubernetes' schemas): the settings it gives exist and hold no secret,
no Secret is written out, every long-running process has probes that mean
something, the autoscaler drives the workers, the search attributes are the
code's. Needs no server."""

import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from complaints import search_attributes
from complaints.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
SECRET_SETTINGS = {
    "DATABASE_URL",
    "COMPLAINTS_LINK_SECRET",
    "COMPLAINTS_PAYLOAD_KEYS",
    "COMPLAINTS_CODEC_TOKENS",
    "COMPLAINTS_TEMPORAL_API_KEY",
    "COMPLAINTS_SMTP_PASSWORD",
    "COMPLAINTS_ALERT_WEBHOOK_SECRET",
}


def _documents() -> list[dict[str, Any]]:
    return [
        document
        for path in sorted(K8S.rglob("*.yaml"))
        for document in yaml.safe_load_all(path.read_text())
        if document and path.name != "kustomization.yaml"
    ]


def _deployments() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in _documents() if d["kind"] == "Deployment"}


def _env_file(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def _fields(values: dict[str, str]) -> dict[str, Any]:
    """Environment variables as Settings' field names."""
    return {name.removeprefix("COMPLAINTS_").lower(): value for name, value in values.items()}


def test_settings_exist_and_hold_no_secret() -> None:
    for path in K8S.rglob("*.env"):
        values = _env_file(path)
        unknown = {name for name in values if name.removeprefix("COMPLAINTS_").lower() not in Settings.model_fields}
        assert not unknown, f"{path.relative_to(ROOT)}: no such setting: {unknown}"
        assert not SECRET_SETTINGS & set(values), f"{path.relative_to(ROOT)} writes out a secret"
    merged = {
        **_env_file(K8S / "base" / "settings.env"),
        **_env_file(K8S / "overlays" / "self-hosted" / "temporal.env"),
    }
    Settings(_env_file=None, **_fields(merged))


def test_no_secret_is_written_out() -> None:
    assert all(d["kind"] != "Secret" for d in _documents())
    for path in K8S.rglob("kustomization.yaml"):
        assert "secretGenerator" not in yaml.safe_load(path.read_text()), f"{path.relative_to(ROOT)}"


def test_every_process_has_probes_the_worker_its_own() -> None:
    deployments = _deployments()
    assert set(deployments) == {"complaints-worker", "complaints-api", "complaints-inbound", "complaints-codec"}
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"] and container["readinessProbe"], name
        assert container["resources"]["limits"]["memory"], name
    worker = deployments["complaints-worker"]["spec"]["template"]["spec"]["containers"][0]
    port = _env_file(K8S / "base" / "settings.env")["COMPLAINTS_WORKER_HEALTH_ADDRESS"].rpartition(":")[2]
    assert {p["name"]: p["containerPort"] for p in worker["ports"]}["health"] == int(port)
    assert worker["livenessProbe"]["httpGet"]["path"] == "/health/live"
    assert worker["readinessProbe"]["httpGet"]["path"] == "/health/ready"
    assert worker["args"] == ["worker"]


def test_the_autoscaler_drives_the_workers() -> None:
    (autoscaler,) = [d for d in _documents() if d["kind"] == "HorizontalPodAutoscaler"]
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "complaints-worker"
    assert autoscaler["spec"]["minReplicas"] >= 2  # one replaced while the other polls


def test_search_attributes_registered_are_those_of_the_code() -> None:
    (job,) = [d for d in _documents() if d["kind"] == "Job"]
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["SEARCH_ATTRIBUTES"].split() == search_attributes.cli_flags()[1::2]


def test_generated_kubernetes_secrets_are_accepted_by_the_settings() -> None:
    script = ROOT / "deploy" / "generate-secrets.py"
    out = subprocess.run([sys.executable, str(script), "--kubernetes"], check=True, capture_output=True, text=True)
    values = dict(line.split("=", 1) for line in out.stdout.splitlines())
    assert set(values) == {"COMPLAINTS_LINK_SECRET", "COMPLAINTS_CODEC_TOKENS", "COMPLAINTS_PAYLOAD_KEYS"}
    settings = Settings(_env_file=None, **_fields(values))
    assert settings.payload_keys and settings.codec_tokens and settings.link_secret
