import ActorChatCore
import ActorChatProtocol
import Glibc
import Foundation
import Synchronization

/// The interactive prompt: the terminal in raw mode, a `LineEditor`, and output printed above the
/// line being typed, after which the prompt and the partial input are drawn again. The live region
/// at the bottom (an optional status line, then the prompt and the input) may wrap over several
/// rows; it is erased from its first row, so no stale copy is left behind.
package final class TerminalPrompt: Sendable {
    private struct State {
        var editor = LineEditor()
        var prompt = "> "
        /// A line above the prompt that is redrawn rather than repeated (the reconnect status).
        var status: String?
        /// The row of the live region the cursor is on, counted from its first row.
        var cursorRow = 0
        /// A secret being typed (`/passwd`): its label replaces the prompt, its characters show as
        /// `*`, and the submitted line goes to `waiter`, not to the chat.
        var secret: (label: String, waiter: CheckedContinuation<String?, Never>)?

        /// Moves to the live region's first row and clears from there to the end of the screen.
        var erase: String {
            (cursorRow > 0 ? "\u{1B}[\(cursorRow)A" : "") + "\r\u{1B}[J"
        }

        /// The live region, noting where it leaves the cursor.
        mutating func draw() -> String {
            let input = secret == nil ? editor.text : String(repeating: "*", count: editor.text.count)
            let region = (status.map { $0 + "\n" } ?? "") + (secret?.label ?? prompt) + input
            cursorRow = DisplayWidth.cursorRow(after: region, columns: TerminalPrompt.columns())
            return region
        }
    }

    private let state = Mutex(State())
    /// The terminal's settings before raw mode, restored on exit.
    private let original: termios

    /// Nil unless both stdin and stdout are terminals.
    package init?() {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else { return nil }
        var settings = termios()
        guard tcgetattr(STDIN_FILENO, &settings) == 0 else { return nil }
        original = settings
        // Keep output processing (\n still becomes \r\n); take keys one at a time, unechoed, with
        // Ctrl-C and Ctrl-D as bytes so they leave cleanly.
        settings.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN)
        settings.c_iflag &= ~tcflag_t(IXON | ICRNL)
        withUnsafeMutableBytes(of: &settings.c_cc) { cc in
            cc[Int(VMIN)] = 1
            cc[Int(VTIME)] = 0
        }
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
    }

    package func restore() {
        var settings = original
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &settings)
        Self.write("\r\n")
    }

    /// A password for `label`, typed unechoed in line mode; for use before `actions()` reads the keys.
    package func readSecret(_ label: String) -> String? {
        SecretInput.read(label, lineMode: original)
    }

    /// A line typed after `label` while the chat goes on, shown as `*` and kept out of the chat;
    /// nil on Ctrl-D or Ctrl-C. Needs `actions()` running: it is the one reading the keys.
    package func readSecretLine(_ label: String) async -> String? {
        await withCheckedContinuation { continuation in
            redraw { state in
                state.secret?.waiter.resume(returning: nil)
                state.secret = (label, continuation)
            }
        }
    }

    package func setPrompt(_ prompt: String) {
        redraw { $0.prompt = prompt }
    }

    /// Shows `status` on its own line above the prompt, replacing the one before; nil removes it.
    package func setStatus(_ status: String?) {
        redraw { $0.status = status }
    }

    /// Puts `text` back in the input, as if typed again (a line that could not be sent).
    package func retype(_ text: String) {
        redraw { $0.editor.replace(with: text) }
    }

    /// Prints `text` above the live region and draws the region again below it.
    package func print(_ text: String) {
        state.withLock { state in
            Self.write(state.erase + text + "\n" + state.draw())
        }
    }

    private func redraw(_ change: (inout State) -> Void) {
        state.withLock { state in
            let erase = state.erase
            change(&state)
            Self.write(erase + state.draw())
        }
    }

    /// The terminal's width in columns (80 if it cannot say), read at each draw so a resize is seen.
    static func columns() -> Int {
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    /// Submitted lines and the keys that end input, read on a thread of their own (read blocks).
    package func actions() -> AsyncStream<LineEditor.Action> {
        let (stream, continuation) = AsyncStream.makeStream(of: LineEditor.Action.self)
        Thread { [self] in
            var byte: UInt8 = 0
            while Glibc.read(STDIN_FILENO, &byte, 1) == 1 {
                let action = state.withLock { state -> LineEditor.Action? in
                    let erase = state.erase
                    let action = state.editor.feed(byte)
                    if let secret = state.secret {
                        switch action {
                        case .submit(let line)?:
                            // Enter alone gives up rather than sending an empty password.
                            secret.waiter.resume(returning: line.isEmpty ? nil : line)
                        case .endOfInput?, .interrupt?:
                            secret.waiter.resume(returning: nil)
                        default:
                            if action != nil { Self.write(erase + state.draw()) }
                            return nil
                        }
                        // Nothing of a secret stays in the input, to be shown or sent later.
                        state.editor.replace(with: "")
                        state.secret = nil
                        Self.write(erase + state.draw())
                        return nil
                    }
                    switch action {
                    case .redraw?: Self.write(erase + state.draw())
                    // Ctrl-L: a clean screen with only the live region, at the top.
                    case .repaint?: Self.write("\u{1B}[H\u{1B}[2J" + state.draw())
                    // The server echoes what was said, so the typed line just clears.
                    case .submit?: Self.write(erase + state.draw())
                    default: break
                    }
                    return action
                }
                if let action, action != .redraw, action != .repaint {
                    continuation.yield(action)
                    if action == .endOfInput || action == .interrupt { break }
                }
            }
            // Input ended: a secret still being asked for will not come.
            state.withLock { state in
                state.secret?.waiter.resume(returning: nil)
                state.secret = nil
            }
            continuation.finish()
        }.start()
        return stream
    }

    static func write(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = Glibc.write(STDOUT_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written <= 0 && errno != EINTR { return }
                offset += max(0, written)
            }
        }
    }
}

/// Lines of standard input, read on a thread of their own (readLine blocks).
package func standardInputLines() -> AsyncStream<String> {
    let (stream, continuation) = AsyncStream.makeStream(of: String.self)
    Thread {
        while let line = readLine(strippingNewline: true) { continuation.yield(line) }
        continuation.finish()
    }.start()
    return stream
}
