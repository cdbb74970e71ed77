// The SwiftUI app (Apple platforms only; not compiled on Linux, see README.md).

import SwiftUI

@main
struct FerrovecExampleApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
