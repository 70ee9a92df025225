# Every target installs what it needs first, so `make run` and `make test` work on a fresh Debian machine.
SHELL := /bin/bash
SWIFT ?= swift
APT_PACKAGES := python3 liblmdb-dev libnghttp2-dev libssl-dev protobuf-compiler pkg-config redis-server redis-tools etcd-server
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PROTO_BUILD := .build-proto
PROTO_SRC := $(wildcard proto/*.proto)
PROTO_OUT := Sources/OaaSProto/Generated
# Tests run at most this many at a time: ~760 tests at once starve the two cooperative threads of a 2-core machine.
TEST_WIDTH ?= 8

.PHONY: deps build release run test bench proto clean

# Installs the system packages only when one of them is missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y $$missing; \
	fi
	@# The transport tests talk to a gRPC peer nobody here wrote: Python grpcio from PyPI.
	@python3 -c 'import grpc' 2>/dev/null || python3 -m pip install --quiet grpcio \
	  || python3 -m pip install --quiet --break-system-packages grpcio

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product oaas

run: deps
	$(SWIFT) build --product oaas
	$$($(SWIFT) build --show-bin-path)/oaas dev

# Builds the binary and the test bundle by product: `--build-tests` would also compile the C++
# protoc that a dependency's build plugin carries, which nothing here uses. Swift Testing's backtrace for every
# thrown error is off: it doubled the CPU time of the suite. scripts/run-tests.py stops a silent run and runs the
# few tests that failed or hung once more alone, naming them under FLAKY.
test: deps
	$(SWIFT) build --product oaas
	$(SWIFT) build --product oaas-functions
	$(SWIFT) build --product oaasPackageTests
	OAAS_BIN=$$($(SWIFT) build --show-bin-path)/oaas OAAS_FUNCTIONS_BIN=$$($(SWIFT) build --show-bin-path)/oaas-functions \
	  SWT_SWIFT_ERROR_BACKTRACING_ENABLED=0 \
	  python3 scripts/run-tests.py -- $(SWIFT) test --skip-build --experimental-maximum-parallelization-width $(TEST_WIDTH)

# One product per invocation: `swift build` only builds the last of several --product flags.
bench: deps
	$(SWIFT) build -c release --product oaas
	$(SWIFT) build -c release --product oaas-bench
	$(SWIFT) build -c release --product oaas-functions
	$$($(SWIFT) build -c release --show-bin-path)/oaas-bench --oaas $$($(SWIFT) build -c release --show-bin-path)/oaas \
	  --oaas-functions $$($(SWIFT) build -c release --show-bin-path)/oaas-functions

# Regenerates the committed protobuf/gRPC code. The plugins are built in a throwaway package.
proto: deps
	cd proto/plugins && $(SWIFT) build -c release --scratch-path ../../$(PROTO_BUILD) --product protoc-gen-swift
	cd proto/plugins && $(SWIFT) build -c release --scratch-path ../../$(PROTO_BUILD) --product protoc-gen-grpc-swift-2
	rm -rf $(PROTO_OUT) && mkdir -p $(PROTO_OUT)
	protoc -I proto $(PROTO_SRC) \
	  --plugin=protoc-gen-swift=$(PROTO_BUILD)/release/protoc-gen-swift \
	  --plugin=protoc-gen-grpc-swift=$(PROTO_BUILD)/release/protoc-gen-grpc-swift-2 \
	  --swift_opt=Visibility=Public --swift_out=$(PROTO_OUT) \
	  --grpc-swift_opt=Visibility=Public --grpc-swift_out=$(PROTO_OUT)

clean:
	rm -rf .build $(PROTO_BUILD)
