/// PEM text for a certificate chain or a private key: a file, or the text itself.
public enum TLSPEMSource: Sendable, Hashable {
    /// A PEM file (a chain: the leaf certificate first, then its intermediates).
    case file(String)
    /// PEM text held in memory.
    case pem(String)
}
