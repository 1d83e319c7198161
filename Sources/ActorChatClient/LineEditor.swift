import ActorChatCore
import ActorChatProtocol
/// The line being typed at an interactive prompt, as a state machine over input bytes. Pure, so
/// the terminal's behaviour is tested without a terminal.
package struct LineEditor: Sendable {
    package enum Action: Equatable, Sendable {
        /// The line changed; redraw it.
        case redraw
        /// Ctrl-L: clear the screen and draw the line again.
        case repaint
        /// Enter: the finished line.
        case submit(String)
        /// Ctrl-D on an empty line.
        case endOfInput
        /// Ctrl-C.
        case interrupt
    }

    package private(set) var buffer: [UInt8] = []
    /// Inside an escape sequence (arrow keys and the like), which is swallowed.
    private var escape: [UInt8] = []

    package init() {}

    package var text: String { String(decoding: buffer, as: UTF8.self) }

    /// Replaces the line with `text`, as if it had been typed.
    package mutating func replace(with text: String) {
        buffer = Array(text.utf8)
        escape = []
    }

    package mutating func feed(_ byte: UInt8) -> Action? {
        if !escape.isEmpty || byte == 0x1B {
            escape.append(byte)
            // ESC [ ... final byte (0x40-0x7E), or ESC plus one character.
            let finished = escape.count >= 2 && (escape[1] != UInt8(ascii: "[") || (escape.count >= 3 && (0x40...0x7E).contains(byte)))
            if finished || escape.count > 16 { escape = [] }
            return nil
        }
        switch byte {
        case 0x0D, 0x0A:
            let line = text
            buffer = []
            return .submit(line)
        case 0x03:
            return .interrupt
        case 0x04:
            return buffer.isEmpty ? .endOfInput : nil
        case 0x7F, 0x08:
            // Remove one whole UTF-8 character.
            while let last = buffer.popLast(), last & 0xC0 == 0x80 {}
            return .redraw
        case 0x15:
            buffer = []
            return .redraw
        case 0x0C:
            return .repaint
        case 0x17:
            while buffer.last == 0x20 { buffer.removeLast() }
            while let last = buffer.last, last != 0x20 { buffer.removeLast() }
            return .redraw
        case 0x00..<0x20:
            return nil
        default:
            buffer.append(byte)
            return .redraw
        }
    }
}
