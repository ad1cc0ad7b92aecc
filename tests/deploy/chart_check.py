"""`make chart-check`: lint and render the Helm chart and the k8s overlays, validate every manifest.

The chart is linted and rendered by Helm's own engine through helm-python-sdk (no helm binary),
the overlays by kubectl's built-in kustomize, and every manifest is checked against the
Kubernetes API schemas of the oldest supported and the newest release with kubernetes-validate.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import helm_python as helm
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "helm" / "skywatch"
CHART_VALUE_SETS = sorted((CHART / "ci").glob("*-values.yaml"))
OVERLAYS = [ROOT / "k8s" / "overlays" / "dev", ROOT / "k8s" / "overlays" / "prod"]
OLDEST_KUBERNETES = "1.27"
KUBERNETES_VERSIONS = (OLDEST_KUBERNETES, kubernetes_validate.latest_version())
# Helm's lint severities: 1 info, 2 warning, 3 error.
LINT_WARNING = 2


class CheckFailed(Exception):
    """A lint finding, a render error or an invalid manifest."""


def load_values(path: Path) -> dict:
    """A values file as a dict."""
    return yaml.safe_load(path.read_text()) or {}


def lint_chart(values: dict) -> list[str]:
    """Helm's lint findings at warning level or worse (strict mode)."""
    result = helm.lint(str(CHART), values, strict=True, kube_version=OLDEST_KUBERNETES)
    findings = [
        f"{m['path']}: {m['error']}"
        for m in result.get("messages", [])
        if m.get("severity", 0) >= LINT_WARNING
    ]
    return findings + [str(error) for error in result.get("errors", [])]


def render_chart(
    values: dict, *, name: str = "skywatch", namespace: str = "skywatch"
) -> list[dict]:
    """The chart's manifests for these values, as `helm install` would apply them."""
    with helm.Chart.load(str(CHART)) as chart:
        chart.validate_schema(chart.merge_values(values))
        files = chart.render(values, name=name, namespace=namespace, is_install=True)
    documents = []
    for path, text in sorted(files.items()):
        if path.endswith(".yaml"):
            documents += [doc for doc in yaml.safe_load_all(text) if doc]
    return documents


def kustomize_command() -> list[str] | None:
    """kustomize, or kubectl's built-in copy of it, whichever is installed."""
    if shutil.which("kustomize"):
        return ["kustomize", "build"]
    if shutil.which("kubectl"):
        return ["kubectl", "kustomize"]
    return None


def render_overlay(path: Path) -> list[dict]:
    """The manifests of one kustomize overlay."""
    command = kustomize_command()
    if command is None:
        raise FileNotFoundError("neither kustomize nor kubectl is installed")
    result = subprocess.run(
        [*command, str(path)], capture_output=True, text=True, check=False, timeout=120
    )
    if result.returncode:
        raise CheckFailed(f"kustomize failed for {path}: {result.stderr.strip()}")
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


# Custom resources, validated against their CRD's schema, vendored beside this file:
# servicemonitor-schema.json is the openAPIV3Schema of prometheus-operator's ServiceMonitor CRD
# (jsonnet/prometheus-operator/servicemonitors-crd.json at 6adcebc5, operator 0.93, Apache-2.0).
CUSTOM_RESOURCES = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"): Path(__file__).with_name(
        "servicemonitor-schema.json"
    ),
}


def validate_custom(document: dict, schema_path: Path) -> None:
    """A custom resource against its CRD's schema; an unknown field of its spec is an error."""
    import json

    import jsonschema

    schema = json.loads(schema_path.read_text())
    where = f"{document['kind']}/{document.get('metadata', {}).get('name')}"
    errors = [
        f"{error.json_path}: {error.message}"
        for error in jsonschema.Draft4Validator(schema).iter_errors(document)
    ]
    known = set(schema["properties"]["spec"]["properties"])
    errors += [
        f"unknown field spec.{name}" for name in document.get("spec", {}) if name not in known
    ]
    if errors:
        raise CheckFailed(f"{where} is invalid: {errors[0]}")


def validate(documents: list[dict]) -> None:
    """Every manifest against the Kubernetes schemas, strictly (unknown fields are errors)."""
    for document in documents:
        where = f"{document.get('kind')}/{document.get('metadata', {}).get('name')}"
        custom = CUSTOM_RESOURCES.get((document.get("apiVersion"), document.get("kind")))
        if custom is not None:
            validate_custom(document, custom)
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(document, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise CheckFailed(f"{where} is invalid for Kubernetes {version}: {exc}") from exc


def summary(documents: list[dict]) -> str:
    """`3 Deployment, 1 Job, …` for one rendering."""
    counts = Counter(document["kind"] for document in documents)
    return ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))


def main() -> int:
    """Run every check, print one line per rendering, exit non-zero on the first failure."""
    total = 0
    try:
        for values_file in CHART_VALUE_SETS:
            values = load_values(values_file)
            findings = lint_chart(values)
            if findings:
                raise CheckFailed(f"helm lint with {values_file.name}: " + "; ".join(findings))
            documents = render_chart(values)
            validate(documents)
            total += len(documents)
            print(
                f"helm/skywatch + ci/{values_file.name}: {len(documents)} manifests valid "
                f"({summary(documents)})"
            )
        for overlay in OVERLAYS:
            try:
                documents = render_overlay(overlay)
            except FileNotFoundError as exc:
                if os.environ.get("CI") or os.environ.get("REQUIRE_SERVICES") == "1":
                    raise CheckFailed(f"{exc}: cannot render {overlay}") from exc
                print(f"SKIPPED {overlay.relative_to(ROOT)}: {exc} (apt-get install kubectl)")
                continue
            validate(documents)
            total += len(documents)
            print(
                f"{overlay.relative_to(ROOT)}: {len(documents)} manifests valid "
                f"({summary(documents)})"
            )
    except (CheckFailed, helm.HelmError) as exc:
        print(f"chart-check FAILED: {exc}", file=sys.stderr)
        return 1
    print(
        f"chart-check: {total} manifests valid against Kubernetes "
        f"{' and '.join(KUBERNETES_VERSIONS)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
