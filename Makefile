# kratos-conformance: conformance and load tests for Ory Kratos deployments.
# `make help` lists the targets. Suite flags go in ARGS, e.g.
#   make certify ARGS="-kc.kratos-bin=/path/to/kratos"
#   make e2e GINKGO_ARGS="--label-filter=admin"

GO          ?= go
GINKGO      := $(GO) run github.com/onsi/ginkgo/v2/ginkgo
# The whole run's bound; a cold Kratos build alone takes about 6 minutes.
TIMEOUT     ?= 40m
ARGS        ?=
GINKGO_ARGS ?=
ifdef CI
GINKGO_ARGS += --no-color
endif
# The same for the compiled suite, which kccertify runs (Ginkgo's flags take -ginkgo.).
SUITE_ARGS  := -ginkgo.timeout=$(TIMEOUT) $(if $(CI),-ginkgo.no-color)

.DEFAULT_GOAL := help
.PHONY: help deps deps-kind warm test-kind test-full kind-ci docker-check kind-images certify-kind certify-k8s faults-kind build stack-bins certify-lifespans faults race breakages hygiene repeat images certify certify-upgrade load diff e2e e2e-containers test-containers certify-upgrade-containers certify-own certify-helm-kind hygiene-kind binary install unit bench test clean distclean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## install the Debian packages the process provider needs (root; apt)
	./.ci/deps

deps-kind: ## install the Debian packages the kind image build calls (debootstrap, jq, gcc; root; apt)
	./.ci/deps kind

build: stack-bins binary ## build or find the pinned Kratos and Mailpit (cached in ~/.cache/kratos-conformance), and build bin/kratos-conformance

binary: ## only bin/kratos-conformance: no Debian packages, no Kratos or Mailpit, no root (enough to certify a deployment you run, or your images on the containers provider)
	$(GO) test -c -ldflags "-X kratos-conformance/reports.Commit=$$(git rev-parse HEAD 2>/dev/null)$$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty)" -o bin/kratos-conformance ./suites/conformance
	@echo "bin/kratos-conformance: the compiled suite; runs anywhere, e.g. bin/kratos-conformance -kc.target=staging.yaml"

install: ## the one binary an operator runs, kratos-conformance (certify, load, results, diff, cleanup, version, help), into $(go env GOPATH)/bin: go install ./cmd/kratos-conformance with the commit stamped
	$(GO) install -ldflags "-X kratos-conformance/reports.Commit=$$(git rev-parse HEAD 2>/dev/null)$$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty)" ./cmd/kratos-conformance
	@echo "kratos-conformance: $$($(GO) env GOPATH)/bin/kratos-conformance; try: kratos-conformance help"

# Prerequisites first (deps installs missing Debian packages as root, or
# names the command), so a missing redis-server costs seconds, not a build.
stack-bins: deps
	$(GO) run ./cmd/kcbuild

certify: build ## certification on the embedded local-process stack: specs, smoke load gated on SLOs, the expiry specs on a short-lifespans stack beside it; one report folder, one verdict
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.load=smoke $(ARGS)

# An upgrade certification: the stack starts on FROM (an older Kratos binary,
# or several, comma-separated, oldest first: a path), which seeds data; the tested Kratos (ARGS=-kc.kratos-bin=..., else the
# pinned build) migrates it while the old serve answers, then serves it.
certify-upgrade: build ## certification of an upgrade: data made on FROM=<old kratos binary[,newer old binary...]> (default: the pinned build, which proves the plumbing), then the tested Kratos' migrations under load, the roll, the survival checks (UPG-*) and the whole catalogue on the upgraded stack
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.load=smoke -kc.upgrade-from=$(or $(FROM),$(shell $(GO) run ./cmd/kcbuild -kratos-path)) $(ARGS)

# The guide's lifespans are 1h, so its run reports expiry as N/A; this run
# renders the short-lifespans profile and checks exactly those requirements.
certify-lifespans: stack-bins ## the expiry requirements alone (flows, privileged session) on a stack with 5 s lifespans (a partial run)
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) --label-filter=lifespan ./suites/conformance -- -kc.profile=short-lifespans -kc.partial $(ARGS)

