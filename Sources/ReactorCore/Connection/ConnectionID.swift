/// Names one connection for its whole life, even after its descriptor number is reused.
///
/// The descriptor alone is not enough: the kernel hands a closed fd's number to the next accept at once. The
/// generation distinguishes the two, and the loop index says which sub-reactor owns the connection.
public struct ConnectionID: Hashable, Sendable, CustomStringConvertible {
    /// The owning sub-reactor's index.
    public let loop: Int
    /// The socket descriptor.
    public let fd: Int32
    /// How many connections this loop had on this descriptor number before this one.
    public let generation: UInt32

    @_spi(Benchmarks) public init(loop: Int, fd: Int32, generation: UInt32) {
        self.loop = loop
        self.fd = fd
        self.generation = generation
    }

    /// The epoll tag for this connection: `fd | generation << 32`.
    @_spi(Benchmarks) public var tag: UInt64 { UInt64(UInt32(bitPattern: fd)) | UInt64(generation) << 32 }

    public var description: String { "conn(\(loop):\(fd)#\(generation))" }
}
