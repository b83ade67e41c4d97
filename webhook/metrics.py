"""The webhook's Prometheus series (primitives in kube/metrics.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kube.metrics import Counter, Gauge, Histogram, render


@dataclass(slots=True)
class Metrics:
    requests: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_requests_total",
            "Admission requests by endpoint, kind, operation and result (allowed, denied, error, malformed).",
        )
    )
    denials: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_denials_total",
            "Denied admission requests by kind and reason (invalid, policy, ...).",
        )
    )
    policy_results: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_policy_violations_total",
            "Policy rules that did not hold, by policy and action (Deny, Warn, Audit).",
        )
    )
    latency: Histogram = field(
        default_factory=lambda: Histogram(
            "sluice_webhook_request_duration_seconds", "Time to answer an admission request, by endpoint."
        )
    )
    cert_reloads: Counter = field(
        default_factory=lambda: Counter(
            "sluice_webhook_certificate_reloads_total", "Serving certificates loaded, by source and outcome."
        )
    )

    policies_refused: Gauge = field(
        default_factory=lambda: Gauge(
            "sluice_webhook_policies_refused",
            "WorkflowPolicies whose latest version was refused (invalid); their last good version stays in force.",
            read=lambda: 0.0,
        )
    )

    def render(self) -> str:
        return render(
            self.requests,
            self.denials,
            self.policy_results,
            self.latency,
            self.cert_reloads,
            self.policies_refused,
        )
