"""Argo's validation rules, on the normalised document (workflow/parse/normalise.py:
Argo v3 fields already upgraded; problems point back at what the user wrote), collecting every problem.

Entry point: `workflow.validate.object.validate_object`; `workflow.check.check_object` is the facade.
Split by concept: object.py and specfields.py (the object and its spec), arguments.py, templates.py
(references and per-template checks), leaf.py, steps.py, dag.py, calls.py (what steps and tasks share),
outputs.py, variables.py and tags.py (scoping of `{{ }}`), expressions.py (expression syntax), artifacts.py,
metrics.py, cron.py and cronspec.py, durations.py.
"""
