// swift-tools-version:5.9
//
// The ferrovec Swift package: the UniFFI-generated Swift (Sources/Ferrovec/Generated, from
// `make bindings`) plus an idiomatic layer (Sources/Ferrovec/*.swift), over module FerrovecFFI
// (the generated C headers and the library):
//
// - Apple platforms: Ferrovec.xcframework, the static library for iOS, the iOS simulator and
//   macOS with the headers, which build-xcframework.sh builds on a Mac.
// - Linux: a system library target (Linux/FerrovecFFI/module.modulemap: the same headers,
//   `link "ferrovec"`) over an installed libferrovec.so, found with pkg-config (ferrovec.pc
//   from `make install`): `PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig swift build`, and
//   `LD_LIBRARY_PATH=$PREFIX/lib` to run. `make test-swift` builds and tests it this way.
import PackageDescription

#if os(Linux)
let ffi: Target = .systemLibrary(name: "FerrovecFFI", path: "Linux/FerrovecFFI", pkgConfig: "ferrovec")
#else
let ffi: Target = .binaryTarget(name: "FerrovecFFI", path: "Ferrovec.xcframework")
#endif

let package = Package(
    name: "Ferrovec",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Ferrovec", targets: ["Ferrovec"]),
    ],
    targets: [
        ffi,
        .target(
            name: "Ferrovec",
            dependencies: ["FerrovecFFI"],
            path: "Sources/Ferrovec"
        ),
        .testTarget(
            name: "FerrovecTests",
            dependencies: ["Ferrovec"],
            path: "Tests/FerrovecTests"
        ),
    ]
)
