@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

/// docs/PROTOCOL.md as a state machine: given one request from one connection, the frames every
/// connection must receive and the connections that must close. It is written from the document,
/// not from the server's code, so the two are checked against each other. Fields the document does
/// not fix (`ts`, an error's `message`, the contents of `logs` and `stats`) are left to `canonical`.
struct ProtocolModel {
    struct Limits {
        var maxRoomLimit = 5
        var maxRooms = 6
        var maxRoomsPerUser = 3
        var maxTextBytes = 24
        var maxLineBytes = 512
        var adminToken = "sesame"
        /// Small, so that resumes cross the replay limit and gaps are common.
        var replayLimit = 3
        /// The server keeps a store: `history` reaches every message, not only the replay ring.
        var stored = false
        /// Accounts named by `--admin`.
        var adminAccounts: Set<String> = ["ann"]
    }

    struct User {
        let id: Int
        let name: String
        let admin: Bool
        let connection: Int
        /// Logged in as an account.
        var account = false
    }

    struct Room {
        let name: String
        var limit: Int
        /// The owning account's name key; nil for a guest's or the operator's room.
        let ownerKey: String?
        /// The user id of the guest login that made it: its rights end with that login.
        var guestCreator: Int?
        var ops: Set<String> = []
        var bans: Set<String> = []
        var isPrivate = false
        /// Invited accounts, and invited guests with the user id of the login the invite is for.
        var accountInvites: Set<String> = []
        var guestInvites: [String: Int] = [:]
        /// User name keys in join order.
        var members: [String] = []
        var seq = 0
        /// The newest messages, at most the replay limit, oldest first: `{seq, from, text}`.
        var recent: [JSONObject] = []
        /// Every message, for `history` from a store.
        var all: [JSONObject] = []
        var info: JSONValue {
            var info: JSONObject = ["name": .string(name), "limit": .number(String(limit)), "count": .number(String(members.count))]
            if isPrivate { info["private"] = .bool(true) }
            return .object(info)
        }
    }

    /// What one request must cause.
    struct Outcome {
        /// Frames per connection, in the order they must arrive.
        var frames: [Int: [ServerFrame]] = [:]
        /// Connections the server must close after their frames.
        var closed: Set<Int> = []
        /// Several rooms' notices reach one member in an order the protocol does not fix (a logout).
        var unordered = false

        mutating func add(_ connection: Int, _ event: String, _ params: JSONObject = [:], id: JSONValue? = nil) {
            frames[connection, default: []].append(ServerFrame(event: event, params: params, id: id))
        }

        mutating func error(_ connection: Int, _ code: String, _ extra: JSONObject = [:], id: JSONValue?) {
            // Any message will do: `canonical` checks only that there is one.
            var params: JSONObject = ["code": .string(code), "message": "?"]
            for member in extra.members { params[member.key] = member.value }
            add(connection, "error", params, id: id)
        }
    }

    let limits: Limits
    /// Connection number to the key of the user logged in on it (nil before login).
    private(set) var connections: [Int: String?] = [:]
    var users: [String: User] = [:]
    var rooms: [String: Room] = [:]
    private var nextUserID = 1
    /// A closed room's last seq by name key: a room made again under the name continues from it.
    private var retired: [String: Int] = [:]
    /// Registered accounts by name key, with their passwords.
    var accounts: [String: (name: String, password: String)] = [:]
    /// Live session tokens and their account's key, as the server handed them out.
    var sessions: [String: String] = [:]
    /// Per connection: the account it logged in as (or registered as a guest), and its session.
    var accountOf: [Int: String] = [:]
    var sessionOf: [Int: String] = [:]
    /// A password login whose token the model learns from the server's `welcome`.
    var awaitingSession: [Int: String] = [:]
    /// Every token handed out, live or revoked, with its account's name.
    var issuedSessions: [(token: String, name: String)] = []

    init(limits: Limits, initialRooms: [(name: String, limit: Int)]) {
        self.limits = limits
        for room in initialRooms { rooms[Self.key(room.name)] = Room(name: room.name, limit: room.limit, ownerKey: nil) }
    }

    // MARK: - What a generator may ask

    /// The rooms `user` sees (nil: a guest with no rights anywhere, who sees the public ones).
    func roomList(for user: User?) -> JSONValue {
        .array(rooms.values.filter { room in user.map { canSee($0, room) } ?? !room.isPrivate }.sorted { $0.name < $1.name }.map(\.info))
    }

    func user(on connection: Int) -> User? {
        connections[connection].flatMap { $0 }.flatMap { users[$0] }
    }

    /// Names of the rooms that exist, sorted so that a seed replays the same run.
    var roomNames: [String] { rooms.values.map(\.name).sorted() }

