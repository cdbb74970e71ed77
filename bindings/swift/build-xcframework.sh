#!/usr/bin/env bash
# Builds bindings/swift/Ferrovec.xcframework on a Mac: the static libferrovec for
#   iOS devices         aarch64-apple-ios
#   iOS simulator       aarch64-apple-ios-sim + x86_64-apple-ios   (one fat library, lipo)
#   macOS               aarch64-apple-darwin  + x86_64-apple-darwin (one fat library, lipo)
# each with the UniFFI C headers and one module map (module FerrovecFFI), the same flow as
# matrix-rust-sdk's bindings/apple/build_xcframework.sh and application-services'
# megazord build: cargo per target -> lipo per platform -> xcodebuild -create-xcframework.
#
# Usage (from anywhere):  bindings/swift/build-xcframework.sh [--debug] [--regenerate]
#                                                         [--no-wasm] [--rebuild-wasm]
#   --debug       cargo's dev profile instead of release
#   --no-wasm     do not embed the wasm modules (Engine.interpreted then needs module bytes)
#   --rebuild-wasm  rebuild target/wasm/*.wasm even if present
#   --regenerate  regenerate the Swift sources and headers from the macOS build with the
#                 workspace's pinned uniffi-bindgen (otherwise the committed ones are used;
#                 `make test` on Linux keeps those in sync with the Rust code)
#
# Needs: Xcode (xcodebuild, lipo), rustup. Then `swift build` / `swift test` in
# bindings/swift, or add the package to an Xcode project (ios-example/ does).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PROFILE=release
PROFILE_DIR=release
REGENERATE=0
WITH_WASM=1
REBUILD_WASM=0
for arg in "$@"; do
    case "$arg" in
        --debug) PROFILE=dev; PROFILE_DIR=debug ;;
        --regenerate) REGENERATE=1 ;;
        --no-wasm) WITH_WASM=0 ;;
        --rebuild-wasm) REBUILD_WASM=1 ;;
        *) echo "unknown argument: $arg" >&2; exit 2 ;;
    esac
done

if [[ "$(uname -s)" != Darwin ]]; then
    echo "build-xcframework.sh needs macOS with Xcode (xcodebuild, lipo)" >&2
    exit 1
fi

IOS_TARGETS=(aarch64-apple-ios)
SIM_TARGETS=(aarch64-apple-ios-sim x86_64-apple-ios)
MAC_TARGETS=(aarch64-apple-darwin x86_64-apple-darwin)

# Minimum OS versions, matching Package.swift's platforms.
export IPHONEOS_DEPLOYMENT_TARGET=15.0
export MACOSX_DEPLOYMENT_TARGET=12.0

cd "$ROOT"
rustup target add "${IOS_TARGETS[@]}" "${SIM_TARGETS[@]}" "${MAC_TARGETS[@]}"

# The Interpreted backend's wasm modules, embedded in the library (feature bundled-wasm) so
# Engine.interpreted() works without shipping .wasm files. On a Mac, rustup's
# wasm32-unknown-unknown target has a prebuilt core/alloc, so no -Zbuild-std (which Linux CI
# needs with Debian's rustc) is required. Existing target/wasm/*.wasm (e.g. copied from a
# Linux `make wasm`, which is byte-reproducible) are kept; --rebuild-wasm forces a build.
# --no-wasm skips all of this (the app then passes module bytes to Engine.interpreted).
FEATURES=()
if [[ "$WITH_WASM" == 1 ]]; then
    WASM_DIR="$ROOT/target/wasm"
    if [[ "$REBUILD_WASM" == 1 || ! -f "$WASM_DIR/ferrovec.wasm" || ! -f "$WASM_DIR/ferrovec-simd.wasm" ]]; then
        rustup target add wasm32-unknown-unknown
        WASM_OUT=wasm32-unknown-unknown/wasm/ferrovec_wasm.wasm
        echo "==> cargo build -p ferrovec-wasm (scalar, simd128)"
        cargo build -p ferrovec-wasm --lib --profile wasm --locked --target wasm32-unknown-unknown \
            --target-dir "$ROOT/target/wasm-scalar"
        RUSTFLAGS="-C target-feature=+simd128" cargo build -p ferrovec-wasm --lib --profile wasm --locked \
            --target wasm32-unknown-unknown --target-dir "$ROOT/target/wasm-simd"
        mkdir -p "$WASM_DIR"
        if command -v wasm-opt >/dev/null; then   # brew install binaryen (optional: smaller)
            wasm-opt -O3 --strip-debug "$ROOT/target/wasm-scalar/$WASM_OUT" -o "$WASM_DIR/ferrovec.wasm"
            wasm-opt -O3 --strip-debug --enable-simd "$ROOT/target/wasm-simd/$WASM_OUT" -o "$WASM_DIR/ferrovec-simd.wasm"
        else
            cp "$ROOT/target/wasm-scalar/$WASM_OUT" "$WASM_DIR/ferrovec.wasm"
            cp "$ROOT/target/wasm-simd/$WASM_OUT" "$WASM_DIR/ferrovec-simd.wasm"
        fi
    fi
    FEATURES=(--features bundled-wasm)
fi

for target in "${IOS_TARGETS[@]}" "${SIM_TARGETS[@]}" "${MAC_TARGETS[@]}"; do
    echo "==> cargo build --target $target ${FEATURES[*]:-}"
    cargo build -p ferrovec --locked --profile "$PROFILE" --target "$target" ${FEATURES[@]+"${FEATURES[@]}"}
done

OUT="$ROOT/target/xcframework"
rm -rf "$OUT"
mkdir -p "$OUT/ios" "$OUT/ios-simulator" "$OUT/macos"

lib() { echo "$ROOT/target/$1/$PROFILE_DIR/libferrovec.a"; }

cp "$(lib aarch64-apple-ios)" "$OUT/ios/libferrovec.a"
lipo -create "$(lib aarch64-apple-ios-sim)" "$(lib x86_64-apple-ios)" \
    -output "$OUT/ios-simulator/libferrovec.a"
lipo -create "$(lib aarch64-apple-darwin)" "$(lib x86_64-apple-darwin)" \
    -output "$OUT/macos/libferrovec.a"

GENERATED_INCLUDE="$HERE/Generated/include"
if [[ "$REGENERATE" == 1 ]]; then
    echo "==> regenerating Swift bindings from the macOS build"
    cargo build -p uniffi-bindgen --locked
    # Library mode reads the UniFFI metadata from any build of the library.
    "$ROOT/uniffi-bindgen/generate.sh" "$ROOT/target/debug" \
        "$ROOT/target/aarch64-apple-darwin/$PROFILE_DIR/libferrovec.dylib" "$ROOT"
fi

# The headers go one directory down (Headers/FerrovecFFI/), so the module map does not
# collide with other XCFrameworks' module.modulemap when Xcode merges their headers.
HEADERS="$OUT/headers/FerrovecFFI"
mkdir -p "$HEADERS"
cp "$GENERATED_INCLUDE"/*.h "$GENERATED_INCLUDE/module.modulemap" "$HEADERS/"

rm -rf "$HERE/Ferrovec.xcframework"
xcodebuild -create-xcframework \
    -library "$OUT/ios/libferrovec.a" -headers "$OUT/headers" \
    -library "$OUT/ios-simulator/libferrovec.a" -headers "$OUT/headers" \
    -library "$OUT/macos/libferrovec.a" -headers "$OUT/headers" \
    -output "$HERE/Ferrovec.xcframework"

echo "==> $HERE/Ferrovec.xcframework"
echo "    next: cd bindings/swift && swift test   (macOS slice), or open ios-example/ in Xcode"
