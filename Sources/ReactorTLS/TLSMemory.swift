import CReactorTLS

/// How OpenSSL gets its memory.
///
/// OpenSSL 3.0 allocates and frees a few small structures for every record it writes or reads (measured with
/// 3.0.19: three 40-byte `WPACKET` sub-packets per record written, one per record read, from `crypto/packet.c`), so
/// a TLS connection would otherwise cost about four `malloc` calls per echoed message where a plain one costs none.
/// ``installRecyclingAllocator()`` serves OpenSSL's allocations of up to 512 bytes from per-thread free lists
/// (OpenSSL's `CRYPTO_set_mem_functions`) instead: after warm-up, records cost no `malloc` at all (the allocation
/// gate's `TLS.*` benchmarks and `reactor-bench run --tls-cert` measure it). Each thread keeps at most 256 free
/// blocks per size class (about 300 KiB at most), given back when the thread exits.
public enum TLSMemory {
    /// Installs the recycling allocator. It must run before anything in the process has used OpenSSL (OpenSSL
    /// refuses a new allocator after its first allocation): call it first thing in `main`, before creating any
    /// ``TLSServerContext`` or ``TLSClientContext``. Returns whether it is installed (true again on a second call);
    /// false when it was too late, which costs only the `malloc` calls described above. Not thread-safe.
    @discardableResult
    public static func installRecyclingAllocator() -> Bool {
        CReactorTLS_install_recycling_allocator() == 1
    }
}
