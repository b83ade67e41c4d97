"""Artifacts and their storage drivers: s3, gcs, azure, oss, hdfs, artifactory,
http, git, raw and plugin, plus archive strategies, artifact GC and artifact repositories."""

from __future__ import annotations

from workflow.types.base import ArgoStruct, field
from workflow.types.k8s import ConfigMapKeySelector, SecretKeySelector


class Metadata(ArgoStruct):
    """Labels and annotations put on pods (template `metadata`, `podMetadata`)."""

    annotations: dict[str, str] | None = None
    labels: dict[str, str] | None = None


# --- S3 -------------------------------------------------------------------------------------------


class CreateS3BucketOptions(ArgoStruct):
    object_locking: bool | None = None


class S3EncryptionOptions(ArgoStruct):
    kms_key_id: str | None = field("kmsKeyId")
    kms_encryption_context: str | None = None
    enable_encryption: bool | None = None
    server_side_customer_key_secret: SecretKeySelector | None = None


class S3Bucket(ArgoStruct):
    endpoint: str | None = None
    bucket: str | None = None
    region: str | None = None
    insecure: bool | None = None
    access_key_secret: SecretKeySelector | None = None
    secret_key_secret: SecretKeySelector | None = None
    session_token_secret: SecretKeySelector | None = None
    role_arn: str | None = field("roleARN")
    use_sdk_creds: bool | None = field("useSDKCreds")
    create_bucket_if_not_present: CreateS3BucketOptions | None = None
    encryption_options: S3EncryptionOptions | None = None
    ca_secret: SecretKeySelector | None = None
    # v4.1: "" | "path" | "virtual-hosted"
    addressing_style: str | None = None


class S3Artifact(S3Bucket):
    key: str | None = None


class S3ArtifactRepository(S3Bucket):
    key_format: str | None = None
    key_prefix: str | None = None


# --- Git, HTTP, Artifactory -------------------------------------------------------------------------


class GitArtifact(ArgoStruct):
    repo: str | None = None
    revision: str | None = None
    depth: int | None = None
    fetch: list[str] | None = None
    username_secret: SecretKeySelector | None = None
    password_secret: SecretKeySelector | None = None
    ssh_private_key_secret: SecretKeySelector | None = field("sshPrivateKeySecret")
    insecure_ignore_host_key: bool | None = None
    disable_submodules: bool | None = None
    single_branch: bool | None = None
    branch: str | None = None
    insecure_skip_tls: bool | None = field("insecureSkipTLS")


class Header(ArgoStruct):
    name: str
    value: str


class BasicAuth(ArgoStruct):
    username_secret: SecretKeySelector | None = None
    password_secret: SecretKeySelector | None = None


class ClientCertAuth(ArgoStruct):
    client_cert_secret: SecretKeySelector | None = None
    client_key_secret: SecretKeySelector | None = None


class OAuth2EndpointParam(ArgoStruct):
    key: str
    value: str | None = None


class OAuth2Auth(ArgoStruct):
    client_id_secret: SecretKeySelector | None = field("clientIDSecret")
    client_secret_secret: SecretKeySelector | None = None
    token_url_secret: SecretKeySelector | None = field("tokenURLSecret")
    scopes: list[str] | None = None
    endpoint_params: list[OAuth2EndpointParam] | None = None


class HTTPAuth(ArgoStruct):
    client_cert: ClientCertAuth | None = None
    oauth2: OAuth2Auth | None = None
    basic_auth: BasicAuth | None = None


class HTTPArtifact(ArgoStruct):
    url: str | None = None
    headers: list[Header] | None = None
    auth: HTTPAuth | None = None
    # v4.1: stream the upload through a temporary file
    save_stream_via_file: bool | None = None


class ArtifactoryAuth(ArgoStruct):
    username_secret: SecretKeySelector | None = None
    password_secret: SecretKeySelector | None = None


class ArtifactoryArtifact(ArtifactoryAuth):
    url: str | None = None


class ArtifactoryArtifactRepository(ArtifactoryAuth):
    repo_url: str | None = field("repoURL")
    key_format: str | None = None


# --- HDFS -------------------------------------------------------------------------------------------


class HDFSKrbConfig(ArgoStruct):
    krb_c_cache_secret: SecretKeySelector | None = field("krbCCacheSecret")
    krb_keytab_secret: SecretKeySelector | None = None
    krb_username: str | None = None
    krb_realm: str | None = None
    krb_config_config_map: ConfigMapKeySelector | None = None
    krb_service_principal_name: str | None = None


class HDFSConfig(HDFSKrbConfig):
    addresses: list[str] | None = None
    hdfs_user: str | None = None
    data_transfer_protection: str | None = None


class HDFSArtifact(HDFSConfig):
    path: str | None = None
    force: bool | None = None


