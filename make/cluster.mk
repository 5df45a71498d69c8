# Production stack on loopback: Redis, 2 Rasa replicas, 2 action servers, nginx on :8000.
# Included from the main Makefile; uses $(PY) and $(MODEL) from there.

.PHONY: services-deps deploy-deps deploy-configs cluster cluster-down test-cluster bench-cluster

CLUSTER_DIR ?= .run/cluster
# The validators need jsonschema >= 4.18, Rasa 3.6 needs < 4.18: they get a venv of their own.
DEPLOY_VENV := .run/deploy-venv

services-deps:  ## Debian redis-server and nginx for the cluster (only when missing)
	@need=""; \
	command -v redis-server >/dev/null 2>&1 || need="$$need redis-server"; \
	{ command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx; } || need="$$need nginx"; \
	if [ -n "$$need" ]; then \
	  echo "installeren:$$need"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$need >/dev/null; \
	fi

$(DEPLOY_VENV)/.installed:
	$(PY) -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install -q kubernetes-validate==1.37.0 check-jsonschema==0.38.2
	touch $@

deploy-deps: $(DEPLOY_VENV)/.installed  ## Schema validators for deploy/ (kubernetes-validate, check-jsonschema)

deploy-configs: install  ## Regenerate deploy/compose/nginx.conf and deploy/k8s/action-gateway.yaml
	$(PY) -m vraagbaak.ops.cluster deploy-configs

cluster: $(MODEL) services-deps  ## Start the stack under supervisord in the background on http://localhost:8000
	$(PY) -m vraagbaak.ops.cluster up --detach --workdir $(CLUSTER_DIR) --model $(MODEL)

cluster-down:  ## Stop everything `make cluster` started (also when supervisord or a program died)
	$(PY) -m vraagbaak.ops.cluster down --workdir $(CLUSTER_DIR)

test-cluster: $(MODEL) services-deps deploy-deps  ## Cluster, fault-drill and deployment tests (two clusters; 10-20 minutes)
	$(PY) -m pytest tests/cluster -m cluster -q

bench-cluster: $(MODEL) services-deps  ## Throughput, p50/p95, memory for 1 and 2 replicas; a replica killed; AOF cost
	$(PY) -m vraagbaak.bench.cluster
	$(PY) -m vraagbaak.bench.cluster_faults
