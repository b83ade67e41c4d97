"""The controller's workflowRestrictions.templateReferencing.

In Strict or Secure mode only Workflows that reference a (Cluster)WorkflowTemplate run, and the user's
Workflow may set only an allow-list of spec fields: everything else belongs to the administrator's
template. Two 2026 advisories were exactly this gap:

- GHSA-3wf5-g532-rcrr / CVE-2026-31892: `podSpecPatch` on the Workflow overrode the template's pod;
- GHSA-3775-99mw-8rp4: after a deny-list fix, `hostNetwork`, `serviceAccountName` and `securityContext`
  still passed through the merge.

Both are closed the way Argo closed them for good: an allow-list (a field added to WorkflowSpec later is
denied until someone reviews it), checked field by field (`override_violations`), and, as defence in
depth, the merge itself only ever sees the allow-listed fields of the user's spec (`sanitize_user_spec`).
`artifactGC` is allow-listed for its strategy only: its serviceAccountName, podSpecPatch and podMetadata
reach the artifact-GC pod and stay blocked even when an operator widens the allow-list.
"""

from __future__ import annotations

from typing import Any

RESTRICTED_MODES = ("Strict", "Secure")

ALLOWED_USER_OVERRIDE_FIELDS = frozenset(
    {
        "arguments",
        "entrypoint",
        "shutdown",
        "suspend",
        "activeDeadlineSeconds",
        "priority",
        "ttlStrategy",
        "podGC",
        "volumeClaimGC",
        "archiveLogs",
        "workflowMetadata",
        "workflowTemplateRef",
        "metrics",
        "artifactGC",
    }
)
ARTIFACT_GC_BLOCKED = ("serviceAccountName", "podSpecPatch", "podMetadata")

NEEDS_REF_MESSAGE = (
    "workflows must use workflowTemplateRef to be executed when the controller is in reference mode"
)


def is_restricted(mode: str | None) -> bool:
    return mode in RESTRICTED_MODES


def _set(value: Any) -> bool:
    # Go's "not the zero value": absent, null and "" are unset; false, 0, {} and [] are set.
    return value is not None and value != ""


def override_violations(
    spec: dict[str, Any], extra_allowed: frozenset[str] | set[str] = frozenset()
) -> list[str]:
    """The spec fields (JSON names, nested with dots) a user may not set under the restriction, sorted."""
    allowed = ALLOWED_USER_OVERRIDE_FIELDS | set(extra_allowed)
    found = [key for key, value in spec.items() if key not in allowed and _set(value)]
    agc = spec.get("artifactGC")
    if isinstance(agc, dict):
        found += [f"artifactGC.{key}" for key in ARTIFACT_GC_BLOCKED if _set(agc.get(key))]
    return sorted(found)


def sanitize_user_spec(
    spec: dict[str, Any], extra_allowed: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    """A copy of the user's spec with only what the restriction lets a user set."""
    allowed = ALLOWED_USER_OVERRIDE_FIELDS | set(extra_allowed)
    clean = {key: value for key, value in spec.items() if key in allowed}
    agc = clean.get("artifactGC")
    if isinstance(agc, dict):
        clean["artifactGC"] = {k: v for k, v in agc.items() if k not in ARTIFACT_GC_BLOCKED}
    return clean
