// swift-tools-version:5.9
//
// The ferrovec Swift package: the UniFFI-generated Swift (Sources/Ferrovec/Generated, from
// `make bindings` on Linux) plus an idiomatic layer, over Ferrovec.xcframework (the static
// library for iOS, the iOS simulator and macOS, with the generated C headers), which
// build-xcframework.sh builds on a Mac.
//
// Nothing here is compiled on the Linux CI machines (no Swift toolchain there); see README.md.
import PackageDescription

let package = Package(
    name: "Ferrovec",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Ferrovec", targets: ["Ferrovec"]),
    ],
    targets: [
        // module FerrovecFFI: libferrovec.a + ferrovecFFI.h + ferrovec_coreFFI.h.
        .binaryTarget(name: "FerrovecFFI", path: "Ferrovec.xcframework"),
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
