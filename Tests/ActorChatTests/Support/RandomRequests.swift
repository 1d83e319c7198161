@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// One thing a client does in a model run.
enum ModelAction: CustomStringConvertible {
    case connect(Int)
    case request(Int, event: String, params: JSONObject, id: JSONValue?)
    /// A line that does not decode as a request, with the error code and id the server must answer with.
    case raw(Int, line: String, code: String?, id: JSONValue?)
    case oversized(Int)
    /// The client closes its socket.
    case drop(Int)

    var connection: Int {
        switch self {
        case .connect(let connection), .request(let connection, _, _, _), .raw(let connection, _, _, _),
            .oversized(let connection), .drop(let connection):
            connection
        }
    }

    var description: String {
        switch self {
        case .connect(let connection): "#\(connection) connects"
        case .request(let connection, let event, let params, let id):
            "#\(connection) \(ClientRequest(event: event, params: params, id: id))"
        case .raw(let connection, let line, _, _): "#\(connection) raw \(line.debugDescription)"
        case .oversized(let connection): "#\(connection) sends an oversized line"
        case .drop(let connection): "#\(connection) closes its socket"
        }
    }
}

/// Random but reproducible client actions for a model run: mostly well formed, each request with at
/// most one thing wrong, over few names so that logins collide, rooms fill and limits are reached.
struct RandomRequests {
    private var random: SplitMix64
    private var nextConnection = 0
    private var step = 0
    let maxConnections = 7

