"""The in-pod executor: input/output artifacts, output parameters, result capture."""
