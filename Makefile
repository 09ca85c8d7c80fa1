# golens: `make demo` and `make test` work on a fresh Debian machine as root.
# Every target installs what is missing first (quietly when all is present).

BUILD_DIR ?= build
JOBS ?= $(shell nproc)
DEBIAN_PACKAGES := clang llvm lld bpftool libbpf-dev libelf-dev zlib1g-dev \
  protobuf-compiler libprotobuf-dev libunwind-dev libzstd-dev libgtest-dev libgmock-dev \
  libbenchmark-dev libcapstone-dev libcpp-httplib-dev nlohmann-json3-dev libcli11-dev libsqlite3-dev \
  libclang-rt-14-dev prometheus pkg-config ninja-build cmake binutils chromium curl util-linux \
  libc6-dbg linux-perf
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps build test integration demo clean bench

all: build

deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	    dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q "install ok installed" || echo $$p; \
	  done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: installing packages needs root (apt-get)"; exit 2; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi
	@# Node.js may come with its own npm (not Debian's npm package, which would conflict).
	@command -v npm >/dev/null || { echo "installing Debian packages: nodejs npm"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; }
	@command -v go >/dev/null || { echo "error: the go command is needed (PATH=$$PATH)"; exit 1; }
	@# uPlot for golens serve's timeline: bundled into the binary at build time.
	@if [ ! -f web/ui/node_modules/uplot/dist/uPlot.iife.min.js ]; then \
	  echo "installing uplot (npm) for golens serve's pages"; \
	  cd web/ui && npm ci --no-audit --no-fund --silent; \
	fi
	@if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then \
	  echo "installing playwright-core (npm) for browser tests"; \
	  cd tests/browser && npm ci --no-audit --no-fund --silent; \
	fi

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 1 -LE integration

# Tests against real servers a fresh clone may not have (Grafana Pyroscope:
# PYROSCOPE_BIN, or the workplace's ../shared/tools/pyroscope); they fail
# loudly, saying how to get one, when it is missing.
integration: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 900 -j 1 -L integration

demo: build
	./tests/demo/run-demo.sh $(BUILD_DIR)

bench: build
	./bench/run-all.sh $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) demo-out
