"""The controller's configuration ConfigMap (controller/config.py) and status compression (controller/status.py)."""

from __future__ import annotations

import pytest

from controller.config import ConfigError, parse
from controller.status import (
    TooLarge,
    decompress_nodes,
    hydrate,
    limit_from_env,
    pack,
    refused_for_size,
    size,
)


def test_one_key_per_field_as_argo_writes_it():
    cfg = parse(
        {
            "parallelism": "3",
            "namespaceParallelism": "2",
            "instanceID": "blue",
            "executor": "imagePullPolicy: IfNotPresent\nresources: {limits: {memory: 256Mi}}\n",
            "nodeEvents": "enabled: false\n",
            "workflowDefaults": "spec:\n  podGC: {strategy: OnPodCompletion}\n",
            "podGCGracePeriodSeconds": "30",
            "navColor": "red",
        }
    )
    assert (cfg.parallelism, cfg.namespace_parallelism, cfg.instance_id) == (3, 2, "blue")
    assert cfg.node_events is False and cfg.workflow_events is True
    assert cfg.workflow_defaults == {"spec": {"podGC": {"strategy": "OnPodCompletion"}}}
    assert cfg.pod_gc_grace_seconds == 30
    engine = cfg.engine("img:1")
    assert (engine.executor_image, engine.executor_image_pull_policy, engine.instance_id) == (
        "img:1",
        "IfNotPresent",
        "blue",
    )
    assert engine.executor_resources == {"limits": {"memory": "256Mi"}}
    # The engine joins the defaults' spec under the Workflow and its template (workflow/engine/templates.py).
    assert engine.workflow_defaults == {"podGC": {"strategy": "OnPodCompletion"}}
    assert cfg.warnings == ()


def test_the_whole_configuration_under_config():
    cfg = parse(
        {
            "config": "parallelism: 5\nexecutorImage: reg/sluice:2\nsomethingNew: 1\n"
            "images: {'argoproj/argosay:v2': {entrypoint: [/argosay]}}\n"
            "artifactRepository: {s3: {bucket: b, endpoint: 'minio:9000'}}\n"
        }
    )
    assert cfg.parallelism == 5 and cfg.engine("x").executor_image == "reg/sluice:2"
    assert cfg.engine("x").images == {"argoproj/argosay:v2": {"entrypoint": ["/argosay"]}}
    assert cfg.engine("x").artifact_repository == {"s3": {"bucket": "b", "endpoint": "minio:9000"}}
    assert cfg.warnings == ("somethingNew: unknown key, ignored",)


@pytest.mark.parametrize(
    "data,field",
    [
        ({"config": "parallelism: 1", "parallelism": "2"}, "data"),
        ({"parallelism": "many"}, "parallelism"),
        ({"namespaceParallelism": "-1"}, "namespaceParallelism"),
        ({"nodeEvents": "enabled: maybe"}, "nodeEvents.enabled"),
        ({"executor": "[a"}, "data.executor"),
        ({"workflowDefaults": "spec: 3"}, "workflowDefaults.spec"),
    ],
)
def test_mistakes_name_their_field(data, field):
    with pytest.raises(ConfigError) as err:
        parse(data)
    assert str(err.value).startswith(field)


def _wf(n_nodes: int, blob: int = 200) -> dict:
    nodes = {
        f"wf-{i}": {"id": f"wf-{i}", "name": f"wf[{i}]", "phase": "Succeeded", "message": "x" * blob}
        for i in range(n_nodes)
    }
    return {"metadata": {"name": "wf"}, "status": {"phase": "Running", "nodes": nodes}}


def test_small_status_is_written_as_is_and_big_status_is_compressed():
    small = _wf(3)
    assert pack(small) is small
    big = _wf(5000)
    packed = pack(big, threshold=100_000)
    assert "nodes" not in packed["status"] and packed["status"]["phase"] == "Running"
    assert decompress_nodes(packed["status"]["compressedNodes"]) == big["status"]["nodes"]
    assert hydrate(packed)["status"]["nodes"] == big["status"]["nodes"]
    assert "compressedNodes" in packed["status"]  # hydrate copies; the packed object is unchanged


def test_status_too_big_even_compressed_is_refused():
    import os

    wf = _wf(10)
    for node in wf["status"]["nodes"].values():
        node["message"] = os.urandom(60_000).hex()  # incompressible
    with pytest.raises(TooLarge, match="compressed size"):
        pack(wf, threshold=1000, limit=500_000)


def test_metrics_ttl_from_metrics_config():
    assert parse({"metricsConfig": "metricsTTL: 10m\n"}).metrics_ttl_seconds == 600
    assert parse({}).metrics_ttl_seconds is None
    with pytest.raises(ConfigError, match="metricsConfig.metricsTTL"):
        parse({"metricsConfig": "metricsTTL: soon\n"})


