"""What the chart and the overlays promise, checked on their rendered manifests."""

from __future__ import annotations

import copy

import helm_python as helm
import pytest
import yaml

from tests.deploy.chart_check import (
    CHART,
    CHART_VALUE_SETS,
    OVERLAYS,
    CheckFailed,
    kustomize_command,
    load_values,
    render_chart,
    render_overlay,
    validate,
)

DEFAULT = {"existingSecret": "skywatch", "config": {"trustedProxies": "10.0.0.0/8"}}


def by_kind(documents: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def pod_specs(documents: list[dict]) -> list[dict]:
    return [d["spec"]["template"]["spec"] for d in documents if d["kind"] in ("Deployment", "Job")]


SOURCES = [("chart", path) for path in CHART_VALUE_SETS] + [("overlay", p) for p in OVERLAYS]


def source_id(source: tuple) -> str:
    kind, path = source
    return f"{kind}-{path.stem if kind == 'chart' else path.name}"


@pytest.fixture(params=SOURCES, ids=source_id)
def documents(request) -> list[dict]:
    """Every rendering: the chart with each values file in ci/, and each overlay."""
    kind, path = request.param
    if kind == "chart":
        return render_chart(load_values(path))
    if not kustomize_command():
        pytest.skip("kubectl (kustomize) is not installed")
    return render_overlay(path)


@pytest.fixture(params=OVERLAYS, ids=lambda path: path.name)
def overlay_documents(request) -> list[dict]:
    if not kustomize_command():
        pytest.skip("kubectl (kustomize) is not installed")
    return render_overlay(request.param)


def test_beat_is_exactly_one_replica_replaced_not_rolled(documents):
    beat = next(d for d in documents if d["metadata"]["name"].endswith("-beat"))

    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert not any(
        d["spec"]["scaleTargetRef"]["name"] == beat["metadata"]["name"]
        for d in documents
        if d["kind"] == "HorizontalPodAutoscaler"
    )


def test_every_pod_runs_non_root_on_a_read_only_root_with_a_writable_tmp(documents):
    for spec in pod_specs(documents):
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["automountServiceAccountToken"] is False
        assert {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}} in spec["volumes"]
        for container in spec["containers"] + spec.get("initContainers", []):
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]  # noqa: S108
            assert container["resources"]["requests"]
            assert container["resources"]["limits"]["memory"]


def test_web_probes_are_healthz_for_liveness_and_readyz_for_readiness(documents):
    web = next(
        d for d in documents if d["metadata"]["name"].endswith("-web") and d["kind"] == "Deployment"
    )
    container = web["spec"]["template"]["spec"]["containers"][0]

    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["args"] == ["web"]


def test_no_secret_is_ever_rendered_only_referenced(documents):
    assert not [d for d in documents if d["kind"] == "Secret"]
    text = yaml.safe_dump_all(documents)
    assert "secretKeyRef" in text
    assert "DJANGO_SECRET_KEY:" not in text  # never as a plain value


def test_the_provider_key_is_mounted_as_a_file_not_an_environment_variable(documents):
    for spec in pod_specs(documents):
        volume = next(v for v in spec["volumes"] if v["name"] == "provider-key")
        assert volume["secret"]["optional"] is True
        assert volume["secret"]["items"] == [
            {"key": "OPENWEATHER_API_KEY", "path": "openweather-api-key"}
        ]
        for container in spec["containers"]:
            assert "OPENWEATHER_API_KEY" not in [e["name"] for e in container.get("env", [])]


def test_the_ingress_keeps_websockets_open_for_an_hour(documents):
    for ingress in by_kind(documents, "Ingress").values():
        annotations = ingress["metadata"]["annotations"]
        assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "3600"
        assert annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"] == "3600"


