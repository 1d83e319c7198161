import ActorChatCore
import ActorChatProtocol
import ActorChatStore

/// `actor-chat-server`'s flags, and how they become a `ServerConfiguration`.
public enum ServerCommandLine {
    public static let arguments = CommandLineArguments(
        command: "actor-chat-server",
        abstract: "A chat server with rooms, speaking JSON lines over TCP (see docs/PROTOCOL.md).",
        options: [
            .init("host", value: "host", help: "Address to listen on (default :: — every IPv6 and IPv4 address)."),
            .init("port", value: "port", help: "TCP port (default 7777; 0 picks a free port and prints it)."),
            .init("room", value: "name[:limit]", help: "A room that exists from the start (repeatable; default lobby:1000).", repeatable: true),
            .init("admin-token", value: "token", help: "A login with this token is admin (or ACTOR_CHAT_ADMIN_TOKEN)."),
            .init("max-line-bytes", value: "bytes", help: "Longest request line (default 65536)."),
            .init("max-text-bytes", value: "bytes", help: "Longest message or DM text in UTF-8 bytes (default 4096)."),
            .init("max-room-limit", value: "n", help: "Highest participant limit a room may have (default 100000)."),
            .init("max-rooms", value: "n", help: "Rooms on the server at once (default 10000)."),
            .init("max-rooms-per-user", value: "n", help: "Rooms one user may be in at once (default 100)."),
            .init("output-limit-bytes", value: "bytes", help: "Output queued for one client, beyond its largest recent reply, before it is cut as a slow consumer (default 1048576)."),
            .init("write-stall-seconds", value: "s", help: "Seconds a client may accept no output while some is queued (default 10)."),
            .init("shutdown-seconds", value: "s", help: "Seconds shutdown waits for queued output to be written (default 5)."),
            .init("login-timeout-seconds", value: "s", help: "Seconds a connection has to log in (default 10)."),
            .init("login-line-bytes", value: "bytes", help: "Longest line before login (default 4096: room for a 1,024-byte password and a session)."),
            .init("login-max-lines", value: "n", help: "Requests allowed before login (default 20)."),
            .init("rate-limit", value: "per-second", help: "Requests per second per connection after the burst (default 10)."),
            .init("rate-burst", value: "n", help: "Requests a connection may send at once (default 20)."),
            .init("idle-ping-seconds", value: "s", help: "Quiet seconds before the server pings a client (default 30)."),
            .init("idle-timeout-seconds", value: "s", help: "Seconds after that ping before a silent client is closed (default 30)."),
            .init("max-connections", value: "n", help: "Connections at once (default: the descriptor limit less 64)."),
            .init("max-connections-per-ip", value: "n", help: "Connections at once from one IP address (default 64)."),
            .init("data-dir", value: "dir", help: "Where the history store keeps its files (default ./actor-chat-data; created if missing)."),
            .init("memory", help: "Keep no store: history and resume work from memory within the replay limit, and are gone at restart."),
            .init("sync", value: "mode", help: "normal: what was accepted survives a crash of the server (default); full: also an OS crash or a power cut."),
            .init("history-limit", value: "n", help: "Messages kept per room; older ones are pruned (default 100000; 0 keeps none)."),
            .init("replay-limit", value: "n", help: "Newest messages per room held in memory for resume with since (default 1000)."),
            .init("accounts-only", help: "Admit registered accounts only: a guest's login is refused (auth_failed)."),
            .init("admin", value: "name", help: "A registered account that is admin when it logs in (repeatable).", repeatable: true),
            .init("session-days", value: "days", help: "Days a login session stays valid (default 30)."),
            .init("login-failures", value: "n", help: "Failed logins for one name within 10 minutes before it must wait (default 5)."),
            .init("login-failures-per-ip", value: "n", help: "Failed logins from one IP address within 10 minutes before it must wait (default 30)."),
            .init("register-burst", value: "n", help: "Registrations one IP address may make at once (default 5)."),
            .init("register-per-minute", value: "n", help: "Registrations per minute from one IP address after the burst (default 1)."),
            .init("max-http-head-bytes", value: "bytes", help: "Longest HTTP request head, request line and headers (default 8192)."),
            .init("allowed-origin", value: "url", help: "A web origin (scheme://host[:port]) whose pages may open a WebSocket, beside the server's own (repeatable).", repeatable: true),
            .init("metrics-token", value: "token", help: "Lets requests with Authorization: Bearer TOKEN read /metrics from anywhere (default: loopback only)."),
            .init("log-level", value: "level", help: "debug, info, warn or error (default info)."),
        ])

