import FuzzSupport

/// The process's sockets, epoll instances and eventfds, counted from `/proc/self/fd`.
struct DescriptorCensus: Equatable, CustomStringConvertible {
    var sockets = openDescriptorCount(linkPrefix: "socket:")
    var pollers = openDescriptorCount(linkPrefix: "anon_inode:[eventpoll]")
    var eventFDs = openDescriptorCount(linkPrefix: "anon_inode:[eventfd]")

    var description: String { "\(sockets) sockets, \(pollers) epoll, \(eventFDs) eventfd" }
}
