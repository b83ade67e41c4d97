"""Artifact placement and packing rules (workflow/artifact_rules.py), as tables."""

from __future__ import annotations

import pytest

from workflow import artifact_rules as rules

REPO_S3 = {
    "archiveLogs": True,
    "s3": {
        "endpoint": "minio:9000",
        "bucket": "my-bucket",
        "insecure": True,
        "accessKeySecret": {"name": "creds", "key": "accesskey"},
        "secretKeySecret": {"name": "creds", "key": "secretkey"},
        "key": "wf-1/wf-1-step-123",
    },
}


@pytest.mark.parametrize(
    ("art", "kind", "level", "name"),
    [
        ({"name": "a", "path": "/tmp/x.txt"}, "tgz", 6, "a.tgz"),
        ({"name": "a", "path": "/tmp/x.txt", "archive": {}}, "tgz", 6, "a.tgz"),
        ({"name": "a", "path": "/tmp/x.txt", "archive": {"tar": {}}}, "tgz", 6, "a.tgz"),
        ({"name": "a", "path": "/tmp/x.txt", "archive": {"tar": {"compressionLevel": 0}}}, "tgz", 0, "a.tgz"),
        ({"name": "a", "path": "/tmp/x.txt", "archive": {"tar": {"compressionLevel": 9}}}, "tgz", 9, "a.tgz"),
        ({"name": "a", "path": "/tmp/x.txt", "archive": {"none": {}}}, "none", 6, "x.txt"),
        ({"name": "a", "path": "/tmp/dir/", "archive": {"none": {}}}, "none", 6, "dir"),
        ({"name": "a", "path": "/tmp/x", "archive": {"zip": {}}}, "zip", 6, "a.zip"),
    ],
    ids=["default", "empty", "tar", "tar-0", "tar-9", "none-file", "none-dir", "zip"],
)
def test_archive_and_file_name(art, kind, level, name):
    assert rules.archive(art) == rules.Archive(kind, level)
    assert rules.file_name(art) == name


# (artifact, repository) -> (kind, key, location fields to check, reported location)
PLACE_CASES = {
    "default-repo": (
        {"name": "hello-art", "path": "/tmp/hello.txt"},
        REPO_S3,
        ("s3", "wf-1/wf-1-step-123/hello-art.tgz", {"bucket": "my-bucket", "endpoint": "minio:9000"}),
        {"s3": {"key": "wf-1/wf-1-step-123/hello-art.tgz"}},
    ),
    "default-repo-none": (
        {"name": "a", "path": "/tmp/out.json", "archive": {"none": {}}},
        REPO_S3,
        ("s3", "wf-1/wf-1-step-123/out.json", {"bucket": "my-bucket"}),
        {"s3": {"key": "wf-1/wf-1-step-123/out.json"}},
    ),
    "key-only": (
        {"name": "a", "path": "/tmp/x", "s3": {"key": "my/own/key.tgz"}},
        REPO_S3,
        (
            "s3",
            "my/own/key.tgz",
            {"bucket": "my-bucket", "accessKeySecret": {"name": "creds", "key": "accesskey"}},
        ),
        {"s3": {"key": "my/own/key.tgz"}},
    ),
    "full-location": (
        {"name": "a", "path": "/tmp/x", "s3": {"endpoint": "other:9000", "bucket": "b2", "key": "k"}},
        REPO_S3,
        ("s3", "k", {"bucket": "b2", "endpoint": "other:9000"}),
        {"s3": {"endpoint": "other:9000", "bucket": "b2", "key": "k"}},
    ),
    "http-put": (
        {"name": "a", "path": "/tmp/x", "http": {"url": "http://127.0.0.1/up"}},
        None,
        ("http", "", {"url": "http://127.0.0.1/up"}),
        {"http": {"url": "http://127.0.0.1/up"}},
    ),
}


@pytest.mark.parametrize("case", sorted(PLACE_CASES))
def test_place_output(case):
    art, repo, (kind, key, fields), reported = PLACE_CASES[case]
    placed = rules.place_output(art, repo)
    assert (placed.kind, placed.key) == (kind, key)
    for field, value in fields.items():
        assert placed.location[field] == value
    assert "keyFormat" not in placed.location
    assert {k: v for k, v in placed.reported.items() if k in rules.LOCATION_KINDS} == reported
    assert placed.reported["name"] == art["name"]


