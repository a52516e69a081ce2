"""`pare bench --emit-k8s DIR`: the same experiment on a real fleet, as Kubernetes manifests.

- builds: one kaniko Job per app and variant (BuildKit works the same way; kaniko needs no
  privileged daemon), pushing to the user's registry;
- node recovery: per variant, D Deployments pinned to nodes labelled `pare.dev/fresh-node=true`
  (a node pool you just scaled up or replaced), imagePullPolicy Always;
- a collector Job that waits for those Deployments and reads each fresh node's kubelet metrics
  through the API server (`kubelet_image_pull_duration_seconds`, plus pod start times), printing
  them as JSON lines for `pare report` style analysis.
The kubelet settings under test (serializeImagePulls, maxParallelImagePulls) are node config, so
they are written as a KubeletConfiguration snippet beside the manifests, not applied by pare.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from pare.errors import UsageError

NAMESPACE = "pare-bench"
FRESH_LABEL = "pare.dev/fresh-node"
KANIKO = "gcr.io/kaniko-project/executor:v1.23.2"
KUBECTL = "docker.io/bitnami/kubectl:1.31"  # has a shell, grep and sed

PODS = ('{range .items[*]}{.metadata.name} {.spec.nodeName} {.metadata.creationTimestamp} '
        '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\\n"}{end}')
_COLLECT = r"""set -eu
echo "waiting for deployments in $NS"
kubectl -n "$NS" wait --for=condition=Available deployment -l app.kubernetes.io/part-of=pare-bench \
  --timeout=30m
echo "pod node created ready"
kubectl -n "$NS" get pods -l app.kubernetes.io/part-of=pare-bench -o jsonpath="$PODS"
for node in $(kubectl get nodes -l "$FRESH" -o jsonpath='{.items[*].metadata.name}'); do
  kubectl get --raw "/api/v1/nodes/$node/proxy/metrics" \
    | grep -E '^kubelet_image_pull_duration_seconds' | sed "s/^/$node /"
done
"""


def _name(text: str) -> str:
    """A DNS-1123 label."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].strip("-")
    if not name:
        raise UsageError(f"cannot make a Kubernetes name from {text!r}")
    return name


def _labels(**extra: str) -> dict[str, str]:
    return {"app.kubernetes.io/part-of": "pare-bench", **extra}


def build_job(app: str, variant: str, registry: str) -> dict[str, Any]:
    name = _name(f"build-{app}-{variant}")
    image = f"{registry}/{_name(app)}-{_name(variant)}:v1"
    return {
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": _labels(**{"pare.dev/stage": "build"})},
        "spec": {"backoffLimit": 0, "template": {
            "metadata": {"labels": _labels(**{"pare.dev/stage": "build"})},
            "spec": {"restartPolicy": "Never", "containers": [{
                "name": "kaniko", "image": KANIKO,
                "args": [f"--context=dir:///workspace/{app}", f"--dockerfile=Dockerfile.{variant}",
                         f"--destination={image}", "--cache=false", "--snapshot-mode=redo"],
                "volumeMounts": [{"name": "workspace", "mountPath": "/workspace"}],
                "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}}],
                "volumes": [{"name": "workspace",
                             "persistentVolumeClaim": {"claimName": "pare-bench-apps"}}]}}}}


def deployment(app: str, variant: str, count: int, index: int, registry: str) -> dict[str, Any]:
    name = _name(f"{app}-{variant}-d{count}-{index}")
    labels = _labels(**{"app.kubernetes.io/name": name, "pare.dev/variant": _name(variant)})
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
                 "template": {"metadata": {"labels": labels}, "spec": {
                     "nodeSelector": {FRESH_LABEL: "true"},
                     "containers": [{"name": "app", "image": f"{registry}/{_name(app)}-{_name(variant)}:v1",
                                     "imagePullPolicy": "Always",
                                     "ports": [{"containerPort": 8080}],
                                     "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}}}}


def collector() -> list[dict[str, Any]]:
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "pare-collector",
                                                                     "namespace": NAMESPACE}}
    role = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": "pare-collector"},
            "rules": [{"apiGroups": [""], "resources": ["nodes", "nodes/proxy", "nodes/metrics"],
                       "verbs": ["get", "list"]},
                      {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                      {"apiGroups": ["apps"], "resources": ["deployments"],
                       "verbs": ["get", "list", "watch"]}]}
    binding = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
               "metadata": {"name": "pare-collector"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                           "name": "pare-collector"},
               "subjects": [{"kind": "ServiceAccount", "name": "pare-collector", "namespace": NAMESPACE}]}
    job = {"apiVersion": "batch/v1", "kind": "Job",
           "metadata": {"name": "pare-collect", "namespace": NAMESPACE,
                        "labels": {"pare.dev/stage": "collect"}},
           "spec": {"backoffLimit": 0, "template": {"spec": {
               "serviceAccountName": "pare-collector", "restartPolicy": "Never",
               "containers": [{"name": "collect", "image": KUBECTL, "command": ["/bin/sh", "-c", _COLLECT],
                               "env": [{"name": "NS", "value": NAMESPACE}, {"name": "PODS", "value": PODS},
                                       {"name": "FRESH", "value": f"{FRESH_LABEL}=true"}]}]}}}}
    return [sa, role, binding, job]


def kubelet_config(parallel: int) -> dict[str, Any]:
    return {"apiVersion": "kubelet.config.k8s.io/v1beta1", "kind": "KubeletConfiguration",
            "serializeImagePulls": parallel == 1,
            **({"maxParallelImagePulls": parallel} if parallel > 1 else {})}


def emit(directory: Path, apps: list[str], variants: list[str], registry: str, deployments: tuple[int, ...],
         parallel: int) -> list[Path]:
    """Write the manifests (one file per step) and return their paths."""
    if not apps or not variants:
        raise UsageError("--emit-k8s needs at least one app and one variant")
    registry = registry.rstrip("/")
    directory.mkdir(parents=True, exist_ok=True)
    files: dict[str, list[dict[str, Any]]] = {
        "00-namespace.yaml": [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}],
        "10-build-jobs.yaml": [build_job(a, v, registry) for a in apps for v in variants],
        "30-collector.yaml": collector(),
    }
    for d in deployments:
        for v in variants:
            files[f"20-recovery-{_name(v)}-d{d}.yaml"] = [deployment(a, v, d, i, registry) for a in apps
                                                          for i in range(d)]
    written = []
    for name, docs in files.items():
        path = directory / name
        path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
        written.append(path)
    for k in sorted({1, parallel}):
        path = directory / f"kubelet-{'serial' if k == 1 else f'parallel-{k}'}.yaml"
        path.write_text("# merge into the fresh nodes' kubelet config (node pool template)\n"
                        + yaml.safe_dump(kubelet_config(k), sort_keys=False))
        written.append(path)
    return written
