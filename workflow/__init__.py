"""The pure core of Sluice: types, parsing, validation, templating, expressions, naming and the engine.

An Argo object goes through the pipeline in the order of the tree (docs/architecture.md):
load.py (text to documents) -> parse/ (typed objects, problems with paths, the one normalised form)
-> resolve/ (templateRef / workflowTemplateRef through a TemplateSource) -> validate/ (Argo's rules)
-> expand.py (the object as it will run) -> check.py (the one entry point). engine/ runs a workflow;
expr/ and templating.py evaluate `{{ }}`; names.py, merge.py, outputs.py and artifact_rules.py are
shared rules.

Nothing in this package performs I/O or reads a clock (docs/architecture.md, contract 1); tests/unit/test_layering.py
keeps it that way.
"""