load: stack-bins ## capacity planning: specs, then each scenario's saturation search (every load scenario, one after another; about 17 minutes)
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) ./suites/conformance -- -kc.load=capacity $(ARGS)

e2e: stack-bins ## the Ginkgo specs alone, e.g. GINKGO_ARGS="--label-filter=admin -v" (a filtered run is PARTIAL, accepted here)
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) ./suites/conformance -- -kc.partial $(ARGS)

unit: stack-bins ## unit and provider tests, and the offline checks of kind/'s manifests (no conformance run)
	$(GO) vet ./...
	$(GO) test . ./fixtures/... ./harness/... ./internal/... ./reports/... ./load/... ./kind/... ./cmd/...  # containers tests skip without images
	@# The spec tree, built without running it: an uncatalogued req() id stops it.
	d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && $(GO) test -count=1 ./suites/conformance -args -ginkgo.dry-run -ginkgo.no-color -kc.partial -kc.out="$$d" > "$$d/log" 2>&1 || { tail -30 "$$d/log"; exit 1; }

kind-images: deps-kind stack-bins ## build the kind provider's binaries and node image offline, cached outside the clone (cold: 25-40 minutes, about 20 GB; warm: seconds)
	$(GO) run ./cmd/kckind

# The kind library's docker CLI reads the engine's address from the environment only.
KIND_ENV = DOCKER_HOST=unix://$$($(GO) run ./cmd/kcbuild -cache-dir)/kind/engine/docker.sock

