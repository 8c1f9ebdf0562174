import CLibFuzzer

/// Hands the process to libFuzzer's driver, which parses its flags from the command line and calls `testOneInput`
/// on every input; returns the exit code.
///
/// Call it from the target's entry point, `@_cdecl("<TargetName>_main")`: SwiftPM links an executable target with
/// `main` aliased to that symbol, and `-parse-as-library` keeps Swift from generating one of its own. libFuzzer's own
/// `main` is then never linked in. `testOneInput` must return 0; it traps on a failed check, which libFuzzer reports
/// as a crash and saves the input for.
public func runLibFuzzer(
    argc: CInt,
    argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    testOneInput: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, testOneInput)
}
