"""Loop sizes are capped with a clear error on the node, checked before anything is built (issue 13
item 11: withSequence count 1,000,000,000 grew to 2.9 GB and died with a MemoryError traceback)."""

from __future__ import annotations

import json

import pytest

from workflow.engine.defs import EngineError
from workflow.engine.loops import MAX_LOOP_ITEMS, expand_sequence, items_of


@pytest.mark.timeout(60)
def test_a_huge_sequence_is_an_error_not_a_memory_error():
    with pytest.raises(
        EngineError, match="withSequence would make 1,000,000,000 copies, over the limit of 100,000"
    ):
        expand_sequence({"count": "1000000000"})
    with pytest.raises(EngineError, match="over the limit"):
        expand_sequence({"start": "-5", "end": str(MAX_LOOP_ITEMS)})


def test_up_to_the_limit_is_fine():
    assert len(expand_sequence({"count": str(MAX_LOOP_ITEMS)})) == MAX_LOOP_ITEMS
    assert expand_sequence({"start": "3", "end": "1"}) == ["3", "2", "1"]


def test_items_and_params_over_the_limit_are_errors():
    too_many = list(range(MAX_LOOP_ITEMS + 1))
    with pytest.raises(EngineError, match="withItems would make 100,001 copies"):
        items_of({"withItems": too_many})
    with pytest.raises(EngineError, match="withParam would make 100,001 copies"):
        items_of({"withParam": json.dumps(too_many)})
    with pytest.raises(EngineError, match="withParam would make 100,001 copies"):
        items_of({"withParam": too_many})