    /// Names of the rooms the user on `connection` is in, sorted.
    func roomNames(of connection: Int) -> [String] {
        guard let key = connections[connection] ?? nil else { return [] }
        return rooms.values.filter { $0.members.contains(key) }.map(\.name).sorted()
    }

    /// Names of the members of `room`, in the order they joined.
    func memberNames(of room: String) -> [String] {
        rooms[Self.key(room)]?.members.compactMap { users[$0]?.name } ?? []
    }

    /// Connections that share a room with the user on `connection`.
    func roommates(of connection: Int) -> Set<Int> {
        guard let key = connections[connection] ?? nil else { return [] }
        let keys = rooms.values.filter { $0.members.contains(key) }.flatMap(\.members)
        return Set(keys.compactMap { users[$0]?.connection }).subtracting([connection])
    }

    // MARK: - Connections

    mutating func connect(_ connection: Int) {
        connections[connection] = .some(nil)
    }

    /// The connection ended on the client's side (`reason` "disconnected") or was cut by the server.
    mutating func disconnect(_ connection: Int, reason: String) -> Outcome {
        var outcome = Outcome()
        outcome.unordered = true
        leaveEverything(connection, reason: reason, into: &outcome)
        connections[connection] = nil
        (accountOf[connection], sessionOf[connection]) = (nil, nil)
        return outcome
    }

    /// A line longer than the line limit.
    mutating func oversizedLine(from connection: Int) -> Outcome {
        var outcome = disconnect(connection, reason: "frame_too_large")
        outcome.frames[connection] = []
        outcome.error(connection, "frame_too_large", id: nil)
        outcome.closed.insert(connection)
        return outcome
    }

    /// A line the server cannot take as a request: `bad_frame` (not JSON, not an object, duplicate
    /// keys, no string `event`, a bad `id`) or `invalid_params` (params not an object), with the id when
    /// one could be read; nil `code` for a blank line, which is ignored.
    mutating func undecodable(from connection: Int, code: String?, id: JSONValue?) -> Outcome {
        var outcome = Outcome()
        if let code { outcome.error(connection, code, id: id) }
        return outcome
    }

    // MARK: - Requests

    mutating func handle(_ event: String, _ params: JSONObject, id: JSONValue?, from connection: Int) -> Outcome {
        var outcome = Outcome()
        do {
            try handle(event, params, id: id, from: connection, into: &outcome)
        } catch {
            outcome.error(connection, error.code, error.extra, id: id)
        }
        return outcome
    }

    struct Failure: Error {
        let code: String
        var extra: JSONObject = [:]
        init(_ code: String, _ extra: JSONObject = [:]) {
            self.code = code
            self.extra = extra
        }
    }

