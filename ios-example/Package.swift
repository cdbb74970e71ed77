// swift-tools-version:5.9
//
// The non-UI part of the example app as a package, so `swift test` builds and tests it on
// Linux (`make test-swift`) and macOS: the item index, the search model and the text
// vectorizer (FerrovecExample/{ItemIndex,SearchModel,TextVectorizer}.swift) with the tests in
// FerrovecExampleTests. The app itself (those files plus the SwiftUI views and the bundled
// items) is the Xcode project that project.yml describes; it does not use this manifest.
import PackageDescription

let package = Package(
    name: "FerrovecExample",
    platforms: [.iOS(.v17), .macOS(.v14)],  // the Observation framework
    dependencies: [
        .package(name: "Ferrovec", path: "../bindings/swift"),
    ],
    targets: [
        .target(
            name: "FerrovecExample",
            dependencies: [.product(name: "Ferrovec", package: "Ferrovec")],
            path: "FerrovecExample",
            // The SwiftUI files and the app's bundled items belong to the Xcode project only.
            exclude: ["ContentView.swift", "FerrovecExampleApp.swift", "Resources"]
        ),
        .testTarget(
            name: "FerrovecExampleTests",
            dependencies: ["FerrovecExample"],
            path: "FerrovecExampleTests"
        ),
    ]
)
