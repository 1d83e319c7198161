import ActorChatCore
import ActorChatProtocol
import Glibc
import Synchronization

public enum LogLevel: Int, Sendable, Comparable, CaseIterable {
    case debug, info, warn, error

    public var label: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        }
    }

    public init?(label: String) {
        guard let level = Self.allCases.first(where: { $0.label == label }) else { return nil }
        self = level
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One line per event that matters, to stderr, and the most recent lines kept for the `logs` event.
public final class ServerLog: Sendable {
    public let level: LogLevel
    private let capacity: Int
    private let echo: Bool
    private let recent: Mutex<Ring>

    struct Ring {
        var lines: [String] = []
        var next = 0
    }

    /// `echo` false keeps lines in memory only (tests).
    public init(level: LogLevel, capacity: Int = 1000, echo: Bool = true) {
        self.level = level
        self.capacity = capacity
        self.echo = echo
        recent = Mutex(Ring())
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
        guard level >= self.level else { return }
        let line = "\(Self.timestamp()) \(level.label) \(message())"
        recent.withLock { ring in
            if ring.lines.count < capacity {
                ring.lines.append(line)
            } else {
                ring.lines[ring.next] = line
            }
            ring.next = (ring.next + 1) % capacity
        }
        if echo {
            var output = line + "\n"
            output.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
    }

    /// The newest `limit` lines, oldest first.
    public func lines(limit: Int) -> [String] {
        recent.withLock { ring in
            let ordered = ring.lines.count < capacity ? ring.lines : Array(ring.lines[ring.next...] + ring.lines[..<ring.next])
            return Array(ordered.suffix(max(0, limit)))
        }
    }

    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var parts = tm()
        var seconds = now.tv_sec
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let millis = now.tv_nsec / 1_000_000
        let fraction = millis < 10 ? "00\(millis)" : millis < 100 ? "0\(millis)" : "\(millis)"
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}
