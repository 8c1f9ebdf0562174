/// Prints results as an aligned table.
struct ResultTable {
    private static let columns: [(title: String, width: Int)] = [
        ("scenario", 20), ("conns", 6), ("size", 9), ("depth", 6), ("msgs/s", 9), ("MB/s", 8),
        ("p50", 8), ("p99", 8), ("p999", 8), ("max", 8), ("allocs/msg", 10), ("cpu/msg", 8), ("RSS", 10),
        ("RSS/conn", 9), ("errors", 7),
    ]

    static func header() -> String {
        line(columns.map(\.title))
    }

    static func row(_ result: LoadResult, label: String? = nil) -> String {
        // The memory scenarios have no throughput or latency to show.
        let idle = result.spec.name == Scenario.idleMemory.name || result.burst != nil
        let server = result.server
        var cells: [String] = [label ?? result.spec.name, "\(result.spec.connections)"]
        cells.append((result.spec.soak == nil ? "" : "~") + Format.bytes(Double(result.spec.size)))
        cells.append(result.burst == nil ? "\(result.spec.pipeline)" : "-")
        cells.append(idle ? "-" : Format.count(result.messagesPerSecond))
        cells.append(idle ? "-" : Format.fixed(result.megabytesPerSecond, 1))
        for value in [result.p50Microseconds, result.p99Microseconds, result.p999Microseconds, result.maxMicroseconds] {
            cells.append(idle ? "-" : Format.micros(value))
        }
        cells.append(server?.allocationsPerMessage.map { Format.fixed($0, 3) } ?? "-")
        cells.append(idle || server == nil ? "-" : Format.micros(server!.cpuMicrosecondsPerMessage))
        cells.append(server?.residentBytes.map { Format.bytes(Double($0)) } ?? "-")
        cells.append(result.residentBytesPerIdleConnection.map { Format.fixed($0, 0) + " B" } ?? "-")
        cells.append("\(result.errors)")
        return line(cells)
    }

    private static func line(_ cells: [String]) -> String {
        var parts: [String] = []
        for (index, cell) in cells.enumerated() {
            let width = columns[index].width
            parts.append(index == 0 ? Format.padRight(cell, width) : Format.pad(cell, width))
        }
        return parts.joined(separator: " ")
    }
}
