@_spi(Fuzzing) import ReactorCore

/// The checks every whole-server target makes once its connection closed: the handler's `onClose` got the state its
/// `onOpen` made (or none, when `onOpen` never ran), the lifecycle only moved forward, and no connection, admission
/// or pool byte is left behind.
@_spi(Fuzzing) public func expectClosedCleanly<Handler>(
    _ harness: StreamHandlerHarness<Handler>, file: StaticString = #file,
    line: UInt = #line
) {
    expect(harness.closeGotConnectionState, "onClose did not get the connection's own state", file: file, line: line)
    expect(
        harness.phaseViolation == nil, "connection lifecycle: \(harness.phaseViolation ?? "")", file: file, line: line)
    expect(
        harness.openConnections == 0, "\(harness.openConnections) connections left in the table", file: file,
        line: line)
    expect(
        harness.admittedConnections == 0, "\(harness.admittedConnections) connections still admitted", file: file,
        line: line)
    expect(
        harness.poolBytesInUse == 0, "pool chunks leaked: \(harness.poolBytesInUse) bytes in use", file: file,
        line: line)
}
