"""The engine: `step(workflow, observed, now) -> Decision(status, actions, requeue_after)` (DESIGN.md
contract 1). Pure: no I/O, no clock; the controller and the local runner are two drivers of it.
"""

from workflow.engine.model import (
    AcquireLock,
    Action,
    CacheEntry,
    ContainerObservation,
    CreateObject,
    CreatePod,
    Decision,
    DeleteCollection,
    DeletePod,
    EngineConfig,
    Event,
    LockObservation,
    Observed,
    PatchObject,
    PodObservation,
    ReleaseLock,
    ResumeRequest,
    SaveCache,
    TaskResultObservation,
    TemplateSource,
    TerminatePod,
)
from workflow.engine.operate import step

__all__ = [
    "AcquireLock",
    "Action",
    "CacheEntry",
    "ContainerObservation",
    "CreateObject",
    "CreatePod",
    "Decision",
    "DeleteCollection",
    "DeletePod",
    "EngineConfig",
    "Event",
    "LockObservation",
    "Observed",
    "PatchObject",
    "PodObservation",
    "ReleaseLock",
    "ResumeRequest",
    "SaveCache",
    "TaskResultObservation",
    "TemplateSource",
    "TerminatePod",
    "step",
]
