import Glibc

/// The server's side of RFC 6455 framing: frames go out unmasked, a text frame per line. The loop
/// frames a WebSocket connection's output as it queues it, so the rooms broadcast one set of bytes
/// to TCP and WebSocket members alike, and a broadcast is framed once for all its WebSocket members.
public enum WebSocketFrame {
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0
        case text = 0x1
        case binary = 0x2
        case close = 0x8
        case ping = 0x9
        case pong = 0xA

        public var isControl: Bool { rawValue & 0x8 != 0 }
    }

    /// Close codes the server sends (RFC 6455 section 7.4.1).
    public enum CloseCode {
        public static let normal: UInt16 = 1000
        public static let goingAway: UInt16 = 1001
        public static let protocolError: UInt16 = 1002
        public static let unsupportedData: UInt16 = 1003
        public static let invalidPayload: UInt16 = 1007
        public static let policyViolation: UInt16 = 1008
        public static let messageTooBig: UInt16 = 1009
    }

    /// One whole (FIN) frame.
    public static func frame(_ opcode: Opcode, payload: some Collection<UInt8>) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: headerSize(payload: payload.count))
        frame.withUnsafeMutableBytes { _ = writeHeader(opcode, payload: payload.count, to: $0.baseAddress!) }
        frame.append(contentsOf: payload)
        return frame
    }

    /// A close frame with `code` and a reason.
    public static func close(code: UInt16, reason: String = "") -> [UInt8] {
        frame(.close, payload: closePayload(code: code, reason: reason))
    }

    /// A close frame's payload: the code, then the reason cut to fit a control frame's 125 bytes.
    public static func closePayload(code: UInt16, reason: String = "") -> [UInt8] {
        var reasonBytes: [UInt8] = []
        for scalar in reason.unicodeScalars {
            let encoded = Array(String(scalar).utf8)
            guard reasonBytes.count + encoded.count <= 123 else { break }
            reasonBytes += encoded
        }
        return [UInt8(code >> 8), UInt8(code & 0xFF)] + reasonBytes
    }

    static func headerSize(payload: Int, masked: Bool = false) -> Int {
        (payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0)
    }

    /// Writes a FIN frame's header for `payload` bytes; returns its size.
    /// `masked` writes a client's header with a zero mask key, which leaves the payload as it is:
    /// for load generators, which need to be cheap rather than unpredictable.
    static func writeHeader(_ opcode: Opcode, payload: Int, masked: Bool = false, to destination: UnsafeMutableRawPointer) -> Int {
        let bytes = destination.assumingMemoryBound(to: UInt8.self)
        bytes[0] = 0x80 | opcode.rawValue
        let maskBit: UInt8 = masked ? 0x80 : 0
        let size: Int
        switch payload {
        case ..<126:
            bytes[1] = maskBit | UInt8(payload)
            size = 2
        case ...0xFFFF:
            bytes[1] = maskBit | 126
            bytes[2] = UInt8(payload >> 8)
            bytes[3] = UInt8(payload & 0xFF)
            size = 4
        default:
            bytes[1] = maskBit | 127
            for index in 0..<8 { bytes[2 + index] = UInt8((UInt64(payload) >> (56 - 8 * UInt64(index))) & 0xFF) }
            size = 10
        }
        guard masked else { return size }
        (destination + size).storeBytes(of: 0, as: UInt32.self)
        return size + 4
    }

    /// Each `\n`-terminated line of `lines` as one text frame, without its newline (the events' JSON
    /// never holds a raw newline). Bytes after the last newline, which the server never sends, go out
    /// as one more frame rather than being lost.
    static func textFrames(fromLines lines: UnsafeRawBufferPointer, masked: Bool = false) -> OutboundChunk {
        var size = 0
        forEachLine(in: lines) { size += headerSize(payload: $0.count, masked: masked) + $0.count }
        return OutboundChunk(capacity: size, shared: true) { destination in
            var written = 0
            forEachLine(in: lines) { line in
                written += writeHeader(.text, payload: line.count, masked: masked, to: destination + written)
                if let start = line.baseAddress { (destination + written).copyMemory(from: start, byteCount: line.count) }
                written += line.count
            }
            return written
        }
    }

    private static func forEachLine(in bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        guard let base = bytes.baseAddress else { return }
        var start = 0
        while start < bytes.count {
            let remaining = bytes.count - start
            guard let newline = memchr(base + start, 0x0A, remaining) else {
                body(UnsafeRawBufferPointer(start: base + start, count: remaining))
                return
            }
            let end = UnsafeRawPointer(newline) - base
            body(UnsafeRawBufferPointer(start: base + start, count: end - start))
            start = end + 1
        }
    }
}
