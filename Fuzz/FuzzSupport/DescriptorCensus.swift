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
