/// The record framing of what a TLS server sends (RFC 8446 §5.1, RFC 5246 §6.2): a sequence of records, each a
/// 5-byte header (a content type of 20–23, version 3.x) and at most 2^14 + 2048 bytes. Used on the raw bytes the
/// client received: whatever the client sent, the server answers with records or nothing. Any minor version: the
/// alert refusing a first record goes out with that record's version ("send back error using their minor version
/// number", OpenSSL's `ssl3_get_record`), 3.16 for a hello claiming 3.16.
enum TLSRecordFraming {
    /// Why `bytes` is not a sequence of records (nil: it is). With `allowCut`, the last record may be cut short
    /// (the server closed abortively while a record was only partly written to the socket).
    static func problem(in bytes: [UInt8], allowCut: Bool) -> String? {
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 5 else {
                return allowCut ? nil : "\(bytes.count - offset) bytes of a record header at \(offset)"
            }
            let type = bytes[offset]
            let major = bytes[offset + 1]
            let minor = bytes[offset + 2]
            let length = Int(bytes[offset + 3]) << 8 | Int(bytes[offset + 4])
            guard type >= 20 && type <= 23 else { return "content type \(type) at \(offset)" }
            guard major == 3 else { return "version \(major).\(minor) at \(offset)" }
            guard length <= 16384 + 2048 else { return "a record of \(length) bytes at \(offset)" }
            guard offset + 5 + length <= bytes.count else {
                return allowCut ? nil : "a record of \(length) bytes at \(offset) cut at \(bytes.count - offset - 5)"
            }
            offset += 5 + length
        }
        return nil
    }
}
