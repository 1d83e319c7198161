import Glibc
import Synchronization

/// The load test's progress on stderr, kept off the table on stdout: on a terminal one line that
/// is redrawn in place and wiped before the table's next line; elsewhere (a log, a pipe) plain lines.
package final class ProgressLine: Sendable {
    private let terminal: Bool
    /// Whether a line is on screen now, to be wiped before other output.
    private let showing = Mutex(false)

    package init(terminal: Bool = isatty(STDERR_FILENO) == 1) {
        self.terminal = terminal
    }

    package func show(_ text: String) {
        showing.withLock { showing in
            if terminal {
                Self.write("\r\u{1B}[2K" + text)
                showing = true
            } else {
                Self.write(text + "\n")
            }
        }
    }

    /// Wipes the line, if one is showing, so the next output starts on a clean line.
    package func clear() {
        showing.withLock { showing in
            guard showing else { return }
            Self.write("\r\u{1B}[2K")
            showing = false
        }
    }

    private static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            offset += written
        }
    }
}
