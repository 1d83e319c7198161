import ActorChatCore
import ActorChatProtocol
/// A person's session in the CLI: the connection, the rooms they are in and the one plain lines
/// go to. It shows every event through `output`, and when the connection is lost it says so,
/// reconnects with backoff, logs in again and rejoins the rooms.
package actor ClientSession {
    package struct Options: Sendable {
        package var host = "localhost"
        package var port = 7777
        package var name: String
        package var token: String?
        /// An account's password; asked for (through `askPassword`) when the name turns out to be registered.
        package var password: String?
        package var askPassword: (@Sendable (String) async -> String?)?
        /// Reads a secret while the chat runs (`/passwd`); nil where there is no terminal.
        package var askSecret: (@Sendable (String) async -> String?)?
        /// The account's session from the last login: reconnects use it, not the password.
        package var session: String?
        /// Show events as the server's JSON lines instead of rendered text.
        package var json = false
        package var backoff = Backoff()
        /// Earlier messages shown when joining a room (0: none).
        package var history = 0

        package init(name: String) {
            self.name = name
        }
    }

    package private(set) var rooms: [String] = []
    /// Where plain lines go.
    package private(set) var current: String?
    private var options: Options
    private let output: @Sendable (String) -> Void
    /// A line that replaces the one before it (the reconnect's progress); nil clears it.
    private let status: @Sendable (String?) -> Void
    private var renderer: Renderer
    private var client: ChatClient?
    private var quitting = false
    /// The session ended for good: its account logged in elsewhere, or logging in again was refused.
    package private(set) var ended = false
    /// The newest seq seen per room (by name key): a rejoin resumes after it.
    private var lastSeq: [String: Int] = [:]
    /// The oldest seq shown per room: `/history` pages back from it.
    private var oldestShown: [String: Int] = [:]

    package init(
        options: Options, color: Bool, output: @escaping @Sendable (String) -> Void, status: @escaping @Sendable (String?) -> Void = { _ in }
    ) {
        self.options = options
        self.output = output
        self.status = status
        renderer = Renderer(color: color, me: options.name)
    }

    /// Connects and logs in; the first failure is thrown, later ones are retried by `run`.
    package func start() async throws {
        client = try await connect()
    }

    /// Shows events until `quit`, reconnecting whenever the connection is lost; returns early when
    /// the account logged in on another connection.
    package func run() async {
        while !quitting {
            guard let client else {
                await reconnect()
                continue
            }
            do {
                let frame = try await client.nextUnsolicited(timeout: .seconds(3600))
                show(frame)
                if frame.errorCode == "session_replaced" {
                    // Reconnecting would replace the other connection in turn, back and forth.
                    output("* your account logged in on another connection; this client stops")
                    ended = true
                    quitting = true
                    self.client = nil
                    client.close()
                    return
                }
            } catch ClientError.closed {
                guard !quitting else { return }
                self.client = nil
                output("* connection to \(options.host):\(options.port) lost")
            } catch {
                continue
            }
        }
    }

    /// Sends a request and returns its reply; a server error is thrown as `ClientError.server`,
    /// and `ClientError.notConnected` says the request was not sent at all.
    @discardableResult
    package func request(_ event: String, _ params: JSONObject = [:]) async throws -> ServerFrame {
        guard let client else { throw ClientError.notConnected }
        return try await client.request(event, params)
    }

    /// Joins `room` (creating it first with `createLimit` when given and missing) and makes it current.
    package func join(_ room: String, createLimit: Int? = nil) async throws {
        if let createLimit {
            do {
                try await request("create_room", ["room": .string(room), "limit": .number(String(createLimit))])
            } catch ClientError.server(code: "room_exists", _) {}
        }
        var params: JSONObject = ["room": .string(room)]
        if options.history > 0 { params["history"] = .number(String(min(options.history, 200))) }
        let joined = try await request("join", params)
        let name = joined["room"]?.object?["name"]?.string ?? room
        let seq = joined["seq"]?.integer ?? 0
        lastSeq[Names.key(name)] = seq
        oldestShown[Names.key(name)] = seq - min(options.history, 200) + 1
        if !rooms.contains(name) { rooms.append(name) }
        current = name
        show(joined)
    }

    package func leave(_ room: String) async throws {
        let left = try await request("leave", ["room": .string(room)])
        forget(left["room"]?.string ?? room)
        show(left)
    }

    /// Makes `room` (one you are in) the room plain lines go to.
    package func switchTo(_ room: String) throws {
        guard let match = rooms.first(where: { Names.key($0) == Names.key(room) }) else {
            throw ClientError.server(code: "not_member", message: "you are not in room '\(room)'; /join it first")
        }
        current = match
    }

    /// Sends a line to the current room and waits until the server has taken it.
    package func say(_ text: String) async throws {
        guard let current else {
            throw ClientError.server(code: "not_member", message: "you are in no room: /join ROOM first")
        }
        try await request("send", ["room": .string(current), "text": .string(text)])
    }

    /// Logs out (the rooms hear `user_left` once) and stops `run`.
    package func quit() async {
        quitting = true
        if let client {
            _ = try? await client.request("logout", timeout: .seconds(2))
            client.close()
        }
        client = nil
    }

    /// Changes the account's password, asking for the old one and the new one twice; later
    /// reconnects use the new one.
    package func changePassword() async throws -> String {
        guard let ask = options.askSecret else { return "! /passwd needs a terminal; use actor-chat-cli in one" }
        guard let old = await ask("old password: "), let new = await ask("new password: "), let again = await ask("the new one again: ") else {
            return "* password not changed"
        }
        guard new == again else { return "! the two new passwords differ; password not changed" }
        try await request("password", ["old": .string(old), "new": .string(new)])
        options.password = new
        return "* password changed; your other sessions are logged out"
    }

    /// The account's session token, once a login gave one.
    package var session: String? { options.session }

    private func connect() async throws -> ChatClient {
        let client = try await ChatClient.connect(host: options.host, port: options.port)
        do {
            let welcome = try await logIn(client)
            if let session = welcome["session"]?.string { options.session = session }
        } catch {
            client.close()
            throw error
        }
        return client
    }

    /// Logs in with the last login's session if there is one, else the password; a registered
    /// name without a password asks for it, once.
    private func logIn(_ client: ChatClient) async throws -> ServerFrame {
        if let session = options.session {
            do {
                return try await client.login(options.name, token: options.token, session: session)
            } catch ClientError.server(code: "auth_failed", _) where options.password != nil {
                options.session = nil
            }
        }
        do {
            return try await client.login(options.name, token: options.token, password: options.password)
        } catch ClientError.server(code: "auth_failed", let message) where options.password == nil {
            guard let ask = options.askPassword, let password = await ask("password for \(options.name): ") else {
                throw ClientError.server(code: "auth_failed", message: message)
            }
            options.password = password
            return try await client.login(options.name, token: options.token, password: password)
        }
    }

    /// Tries again and again, with backoff, showing one status line that each try updates.
    private func reconnect() async {
        var backoff = options.backoff
        var tries = 0
        defer { status(nil) }
        while !quitting {
            tries += 1
            let delay = backoff.next()
            let tenths = delay.components.seconds * 10 + delay.components.attoseconds / 100_000_000_000_000_000
            status("* reconnecting to \(options.host):\(options.port): try \(tries) in \(tenths / 10).\(tenths % 10) s…")
            try? await Task.sleep(for: delay)
            guard !quitting else { continue }
            let client: ChatClient
            do {
                client = try await connect()
            } catch ClientError.server(code: "auth_failed", let message) {
                // Retrying would only count failures against the account and lock its owner out.
                output("* could not log in again (\(message)); this client stops")
                ended = true
                quitting = true
                return
            } catch {
                continue
            }
            self.client = client
            let wanted = rooms
            rooms = []
            var lost: [String] = []
            for room in wanted {
                // Resumes after the last message seen: what was said meanwhile is replayed, once.
                let since = lastSeq[Names.key(room)] ?? 0
                do {
                    try await client.request("join", ["room": .string(room), "since": .number(String(since))])
                    rooms.append(room)
                } catch ClientError.server(let code, _) {
                    lost.append("\(room) (\(Self.reason(code)))")
                } catch {
                    lost.append("\(room) (\(error))")
                }
            }
            if let current, !rooms.contains(current) { self.current = rooms.first }
            status(nil)
            output("* reconnected as \(options.name) after \(tries) tr\(tries == 1 ? "y" : "ies")" + (rooms.isEmpty ? "" : "; rejoined \(rooms.joined(separator: ", "))"))
            if !lost.isEmpty { output("* could not rejoin \(lost.joined(separator: ", "))") }
            return
        }
    }

    /// Why a room could not be rejoined, in words.
    private static func reason(_ code: String) -> String {
        switch code {
        case "no_such_room": "the server no longer has it"
        case "room_full": "it is full"
        default: code.replacingOccurrences(of: "_", with: " ")
        }
    }

    /// Shows up to `count` messages of the current room from before the oldest one shown.
    package func showHistory(_ count: Int) async throws {
        guard let current else {
            throw ClientError.server(code: "not_member", message: "you are in no room: /join ROOM first")
        }
        let key = Names.key(current)
        var params: JSONObject = ["room": .string(current), "limit": .number(String(min(max(count, 1), 200)))]
        if let oldest = oldestShown[key] { params["before"] = .number(String(oldest)) }
        let page = try await request("history", params)
        let messages = (page["messages"]?.array ?? []).compactMap(\.object)
        guard let first = messages.first?["seq"]?.integer else {
            // Pages go back from what the screen already shows (the join's replay, say): say so,
            // or an empty answer reads as a room without history.
            output(lastSeq[key, default: 0] == 0 ? "* no messages in \(current) yet" : "* nothing in \(current) before the messages shown")
            return
        }
        oldestShown[key] = first
        for message in messages {
            var params = message
            params["room"] = .string(current)
            params["replay"] = .bool(true)
            show(ServerFrame(event: "message", params: params))
        }
        if page["more"] != .bool(true) { output("* that is the start of \(current)'s history") }
    }

    /// Shows a frame as the session shows events (a reply the caller wants seen, for instance).
    package func show(_ frame: ServerFrame) {
        if frame.event == "message", frame.id == nil, let room = frame["room"]?.string, let seq = frame["seq"]?.integer {
            lastSeq[Names.key(room)] = max(lastSeq[Names.key(room)] ?? 0, seq)
        }
        switch frame.event {
        case "kicked", "room_closed":
            if let room = frame["room"]?.string { forget(room) }
        default:
            break
        }
        if options.json {
            output(frame.description)
        } else if let line = renderer.render(frame) {
            output(line)
        }
    }

    private func forget(_ room: String) {
        rooms.removeAll { Names.key($0) == Names.key(room) }
        if let current, Names.key(current) == Names.key(room) { self.current = rooms.first }
    }
}
