"""Argo's label and annotation keys, named once for every program (engine, controller, executor, webhook, CLI).

They are part of the API users select on (`kubectl get pods -l workflows.argoproj.io/workflow=NAME`), so they
are spelled exactly as Argo spells them.
"""

# Labels.
LABEL_WORKFLOW = "workflows.argoproj.io/workflow"  # the Workflow a pod or task result belongs to
LABEL_COMPLETED = "workflows.argoproj.io/completed"  # a Workflow or pod that has finished
LABEL_PHASE = "workflows.argoproj.io/phase"  # a Workflow's phase, for selectors
LABEL_INSTANCE = "workflows.argoproj.io/controller-instanceid"  # the controller that owns it
LABEL_ON_EXIT = "workflows.argoproj.io/on-exit"  # a pod run by an exit handler
LABEL_OUTPUTS_COMPLETED = "workflows.argoproj.io/report-outputs-completed"  # a finalised task result
LABEL_CRON = "workflows.argoproj.io/cron-workflow"  # the CronWorkflow that created a Workflow
LABEL_CRON_COMPLETED = "cronworkflows.argoproj.io/completed"  # a CronWorkflow its stopStrategy stopped
LABEL_RESUBMITTED = "workflows.argoproj.io/resubmitted-from-workflow"  # where a resubmission came from
LABEL_CONFIGMAP_TYPE = "workflows.argoproj.io/configmap-type"  # a ConfigMap's role (Cache, Parameter)

# Annotations.
ANN_NODE_ID = "workflows.argoproj.io/node-id"  # the status node a pod runs
ANN_NODE_NAME = "workflows.argoproj.io/node-name"  # that node's full name
ANN_DISPLAY_NAME = "workflows.argoproj.io/display-name"  # shown instead of the object's own name
ANN_POD_NAME_FORMAT = "workflows.argoproj.io/pod-name-format"  # v1 or v2 pod names, fixed at start
ANN_POD_GC = "workflows.argoproj.io/pod-gc-strategy"  # the pod GC strategy a pod was made under
ANN_SCHEDULED = "workflows.argoproj.io/scheduled-time"  # the cron hit a Workflow was created for
ANN_CREATOR = "workflows.argoproj.io/creator"  # who created the Workflow (set at admission)
ANN_CREATOR_EMAIL = "workflows.argoproj.io/creator-email"  # the creator's e-mail (set at admission)
ANN_DEFAULT_ARTIFACT_REPOSITORY = "workflows.argoproj.io/default-artifact-repository"  # its default key