    private static let userNames = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy"]
    private static let badUserNames = ["", "al ice", "ann!", String(repeating: "n", count: 33), "Ωmega", "tab\tname"]
    private static let roomNames = ["lobby", "dev", "ops", "art", "zen", "qa", "misc", "x.y"]
    private static let badRoomNames = ["", "two words", String(repeating: "r", count: 65), "caf\u{E9}"]
    private static let texts = ["hi", "hello there", "tab\tand\nnewline", "\u{FC}n\u{EF}c\u{F8}d\u{E9}", "{\"event\":\"x\"}\n"]
    private static let badTexts = ["", String(repeating: "x", count: 25), "bell\u{7}", "esc\u{1B}[2J"]
    private static let oddIDs: [JSONValue] = [.number("-0"), .number("1.50"), .number("1e3"), .number("18446744073709551616"), .string("")]

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func next(for model: ProtocolModel) -> ModelAction {
        step += 1
        let live = model.connections.keys.sorted()
        if live.count < 2 || (live.count < maxConnections && chance(0.05)) {
            nextConnection += 1
            return .connect(nextConnection)
        }
        let connection = live.randomElement(using: &random)!
        guard let me = model.user(on: connection) else { return guestAction(connection, model: model) }
        let canLeaveAbruptly = !model.roommates(of: connection).isEmpty
        let existing = model.roomNames
        let mine = model.roomNames(of: connection)
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<18:
            var params: JSONObject = ["room": room(preferring: existing)]
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<3: params["since"] = .number(String(Int.random(in: 0...12, using: &random)))
            case 3..<5: params["history"] = .number(String(Int.random(in: 0...5, using: &random)))
            case 5: params["since"] = .number("-1")
            case 6: (params["since"], params["history"]) = (.number("1"), .number("1"))
            default: break
            }
            return request(connection, "join", params)
        case 18..<36: return request(connection, "send", ["room": room(preferring: mine), "text": text()], withID: !chance(0.15))
        case 36..<44: return request(connection, "leave", ["room": room(preferring: mine)])
        case 44..<52: return request(connection, "dm", ["to": userName(), "text": text()])
        case 52..<62:
            var params: JSONObject = ["room": room(), "limit": limit()]
            if chance(0.3) { params["private"] = chance(0.95) ? .bool(true) : "yes" }
            return request(connection, "create_room", params)
        case 62..<64:
            let target = room(preferring: existing)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return request(connection, "who", ["room": target])
            case 1: return request(connection, chance(0.7) ? "invite" : "uninvite", ["room": target, "user": userName()])
            case 2:
                var params: JSONObject = ["room": target]
                if chance(0.6) { params["limit"] = limit() }
                if chance(0.6) { params["private"] = .bool(chance(0.5)) }
                return request(connection, "set_room", params)
            default: return request(connection, "who", ["room": target])
            }
        case 64..<66:
            var params: JSONObject = ["room": room(preferring: mine)]
            if chance(0.4) { params["before"] = .number(String(Int.random(in: 0...12, using: &random))) }
            if chance(0.4) { params["limit"] = .number(String(Int.random(in: 0...4, using: &random))) }
            return request(connection, "history", params)
        case 66..<69: return request(connection, "rooms", [:])
        case 69..<73: return request(connection, "close_room", ["room": room(preferring: mine)])
        case 73..<77:
            let room = room(preferring: mine)
            let members = model.memberNames(of: room.string ?? "")
            let user: JSONValue = chance(0.1) ? .string(me.name) : members.isEmpty || chance(0.3) ? userName() : .string(members.randomElement(using: &random)!)
            return request(connection, "kick", ["room": room, "user": user])
        case 77..<81:
            let room = room(preferring: mine)
            let members = model.memberNames(of: room.string ?? "")
            let accounts = model.accountNames
            let user: JSONValue = !accounts.isEmpty && chance(0.5) ? .string(accounts.randomElement(using: &random)!)
                : members.isEmpty || chance(0.3) ? userName() : .string(members.randomElement(using: &random)!)
            return request(connection, ["op", "deop", "ban", "unban", "ban"].randomElement(using: &random)!, ["room": room, "user": user])
        case 81..<82: return request(connection, "logout", [:])
        case 82..<86: return canLeaveAbruptly ? .drop(connection) : request(connection, "logout", [:])
        case 86..<87: return canLeaveAbruptly ? .oversized(connection) : request(connection, "ping", [:])
        case 87..<91: return rawLine(connection)
        case 91..<92:
            switch Int.random(in: 0..<4, using: &random) {
            case 0: return request(connection, "login", ["name": userName()])
            case 1: return request(connection, "register", chance(0.3) ? ["name": userName(), "password": password()] : ["password": password()])
            case 2: return request(connection, "password", ["old": password(), "new": password()])
            default: return request(connection, "logout", chance(0.8) ? ["everywhere": .bool(true)] : ["everywhere": "yes"])
            }
        case 92..<95: return request(connection, chance(0.5) ? "logs" : "stats", chance(0.3) ? ["limit": limit()] : [:])
        case 95..<97: return request(connection, "ping", [:])
        default: return request(connection, chance(0.5) ? "shout" : "LOGIN", [:])
        }
    }

    /// A connection that has not logged in: mostly tries to, sometimes does something else first.
    private mutating func guestAction(_ connection: Int, model: ProtocolModel) -> ModelAction {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<8:
            return request(connection, "register", ["name": chance(0.1) ? .string(Self.badUserNames.randomElement(using: &random)!) : userName(), "password": password()])
        case 8..<16:
            let accounts = model.accountNames
            let name: JSONValue = accounts.isEmpty || chance(0.2) ? userName() : .string(scrambleCase(accounts.randomElement(using: &random)!))
            return request(connection, "login", ["name": name, "password": password()])
        case 16..<22:
            let sessions = model.knownSessions
            guard let (token, name) = sessions.randomElement(using: &random) else { return request(connection, "ping", [:]) }
            var params: JSONObject = ["name": chance(0.1) ? userName() : .string(scrambleCase(name)), "session": .string(token)]
            if chance(0.05) { params["password"] = password() }
            return request(connection, "login", params)
        case 22..<70:
            var params: JSONObject = ["name": chance(0.12) ? .string(Self.badUserNames.randomElement(using: &random)!) : userName()]
            switch Int.random(in: 0..<100, using: &random) {
            case 0..<12: params["token"] = "sesame"
            case 12..<16: params["token"] = "sesam"
            case 16..<19: params["token"] = .number("1")
            case 19..<22: params["token"] = .null
            case 22..<25: params["name"] = nil
            default: break
            }
            return .request(connection, event: "login", params: params, id: id())
        case 70..<82: return request(connection, ["rooms", "join", "send", "ping", "who", "help"].randomElement(using: &random)!, ["room": room()])
        case 82..<88: return rawLine(connection)
        case 88..<92: return request(connection, "logout", [:])
        case 92..<96: return .drop(connection)
        default: return .oversized(connection)
        }
    }

    /// A request, usually with an id, and now and then with one required param missing or of the wrong type.
    private mutating func request(_ connection: Int, _ event: String, _ params: JSONObject, withID: Bool = true) -> ModelAction {
        var params = params
        if !params.members.isEmpty && chance(0.04) {
            let key = params.members.randomElement(using: &random)!.key
            params[key] = chance(0.5) ? nil : .number("7")
        }
        return .request(connection, event: event, params: params, id: withID ? id() : nil)
    }

    private mutating func rawLine(_ connection: Int) -> ModelAction {
        let lines: [(String, String?, JSONValue?)] = [
            ("not json", "bad_frame", nil),
            ("[1,2]", "bad_frame", nil),
            ("{\"event\":5,\"id\":9}", "bad_frame", .number("9")),
            ("{\"event\":\"rooms\",\"id\":[1]}", "bad_frame", nil),
            ("{\"event\":\"ping\",\"event\":\"ping\"}", "bad_frame", nil),
            ("{\"event\":\"ping\",\"id\":1,\"id\":2}", "bad_frame", nil),
            ("{\"event\":\"who\",\"params\":[1],\"id\":\"p\"}", "invalid_params", .string("p")),
            ("{\"event\":\"ping\"} x", "bad_frame", nil),
            ("{\"event\":\"ping\",\"params\":{\"a\":\"\\ud800\"}}", "bad_frame", nil),
            (" \t ", nil, nil),
        ]
        let (line, code, id) = lines.randomElement(using: &random)!
        return .raw(connection, line: line, code: code, id: id)
    }

    private mutating func id() -> JSONValue? {
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<70: .number(String(step))
        case 70..<85: .string("s-\(step)")
        case 85..<95: nil
        default: Self.oddIDs.randomElement(using: &random)!
        }
    }

    /// Mostly one of two passwords, so logins both succeed and fail; now and then one too short.
    private mutating func password() -> JSONValue {
        .string(["password one", "password two", "short"][chance(0.1) ? 2 : Int.random(in: 0...1, using: &random)])
    }

    private mutating func userName() -> JSONValue {
        .string(scrambleCase(Self.userNames.randomElement(using: &random)!))
    }

    private mutating func room() -> JSONValue {
        if chance(0.06) { return .string(Self.badRoomNames.randomElement(using: &random)!) }
        return .string(scrambleCase(Self.roomNames.randomElement(using: &random)!))
    }

    /// Usually one of `candidates` (rooms that exist, or that the requester is in), so requests succeed
    /// about as often as they fail; otherwise any name.
    private mutating func room(preferring candidates: [String]) -> JSONValue {
        guard !candidates.isEmpty, chance(0.6) else { return room() }
        return .string(scrambleCase(candidates.randomElement(using: &random)!))
    }

    private mutating func text() -> JSONValue {
        .string((chance(0.08) ? Self.badTexts : Self.texts).randomElement(using: &random)!)
    }

    private mutating func limit() -> JSONValue {
        if chance(0.8) { return .number(String(Int.random(in: 1...5, using: &random))) }
        return [.number("0"), .number("6"), .number("-1"), .number("1.5"), .number("2e0"), .string("3"), .number("99999999999999999999")]
            .randomElement(using: &random)!
    }

    /// Names are matched ignoring case, so requests use whatever case.
    private mutating func scrambleCase(_ name: String) -> String {
        guard chance(0.2) else { return name }
        return String(name.map { chance(0.5) ? Character($0.uppercased()) : $0 })
    }

    private mutating func chance(_ probability: Double) -> Bool {
        Double.random(in: 0..<1, using: &random) < probability
    }
}

/// A small, fast generator whose sequence depends only on its seed, so a failing run can be replayed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
