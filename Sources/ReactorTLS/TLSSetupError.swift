import CReactorTLS
public import ReactorCore

/// Setting up a TLS context failed: a certificate or key that does not load or match, an unknown cipher, a CA file
/// that cannot be read. Thrown by ``TLSServerContext/init(configuration:)`` and ``TLSClientContext/init(configuration:)``.
public struct TLSSetupError: Error, Sendable, CustomStringConvertible {
    /// What was being done (`"load the certificate chain from server.pem"`).
    public let operation: String
    /// OpenSSL's error (0 when it recorded none).
    public let code: TLSErrorCode

    init(_ operation: String) {
        self.operation = operation
        self.code = TLSErrorCode(rawValue: UInt64(CReactorTLS_take_error()))
    }

    public var description: String { "TLS: could not \(operation): \(code.openSSLDescription)" }
}

extension TLSErrorCode {
    /// OpenSSL's text for the code (`error:0A000086:SSL routines::certificate verify failed`).
    public var openSSLDescription: String {
        guard rawValue != 0 else { return "no OpenSSL error recorded" }
        var buffer = [CChar](repeating: 0, count: 256)
        CReactorTLS_error_string(UInt(rawValue), &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The reason part of the packed code (OpenSSL's `ERR_GET_REASON`).
    var reason: CInt { CReactorTLS_error_reason(UInt(rawValue)) }
}