def test_too_big_without_nodes_is_refused_and_the_threshold_follows_the_limit():
    wf = {"metadata": {"name": "wf"}, "status": {"phase": "Running", "storedTemplates": {"t": "x" * 5000}}}
    with pytest.raises(TooLarge, match="size 5.* > maxSize 4096"):
        pack(wf, limit=4096)
    assert pack(wf, limit=8192) is wf  # over 3/4 of the limit, but nothing to compress and not over it
    nodes = _wf(200)
    assert "compressedNodes" in pack(nodes, limit=size(nodes) + 10)["status"]  # 3/4 of the limit crossed
    assert pack(nodes, limit=size(nodes) * 2) is nodes


def test_max_workflow_size_from_the_environment_and_the_api_servers_refusals():
    assert limit_from_env({}) == 1024 * 1024
    assert limit_from_env({"MAX_WORKFLOW_SIZE": "4194304"}) == 4194304
    for bad in ("1Mi", "-5", "12"):
        with pytest.raises(ValueError, match="MAX_WORKFLOW_SIZE"):
            limit_from_env({"MAX_WORKFLOW_SIZE": bad})
    # The answers measured on the test cluster's API server (controller/status.py refused_for_size).
    assert refused_for_size(413, "Request entity too large: limit is 3145728")
    assert refused_for_size(500, "etcdserver: request is too large")
    assert not refused_for_size(500, "etcdserver: leader changed")
    assert not refused_for_size(422, "spec.x: Invalid value")


def test_executor_main_container_images_and_repository_reach_the_engine():
    cfg = parse(
        {
            "executor": "resources: {limits: {memory: 1Gi}}\nsecurityContext: {runAsUser: 2000}\n"
            "env: [{name: STORAGE_EMULATOR_HOST, value: 'gcs:4443'}, not-a-variable]\n",
            "mainContainer": "resources: {requests: {cpu: 100m}}\n",
            "images": "argoproj/argosay:v2:\n  entrypoint: [/argosay]\npython:3: {cmd: [python3]}\n",
            "artifactRepository": "s3: {bucket: b, endpoint: 'minio:9000'}\n",
        }
    )
    engine = cfg.engine("img:1")
    assert engine.executor_resources == {"limits": {"memory": "1Gi"}}
    assert engine.executor_security_context == {"runAsUser": 2000}
    assert engine.executor_env == ({"name": "STORAGE_EMULATOR_HOST", "value": "gcs:4443"},)
    assert engine.main_container == {"resources": {"requests": {"cpu": "100m"}}}
    assert engine.images == {
        "argoproj/argosay:v2": {"entrypoint": ["/argosay"]},
        "python:3": {"cmd": ["python3"]},
    }
    assert engine.artifact_repository == {"s3": {"bucket": "b", "endpoint": "minio:9000"}}
    with pytest.raises(ConfigError, match=r"^images.busybox.cmd: must be a list of strings"):
        parse({"images": "busybox: {cmd: sh}\n"})


@pytest.mark.parametrize(
    ("repository", "warning"),
    [
        (
            "{oss: {bucket: b, endpoint: e}}",
            "artifactRepository.oss: oss artifacts are not supported by Sluice's",
        ),
        (
            "{gcs: {bucket: b}}",
            "artifactRepository.gcs: GCS artifacts need serviceAccountKeySecret; workload",
        ),
    ],
)
def test_a_repository_the_executor_cannot_use_is_a_warning(repository, warning):
    cfg = parse({"artifactRepository": repository})
    assert cfg.artifact_repository is not None
    assert len(cfg.warnings) == 1 and cfg.warnings[0].startswith(warning), cfg.warnings


def test_a_gcs_repository_with_its_key_is_quiet():
    cfg = parse({"artifactRepository": "{gcs: {bucket: b, serviceAccountKeySecret: {name: s, key: k}}}"})
    assert cfg.warnings == ()


def test_events_section_sets_the_correlator_and_defaults_are_argo_s():
    from controller.event_correlator import CorrelatorSettings

    assert parse({}).events == CorrelatorSettings() and parse({}).event_update_interval == 1.0
    cfg = parse(
        {
            "events": "{spamBurst: 25, spamRefill: 5m, aggregateMaxEvents: 5, aggregateInterval: 1h,"
            " cacheEntries: 100, aggregateWithAnnotations: true, updateInterval: 500ms}"
        }
    )
    assert cfg.events == CorrelatorSettings(25, 300.0, 5, 3600.0, 100, True)
    assert cfg.event_update_interval == 0.5 and cfg.warnings == ()


@pytest.mark.parametrize(
    ("section", "problem"),
    [
        ("{spamBurst: 0}", "events.spamBurst: must be a whole number of at least 1, got 0"),
        ("{cacheEntries: '4096'}", "events.cacheEntries: must be a whole number of at least 1"),
        ("{spamRefill: soon}", "events.spamRefill: 'soon' is not a duration"),
        ("{aggregateWithAnnotations: 'yes'}", "events.aggregateWithAnnotations: must be true or false"),
        ("{burst: 3}", "events.burst: unknown key"),
        ("[1]", "events: must be a mapping"),
    ],
)
def test_a_bad_events_section_is_refused_with_its_field(section, problem):
    with pytest.raises(ConfigError) as err:
        parse({"events": section})
    assert str(err.value).startswith(problem)
