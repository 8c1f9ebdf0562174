/// Prints results as an aligned table.
struct ResultTable {
    private static let columns: [(String, Int)] = [
        ("scenario", 12), ("conns", 6), ("size", 7), ("depth", 6), ("msgs/s", 9), ("MB/s", 8),
        ("p50", 8), ("p99", 8), ("p999", 8), ("max", 8), ("allocs/msg", 10), ("cpu/msg", 8), ("RSS", 10),
        ("errors", 7),
    ]

    static func header() -> String {
        columns.enumerated().map { index, column in
            index == 0 ? Format.padRight(column.0, column.1) : Format.pad(column.0, column.1)
        }.joined(separator: " ")
    }

    static func row(_ result: LoadResult) -> String {
        let cells = [
            result.spec.name, "\(result.spec.connections)", Format.bytes(Double(result.spec.size)),
            "\(result.spec.pipeline)", Format.count(result.messagesPerSecond),
            Format.fixed(result.megabytesPerSecond, 1),
            Format.micros(result.p50Microseconds), Format.micros(result.p99Microseconds),
            Format.micros(result.p999Microseconds), Format.micros(result.maxMicroseconds),
            result.server?.allocationsPerMessage.map { Format.fixed($0, 3) } ?? "-",
            result.server.map { Format.micros($0.cpuMicrosecondsPerMessage) } ?? "-",
            result.server?.residentBytes.map { Format.bytes(Double($0)) } ?? "-",
            "\(result.errors)",
        ]
        return zip(cells, columns).enumerated().map { index, pair in
            index == 0 ? Format.padRight(pair.0, pair.1.1) : Format.pad(pair.0, pair.1.1)
        }.joined(separator: " ")
    }
}
