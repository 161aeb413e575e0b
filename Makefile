# Front door for builds: every target installs missing Debian packages first.
# The real build is meson + ninja in build/ (hardened) and build-asan/
# (AddressSanitizer + UndefinedBehaviorSanitizer).

BUILD_DIR ?= build
ASAN_DIR ?= build-asan
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
# CI builds with -Werror; a local build only warns.
WERROR := $(if $(CI),--werror,)

# OPA's conformance cases: OPA_CASES names the folder of case folders;
# CONFORMANCE_MIN is the pass percentage below which the run fails, and
# CONFORMANCE_ARGS passes more options (-v, folder names) to the runner.
OPA_CASES ?=
CONFORMANCE_MIN ?= 0
CONFORMANCE_ARGS ?=

.PHONY: all build asan test demo fuzz bench clean deps conformance conformance-asan

all: build

deps:
	@scripts/install-deps.sh build

$(BUILD_DIR)/build.ninja:
	meson setup $(WERROR) $(BUILD_DIR)

build: deps $(BUILD_DIR)/build.ninja
	ninja -C $(BUILD_DIR)

$(ASAN_DIR)/build.ninja:
	meson setup $(WERROR) -Db_sanitize=address,undefined -Db_lundef=false \
		-Dhardening=false -Dbuildtype=debug $(ASAN_DIR)

asan: deps $(ASAN_DIR)/build.ninja
	ninja -C $(ASAN_DIR)

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory build asan
	@tests/run.sh $(BUILD_DIR) $(ASAN_DIR)

demo:
	@scripts/install-deps.sh demo
	@$(MAKE) --no-print-directory build
	@scripts/demo.sh $(BUILD_DIR)/warden

$(FUZZ_DIR)/build.ninja:
	CC=clang meson setup -Dfuzz=true -Dhardening=false -Db_lundef=false \
		-Db_sanitize=address,undefined -Dbuildtype=debug $(FUZZ_DIR)

fuzz:
	@scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory $(FUZZ_DIR)/build.ninja
	ninja -C $(FUZZ_DIR)
	tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS)

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	bench/run.sh $(BUILD_DIR)
	bench/agent.sh $(BUILD_DIR)
	bench/policy.sh $(BUILD_DIR)
	bench/proxy.sh $(BUILD_DIR)
	bench/secrets.sh $(BUILD_DIR)
	bench/supply.sh $(BUILD_DIR)
	bench/supply_scan.sh $(BUILD_DIR)
	bench/sensor.sh $(BUILD_DIR)
	bench/scale.sh $(BUILD_DIR)

# Runs the conformance runner of build directory $(1), or explains the skip.
define run_conformance
	@if [ -z "$(OPA_CASES)" ]; then \
		echo "conformance: OPA_CASES is not set: give the folder of OPA's case folders (make conformance OPA_CASES=DIR); skipping"; \
	elif [ ! -d "$(OPA_CASES)" ]; then \
		echo "conformance: the folder $(OPA_CASES) is absent; skipping"; \
	else \
		$(1)/tests/conformance/rego-conformance --min-pass $(CONFORMANCE_MIN) \
			"$(OPA_CASES)" $(CONFORMANCE_ARGS); \
	fi
endef

conformance: build
	$(call run_conformance,$(BUILD_DIR))

conformance-asan: asan
	$(call run_conformance,$(ASAN_DIR))

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)