def test_migrations_run_as_a_pre_install_and_pre_upgrade_hook():
    job = by_kind(render_chart(DEFAULT), "Job")["skywatch-migrate"]

    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "pre-install,pre-upgrade"
    assert "before-hook-creation" in annotations["helm.sh/hook-delete-policy"]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["migrate"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["DJANGO_ENV"] == "prod"
    assert env["DJANGO_ALLOWED_HOSTS"] == "skywatch.example.com"


def test_a_config_change_rolls_every_component_through_the_checksum():
    def checksums(values: dict) -> set[str]:
        deployments = by_kind(render_chart(values), "Deployment").values()
        return {
            d["spec"]["template"]["metadata"]["annotations"]["checksum/config"] for d in deployments
        }

    before = checksums(DEFAULT)
    after = checksums({**DEFAULT, "config": {**DEFAULT["config"], "weatherProvider": "random"}})

    assert len(before) == len(after) == 1
    assert before != after


def test_the_chart_refuses_to_render_without_an_existing_secret():
    with pytest.raises(helm.HelmError, match="existingSecret is required"):
        render_chart({"config": {"trustedProxies": "10.0.0.0/8"}})


def config_map(values: dict) -> dict:
    return next(d for d in render_chart(values) if d["kind"] == "ConfigMap")["data"]


def test_the_web_pods_believe_x_forwarded_for_from_the_configured_proxies_only():
    assert config_map(DEFAULT)["FORWARDED_ALLOW_IPS"] == "10.0.0.0/8"
    without_ingress = {"existingSecret": "skywatch", "ingress": {"enabled": False}}
    assert "FORWARDED_ALLOW_IPS" not in config_map(without_ingress)


def test_the_chart_refuses_an_ingress_without_its_trusted_proxies():
    with pytest.raises(helm.HelmError, match=r"config\.trustedProxies is required"):
        render_chart({"existingSecret": "skywatch"})


def test_the_schema_refuses_a_second_beat():
    with pytest.raises(helm.HelmError, match="beat"):
        render_chart({**DEFAULT, "beat": {"replicaCount": 2}})


def test_the_values_file_holds_no_secret_values():
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    assert values["existingSecret"] == ""
    assert "secrets" not in values
    assert set(values["secretKeys"].values()) == {
        "DJANGO_SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "SENTRY_DSN",
        "OPENWEATHER_API_KEY",
    }


def test_every_component_block_has_the_same_keys():
    values = yaml.safe_load((CHART / "values.yaml").read_text())

    assert set(values["web"]) == set(values["worker"]) == set(values["beat"])


def test_prod_overlay_keeps_two_web_pods_through_disruptions(overlay_documents):
    web_pdb = by_kind(overlay_documents, "PodDisruptionBudget")["skywatch-web"]
    namespace = next(d for d in overlay_documents if d["kind"] == "Namespace")

    if namespace["metadata"]["name"] == "skywatch":
        assert web_pdb["spec"] == {
            "minAvailable": 2,
            "selector": {
                "matchLabels": {
                    "app.kubernetes.io/name": "skywatch",
                    "app.kubernetes.io/component": "web",
                }
            },
        }
    else:
        assert web_pdb["spec"]["maxUnavailable"] == 1


def test_overlays_wait_for_migrations_before_starting_new_code(overlay_documents):
    for deployment in by_kind(overlay_documents, "Deployment").values():
        init = deployment["spec"]["template"]["spec"]["initContainers"][0]
        assert "migrate --check" in init["command"][-1]
    assert "skywatch-migrate" in by_kind(overlay_documents, "Job")


def test_the_secret_example_is_not_applied_by_the_overlays(overlay_documents):
    assert not [d for d in overlay_documents if d["kind"] == "Secret"]
    kinds = {d["kind"] for d in overlay_documents}
    assert {"HorizontalPodAutoscaler", "PodDisruptionBudget", "ConfigMap", "Ingress"} <= kinds


def test_validation_rejects_an_unknown_field():
    deployment = copy.deepcopy(by_kind(render_chart(DEFAULT), "Deployment")["skywatch-web"])
    deployment["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {}

    with pytest.raises(CheckFailed, match="livenessProbes"):
        validate([deployment])


def metrics_rendering(**metrics) -> list[dict]:
    return render_chart({**DEFAULT, "metrics": metrics})


def test_web_worker_and_beat_serve_metrics_on_their_own_port_never_through_the_web_service():
    documents = metrics_rendering(serviceMonitor={"enabled": True})
    deployments = by_kind(documents, "Deployment")
    services = by_kind(documents, "Service")
    metrics_service = services["skywatch-metrics"]
    selector = metrics_service["spec"]["selector"]

    assert set(deployments) == {"skywatch-web", "skywatch-worker", "skywatch-beat"}
    for deployment in deployments.values():
        pod = deployment["spec"]["template"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
        assert ports["metrics"] == 9100
    assert metrics_service["spec"]["clusterIP"] == "None"
    assert [p["name"] for p in services["skywatch-web"]["spec"]["ports"]] == ["http"]
    assert by_kind(documents, "ConfigMap")["skywatch"]["data"]["METRICS_PORT"] == "9100"


def test_the_service_monitor_scrapes_the_metrics_service_when_asked():
    documents = metrics_rendering(serviceMonitor={"enabled": True, "labels": {"release": "kps"}})
    monitor = by_kind(documents, "ServiceMonitor")["skywatch"]
    metrics_service = by_kind(documents, "Service")["skywatch-metrics"]

    assert monitor["metadata"]["labels"]["release"] == "kps"
    assert (
        monitor["spec"]["selector"]["matchLabels"].items()
        <= metrics_service["metadata"]["labels"].items()
    )
    assert monitor["spec"]["endpoints"] == [
        {"port": "metrics", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    assert not by_kind(metrics_rendering(), "ServiceMonitor")  # only when asked


def test_metrics_off_means_no_port_no_service_and_no_exporter():
    documents = metrics_rendering(enabled=False, serviceMonitor={"enabled": True})

    assert "skywatch-metrics" not in by_kind(documents, "Service")
    assert not by_kind(documents, "ServiceMonitor")
    assert by_kind(documents, "ConfigMap")["skywatch"]["data"]["METRICS_PORT"] == ""
    for deployment in by_kind(documents, "Deployment").values():
        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert "metrics" not in [p["name"] for p in container.get("ports", [])]


def test_a_service_monitor_with_an_unknown_field_is_refused():
    documents = metrics_rendering(serviceMonitor={"enabled": True})
    monitor = copy.deepcopy(by_kind(documents, "ServiceMonitor")["skywatch"])
    monitor["spec"]["endpoint"] = monitor["spec"]["endpoints"]  # a typo Kubernetes would drop

    with pytest.raises(CheckFailed, match=r"unknown field spec\.endpoint$"):
        validate([monitor])
    del monitor["spec"]["endpoints"]
    with pytest.raises(CheckFailed, match="'endpoints' is a required property"):
        validate([monitor])
