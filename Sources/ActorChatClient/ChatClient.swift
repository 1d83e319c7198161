import ActorChatCore
import ActorChatProtocol
import Synchronization

/// A connection to an ActorChat server: requests out, frames in. The tests, the CLI and the load
/// generator all use it, so the protocol's client side lives here only.
package final class ChatClient: Sendable {
    package let connection: Connection
    private let inbox = FrameInbox()
    private let nextRequestID = Atomic<Int>(1)

    /// The deadline for any single wait unless a call gives its own.
    package static let defaultTimeout = Duration.seconds(10)

    /// Connects to `host:port`, trying each address the host resolves to.
    package static func connect(host: String, port: Int, loop: EventLoop = .shared) async throws -> ChatClient {
        var lastError: any Error = ClientError.closed
        for address in try SocketAddress.resolve(host: host, port: port) {
            do {
                return ChatClient(connection: try await loop.connect(to: address))
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    init(connection: Connection) {
        self.connection = connection
        let inbox = inbox
        Task {
            var framer = LineFramer(maxLineBytes: 16 << 20)
            for await chunk in connection.inbound {
                framer.append(chunk)
                while let frame = framer.next() {
                    guard case .line(let line) = frame, case .success(let decoded) = Envelope.decode(line) else { continue }
                    // The server pings a quiet client; any request answers it.
                    if decoded.event == "ping" && decoded.id == nil {
                        connection.send(ClientRequest(event: "ping").encoded())
                        continue
                    }
                    inbox.push(decoded)
                }
                connection.didConsume(chunk.count)
            }
            inbox.finish(.closed)
        }
    }

    /// Sends a request without waiting for anything.
    package func send(_ event: String, _ params: JSONObject = [:], id: JSONValue? = nil) {
        connection.send(ClientRequest(event: event, params: params, id: id).encoded())
    }

    /// Sends bytes as they are, for tests of malformed input.
    package func sendRaw(_ bytes: [UInt8]) {
        connection.send(bytes)
    }

    /// Sends a request with a fresh id and returns the reply carrying that id; an `error` reply throws.
    @discardableResult
    package func request(_ event: String, _ params: JSONObject = [:], timeout: Duration = defaultTimeout) async throws -> ServerFrame {
        let id = JSONValue.number(String(nextRequestID.wrappingAdd(1, ordering: .relaxed).oldValue))
        send(event, params, id: id)
        let reply = try await inbox.next(FrameFilter(.reply(to: id)), timeout: timeout)
        if let code = reply.errorCode { throw ClientError.server(code: code, message: reply["message"]?.string ?? code) }
        return reply
    }

    /// The next frame in arrival order.
    package func next(timeout: Duration = defaultTimeout) async throws -> ServerFrame {
        try await inbox.next(FrameFilter(.any), timeout: timeout)
    }

    /// The first frame named `event` (and carrying each of `params`); frames of other kinds stay queued.
    package func next(_ event: String, timeout: Duration = defaultTimeout, with params: JSONObject = [:]) async throws -> ServerFrame {
        try await inbox.next(FrameFilter(.event(event), params: params), timeout: timeout)
    }

    /// The first frame that is not a reply to a request (it has no id): broadcasts and notices.
    package func nextUnsolicited(timeout: Duration = defaultTimeout) async throws -> ServerFrame {
        try await inbox.next(FrameFilter(.unsolicited), timeout: timeout)
    }

    /// Frames received and not taken yet.
    package var queuedFrames: [ServerFrame] { inbox.queued }

    /// Logs in (as an account with `password` or `session`) and returns the `welcome` frame.
    @discardableResult
    package func login(_ name: String, token: String? = nil, password: String? = nil, session: String? = nil) async throws -> ServerFrame {
        var params: JSONObject = ["name": .string(name)]
        if let token { params["token"] = .string(token) }
        if let password { params["password"] = .string(password) }
        if let session { params["session"] = .string(session) }
        return try await request("login", params)
    }

    package func close() {
        connection.close(.clientClosed)
    }
}
