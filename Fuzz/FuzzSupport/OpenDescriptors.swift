#if canImport(Glibc)
    import Glibc
#endif

/// How many descriptors the process has open whose `/proc/self/fd` link starts with `prefix` (for example
/// `"socket:"`, `"anon_inode:[eventpoll]"`).
public func openDescriptorCount(linkPrefix prefix: String) -> Int {
    guard let directory = opendir("/proc/self/fd") else { fatalError("cannot list /proc/self/fd") }
    defer { closedir(directory) }
    var count = 0
    var target = [UInt8](repeating: 0, count: 256)
    while let entry = readdir(directory) {
        let length = withUnsafePointer(to: entry.pointee.d_name) { name in
            name.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                target.withUnsafeMutableBufferPointer { buffer in
                    buffer.withMemoryRebound(to: CChar.self) {
                        readlinkat(dirfd(directory), name, $0.baseAddress!, $0.count)
                    }
                }
            }
        }
        // "." and ".." are no links; the directory's own descriptor links to the directory, never a match.
        if length > 0 && target[0..<length].starts(with: prefix.utf8) { count += 1 }
    }
    return count
}
