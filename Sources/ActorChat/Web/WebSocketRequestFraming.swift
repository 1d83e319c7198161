import ActorChatCore
import ActorChatWeb

/// A WebSocket client's requests: each text message is one. Control frames are answered here, on
/// the session's turn: a ping with a pong, the client's close with the close that ends it, and a
/// violation with a close that carries its code. A ping or pong counts as activity (a browser's
/// automatic pong keeps an idle tab connected) and against the rate limit, as a request does.
struct WebSocketRequestFraming: RequestFraming {
    let connection: Connection
    var decoder: WebSocketDecoder

    init(connection: Connection, maxRequestBytes: Int) {
        self.connection = connection
        decoder = WebSocketDecoder(maxMessageBytes: maxRequestBytes)
    }

    var maxRequestBytes: Int {
        get { decoder.maxMessageBytes }
        set { decoder.maxMessageBytes = newValue }
    }

    mutating func append(_ chunk: [UInt8]) {
        decoder.append(chunk)
    }

    mutating func nextRequest() -> RequestFrame? {
        while let message = decoder.next() {
            switch message {
            case .text(let text):
                return .request(text[...])
            case .ping(let payload):
                connection.sendWebSocketControl(.pong, payload: payload)
                return .control
            case .pong:
                return .control
            case .close(let code):
                connection.sendWebSocketControl(.close, payload: code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? [])
                return .end(.clientClosed)
            case .tooLarge:
                return .tooLarge
            case .violation(let code, let detail):
                connection.sendWebSocketControl(.close, payload: WebSocketFrame.closePayload(code: code, reason: detail))
                return .end(.webSocketViolation)
            }
        }
        return nil
    }
}
