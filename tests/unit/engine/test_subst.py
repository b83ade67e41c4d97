"""workflow/engine/subst.py: the engine's one door to templating sees the globals as they are now."""

from __future__ import annotations

from datetime import UTC, datetime

from workflow.engine import subst


def test_a_changed_global_value_is_seen_by_the_next_render():
    # The step writes globals while it walks the tree (workflow.status, exported outputs): a value that
    # changes under a key already there must be rendered as it is now, not as it was first seen.
    globals_ = {"workflow.status": "Running", "workflow.outputs.parameters.p": "1"}
    assert subst.render("{{workflow.status}}", globals_, {}) == "Running"
    globals_["workflow.status"] = "Failed"
    assert subst.render("{{workflow.status}}", globals_, {}) == "Failed"
    globals_["workflow.outputs.parameters.p"] = "2"
    assert subst.render("{{workflow.outputs.parameters.p}}-{{x}}", globals_, {"x": "y"}) == "2-y"


def test_a_new_global_key_is_seen_too():
    globals_ = {"a": "1"}
    assert subst.render("{{b}}", globals_, {}) == "{{b}}"
    globals_["b"] = "2"
    assert subst.render("{{b}}", globals_, {}) == "2"


def test_values_that_are_not_text_stay_out_of_text_substitution():
    # artifacts (objects) and the clock keep their tags for artifact resolution, as in Argo
    art = {"s3": {"key": "k"}}
    now = datetime(2024, 1, 1, tzinfo=UTC)
    globals_ = {"workflow.outputs.artifacts.a": art, subst.NOW: now, "t": "text"}
    rendered = subst.render("{{workflow.outputs.artifacts.a}} {{t}}", globals_, {"l": ["x"]})
    assert rendered == "{{workflow.outputs.artifacts.a}} text"
    assert subst.render("{{l}}", globals_, {"l": ["x"]}) == "{{l}}"
    # a text value that becomes an object leaves text substitution, and back
    globals_["t"] = {"not": "text"}
    assert subst.render("{{t}}", globals_, {}) == "{{t}}"
    globals_["t"] = "again"
    assert subst.render("{{t}}", globals_, {}) == "again"


def test_an_expression_reads_the_current_globals():
    globals_ = {"workflow.status": "Running"}
    assert subst.render("{{= workflow.status == 'Running' }}", globals_, {}) == "true"
    globals_["workflow.status"] = "Succeeded"
    assert subst.render("{{= workflow.status == 'Running' }}", globals_, {}) == "false"