    private mutating func handle(_ event: String, _ params: JSONObject, id: JSONValue?, from connection: Int, into outcome: inout Outcome) throws(Failure) {
        let known = [
            "login", "ping", "logout", "rooms", "create_room", "join", "leave", "who", "send", "dm", "close_room", "kick", "logs", "stats", "history",
            "help", "register", "password", "op", "deop", "ban", "unban", "invite", "uninvite", "set_room",
        ]
        guard known.contains(event) else { throw Failure("unknown_event") }
        let me = user(on: connection)
        if !["login", "ping", "logout", "help", "register"].contains(event) && me == nil { throw Failure("not_logged_in") }
        switch event {
        case "ping":
            outcome.add(connection, "pong", id: id)
        case "help":
            outcome.add(connection, "help", id: id)
        case "login":
            guard me == nil else { throw Failure("already_logged_in") }
            let name = try string("name", in: params)
            var admin: Bool
            switch params["token"] {
            case nil, .null?: admin = false
            case .string(let token)?:
                guard token == limits.adminToken else { throw Failure("forbidden") }
                admin = true
            default: throw Failure("invalid_params")
            }
            let account = try authenticate(name, params, on: connection)
            if account != nil && limits.adminAccounts.contains(Self.key(name)) { admin = true }
            let loginName = account?.name ?? name
            guard Self.isValid(loginName, maxLength: 32) else { throw Failure("invalid_name") }
            let key = Self.key(loginName)
            if let holder = users[key] {
                guard account != nil else { throw Failure("name_taken") }
                outcome = disconnect(holder.connection, reason: "replaced")
                outcome.error(holder.connection, "session_replaced", id: nil)
                outcome.closed.insert(holder.connection)
            }
            let user = User(id: nextUserID, name: loginName, admin: admin, connection: connection, account: account != nil)
            nextUserID += 1
            users[key] = user
            connections[connection] = key
            accountOf[connection] = account.map { _ in key }
            let info: JSONObject = ["id": .number(String(user.id)), "name": .string(loginName), "admin": .bool(admin)]
            var welcome: JSONObject = ["user": .object(info), "rooms": roomList(for: user)]
            if account != nil { welcome["session"] = .string(account?.session ?? "<new session>") }
            outcome.add(connection, "welcome", welcome, id: id)
        case "register":
            try register(params, me: me, from: connection, id: id, into: &outcome)
        case "password":
            try changePassword(params, from: connection, id: id, into: &outcome)
        case "logout":
            try logOutSessions(params, from: connection)
            outcome = disconnect(connection, reason: "logout")
            outcome.add(connection, "bye", id: id)
            outcome.closed.insert(connection)
        case "rooms":
            outcome.add(connection, "rooms", ["rooms": roomList(for: me)], id: id)
        case "create_room":
            let name = try string("room", in: params)
            guard let limitValue = params["limit"] else { throw Failure("invalid_params") }
            guard let limit = limitValue.integer else { throw Failure("invalid_limit") }
            let isPrivate = try optionalBool("private", in: params) ?? false
            guard Self.isValid(name, maxLength: 64) else { throw Failure("invalid_room") }
            guard (1...limits.maxRoomLimit).contains(limit) else { throw Failure("invalid_limit") }
            guard rooms[Self.key(name)] == nil else { throw Failure("room_exists") }
            guard rooms.count < limits.maxRooms else { throw Failure("limit_exceeded") }
            var room = Room(name: name, limit: limit, ownerKey: me!.account ? Self.key(me!.name) : nil)
            room.guestCreator = me!.account ? nil : me!.id
            room.seq = retired[Self.key(name)] ?? 0
            room.isPrivate = isPrivate
            rooms[Self.key(name)] = room
            announce("room_created", ["room": room.info], from: connection, id: id, in: room, into: &outcome)
        case "join":
            let me = me!
            let roomName = try string("room", in: params)
            let history = try optionalInteger("history", in: params)
            let since = try optionalInteger("since", in: params)
            if history != nil && since != nil { throw Failure("invalid_params") }
            if let history, !(0...200).contains(history) { throw Failure("invalid_params") }
            if let since, since < 0 { throw Failure("invalid_params") }
            var room = try visibleRoom(roomName, to: me)
            let myKey = Self.key(me.name)
            guard !room.members.contains(myKey) else { throw Failure("already_member") }
            guard !room.bans.contains(myKey) else { throw Failure("banned") }
            // The owner and admins get past a full room (as does an invitee).
            guard room.members.count < room.limit || standing(of: me, in: room) >= 2 || isInvited(me, to: room) else {
                throw Failure("room_full", ["room": .string(room.name), "limit": .number(String(room.limit))])
            }
            guard rooms.values.filter({ $0.members.contains(myKey) }).count < limits.maxRoomsPerUser else {
                throw Failure("limit_exceeded")
            }
            for member in room.members { outcome.add(users[member]!.connection, "user_joined", ["room": .string(room.name), "user": .string(me.name)]) }
            room.members.append(myKey)
            rooms[Self.key(room.name)] = room
            outcome.add(
                connection, "joined",
                [
                    "room": room.info, "members": .array(room.members.map { .string(users[$0]!.name) }), "seq": .number(String(room.seq)),
                    "roles": roles(of: room),
                ], id: id)
            var replayed: [JSONObject] = []
            if let history {
                replayed = Array(room.recent.suffix(history))
            } else if let since, since < room.seq {
                replayed = room.recent.filter { ($0["seq"]?.integer ?? 0) > since }
                let resumesAt = replayed.first?["seq"]?.integer ?? room.seq + 1
                if resumesAt > since + 1 {
                    outcome.add(
                        connection, "history_gap",
                        ["room": .string(room.name), "from": .number(String(since + 1)), "to": .number(String(resumesAt - 1))])
                }
            }
            for message in replayed {
                var params = message
                params["room"] = .string(room.name)
                params["ts"] = .number("0")
                params["replay"] = .bool(true)
                outcome.add(connection, "message", params)
            }
        case "leave":
            let me = me!
            var room = try visibleRoom(try string("room", in: params), to: me)
            guard let index = room.members.firstIndex(of: Self.key(me.name)) else { throw Failure("not_member") }
            room.members.remove(at: index)
            rooms[Self.key(room.name)] = room
            outcome.add(connection, "left", ["room": .string(room.name)], id: id)
            for member in room.members { outcome.add(users[member]!.connection, "user_left", ["room": .string(room.name), "user": .string(me.name)]) }
        case "who":
            let room = try visibleRoom(try string("room", in: params), to: me!)
            let members = JSONValue.array(room.members.map { .string(users[$0]!.name) })
            outcome.add(
                connection, "members", ["room": .string(room.name), "limit": .number(String(room.limit)), "members": members, "roles": roles(of: room)], id: id)
        case "send":
            let name = try string("room", in: params)
            let text = try self.text(in: params)
            var room = try room(name)
            guard room.members.contains(Self.key(me!.name)) else { throw Failure(canSee(me!, room) ? "not_member" : "room_not_found") }
            room.seq += 1
            room.recent.append(["seq": .number(String(room.seq)), "from": .string(me!.name), "text": .string(text)])
            room.all.append(room.recent.last!)
            if room.recent.count > limits.replayLimit { room.recent.removeFirst() }
            rooms[Self.key(room.name)] = room
            let message: JSONObject = [
                "room": .string(room.name), "from": .string(me!.name), "text": .string(text), "seq": .number(String(room.seq)), "ts": .number("0"),
            ]
            for member in room.members { outcome.add(users[member]!.connection, "message", message) }
            if let id { outcome.add(connection, "sent", ["room": .string(room.name), "seq": .number(String(room.seq))], id: id) }
        case "history":
            let name = try string("room", in: params)
            let before = try optionalInteger("before", in: params)
            let limit = try optionalInteger("limit", in: params) ?? 50
            guard (1...200).contains(limit) else { throw Failure("invalid_params") }
            let room = try visibleRoom(name, to: me!)
            guard me!.admin || room.members.contains(Self.key(me!.name)) else { throw Failure("not_member") }
            let older = (limits.stored ? room.all : room.recent).filter { ($0["seq"]?.integer ?? 0) < min(before ?? Int.max, room.seq + 1) }
            let page = older.suffix(limit).map { message -> JSONValue in
                var entry = message
                entry["ts"] = .number("0")
                return .object(entry)
            }
            outcome.add(connection, "history", ["room": .string(room.name), "messages": .array(Array(page)), "more": .bool(older.count > limit)], id: id)
        case "dm":
            let to = try string("to", in: params)
            let text = try self.text(in: params)
            guard let recipient = users[Self.key(to)] else { throw Failure("user_not_found") }
            let dm: JSONObject = ["from": .string(me!.name), "to": .string(recipient.name), "text": .string(text), "ts": .number("0")]
            if recipient.connection != connection { outcome.add(recipient.connection, "dm", dm) }
            outcome.add(connection, "dm", dm, id: id)
        case "close_room":
            let room = try visibleRoom(try string("room", in: params), to: me!)
            try authorize(me!, toModerate: room)
            rooms[Self.key(room.name)] = nil
            retired[Self.key(room.name)] = room.seq
            announce("room_closed", ["room": .string(room.name), "by": .string(me!.name)], from: connection, id: id, in: room, into: &outcome)
        case "kick":
            try kick(params, me: me!, from: connection, id: id, into: &outcome)
        case "op", "deop":
            try setOp(params, to: event == "op", me: me!, from: connection, id: id, into: &outcome)
        case "ban", "unban":
            try setBan(params, to: event == "ban", me: me!, from: connection, id: id, into: &outcome)
        case "invite", "uninvite":
            try setInvite(params, to: event == "invite", me: me!, from: connection, id: id, into: &outcome)
        case "set_room":
            try setRoom(params, me: me!, from: connection, id: id, into: &outcome)
        case "logs", "stats":
            guard me!.admin else { throw Failure("forbidden") }
            if event == "logs", params["limit"] != nil, params["limit"] != .null {
                guard let limit = params["limit"]?.integer, limit >= 0 else { throw Failure("invalid_params") }
            }
            outcome.add(connection, event, id: id)
        default:
            preconditionFailure("'\(event)' is in `known` but not handled")
        }
    }

    /// Closing a room: its owner or an admin.
    private func authorize(_ user: User, toModerate room: Room) throws(Failure) {
        guard standing(of: user, in: room) >= 2 else { throw Failure("forbidden") }
    }

    /// Every logged-in user hears it; the requester's copy is its reply.
    /// A private `room` is news only to those who may see it.
    func announce(_ event: String, _ params: JSONObject, from connection: Int, id: JSONValue?, in room: Room? = nil, into outcome: inout Outcome) {
        for user in users.values where user.connection != connection && (room.map { canSee(user, $0) } ?? true) { outcome.add(user.connection, event, params) }
        outcome.add(connection, event, params, id: id)
    }

    private mutating func leaveEverything(_ connection: Int, reason: String, into outcome: inout Outcome) {
        guard let key = connections[connection] ?? nil, let user = users.removeValue(forKey: key) else { return }
        for (roomKey, var room) in rooms {
            guard let index = room.members.firstIndex(of: key) else { continue }
            room.members.remove(at: index)
            rooms[roomKey] = room
            let notice: JSONObject = ["room": .string(room.name), "user": .string(user.name), "reason": .string(reason)]
            for member in room.members { outcome.add(users[member]!.connection, "user_left", notice) }
        }
    }
}
