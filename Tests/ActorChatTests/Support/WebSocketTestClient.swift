import Foundation
import Testing
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol
@testable import ActorChatWeb

/// A hand-made WebSocket client over the project's own transport: it writes frames byte by byte
/// (masked or not, fragmented, broken on purpose) and reads the server's frames as they come.
actor WebSocketTestClient {
    struct Frame: Equatable, Sendable {
        var fin: Bool
        var opcode: UInt8
        var payload: [UInt8]

        var text: String { String(decoding: payload, as: UTF8.self) }
        var closeCode: UInt16? { opcode == 0x8 && payload.count >= 2 ? UInt16(payload[0]) << 8 | UInt16(payload[1]) : nil }
        var envelope: Envelope? { opcode == 0x1 ? try? Envelope.decode(payload[...]).get() : nil }
    }

    nonisolated let connection: Connection
    private var iterator: AsyncStream<[UInt8]>.AsyncIterator
    private var buffer: [UInt8] = []

    init(connection: Connection) {
        self.connection = connection
        iterator = connection.inbound.makeAsyncIterator()
    }

    /// Connects, sends `request` (a whole head; by default a good upgrade) and reads the response head.
    static func open(port: Int, path: String = "/ws", headers: [String] = []) async throws -> (WebSocketTestClient, String) {
        let connection = try await EventLoop.shared.connect(to: try SocketAddress.resolve(host: "127.0.0.1", port: port)[0])
        let client = WebSocketTestClient(connection: connection)
        let head = (["GET \(path) HTTP/1.1", "Host: 127.0.0.1:\(port)", "Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
        connection.send(Array(head.utf8))
        let response = try await withDeadline(.seconds(10), waitingFor: "the response head") { await client.readHead() }
        return (client, response)
    }

    /// An upgraded client, logged in as `name`.
    static func loggedIn(_ name: String, port: Int) async throws -> WebSocketTestClient {
        let (client, response) = try await open(port: port)
        guard response.hasPrefix("HTTP/1.1 101") else { throw ClientError.server(code: "no_upgrade", message: response) }
        client.sendText(#"{"event":"login","params":{"name":"\#(name)"},"id":0}"#)
        _ = try await client.next(event: "welcome")
        return client
    }

    private func readHead() async -> String {
        while true {
            if let end = buffer.firstRange(of: [0x0D, 0x0A, 0x0D, 0x0A]) {
                let head = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                return head
            }
            guard let chunk = await nextChunk() else { return String(decoding: buffer, as: UTF8.self) }
            buffer += chunk
            connection.didConsume(chunk.count)
        }
    }

    private func nextChunk() async -> [UInt8]? {
        var iterator = self.iterator
        defer { self.iterator = iterator }
        return await iterator.next(isolation: self)
    }

    /// A frame as a client must send it (masked), or as one must not (`masked: false`).
    static func frame(opcode: UInt8, payload: [UInt8], fin: Bool = true, masked: Bool = true, rsv: UInt8 = 0) -> [UInt8] {
        var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
        let maskBit: UInt8 = masked ? 0x80 : 0
        if payload.count < 126 {
            frame.append(maskBit | UInt8(payload.count))
        } else if payload.count <= 0xFFFF {
            frame += [maskBit | 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        } else {
            frame.append(maskBit | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8((UInt64(payload.count) >> UInt64(shift)) & 0xFF)) }
        }
        guard masked else { return frame + payload }
        let mask: [UInt8] = [0x37, 0xFA, 0x21, 0x3D]
        return frame + mask + payload.enumerated().map { $0.element ^ mask[$0.offset & 3] }
    }

    nonisolated func send(_ bytes: [UInt8]) {
        connection.send(bytes)
    }

    nonisolated func sendText(_ text: String) {
        send(Self.frame(opcode: 0x1, payload: Array(text.utf8)))
    }

    nonisolated func request(_ event: String, _ params: String = "{}", id: Int) {
        sendText(#"{"event":"\#(event)","params":\#(params),"id":\#(id)}"#)
    }

    /// The next frame from the server, or nil once it has closed the connection.
    func nextFrame() async throws -> Frame? {
        try await withDeadline(.seconds(10), waitingFor: "a WebSocket frame") { await self.readFrame() }
    }

    private func readFrame() async -> Frame? {
        while true {
            if let frame = takeFrame() { return frame }
            guard let chunk = await nextChunk() else { return nil }
            buffer += chunk
            connection.didConsume(chunk.count)
        }
    }

    /// Text frames until one carries `event`.
    func next(event: String) async throws -> Envelope {
        while let frame = try await nextFrame() {
            if let envelope = frame.envelope, envelope.event == event { return envelope }
        }
        throw ClientError.closed
    }

    /// Frames until the server's close frame; returns its code (nil when the socket closed without one).
    func closeCode() async throws -> UInt16? {
        while let frame = try await nextFrame() {
            if frame.opcode == 0x8 { return frame.closeCode }
        }
        return nil
    }

    private func takeFrame() -> Frame? {
        guard buffer.count >= 2 else { return nil }
        #expect(buffer[1] & 0x80 == 0, "the server's frames are unmasked")
        var length = Int(buffer[1] & 0x7F)
        var offset = 2
        if length == 126 {
            guard buffer.count >= 4 else { return nil }
            length = Int(buffer[2]) << 8 | Int(buffer[3])
            offset = 4
        } else if length == 127 {
            guard buffer.count >= 10 else { return nil }
            length = (2..<10).reduce(0) { $0 << 8 | Int(buffer[$1]) }
            offset = 10
        }
        guard buffer.count >= offset + length else { return nil }
        let frame = Frame(fin: buffer[0] & 0x80 != 0, opcode: buffer[0] & 0x0F, payload: Array(buffer[offset..<(offset + length)]))
        buffer.removeSubrange(..<(offset + length))
        return frame
    }
}