    /// The configuration for `parsed` flags; `environment` supplies ACTOR_CHAT_ADMIN_TOKEN.
    public static func configuration(from parsed: CommandLineArguments.Parsed, environment: [String: String]) throws(UsageError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let host = parsed.value("host") { configuration.host = host }
        configuration.port = try parsed.integer("port", in: 0...65535) ?? configuration.port
        configuration.adminToken = parsed.value("admin-token") ?? environment["ACTOR_CHAT_ADMIN_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.maxLineBytes = try parsed.integer("max-line-bytes", in: 256...(16 << 20)) ?? configuration.maxLineBytes
        configuration.maxTextBytes = try parsed.integer("max-text-bytes", in: 1...(16 << 20)) ?? configuration.maxTextBytes
        configuration.rooms.maxRoomLimit = try parsed.integer("max-room-limit", in: 1...10_000_000) ?? configuration.rooms.maxRoomLimit
        configuration.rooms.maxRooms = try parsed.integer("max-rooms", in: 1...10_000_000) ?? configuration.rooms.maxRooms
        configuration.rooms.maxRoomsPerUser = try parsed.integer("max-rooms-per-user", in: 1...1_000_000) ?? configuration.rooms.maxRoomsPerUser
        configuration.outboundLimitBytes = try parsed.integer("output-limit-bytes", in: 4096...(1 << 30)) ?? configuration.outboundLimitBytes
        configuration.writeStallSeconds = try parsed.seconds("write-stall-seconds", in: 0.1...86400) ?? configuration.writeStallSeconds
        configuration.shutdownSeconds = try parsed.seconds("shutdown-seconds", in: 0...3600) ?? configuration.shutdownSeconds
        configuration.loginTimeoutSeconds = try parsed.seconds("login-timeout-seconds", in: 0.1...86400) ?? configuration.loginTimeoutSeconds
        configuration.loginLineBytes = try parsed.integer("login-line-bytes", in: 64...(16 << 20)) ?? configuration.loginLineBytes
        configuration.loginMaxLines = try parsed.integer("login-max-lines", in: 1...1_000_000) ?? configuration.loginMaxLines
        configuration.ratePerSecond = try parsed.number("rate-limit", in: 0.01...1e9) ?? configuration.ratePerSecond
        configuration.rateBurst = try parsed.integer("rate-burst", in: 1...1_000_000_000) ?? configuration.rateBurst
        configuration.idlePingSeconds = try parsed.seconds("idle-ping-seconds", in: 0.1...86400) ?? configuration.idlePingSeconds
        configuration.idleTimeoutSeconds = try parsed.seconds("idle-timeout-seconds", in: 0.1...86400) ?? configuration.idleTimeoutSeconds
        configuration.maxConnections = try parsed.integer("max-connections", in: 1...10_000_000) ?? configuration.maxConnections
        configuration.maxConnectionsPerAddress = try parsed.integer("max-connections-per-ip", in: 1...10_000_000) ?? configuration.maxConnectionsPerAddress
        configuration.rooms.historyLimit = try parsed.integer("history-limit", in: 0...1_000_000_000) ?? configuration.rooms.historyLimit
        configuration.rooms.replayLimit = try parsed.integer("replay-limit", in: 0...1_000_000) ?? configuration.rooms.replayLimit
        if parsed.flag("memory") {
            guard parsed.value("data-dir") == nil else { throw UsageError("--memory and --data-dir exclude each other") }
            configuration.dataDirectory = nil
        } else if let directory = parsed.value("data-dir") {
            guard !directory.isEmpty else { throw UsageError("--data-dir needs a directory") }
            configuration.dataDirectory = directory
        }
        if let mode = parsed.value("sync") {
            guard let sync = SyncMode(rawValue: mode) else { throw UsageError("--sync takes normal or full, not '\(mode)'") }
            configuration.sync = sync
        }
        configuration.accounts.accountsOnly = parsed.flag("accounts-only")
        for name in parsed.values["admin"] ?? [] {
            if let problem = Names.problem(with: name, maxLength: Names.maxUserName) { throw UsageError("--admin '\(name)': the name is invalid: \(problem)") }
            configuration.accounts.adminKeys.insert(Names.key(name))
        }
        configuration.accounts.sessionDays = try parsed.seconds("session-days", in: 0.001...36_500) ?? configuration.accounts.sessionDays
        configuration.accounts.failuresPerName = try parsed.integer("login-failures", in: 1...1_000_000) ?? configuration.accounts.failuresPerName
        configuration.accounts.failuresPerAddress = try parsed.integer("login-failures-per-ip", in: 1...1_000_000) ?? configuration.accounts.failuresPerAddress
        configuration.accounts.registerBurst = try parsed.integer("register-burst", in: 1...1_000_000) ?? configuration.accounts.registerBurst
        configuration.accounts.registerPerMinute = try parsed.number("register-per-minute", in: 0.001...1e9) ?? configuration.accounts.registerPerMinute
        configuration.maxHTTPHeadBytes = try parsed.integer("max-http-head-bytes", in: 256...(1 << 20)) ?? configuration.maxHTTPHeadBytes
        configuration.allowedOrigins = try (parsed.values["allowed-origin"] ?? []).map { origin throws(UsageError) in
            guard let normalized = WebGateway.normalizedOrigin(origin) else {
                throw UsageError("--allowed-origin '\(origin)': give an origin as scheme://host[:port], such as https://chat.example.org")
            }
            return normalized
        }
        configuration.metricsToken = parsed.value("metrics-token").flatMap { $0.isEmpty ? nil : $0 }
        if let label = parsed.value("log-level") {
            guard let level = LogLevel(label: label) else { throw UsageError("--log-level takes debug, info, warn or error, not '\(label)'") }
            configuration.logLevel = level
        }
        if let rooms = parsed.values["room"] {
            configuration.initialRooms = try rooms.map { spec throws(UsageError) in try room(spec, maxLimit: configuration.rooms.maxRoomLimit) }
        }
        return configuration
    }

    private static func room(_ spec: String, maxLimit: Int) throws(UsageError) -> (name: String, limit: Int?) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        if let problem = Names.problem(with: parts[0], maxLength: Names.maxRoomName) {
            throw UsageError("--room '\(spec)': the name is invalid: \(problem)")
        }
        guard parts.count == 2 else { return (parts[0], nil) }
        guard let limit = Int(parts[1]), (1...maxLimit).contains(limit) else {
            throw UsageError("--room '\(spec)': the limit must be a whole number from 1 to \(maxLimit)")
        }
        return (parts[0], limit)
    }
}