@pytest.mark.parametrize(
    ("art", "repo", "message"),
    [
        ({"name": "a", "path": "/x"}, None, "output artifact a: no location and no artifact repository"),
        (
            {"name": "a", "path": "/x", "s3": {"key": "k"}},
            None,
            "key-only s3 location needs an s3 artifact repository",
        ),
        ({"name": "a", "path": "/x", "s3": {"key": "k"}}, {"gcs": {"bucket": "g"}}, "(gcs configured)"),
        ({"name": "a", "path": "/x", "raw": {"data": "x"}}, REPO_S3, "raw artifacts are inputs only"),
        (
            {"name": "a", "path": "/x", "s3": {"key": "k"}, "http": {"url": "u"}},
            REPO_S3,
            "more than one location",
        ),
    ],
)
def test_place_output_errors(art, repo, message):
    with pytest.raises(rules.ArtifactRuleError) as err:
        rules.place_output(art, repo)
    assert message in str(err.value)


def test_logs_go_beside_the_outputs():
    placed = rules.place_logs(REPO_S3)
    assert placed.key == "wf-1/wf-1-step-123/main.log"
    assert placed.reported == {"name": "main-logs", "s3": {"key": "wf-1/wf-1-step-123/main.log"}}
    assert rules.archive_logs({"archiveLocation": REPO_S3})
    assert not rules.archive_logs({"archiveLocation": {"s3": {}}})
    assert not rules.archive_logs({})


@pytest.mark.parametrize(
    ("art", "kind", "field", "value"),
    [
        ({"name": "i", "s3": {"key": "a/b.tgz"}}, "s3", "bucket", "my-bucket"),
        ({"name": "i", "s3": {"key": "a/dir"}, "subPath": "sub/file"}, "s3", "key", "a/dir/sub/file"),
        ({"name": "i", "s3": {"bucket": "x", "key": "k"}}, "s3", "bucket", "x"),
        (
            {"name": "i", "http": {"url": "http://127.0.0.1/a"}, "subPath": "b"},
            "http",
            "url",
            "http://127.0.0.1/a/b",
        ),
        ({"name": "i", "raw": {"data": "hi"}}, "raw", "data", "hi"),
        ({"name": "i", "git": {"repo": "/srv/r.git", "revision": "v1"}}, "git", "revision", "v1"),
    ],
)
def test_input_location(art, kind, field, value):
    got_kind, location = rules.input_location(art, REPO_S3)
    assert got_kind == kind
    assert location[field] == value


def test_input_without_location():
    with pytest.raises(rules.ArtifactRuleError, match="input artifact i has no location"):
        rules.input_location({"name": "i"}, REPO_S3)


@pytest.mark.parametrize(
    ("fmt", "values", "expected"),
    [
        (None, {"workflow.name": "wf", "pod.name": "wf-p"}, "wf/wf-p"),
        ("", {"workflow.name": "wf", "pod.name": "wf-p"}, "wf/wf-p"),
        (
            "art/{{workflow.namespace}}/{{ workflow.name }}/{{pod.name}}",
            {"workflow.namespace": "ns", "workflow.name": "wf", "pod.name": "p"},
            "art/ns/wf/p",
        ),
        (
            "{{workflow.creationTimestamp.Y}}/{{unknown}}",
            {"workflow.creationTimestamp.Y": "2026"},
            "2026/{{unknown}}",
        ),
        ("plain/key", {}, "plain/key"),
        ("open {{ only", {}, "open {{ only"),
    ],
)
def test_resolve_key_format(fmt, values, expected):
    assert rules.resolve_key_format(fmt, values) == expected


@pytest.mark.parametrize(
    ("kind", "repo", "expected"),
    [
        ("s3", {"bucket": "b", "keyFormat": "x"}, {"bucket": "b", "key": "wf/pod"}),
        ("azure", {"container": "c", "blobNameFormat": "y"}, {"container": "c", "blob": "wf/pod"}),
        (
            "artifactory",
            {"repoURL": "https://art.example/repo/", "usernameSecret": {"name": "s", "key": "u"}},
            {"url": "https://art.example/repo/wf/pod", "usernameSecret": {"name": "s", "key": "u"}},
        ),
    ],
)
def test_repository_location(kind, repo, expected):
    assert rules.repository_location(kind, repo, "wf/pod") == expected
