import ReactorCore
import ReactorHTTPEndpoints
import ReactorTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The server identity for the TLS benchmarks: a throwaway CA and certificate made by `Scripts/tls-test-certs.sh`
/// the first time a TLS benchmark starts (never committed), loaded once.
enum TLSBenchmarkIdentity {
    nonisolated(unsafe) private static var context: TLSServerContext?

    /// The context every TLS benchmark's server uses (benchmarks run one at a time, on one thread).
    static func serverContext() throws -> any ConnectionTransportProvider {
        if let context { return context }
        var template = Array("/tmp/reactor-tls-bench-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw BlockingClient.Failure(description: "mkdtemp: errno \(errno)")
        }
        let directory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Benchmarks/ReactorBenchmarks/TLSBenchmarks.swift
        let script = parts.joined(separator: "/") + "/Scripts/tls-test-certs.sh"
        guard system("bash '\(script)' '\(directory)' >/dev/null 2>&1") == 0 else {
            throw BlockingClient.Failure(description: "\(script) failed (is the openssl command installed?)")
        }
        let made = try TLSServerContext(
            configuration: TLSServerConfiguration(
                certificateChain: .file(directory + "/server.pem"), privateKey: .file(directory + "/server.key")))
        context = made
        return made
    }
}

func registerTLSBenchmarks() {
    // OpenSSL's per-record structures come from free lists, as in reactor-bench, reactor-http and reactor-redis
    // (TLSMemory): nothing has used OpenSSL yet when the benchmarks register.
    precondition(TLSMemory.installRecyclingAllocator(), "OpenSSL allocated before the benchmarks registered")
    // The framed echo over TLS 1.3 (the handshake is in setup): each exchange is one record each way for
    // round-trip, one record carrying 32 frames each way for pipelined-32. Counts OpenSSL's mallocs on both sides.
    registerEcho(
        "TLS.echo-", handler: { EchoHandler() },
        encode: { _, payload in withUnsafeBytes(of: UInt32(payload.count).bigEndian) { Array($0) } + payload },
        transport: TLSBenchmarkIdentity.serverContext)
    // reactor-http's endpoints over TLS 1.3: GET /plaintext and GET /json in turn, every byte but the Date checked.
    registerEcho(
        "TLS.HTTPEndpoints-", handler: { HTTPBenchmarkServer() }, encode: { index, _ in endpointsRequest(index) },
        reply: { index, _ in endpointsReply(index) }, wildcard: 0, transport: TLSBenchmarkIdentity.serverContext)
}
