"""`pare bench --emit-k8s`: the manifests parse and have the shape the API server requires."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pare.cli.main import main
from pare.experiment.k8s import FRESH_LABEL, NAMESPACE, emit

DNS1123 = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
API = {"Namespace": "v1", "ServiceAccount": "v1", "Job": "batch/v1", "Deployment": "apps/v1",
       "ClusterRole": "rbac.authorization.k8s.io/v1", "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
       "KubeletConfiguration": "kubelet.config.k8s.io/v1beta1"}


def check_pod_spec(spec: dict[str, Any]) -> None:
    containers = spec["containers"]
    assert containers, "a pod needs containers"
    for c in containers:
        assert DNS1123.match(c["name"]) and c["image"]
    names = {v["name"] for v in spec.get("volumes", [])}
    for c in containers:
        for mount in c.get("volumeMounts", []):
            assert mount["name"] in names and mount["mountPath"].startswith("/")


def check(doc: dict[str, Any]) -> None:
    kind = doc["kind"]
    assert doc["apiVersion"] == API[kind]
    if kind == "KubeletConfiguration":
        assert isinstance(doc["serializeImagePulls"], bool)
        if not doc["serializeImagePulls"]:
            assert doc["maxParallelImagePulls"] > 1
        return
    meta = doc["metadata"]
    assert DNS1123.match(meta["name"]) and len(meta["name"]) <= 63
    if kind in ("Job", "Deployment", "ServiceAccount"):
        assert meta["namespace"] == NAMESPACE
    if kind == "Job":
        spec = doc["spec"]["template"]["spec"]
        assert spec["restartPolicy"] in ("Never", "OnFailure")
        check_pod_spec(spec)
    if kind == "Deployment":
        spec = doc["spec"]
        selector = spec["selector"]["matchLabels"]
        labels = spec["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), "selector must match the template's labels"
        assert spec["template"]["spec"]["nodeSelector"] == {FRESH_LABEL: "true"}
        assert all(c["imagePullPolicy"] == "Always" for c in spec["template"]["spec"]["containers"])
        check_pod_spec(spec["template"]["spec"])
    if kind == "ClusterRoleBinding":
        assert doc["roleRef"]["kind"] == "ClusterRole" and doc["subjects"][0]["namespace"] == NAMESPACE


def load_all(directory: Path) -> list[dict[str, Any]]:
    docs = []
    for path in sorted(directory.iterdir()):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d is not None)
    return docs


def test_emitted_manifests_are_valid(tmp_path: Path) -> None:
    written = emit(tmp_path, ["go-hello", "Node_Express"], ["onbuild", "multistage"],
                   "registry.example.com/bench/", (1, 3), 3)
    assert {p.name for p in written} >= {"00-namespace.yaml", "10-build-jobs.yaml", "30-collector.yaml",
                                          "20-recovery-onbuild-d3.yaml", "kubelet-parallel-3.yaml",
                                          "kubelet-serial.yaml"}
    docs = load_all(tmp_path)
    for doc in docs:
        check(doc)
    kinds = [d["kind"] for d in docs]
    assert kinds.count("Job") == 2 * 2 + 1  # builds + collector
    d3 = list(yaml.safe_load_all((tmp_path / "20-recovery-onbuild-d3.yaml").read_text()))
    assert len(d3) == 2 * 3
    images = {d["spec"]["template"]["spec"]["containers"][0]["image"] for d in d3}
    assert images == {"registry.example.com/bench/go-hello-onbuild:v1",
                      "registry.example.com/bench/node-express-onbuild:v1"}
    names = [d["metadata"]["name"] for d in docs if d["kind"] == "Deployment"]
    assert len(names) == len(set(names))
    collector = next(d for d in docs if d["kind"] == "Job" and d["metadata"]["name"] == "pare-collect")
    assert "kubelet_image_pull_duration_seconds" in collector["spec"]["template"]["spec"]["containers"][0][
        "command"][2]


def test_cli_emit_k8s(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["bench", "--emit-k8s", str(tmp_path / "k8s"), "--examples", "--deployments", "2"])
    assert "manifests" in capsys.readouterr().out
    for doc in load_all(tmp_path / "k8s"):
        check(doc)
