"""Kubernetes PrometheusRule manifests (monitoring.coreos.com/v1) for the Prometheus Operator."""

from .. import names, serialize
from ..plan import Plan
from . import prometheus

def render(plan: Plan) -> dict[str, tuple[bytes, str]]:
    out = {}
    for service in plan.services:
        namespace = {"namespace": plan.settings.kubernetes_namespace} if plan.settings.kubernetes_namespace else {}
        labels = {**plan.settings.kubernetes_labels,
                  "app.kubernetes.io/managed-by": names.MANAGED_BY, names.SERVICE: service.name}
        manifest = {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": f"slo-{service.name}", **namespace, "labels": labels},
            "spec": {"groups": prometheus.groups(service, plan)},
        }
        header = prometheus.HEADER.format(source=service.source)
        out[names.kubernetes_path(service.name)] = (serialize.to_yaml(manifest, header), service.source)
    return out
