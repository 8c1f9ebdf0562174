import Logging

/// A log handler that keeps every message at `warning` or above, so a test can check what a server logged and how
/// often (the messages themselves are not printed).
struct RecordingLogHandler: LogHandler {
    /// The messages logged through every logger made from one record.
    final class Record: Sendable {
        let messages = Locked<[(level: Logger.Level, message: String)]>([])
        /// The metadata of each recorded message (the logger's, then the call's), in the same order.
        let metadata = Locked<[Logger.Metadata]>([])

        /// A logger that records here.
        func logger(label: String = "test") -> Logger {
            Logger(label: label) { _ in RecordingLogHandler(record: self) }
        }

        /// How many recorded messages contain `text`.
        func count(containing text: String) -> Int {
            messages.withLock { $0.filter { $0.message.contains(text) }.count }
        }
    }

    let record: Record
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .warning

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        record.messages.withLock { $0.append((event.level, event.message.description)) }
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        record.metadata.withLock { $0.append(merged) }
    }
}
