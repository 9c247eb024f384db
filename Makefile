# idpmock: see README.md. Every target installs what it needs itself.
GO        ?= go
# Empty: the binary's default (127.0.0.1:4010) or IDPMOCK_ADDR from the environment.
ADDR      ?=
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION) -X main.commit=$(shell git rev-parse HEAD 2>/dev/null) -X main.date=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
PKGS      := ./...
IMAGE     ?= idpmock
FUZZTIME  ?= 10s
FUZZ_ROBUST := FuzzPingOne FuzzZitadelREST FuzzZitadelRPC FuzzVendorFixtures FuzzStateDocument
BASE_URL  ?= $(IDPMOCK_CONTRACT_BASE_URL)
JUNIT     ?= $(IDPMOCK_JUNIT)

.PHONY: all run build first-hour-test docs-test test generate check-generated vet fmt-check ci npm-client-test grpcurl-test proto-contract browser-test image docker-test contracts bench fuzz redis-test redis-bench durability-test

all: build

## run: build, then start the mock (127.0.0.1:4010, or IDPMOCK_ADDR / ADDR=host:port; ARGS="--strict" adds flags)
run: build
	./bin/idpmock serve $(if $(ADDR),--addr $(ADDR)) $(ARGS)

## build: the idpmock binary in ./bin (version, commit and date stamped)
build:
	@test -x bin/idpmock || echo "building bin/idpmock (the first build compiles the dependencies: about a minute)..."
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="$(LDFLAGS)" -o bin/idpmock ./mock/cmd/idpmock

## docs-test: run every code block of README.md and docs/*.md against a live mock
docs-test:
	$(GO) test -count=1 -run TestDocs -v ./docs/

## first-hour-test: clone the repository into a temp dir, follow the README's first screen
first-hour-test:
	IDPMOCK_FIRST_HOUR=1 $(GO) test -count=1 -run TestFirstHour -v -timeout 15m ./docs/

## test: vet, format check and the whole Go test suite with the race detector
test: vet fmt-check
	$(GO) test -race -count=1 $(PKGS)

## generate: regenerate gen/ from openapi/ (oapi-codegen pinned as a go tool)
generate:
	$(GO) generate ./gen/...

## check-generated: fail if gen/ is not what `make generate` produces
check-generated: generate
	git diff --exit-code -- gen/
	@test -z "$$(git status --porcelain -- gen/)" || { git status --porcelain -- gen/; echo "gen/ has untracked changes"; exit 1; }

vet:
	$(GO) vet $(PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## contracts: specs, fixtures and mock checked against each other (and real vendors, given
##   credentials). BASE_URL=http://127.0.0.1:4010 tests a running idpmock; JUNIT=report.xml writes JUnit.
contracts:
	IDPMOCK_CONTRACT_BASE_URL=$(BASE_URL) IDPMOCK_JUNIT=$(JUNIT) $(GO) test -count=1 ./contracts ./mock/conform ./mock/proxy

## npm-client-test: ZITADEL's own npm client (@zitadel/client) runs a full login over Connect JSON, Connect binary, gRPC and gRPC-Web
npm-client-test:
	cd contracts/clients/zitadel-npm && npm ci --no-audit --no-fund
	IDPMOCK_REQUIRE_NPM_CLIENT=1 $(GO) test -count=1 -run TestNPMClient -v ./mock/zitadel/

GRPCURL_VERSION := v1.9.4
GRPCURL_DIR     := $(CURDIR)/bin/grpcurl-$(GRPCURL_VERSION)
## grpcurl-test: grpcurl (go install of its module into bin/) lists, describes and calls ZITADEL via reflection
grpcurl-test:
	@test -x $(GRPCURL_DIR)/grpcurl || GOBIN=$(GRPCURL_DIR) $(GO) install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)
	IDPMOCK_GRPCURL=$(GRPCURL_DIR)/grpcurl $(GO) test -count=1 -run TestGRPCurl -v ./mock/zitadel/

## proto-contract: our ZITADEL proto matches the descriptors @zitadel/proto 1.3.1 publishes, field by field
proto-contract:
	cd contracts/clients/zitadel-npm && npm ci --no-audit --no-fund
	IDPMOCK_REQUIRE_NPM_CLIENT=1 $(GO) test -count=1 -run TestZitadelProtoMatchesPublished -v ./contracts/

## browser-test: CORS preflight (REST, gRPC-Web, Connect) and the dashboard (/__mock/ui/) in a real headless Chromium (installs
##   Debian's chromium if missing); dashboard screenshots go to $$IDPMOCK_ARTIFACTS (default mock/testdata/out)
browser-test:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null; }
	$(GO) test -count=1 -tags browser -run Browser -v ./mock/server/ ./mock/ ./mock/zitadel/

## image: build the Docker image (multi-stage, FROM scratch) as $(IMAGE)
image:
	docker build -t $(IMAGE) \
	  --build-arg VERSION=$$(git describe --tags --always --dirty 2>/dev/null || echo dev) \
	  --build-arg REVISION=$$(git rev-parse HEAD 2>/dev/null || echo unknown) \
	  --build-arg CREATED=$$(date -u +%Y-%m-%dT%H:%M:%SZ) .

## docker-test: build the image on a private dockerd and prove docker run works (installs docker.io)
docker-test:
	bash .ci/docker-test.sh

## fuzz: every fuzz target for $(FUZZTIME) each; a crash is saved under testdata/fuzz/ (commit it) and fails the run
fuzz:
	@set -e; for t in $(FUZZ_ROBUST); do \
	  echo "== $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) ./mock/robust; \
	done
	@echo "== FuzzLoad"; $(GO) test -run='^$$' -fuzz='^FuzzLoad$$' -fuzztime=$(FUZZTIME) ./mock/fixture
	@echo "== FuzzRedactSecret"; $(GO) test -run='^$$' -fuzz='^FuzzRedactSecret$$' -fuzztime=$(FUZZTIME) ./mock/journal

## durability-test: SIGKILL under write load at 100,000 sessions, twice; every write acknowledged
##   700 ms before the kill must survive the restart (~1 min, time-boxed to 2)
durability-test:
	IDPMOCK_DURABILITY=1 $(GO) test -count=1 -timeout 2m -run '^TestDurabilityAtSize$$' -v ./mock/robust

## redis-test: every Redis test (stores, vendors, server, mock/e2e: two replicas behind a proxy), then the vendor
##   suites and contract scenarios across two replicas, on a private redis-server (installs Debian's if missing; ~2.5 min)
redis-test:
	GO=$(GO) bash .ci/redis-test.sh

## redis-bench: the Redis store's operations on rueidis and go-redis (ns/op, allocs/op, round trips/op)
redis-bench:
	GO=$(GO) bash .ci/redis-test.sh bench

## bench: load benchmark against a bare-Echo baseline on loopback, memory and Redis stores side by side
##   (Redis when redis-server is installed); writes docs/benchmarks.md (~4 min)
bench:
	$(GO) run ./bench -out docs/benchmarks.md

## ci: what .ci/run calls
ci: check-generated test
