.PHONY: install test lint fmt unit types check cluster-up cluster-down cluster-build cluster-images test-e2e bench-compare

install:
	python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'

test:
	scripts/test.sh

lint:
	ruff check .
	ruff format --check .

fmt:
	ruff format . && ruff check --fix .

# The inner loop: the unit tier without the tests marked slow (under a minute), the type checker
# (mypy, configured in pyproject.toml), and both with the linter.
unit:
	python -m pytest -q -m "unit and not slow" tests/unit

types:
	mypy

check: lint types unit

# The project's single-node Kubernetes (cluster/, README "End-to-end tests"); needs root.
cluster-up:
	cluster/up.sh

cluster-down:
	cluster/down.sh

cluster-build:
	cluster/install-deps.sh && cluster/build-k8s.sh all && cluster/build-minio.sh && cluster/build-coredns.sh

cluster-images:
	cluster/build-images.sh

test-e2e:
	cluster/e2e.sh

# Scale beside Argo's own controller (benchmarks/bench_scale.py): builds kwok and Argo v4.0.5 once
# (benchmarks/build-anchors.sh, cached; never part of `make test`), runs both controllers on kwok's
# simulated nodes, ends with the side-by-side table. BENCH_QUICK=1 for a small N. On a private control
# plane the run starts and stops (benchmarks/private_cluster.py); BENCH_KUBECONFIG=path runs on that
# cluster instead, switching its Workflow CRD's status subresource off during Argo's run (restored
# after): not while other tests use it.
bench-compare:
	benchmarks/build-anchors.sh
	python benchmarks/bench_scale.py --controllers sluice,argo \
		$(if $(BENCH_KUBECONFIG),--kubeconfig $(BENCH_KUBECONFIG) --allow-crd-toggle) \
		--json benchmarks/scale-result.json
