"""Deploying (issue 13): docker-compose with pinned images, a non-root image, a .dockerignore,
one migrate job and scheduled clean-ups; plain Kubernetes manifests (web, worker, migrate Job,
CronJobs, probes) valid against the Kubernetes API schemas (kubernetes-validate, offline:
neither helm nor kubeconform installs from the registries here). Docker itself is not run
here (no daemon on this machine)."""

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"


def _manifests() -> list[tuple[str, dict[str, Any]]]:
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        for doc in yaml.safe_load_all(path.read_text())
        if doc
    ]


def _pod_specs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] in {"Deployment", "Job"}:
        return [doc["spec"]["template"]["spec"]]
    if doc["kind"] == "CronJob":
        return [doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]]
    return []


def _pinned(image: str) -> bool:
    _, _, tag = image.rpartition(":")
    return bool(tag) and "/" not in tag and tag != "latest" and bool(re.search(r"\d", tag))


@pytest.mark.parametrize(("name", "doc"), _manifests(), ids=lambda v: str(v)[:40])
def test_each_manifest_is_valid_kubernetes(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    for spec in _pod_specs(doc):
        assert spec["securityContext"]["runAsNonRoot"] is True
        for container in spec["containers"]:
            assert _pinned(container["image"]), container["image"]
            assert container["securityContext"]["allowPrivilegeEscalation"] is False


def test_a_broken_manifest_is_refused() -> None:
    web = next(doc for _, doc in _manifests() if doc["kind"] == "Deployment")
    broken = {**web, "spec": {**web["spec"], "replicas": "two"}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_workloads_are_there_with_their_probes() -> None:
    docs = {doc["metadata"]["name"]: doc for _, doc in _manifests()}
    (web,) = docs["depot-web"]["spec"]["template"]["spec"]["containers"]
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    (worker,) = docs["depot-worker"]["spec"]["template"]["spec"]["containers"]
    assert worker["command"][-1] == "depot_worker"
    assert docs["depot-migrate"]["kind"] == "Job"
    commands = {
        doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["command"][-1]
        for doc in docs.values()
        if doc["kind"] == "CronJob"
    }
    assert commands == {"purge_expired", "collect_orphans"}


def test_compose_pins_images_migrates_once_and_schedules_the_clean_ups() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    for name, service in services.items():
        if "image" in service and service["image"] != "depot:local":
            assert _pinned(service["image"]), (name, service["image"])
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    for name in ("depot", "worker", "scheduler"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
        assert "migrate" not in str(services[name].get("command", ""))
    assert services["worker"]["command"][-1] == "depot_worker"
    schedule = " ".join(services["scheduler"]["command"])
    assert "purge_expired" in schedule and "collect_orphans" in schedule
    # Presigned URLs name an endpoint the host can reach.
    assert "S3_PUBLIC_ENDPOINT_URL" in (ROOT / "docker-compose.yml").read_text()


def test_the_image_runs_as_a_user_and_does_not_migrate_at_start() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM (\S+)", dockerfile, re.MULTILINE)
    assert froms and all(_pinned(image) for image in froms)
    users = re.findall(r"^USER (\S+)", dockerfile, re.MULTILINE)
    assert users and users[-1] not in {"root", "0"}
    (cmd,) = re.findall(r"^CMD (.+)$", dockerfile, re.MULTILINE)
    assert "migrate" not in cmd
    copied = set(re.findall(r"^COPY (\S+) \1$", dockerfile, re.MULTILINE))
    packages = re.search(r"include = \[(.*?)\]", (ROOT / "pyproject.toml").read_text())
    assert packages
    for package in re.findall(r'"(\w+)\*"', packages.group(1)):
        assert package in copied, f"the image lacks {package}/"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "data", ".git"} <= set(ignored)
