.PHONY: install test lint fmt

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'

test:
	scripts/test.sh

lint:
	ruff check .

fmt:
	ruff format . && ruff check --fix .
