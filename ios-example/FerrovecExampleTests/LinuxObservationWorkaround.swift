// Linux with Swift < 6.2 only (empty elsewhere, including the Xcode project).
//
// libswiftObservation.so of Swift 5.9-6.1 on Linux (Debian trixie's swiftlang 6.0.3 too)
// calls swift::threading::fatal(const char *, ...) but no runtime library defines it, so any
// program that uses Observation (SearchModel is @Observable) fails to link with "undefined
// reference to `swift::threading::fatal(char const*, ...)'": swiftlang/swift#75670, fixed in
// 6.2 by swiftlang/swift#85278, which gives Observation its own handler. This is that handler
// for the test binary: the threading library calls it only on an unrecoverable error (a
// failed mutex operation), so it reports the message and stops.
#if os(Linux) && compiler(<6.2)
@_cdecl("_ZN5swift9threading5fatalEPKcz")
func swiftThreadingFatal(_ message: UnsafePointer<CChar>?) {
    fatalError("swift::threading::fatal: " + (message.map { String(cString: $0) } ?? "(no message)"))
}
#endif
