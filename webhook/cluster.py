"""The webhook in a cluster: informer-backed caches and the certificate Secret, with kubernetes_asyncio.

- WorkflowTemplates (all namespaces) and ClusterWorkflowTemplates fill the TemplateStore;
- WorkflowPolicies are compiled as they arrive (one that does not compile is logged and left out;
  admission refuses such a policy in the first place);
- the defaults ConfigMap (`sluice-workflow-defaults`, key `workflowDefaults`) replaces the defaults;
- with `--cert-secret`, certificates live in that Secret and caBundle is kept in the Validating and
  Mutating webhook configurations (cert_secret.py).

/readyz stays 503 until every informer has listed once.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import Any

from kube.client import api_client
from kube.health import Readiness
from kube.informer import Informer
from webhook import cert_secret
from webhook.admission import DefaultsHolder
from webhook.defaults import DefaultsError, parse_defaults
from webhook.policy.engine import PolicySet
from webhook.sources import TemplateStore
from workflow.types import ARGO_GROUP, ARGO_VERSION

log = logging.getLogger("sluice.webhook")

ARGO = (ARGO_GROUP, ARGO_VERSION)
POLICIES = ("sluice.dev", "v1alpha1", "workflowpolicies")


class _Secret:
    """cert_secret.SecretApi over CoreV1Api."""

    def __init__(self, core: Any, namespace: str, name: str) -> None:
        self.core, self.namespace, self.name = core, namespace, name

    async def read(self):
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            secret = await self.core.read_namespaced_secret(self.name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise
        data = {k: base64.b64decode(v) for k, v in (secret.data or {}).items()}
        return data, secret.metadata.resource_version

    def _body(self, data, resource_version: str | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.name,
            "namespace": self.namespace,
            "labels": {
                "app.kubernetes.io/name": "sluice-webhook",
                "app.kubernetes.io/component": "webhook",
                "app.kubernetes.io/part-of": "sluice",
            },
        }
        if resource_version:
            meta["resourceVersion"] = resource_version
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": meta,
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        }

    async def create(self, data) -> bool:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            await self.core.create_namespaced_secret(self.namespace, self._body(data))
            return True
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise

    async def replace(self, data, resource_version: str) -> bool:
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            await self.core.replace_namespaced_secret(
                self.name, self.namespace, self._body(data, resource_version)
            )
            return True
        except ApiException as exc:
            if exc.status == 409:
                return False
            raise


class _WebhookConfigs:
    """cert_secret.WebhookConfigApi over AdmissionregistrationV1Api."""

    def __init__(self, api: Any, serialize: Any, name: str) -> None:
        self.api, self.serialize, self.name = api, serialize, name

    async def ca_bundles(self) -> dict[tuple[str, int], str]:
        from kubernetes_asyncio.client.exceptions import ApiException

        out = {}
        for kind, read in (
            ("validating", self.api.read_validating_webhook_configuration),
            ("mutating", self.api.read_mutating_webhook_configuration),
        ):
            try:
                obj = self.serialize(await read(self.name))
            except ApiException as exc:
                if exc.status == 404:
                    log.warning(
                        "webhook configuration not found", extra={"configuration": kind, "config": self.name}
                    )
                    continue
                raise
            for i, hook in enumerate(obj.get("webhooks") or []):
                out[(kind, i)] = (hook.get("clientConfig") or {}).get("caBundle") or ""
        return out

    async def set_ca_bundle(self, kind: str, indexes: list[int], ca_bundle: str) -> None:
        ops = [
            {"op": "add", "path": f"/webhooks/{i}/clientConfig/caBundle", "value": ca_bundle} for i in indexes
        ]
        patch = (
            self.api.patch_validating_webhook_configuration
            if kind == "validating"
            else self.api.patch_mutating_webhook_configuration
        )
        await patch(self.name, ops)


class ClusterSources:
    def __init__(
        self,
        config: Any,
        store: TemplateStore,
        policies: PolicySet,
        defaults: DefaultsHolder,
        readiness: Readiness,
    ) -> None:
        self.config, self.store, self.policies, self.defaults = config, store, policies, defaults
        self.readiness = readiness
        self.tasks: list[asyncio.Task] = []
        self.api_client: Any = None
        self.namespace_labels: dict[str, dict[str, str]] = {}
        policies.namespace_labels = lambda name: self.namespace_labels.get(name, {})

    async def start(self) -> None:
        from kubernetes_asyncio import client

        self.api_client = await api_client(self.config.kubeconfig)
        serialize = self.api_client.sanitize_for_serialization
        custom = client.CustomObjectsApi(self.api_client)
        core = client.CoreV1Api(self.api_client)
        scope = self.config.watch_namespace
        templates_list, templates_args = (
            (custom.list_namespaced_custom_object, {"namespace": scope})
            if scope
            else (custom.list_cluster_custom_object, {})
        )
        informers = [
            Informer(
                "workflowtemplates",
                templates_list,
                {"group": ARGO[0], "version": ARGO[1], "plural": "workflowtemplates", **templates_args},
                on_list=lambda items: self.store.replace("WorkflowTemplate", items),
                on_event=self._template_event,
            ),
            Informer(
                "clusterworkflowtemplates",
                custom.list_cluster_custom_object,
                {"group": ARGO[0], "version": ARGO[1], "plural": "clusterworkflowtemplates"},
                on_list=lambda items: self.store.replace("ClusterWorkflowTemplate", items),
                on_event=self._template_event,
            ),
            Informer(
                "workflowpolicies",
                custom.list_cluster_custom_object,
                {"group": POLICIES[0], "version": POLICIES[1], "plural": POLICIES[2]},
                on_list=self._policies_listed,
                on_event=self._policy_event,
            ),
            Informer(
                "namespaces",
                core.list_namespace,
                {},
                on_list=self._namespaces_listed,
                on_event=self._namespace_event,
                to_dict=serialize,
            ),
            Informer(
                "defaults",
                core.list_namespaced_config_map,
                {
                    "namespace": self.config.namespace,
                    "field_selector": f"metadata.name={self.config.defaults_configmap}",
                },
                on_list=self._defaults_listed,
                on_event=self._defaults_event,
                to_dict=serialize,
            ),
        ]
        for inf in informers:
            self.readiness.set(inf.name, False)
            inf.on_synced = lambda ok, name=inf.name: self.readiness.set(name, ok)
            self.tasks.append(asyncio.create_task(inf.run(), name=f"informer-{inf.name}"))
        if self.config.cert_secret:
            self.secret = _Secret(core, self.config.namespace, self.config.cert_secret)
            await cert_secret.bootstrap(self.secret, self.config.cert_dir, self.config.hosts)
            self.configs = _WebhookConfigs(
                client.AdmissionregistrationV1Api(self.api_client),
                serialize,
                self.config.webhook_configurations,
            )

    async def after_certificates(self, reloader: Any) -> None:
        if not self.config.cert_secret:
            return
        await self._sync_certificates(reloader)
        self.tasks.append(asyncio.create_task(self._certificate_loop(reloader), name="certificates"))

    async def _sync_certificates(self, reloader: Any) -> None:
        bundle = await cert_secret.reconcile(self.secret, self.config.cert_dir)
        if bundle is not None:
            reloader.reload()
            await cert_secret.patch_ca_bundles(self.configs, bundle.ca_cert)

    async def _certificate_loop(self, reloader: Any) -> None:
        while True:
            await asyncio.sleep(self.config.poll_seconds)
            try:
                await self._sync_certificates(reloader)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("certificate sync failed", extra={"error": str(exc)[:300]})

    # ---- cache updates ------------------------------------------------------------------------------

    def _template_event(self, kind: str, obj: dict[str, Any]) -> None:
        if kind == "DELETED":
            self.store.remove(obj)
        else:
            self.store.put(obj)

    def _namespaces_listed(self, items: list[dict[str, Any]]) -> None:
        self.namespace_labels = {
            (i.get("metadata") or {}).get("name", ""): dict((i.get("metadata") or {}).get("labels") or {})
            for i in items
        }

    def _namespace_event(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        labels = dict(self.namespace_labels)
        if kind == "DELETED":
            labels.pop(meta.get("name", ""), None)
        else:
            labels[meta.get("name", "")] = dict(meta.get("labels") or {})
        self.namespace_labels = labels

    def _policies_listed(self, items: list[dict[str, Any]]) -> None:
        fresh = PolicySet(self.policies.cel)
        for item in items:
            self._load_policy(fresh, item, previous=self.policies)
        self.policies.replace_all(fresh)

    def _policy_event(self, kind: str, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        if kind == "DELETED":
            self.policies.remove(name)
        else:
            # An update that does not compile keeps the last good version in force (and is counted in
            # sluice_webhook_policies_refused): dropping it would fail open.
            self._load_policy(self.policies, obj)

    @staticmethod
    def _load_policy(target: PolicySet, obj: dict[str, Any], previous: PolicySet | None = None) -> bool:
        problems = target.load_or_keep(obj, previous=previous)
        for p in problems:
            log.warning(
                "policy refused", extra={"policy": (obj.get("metadata") or {}).get("name"), "problem": str(p)}
            )
        return not problems

    def _defaults_listed(self, items: list[dict[str, Any]]) -> None:
        self._set_defaults(items[0] if items else None)

    def _defaults_event(self, kind: str, obj: dict[str, Any]) -> None:
        self._set_defaults(None if kind == "DELETED" else obj)

    def _set_defaults(self, configmap: dict[str, Any] | None) -> None:
        try:
            # List items come without kind; say what it is so it is read as a ConfigMap.
            self.defaults.current = parse_defaults({**configmap, "kind": "ConfigMap"} if configmap else None)
        except DefaultsError as exc:
            log.warning("workflow defaults refused: %s", exc)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.api_client is not None:
            await self.api_client.close()
