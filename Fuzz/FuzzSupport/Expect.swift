/// Traps with `message` unless `condition` holds: a failed check is a crash libFuzzer reports and saves the input
/// for. (`precondition` would do too, but this one stays in every build mode and says what was expected.)
@inline(__always)
public func expect(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #file,
    line: UInt = #line
) {
    if !condition() { fatalError("check failed: \(message())", file: file, line: line) }
}