class HDFSArtifactRepository(HDFSConfig):
    path_format: str | None = None
    force: bool | None = None


# --- Raw, OSS, GCS, Azure, plugin -------------------------------------------------------------------


class RawArtifact(ArgoStruct):
    data: str | None = None


class OSSLifecycleRule(ArgoStruct):
    mark_infrequent_access_after_days: int | None = None
    mark_deletion_after_days: int | None = None


class OSSBucket(ArgoStruct):
    endpoint: str | None = None
    bucket: str | None = None
    access_key_secret: SecretKeySelector | None = None
    secret_key_secret: SecretKeySelector | None = None
    create_bucket_if_not_present: bool | None = None
    security_token: str | None = None
    lifecycle_rule: OSSLifecycleRule | None = None
    use_sdk_creds: bool | None = field("useSDKCreds")


class OSSArtifact(OSSBucket):
    key: str | None = None


class OSSArtifactRepository(OSSBucket):
    key_format: str | None = None


class GCSBucket(ArgoStruct):
    bucket: str | None = None
    service_account_key_secret: SecretKeySelector | None = None


class GCSArtifact(GCSBucket):
    key: str | None = None


class GCSArtifactRepository(GCSBucket):
    key_format: str | None = None


class AzureBlobContainer(ArgoStruct):
    endpoint: str | None = None
    container: str | None = None
    account_key_secret: SecretKeySelector | None = None
    use_sdk_creds: bool | None = field("useSDKCreds")


class AzureArtifact(AzureBlobContainer):
    blob: str | None = None


class AzureArtifactRepository(AzureBlobContainer):
    blob_name_format: str | None = None


class PluginArtifact(ArgoStruct):
    """An out-of-tree artifact driver (`artifactDrivers` in the controller config) and its settings."""

    name: str | None = None
    # The driver's own configuration, passed through as text (YAML by convention).
    configuration: str | None = None
    connection_timeout_seconds: int | None = None
    key: str | None = None


class PluginArtifactRepository(ArgoStruct):
    name: str | None = None
    configuration: str | None = None
    connection_timeout_seconds: int | None = None
    key_format: str | None = None


# --- Locations, archives, GC ------------------------------------------------------------------------


class ArtifactLocation(ArgoStruct):
    """Where an artifact lives; at most one driver is set (checked by validation)."""

    archive_logs: bool | None = None
    s3: S3Artifact | None = None
    git: GitArtifact | None = None
    http: HTTPArtifact | None = None
    artifactory: ArtifactoryArtifact | None = None
    hdfs: HDFSArtifact | None = None
    raw: RawArtifact | None = None
    oss: OSSArtifact | None = None
    gcs: GCSArtifact | None = None
    azure: AzureArtifact | None = None
    plugin: PluginArtifact | None = None


class TarStrategy(ArgoStruct):
    compression_level: int | None = None


class NoneStrategy(ArgoStruct):
    pass


class ZipStrategy(ArgoStruct):
    pass


class ArchiveStrategy(ArgoStruct):
    tar: TarStrategy | None = None
    none: NoneStrategy | None = None
    zip: ZipStrategy | None = None


class ArtifactGC(ArgoStruct):
    # "" | OnWorkflowCompletion | OnWorkflowDeletion | Never
    strategy: str | None = None
    pod_metadata: Metadata | None = None
    service_account_name: str | None = None


class WorkflowLevelArtifactGC(ArtifactGC):
    force_finalizer_removal: bool | None = None
    pod_spec_patch: str | None = None


class Artifact(ArtifactLocation, kw_only=True):
    """An input, output or argument artifact: a location plus how it is mounted, archived and passed."""

    name: str
    path: str | None = None
    mode: int | None = None
    from_: str | None = field("from")
    global_name: str | None = None
    archive: ArchiveStrategy | None = None
    optional: bool | None = None
    sub_path: str | None = None
    recurse_mode: bool | None = None
    from_expression: str | None = None
    artifact_gc: ArtifactGC | None = field("artifactGC")
    deleted: bool | None = None


class ArtifactRepository(ArgoStruct):
    """A default artifact repository (controller config, `artifact-repositories` ConfigMap)."""

    archive_logs: bool | None = None
    s3: S3ArtifactRepository | None = None
    artifactory: ArtifactoryArtifactRepository | None = None
    hdfs: HDFSArtifactRepository | None = None
    oss: OSSArtifactRepository | None = None
    gcs: GCSArtifactRepository | None = None
    azure: AzureArtifactRepository | None = None
    plugin: PluginArtifactRepository | None = None


class ArtifactRepositoryRef(ArgoStruct):
    config_map: str | None = None
    key: str | None = None


class ArtifactRepositoryRefStatus(ArtifactRepositoryRef):
    namespace: str | None = None
    default: bool | None = None
    artifact_repository: ArtifactRepository | None = None
