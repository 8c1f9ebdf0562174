@_spi(Fuzzing) import ReactorCore

/// The server under test: a raw ``StreamHandler`` that consumes every byte it is given and writes it back, and
/// records what it was given (the plaintext the TLS layer delivered, in order) for the checks.
struct EchoHandler: StreamHandler {
    /// What the handler was given on the current connection, kept across calls (the harness runs one connection at
    /// a time on one thread).
    final class Received: @unchecked Sendable {
        var bytes: [UInt8] = []
    }

    let received: Received

    func onRead(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        echo(&input, connection: &connection)
    }

    func onInputEnded(_ input: inout InboundBytes, state: inout Void, connection: inout ConnectionContext) {
        echo(&input, connection: &connection)
    }

    private func echo(_ input: inout InboundBytes, connection: inout ConnectionContext) {
        input.withUnsafeBytes { bytes in
            received.bytes.append(contentsOf: bytes)
            connection.write(bytes)
        }
        input.consume(input.count)
    }
}
