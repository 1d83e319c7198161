import ActorChatCore

/// Reads a client's frames (RFC 6455 section 5): unmasks them, reassembles fragmented text with
/// control frames between the fragments, and holds at most `maxMessageBytes` of a message. Every
/// violation is reported with the close code it earns, and nothing after it is read.
public struct WebSocketDecoder: Sendable {
    public enum Message: Equatable, Sendable {
        /// A whole text message, valid UTF-8.
        case text([UInt8])
        case ping([UInt8])
        case pong
        /// The client's close: its code (nil when it sent none) and reason.
        case close(code: UInt16?)
        /// A message over `maxMessageBytes`: the connection ends with 1009.
        case tooLarge
        /// A protocol violation: the connection ends with `code`.
        case violation(code: UInt16, detail: String)
    }

    /// The largest message taken, in bytes; may change between messages.
    public var maxMessageBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// The text message being reassembled from fragments, while `assembling`.
    private var fragments: [UInt8] = []
    private var assembling = false
    private var failed = false

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    public mutating func append(_ chunk: some Collection<UInt8>) {
        guard !failed else { return }
        if start > 0 && start * 2 >= buffer.count {
            buffer.removeSubrange(0..<start)
            start = 0
        }
        buffer.append(contentsOf: chunk)
    }

    /// The next message, or nil until more bytes come.
    public mutating func next() -> Message? {
        while !failed {
            let available = buffer.count - start
            guard available >= 2 else { return nil }
            let first = buffer[start]
            let second = buffer[start + 1]
            guard first & 0x70 == 0 else { return fail(WebSocketFrame.CloseCode.protocolError, "reserved bits are set, and no extension was agreed") }
            guard let opcode = WebSocketFrame.Opcode(rawValue: first & 0x0F) else {
                return fail(WebSocketFrame.CloseCode.protocolError, "opcode \(first & 0x0F) is reserved")
            }
            let fin = first & 0x80 != 0
            guard second & 0x80 != 0 else { return fail(WebSocketFrame.CloseCode.protocolError, "a client's frames must be masked") }
            var headerSize = 2
            var length = UInt64(second & 0x7F)
            if length == 126 {
                guard available >= 4 else { return nil }
                length = UInt64(buffer[start + 2]) << 8 | UInt64(buffer[start + 3])
                headerSize = 4
            } else if length == 127 {
                guard available >= 10 else { return nil }
                length = (0..<8).reduce(0) { $0 << 8 | UInt64(buffer[start + 2 + $1]) }
                headerSize = 10
                guard length >> 63 == 0 else { return fail(WebSocketFrame.CloseCode.protocolError, "a 64-bit length must have its top bit clear") }
            }
            if opcode.isControl {
                guard fin else { return fail(WebSocketFrame.CloseCode.protocolError, "a control frame cannot be fragmented") }
                guard length <= 125 else { return fail(WebSocketFrame.CloseCode.protocolError, "a control frame carries at most 125 bytes") }
            } else {
                switch opcode {
                case .continuation where !assembling:
                    return fail(WebSocketFrame.CloseCode.protocolError, "a continuation frame with no message to continue")
                case .text where assembling, .binary where assembling:
                    return fail(WebSocketFrame.CloseCode.protocolError, "a new message began before the last one ended")
                case .binary:
                    return fail(WebSocketFrame.CloseCode.unsupportedData, "only text messages are spoken here")
                default:
                    break
                }
                // A message over the limit is refused from its header, before its bytes are held.
                if UInt64(fragments.count) + length > UInt64(maxMessageBytes) {
                    failed = true
                    return .tooLarge
                }
            }
            let total = headerSize + 4 + Int(length)
            guard available >= total else { return nil }
            let maskStart = start + headerSize
            let mask = (buffer[maskStart], buffer[maskStart + 1], buffer[maskStart + 2], buffer[maskStart + 3])
            // Data frames are unmasked straight onto the message being assembled, so a message in
            // many small fragments costs its length, not its length times its fragments.
            var payload: [UInt8] = []
            if !opcode.isControl { swap(&payload, &fragments) }
            let offset = payload.count
            payload.append(contentsOf: repeatElement(0, count: Int(length)))
            buffer.withUnsafeBufferPointer { source in
                payload.withUnsafeMutableBufferPointer { destination in
                    let base = maskStart + 4
                    for index in 0..<Int(length) {
                        let key = switch index & 3 { case 0: mask.0; case 1: mask.1; case 2: mask.2; default: mask.3 }
                        destination[offset + index] = source[base + index] ^ key
                    }
                }
            }
            start += total
            switch opcode {
            case .ping: return .ping(payload)
            case .pong: return .pong
            case .close: return close(payload)
            case .text, .continuation, .binary:
                guard fin else {
                    swap(&payload, &fragments)
                    assembling = true
                    continue
                }
                assembling = false
                guard UTF8Validation.isValid(payload) else { return fail(WebSocketFrame.CloseCode.invalidPayload, "a text message is not valid UTF-8") }
                return .text(payload)
            }
        }
        return nil
    }

    private mutating func close(_ payload: [UInt8]) -> Message {
        failed = true
        guard !payload.isEmpty else { return .close(code: nil) }
        guard payload.count >= 2 else { return fail(WebSocketFrame.CloseCode.protocolError, "a close frame's code takes two bytes") }
        let code = UInt16(payload[0]) << 8 | UInt16(payload[1])
        guard Self.isValidCloseCode(code) else { return fail(WebSocketFrame.CloseCode.protocolError, "close code \(code) may not be sent") }
        guard UTF8Validation.isValid(payload.dropFirst(2)) else { return fail(WebSocketFrame.CloseCode.invalidPayload, "a close reason is not valid UTF-8") }
        return .close(code: code)
    }

    /// The codes a peer may send (RFC 6455 section 7.4, and the registry's 1012-1014).
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    private mutating func fail(_ code: UInt16, _ detail: String) -> Message {
        failed = true
        buffer = []
        start = 0
        return .violation(code: code, detail: detail)
    }
}
