"""WorkflowPolicy (sluice.dev/v1alpha1): CEL rules over the workflow as submitted and as it will run."""
