"""Shared Kubernetes I/O for the webhook and the controller (DESIGN.md, layers): informers, API client
set-up, structured logs, the health/metrics server. May import `workflow/`, kubernetes_asyncio and
aiohttp; never a program (tests/unit/test_layering.py)."""
