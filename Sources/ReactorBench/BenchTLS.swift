import ReactorCore
import ReactorTLS

/// The TLS contexts `serve`, `load` and `run` use: the framed echo has no ALPN name, so none is offered either way.
enum BenchTLS {
    /// The echo server's context: `certificate` (PEM chain, leaf first) with `key`, every other setting at
    /// ReactorTLS's default (TLS 1.2 and 1.3, session tickets).
    static func server(certificate: String, key: String, releaseBuffers: Bool = false) throws -> TLSServerContext {
        recycleOpenSSLMemory()
        var configuration = TLSServerConfiguration(certificateChain: .file(certificate), privateKey: .file(key))
        configuration.releaseBuffersWhenIdle = releaseBuffers
        return try TLSServerContext(configuration: configuration)
    }

    /// The load driver's context: with `trustedCAFile`, the server's certificate must chain to it and name `host`
    /// (a DNS name or an IP address); without, any certificate is accepted unverified (a benchmark driver, like
    /// `curl -k`).
    static func client(host: String, trustedCAFile: String?) throws -> TLSClientContext {
        recycleOpenSSLMemory()
        return try TLSClientContext(
            configuration: TLSClientConfiguration(
                serverName: host, trust: trustedCAFile.map { .file($0) } ?? .insecureAnyCertificate))
    }

    /// OpenSSL's per-record structures from free lists (``TLSMemory``), so that allocs/msg counts only what the
    /// framework and the handler allocate: the first OpenSSL use in the process comes through here.
    private static func recycleOpenSSLMemory() {
        if !TLSMemory.installRecyclingAllocator() {
            print("note: OpenSSL was in use before the recycling allocator could be installed (allocs/msg includes its")
            print("      per-record mallocs)")
        }
    }
}
