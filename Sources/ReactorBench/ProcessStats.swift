#if canImport(Glibc)
    import Glibc
#endif

/// Reads a process's resident memory and its threads' CPU time from /proc, allocation-light and without Foundation.
enum ProcessStats {
    /// Resident set size in bytes of `pid` ("self" for this process).
    static func residentBytes(pid: String = "self") -> Int? {
        guard let text = read("/proc/\(pid)/statm") else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(CInt(_SC_PAGESIZE)))
    }

    /// Nanoseconds of CPU time used so far by the threads of `pid` whose name starts with `prefix`
    /// (from each thread's schedstat, which counts in nanoseconds).
    static func threadCPUNanoseconds(pid: String = "self", namePrefix prefix: String) -> UInt64 {
        guard let directory = opendir("/proc/\(pid)/task") else { return 0 }
        defer { closedir(directory) }
        var total: UInt64 = 0
        while let entry = readdir(directory) {
            let tid = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard tid.first?.isNumber == true,
                let name = read("/proc/\(pid)/task/\(tid)/comm"), name.hasPrefix(prefix),
                let schedstat = read("/proc/\(pid)/task/\(tid)/schedstat"),
                let nanoseconds = schedstat.split(separator: " ").first.flatMap({ UInt64($0) })
            else { continue }
            total += nanoseconds
        }
        return total
    }

    /// The whole (small) file at `path` as text.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
