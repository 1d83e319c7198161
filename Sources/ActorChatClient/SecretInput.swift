import Glibc

/// A password typed at the terminal: one line read in the terminal's line mode with echo off,
/// then the terminal's settings as they were. The prompt goes to stderr, so stdout stays the
/// command's output.
package enum SecretInput {
    /// The line typed after `label`; nil when stdin is not a terminal, ends, or the line is empty
    /// (Enter alone gives up rather than sending an empty password). `lineMode` is the
    /// terminal's line-mode settings (a raw-mode caller passes the ones it replaced).
    package static func read(_ label: String, lineMode: termios? = nil) -> String? {
        guard isatty(STDIN_FILENO) == 1 else { return nil }
        var current = termios()
        guard tcgetattr(STDIN_FILENO, &current) == 0 else { return nil }
        var quiet = lineMode ?? current
        quiet.c_lflag &= ~tcflag_t(ECHO)
        quiet.c_lflag |= tcflag_t(ICANON)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        defer { tcsetattr(STDIN_FILENO, TCSAFLUSH, &current) }
        writeError(label)
        let line = readLine(strippingNewline: true)
        writeError("\n")
        return line?.isEmpty == false ? line : nil
    }

    private static func writeError(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(STDERR_FILENO, &bytes, bytes.count)
    }
}
