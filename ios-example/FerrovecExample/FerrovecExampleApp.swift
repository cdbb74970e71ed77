// NOT COMPILED HERE (no Swift toolchain on the Linux build machines).

import SwiftUI

@main
struct FerrovecExampleApp: App {
    var body: some Scene {
        WindowGroup { ContentView() }
    }
}
