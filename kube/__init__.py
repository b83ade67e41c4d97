"""Shared Kubernetes I/O for the webhook and the controller (docs/architecture.md; the layering rule in tests/unit/test_layering.py): informers, API client
set-up, structured logs, the health/metrics server. May import `workflow/`, kubernetes_asyncio and
aiohttp; never a program (tests/unit/test_layering.py)."""
