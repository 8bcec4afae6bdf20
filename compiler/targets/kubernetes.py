"""Kubernetes rule manifests: a PrometheusRule (monitoring.coreos.com/v1) for the Prometheus Operator,
or, with `engine: victoriametrics`, a VMRule (operator.victoriametrics.com/v1beta1) for the
VictoriaMetrics operator, whose groups take vmalert's keys."""

from .. import names, serialize
from ..plan import Plan
from . import prometheus

# (apiVersion, kind) of the manifest each engine's operator reads.
RESOURCES = {names.PROMETHEUS: ("monitoring.coreos.com/v1", "PrometheusRule"),
             names.VICTORIAMETRICS: ("operator.victoriametrics.com/v1beta1", "VMRule")}


def render(plan: Plan) -> dict[str, tuple[bytes, str]]:
    out = {}
    api_version, kind = RESOURCES[plan.settings.engine]
    for service in plan.services:
        namespace = {"namespace": plan.settings.kubernetes_namespace} if plan.settings.kubernetes_namespace else {}
        labels = {**plan.settings.kubernetes_labels,
                  "app.kubernetes.io/managed-by": names.MANAGED_BY, names.SERVICE: service.name}
        manifest = {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": f"slo-{service.name}", **namespace, "labels": labels},
            "spec": {"groups": prometheus.groups(service, plan)},
        }
        header = prometheus.HEADER.format(source=service.source)
        path = names.output_path(names.engine_manifest(plan.settings.engine), service=service.name)
        out[path] = (serialize.to_yaml(manifest, header), service.source)
    return out