certify-kind: kind-images build ## certification on a kind cluster in a private Docker engine: the guide's manifests (ARGS=-kc.kind-layout=chart: Ory's chart layout; -kc.kind-discover: read back as the kubernetes provider reads a cluster; -kc.kind-in-cluster: also run from a Job inside the cluster), the same specs and smoke load
	$(KIND_ENV) $(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=kind -kc.load=smoke $(ARGS)

# An operator's Helm chart and values (issue 29), rendered and installed with
# Helm's Go SDK, read back as the kubernetes provider reads a cluster. The
# default is the chart written for the suite's tests with the first example's
# values; CHART=<Ory's chart folder> tries the real one.
certify-helm-kind: kind-images build ## an operator's Helm chart and values on kind through Helm's SDK (CHART=<dir|tgz>, VALUES=<files,...>; default kind/testdata/kratos-chart with examples/username-two-step/values.yaml)
	$(KIND_ENV) $(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=kind -kc.helm-chart=$(or $(CHART),kind/testdata/kratos-chart) -kc.helm-values=$(or $(VALUES),examples/username-two-step/values.yaml) $(KIND_TEST_ARGS) $(ARGS)

# Ory's chart layout upgraded as helm upgrade does: the next image's
# migrations as a Job while the old pods serve, then the rollout. FROM: older
# Kratos images in the private engine, comma-separated; default the tested
# image itself (CI runs that in place of the plain chart certification).
certify-upgrade-kind: kind-images build ## Ory's chart layout on kind as an upgrade: data made on FROM=<old kratos image[,...]> (default: the tested image itself), the migration Job under load, the rollout, UPG-*, the whole catalogue
	$(KIND_ENV) $(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=kind -kc.load=smoke -kc.kind-layout=chart \
		-kc.upgrade-from=$(or $(FROM),$$(sed -n 's/^KC_KRATOS_IMAGE=//p' "$$($(GO) run ./cmd/kcbuild -cache-dir)/kind/images.env")) $(ARGS)

RACE_KIND ?= 3
faults-kind: kind-images ## on one kind cluster: the fault scenarios, the probes (serve killed and hung in its pod) and the start-order race on the guide's pod (RACE_KIND times each order)
	$(KIND_ENV) $(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) --label-filter="faults || race" ./suites/conformance -- -kc.faults -kc.race=$(RACE_KIND) -kc.partial -kc.provider=kind $(ARGS)

certify-k8s: build ## certification of a Kratos already running in a cluster: ARGS="-kc.k8s-namespace=NS -kc.k8s-release=RELEASE" (Ory's chart) or -kc.k8s-selector=...; kubeconfig from $$KUBECONFIG or ~/.kube/config; add -kc.k8s-suite-image=IMAGE to run it again from a Job inside the cluster
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=kubernetes -kc.load=smoke $(ARGS)

# On this 2-core CI machine the cluster's control plane, Kratos and the
# generator share the cores: whoami p99 at 50/s measured 15-54 ms on kind
# (5-7 ms on processes). make test's kind runs gate whoami at 100 ms, which
# every report states; certify-kind on its own keeps the 50 ms default.
KIND_TEST_ARGS ?= -kc.slo-whoami=100ms

# kind's part of make test (cmd/kctest runs it only where the node image is
# cached and the budget holds it): the guide's layout certified as the
# kubernetes provider reads it and again from a Job inside the cluster.
kind-ci: kind-images
	$(MAKE) certify-kind ARGS="-kc.kind-in-cluster $(KIND_TEST_ARGS) $(ARGS)"

test-kind: kind-images ## the whole kind tier (builds the node image if needed): kind-ci, then faults on kind, then Ory's chart layout certified as an upgrade, then an operator's chart through Helm's SDK, then a SIGKILLed in-cluster run swept
	$(MAKE) kind-ci && $(MAKE) faults-kind && $(MAKE) certify-upgrade-kind ARGS="$(KIND_TEST_ARGS) $(ARGS)" && $(MAKE) certify-helm-kind && $(MAKE) hygiene-kind

hygiene-kind: kind-images ## a run with its in-cluster Job on kind, SIGKILLed: kccleanup leaves its objects until their deadline, then removes them; then kccleanup -kind removes the host's leftovers
	$(KIND_ENV) KC_HYGIENE_KIND=1 $(GO) test -count=1 -timeout=30m -v -run=TestKilledInClusterRunIsSwept ./suites/hygiene/

images: docker-check stack-bins ## build the containers provider's images and the suite's own image locally (no registry needed); writes .cache/images.env
	./harness/provider/containers/images/build.sh

e2e-containers: images build ## certification on testcontainers-go with the local images (both stacks, one verdict)
	set -a; . ./.cache/images.env; set +a; \
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=containers -kc.load=smoke $(ARGS)

# An operator's own config, schemas, templates and environment (issue 29), on
# containers as the README's CI recipe runs it: both stacks (theirs, and theirs
# with short lifespans for the expiry specs), no load stage.
certify-own: images build ## certification of an operator's own Kratos files on containers (OWN=<own-files.yaml>; default examples/username-two-step): every overlay listed in the report
	set -a; . ./.cache/images.env; set +a; \
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=containers -kc.own-files=$(or $(OWN),examples/username-two-step/own-files.yaml) $(ARGS)

# The same on containers: FROM=<older Kratos images, comma-separated>; default
# the local image to itself (CI runs that, in place of e2e-containers).
certify-upgrade-containers: images build ## e2e-containers as an upgrade: data made on FROM=<old kratos image[,...]> (default: the local image itself), migrations in their own container under load, serve and the courier replaced, UPG-*, the whole catalogue
	set -a; . ./.cache/images.env; set +a; \
	$(GO) run ./cmd/kccertify -- $(SUITE_ARGS) -kc.provider=containers -kc.load=smoke -kc.upgrade-from=$(or $(FROM),$$KC_KRATOS_IMAGE) $(ARGS)

test-containers: images ## the containers provider's own tests (leftovers by label, errors), with the local images
	set -a; . ./.cache/images.env; set +a; $(GO) test -count=1 ./harness/provider/containers/...

faults: images ## the fault scenarios (Postgres, SMTP, courier and Kratos restarts, an outage under load) on processes, then on containers
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) --label-filter=faults ./suites/conformance -- -kc.faults -kc.partial $(ARGS)
	set -a; . ./.cache/images.env; set +a; \
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) --label-filter=faults ./suites/conformance -- -kc.faults -kc.partial -kc.provider=containers $(ARGS)

RACE ?= 10
race: stack-bins ## serve and the courier started together on a fresh database, 10 times, vs. the courier after serve: lost mail counted (about 1.5 minutes)
	$(GINKGO) --timeout=$(TIMEOUT) $(GINKGO_ARGS) --label-filter=race ./suites/conformance -- -kc.race=$(RACE) -kc.partial $(ARGS)

breakages: build ## run the suite against deliberately broken Kratos configs; fails unless each breaks its requirements
	$(GO) run ./cmd/kcbreak

hygiene: stack-bins ## a normal, a failing and a SIGINT-interrupted run must leave no process, temp folder or port
	$(GO) test -count=1 ./suites/hygiene/...

REPEAT ?= 20
repeat: build ## run the specs REPEAT times in random order; report the flake rate and any retried spec
	$(GO) run ./cmd/kcrepeat -n $(REPEAT)

diff: ## compare two run folders (OLD=reports/out/<id> NEW=...): requirements that changed, findings, load moves beyond tolerance, NEW/diff.html with both load curves; exit 1 on a regression
	@test -n "$(OLD)" -a -n "$(NEW)" || { echo "make diff needs OLD=<run folder> NEW=<run folder>" >&2; exit 2; }
	$(GO) run ./cmd/kcdiff $(ARGS) $(OLD) $(NEW)

bench: ## benchmarks of the load driver's own per-request work
	$(GO) test ./load -run '^$$' -bench . -benchmem

load-picture: ## docs/load-html.png: headless Chromium's picture of a run's load.html (RUN=folder; default: the newest run with one)
	@run="$(RUN)"; [ -n "$$run" ] || run=$$(dirname "$$(ls -t reports/out/*/load.html 2>/dev/null | head -1)"); \
	[ -f "$$run/load.html" ] || { echo "load-picture: no load.html in '$$run': give RUN=<a run folder of make load>" >&2; exit 2; }; \
	command -v chromium >/dev/null || { echo "load-picture: needs chromium (apt-get install chromium)" >&2; exit 2; }; \
	chromium --headless --no-sandbox --hide-scrollbars --window-size=1200,1700 --screenshot=docs/load-html.png "file://$$(cd "$$run" && pwd)/load.html" 2>/dev/null; \
	echo "load-picture: docs/load-html.png from $$run/load.html"

# The containers provider needs an engine: find a missing one in a second, not after the builds.
docker-check:
	@docker info >/dev/null 2>&1 || { echo "the containers provider needs a running Docker engine; start it, or run make certify, which needs none" >&2; exit 1; }

test: ## everything CI runs, stage by stage with a table of wall times at the end (cmd/kctest): unit, certification, upgrades on processes and containers, an operator's own config, proof that checks bite, hygiene, faults, start order, containers, 2 repeats; with KIND=1 also kind where its image is cached and the budget holds it
	$(GO) run ./cmd/kctest $(if $(KIND),-kind)

test-full: test test-kind ## make test, then the whole kind tier (builds the kind node image if needed)

# warm fills the caches outside the clone that CI needs (Go modules and build
# cache, the pinned Kratos and Mailpit, the images); KIND=1 adds the kind node
# image (25-40 minutes more). A new machine can run it in the background.
warm: ## fill every cache make test needs, with progress and each step's time (KIND=1: the kind node image too)
	@t=$$(date +%s); step() { s=$$(date +%s); echo "warm: $$1"; shift; "$$@" || exit 1; echo "warm:   done in $$(( $$(date +%s) - s )) s"; }; \
	step "Debian packages" $(MAKE) -s deps && \
	step "Go modules" $(GO) mod download && \
	step "Kratos and Mailpit (cold: about 2-5 minutes)" $(GO) run ./cmd/kcbuild && \
	step "the suite, its commands and test binaries (the Go build cache)" sh -c '$(GO) build ./... && $(GO) test -count=1 -run "^$$" ./... >/dev/null && $(GINKGO) version' && \
	step "the containers provider's images" $(MAKE) -s images && \
	{ [ -z "$(KIND)" ] || step "the kind node image (cold: 25-40 minutes)" $(MAKE) -s kind-images; } && \
	echo "warm: all done in $$(( $$(date +%s) - t )) s"

clean: ## remove run reports (a killed run's temp folder is swept by the next run)
	rm -rf reports/out

distclean: clean ## also remove the cached Kratos and Mailpit builds and bin/
	rm -rf .cache bin "$$($(GO) run ./cmd/kcbuild -cache-dir)"
