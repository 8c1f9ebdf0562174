/// The process's sockets, epoll instances and eventfds, counted from `/proc/self/fd`: a target that reuses its
/// reactors compares a census taken after its first input with later ones, so a connection that kept a socket shows.
public struct DescriptorCensus: Equatable, CustomStringConvertible {
    public var sockets = openDescriptorCount(linkPrefix: "socket:")
    public var pollers = openDescriptorCount(linkPrefix: "anon_inode:[eventpoll]")
    public var eventFDs = openDescriptorCount(linkPrefix: "anon_inode:[eventfd]")

    /// The counts now.
    public init() {}

    public var description: String { "\(sockets) sockets, \(pollers) epoll, \(eventFDs) eventfd" }
}

/// A leak check for targets that open a connection per input: every 1,024th input, the process must hold the
/// descriptors it held after the first (each connection gave back both its sockets).
public struct DescriptorLeakCheck {
    private var inputs = 0
    private var baseline = DescriptorCensus()

    public init() {}

    /// Call after each input.
    public mutating func inputDone() {
        inputs += 1
        if inputs == 1 {
            baseline = DescriptorCensus()
        } else if inputs % 1024 == 0 {
            let now = DescriptorCensus()
            expect(now == baseline, "\(now) open after \(inputs) inputs, \(baseline) after the first")
        }
    }
}
