"""The reconcile controller: drives workflow.engine on a Kubernetes cluster."""
