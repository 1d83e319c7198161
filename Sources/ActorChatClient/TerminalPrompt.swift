import ActorChatCore
import ActorChatProtocol
import Glibc
import Foundation
import Synchronization

/// The interactive prompt: the terminal in raw mode, a `LineEditor`, and output printed above the
/// line being typed, after which the prompt and the partial input are drawn again.
package final class TerminalPrompt: Sendable {
    private struct State {
        var editor = LineEditor()
        var prompt = "> "
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

    package func setPrompt(_ prompt: String) {
        let line = state.withLock { state in
            state.prompt = prompt
            return "\r\u{1B}[2K" + state.prompt + state.editor.text
        }
        Self.write(line)
    }

    /// Prints `text` above the input line and redraws the prompt with what was typed so far.
    package func print(_ text: String) {
        state.withLock { state in
            Self.write("\r\u{1B}[2K" + text + "\n" + state.prompt + state.editor.text)
        }
    }

    /// Submitted lines and the keys that end input, read on a thread of their own (read blocks).
    package func actions() -> AsyncStream<LineEditor.Action> {
        let (stream, continuation) = AsyncStream.makeStream(of: LineEditor.Action.self)
        Thread { [self] in
            var byte: UInt8 = 0
            while Glibc.read(STDIN_FILENO, &byte, 1) == 1 {
                let action = state.withLock { state -> LineEditor.Action? in
                    let action = state.editor.feed(byte)
                    switch action {
                    case .redraw?: Self.write("\r\u{1B}[2K" + state.prompt + state.editor.text)
                    // The server echoes what was said, so the typed line just clears.
                    case .submit?: Self.write("\r\u{1B}[2K" + state.prompt)
                    default: break
                    }
                    return action
                }
                if let action, action != .redraw {
                    continuation.yield(action)
                    if action == .endOfInput || action == .interrupt { break }
                }
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
