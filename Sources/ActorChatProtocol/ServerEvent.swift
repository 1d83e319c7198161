/// A room as listed to clients.
public struct RoomInfo: Sendable, Equatable {
    public var name: String
    public var limit: Int
    public var count: Int
    /// Seen only by its members, invitees, owner, moderators and admins; encoded only when true.
    public var isPrivate: Bool

    public init(name: String, limit: Int, count: Int, isPrivate: Bool = false) {
        self.name = name
        self.limit = limit
        self.count = count
        self.isPrivate = isPrivate
    }
}

/// One event as `help` lists it.
public struct EventDescription: Sendable, Equatable {
    public var event: String
    /// Param names; an optional one ends in `?`.
    public var params: [String]
    /// `anyone`, `logged_in` or `admin`.
    public var access: String

    public init(event: String, params: [String], access: String) {
        self.event = event
        self.params = params
        self.access = access
    }
}

/// One message in a `history` page.
/// A member's role in a room, as `joined` and `members` list them: `owner` or `op`.
public struct MemberRole: Sendable, Equatable {
    public let name: String
    public let role: String

    public init(name: String, role: String) {
        self.name = name
        self.role = role
    }
}

public struct HistoryEntry: Sendable, Equatable {
    public var seq: Int
    public var from: String
    public var text: String
    public var ts: Int

    public init(seq: Int, from: String, text: String, ts: Int) {
        self.seq = seq
        self.from = from
        self.text = text
        self.ts = ts
    }
}

/// A logged-in user as told to that user.
public struct UserInfo: Sendable, Equatable {
    public var id: Int
    public var name: String
    public var admin: Bool

    public init(id: Int, name: String, admin: Bool) {
        self.id = id
        self.name = name
        self.admin = admin
    }
}

/// Every event the server sends. `encoded(id:)` renders the whole line once; broadcasts hand the
/// same bytes to every recipient.
public enum ServerEvent: Sendable, Equatable {
    /// `rooms` is the room list as `RoomDirectory` keeps it: a JSON array of `RoomInfo`, sorted by name.
    /// `session`: the login session's token, for a registered account only.
    case welcome(user: UserInfo, rooms: EncodedJSON, session: String? = nil)
    case registered(name: String)
    case passwordChanged
    case rooms(EncodedJSON)
    case roomCreated(RoomInfo)
    /// `seq`: the room's latest message, 0 when it has none. `roles`: the members who have one
    /// (`owner` or `op`), in join order.
    /// `members`: the names as a JSON array, which the room keeps encoded.
    case joined(room: RoomInfo, members: EncodedJSON, seq: Int, roles: [MemberRole] = [])
    case userJoined(room: String, user: String)
    case left(room: String)
    case userLeft(room: String, user: String, reason: String?)
    case members(room: String, limit: Int, members: EncodedJSON, roles: [MemberRole] = [])
    /// `replay`: an earlier message sent again after `joined`, not a live one.
    case message(room: String, from: String, text: String, seq: Int, ts: Int, replay: Bool = false)
    /// Messages `from`...`to` of a resumed room were not replayed (replay limit or retention).
    case historyGap(room: String, from: Int, to: Int)
    /// A page of stored messages, ascending; `more`: older ones are kept.
    case history(room: String, messages: [HistoryEntry], more: Bool)
    case sent(room: String, seq: Int)
    case dm(from: String, to: String, text: String, ts: Int)
    case roomClosed(room: String, by: String)
    /// `reason`: "banned" when a ban removed the member.
    case kicked(room: String, by: String, reason: String? = nil)
    /// `role`: "op", or nil when it was taken away.
    case roleChanged(room: String, user: String, role: String?)
    case userBanned(room: String, user: String)
    case userUnbanned(room: String, user: String)
    /// The reply to `invite`; `invitedBy` is what the invitee hears.
    case invited(room: String, user: String)
    case invitedBy(room: String, by: String)
    case uninvited(room: String, user: String)
    case roomUpdated(RoomInfo)
    case ping
    case pong
    case bye
    case logs([String])
    case help([EventDescription])
    case stats(JSONObject)
    case serverShutdown
    case error(ChatError)

    public var name: String {
        switch self {
        case .welcome: "welcome"
        case .registered: "registered"
        case .passwordChanged: "password_changed"
        case .rooms: "rooms"
        case .roomCreated: "room_created"
        case .joined: "joined"
        case .userJoined: "user_joined"
        case .left: "left"
        case .userLeft: "user_left"
        case .members: "members"
        case .message: "message"
        case .historyGap: "history_gap"
        case .help: "help"
        case .history: "history"
        case .sent: "sent"
        case .dm: "dm"
        case .roomClosed: "room_closed"
        case .kicked: "kicked"
        case .roleChanged: "role_changed"
        case .userBanned: "user_banned"
        case .userUnbanned: "user_unbanned"
        case .invited, .invitedBy: "invited"
        case .uninvited: "uninvited"
        case .roomUpdated: "room_updated"
        case .ping: "ping"
        case .pong: "pong"
        case .bye: "bye"
        case .logs: "logs"
        case .stats: "stats"
        case .serverShutdown: "server_shutdown"
        case .error: "error"
        }
    }

    private static func write(roles: [MemberRole], into writer: inout JSONWriter) {
        writer.key(literal: "roles")
        writer.beginObject()
        for entry in roles {
            writer.key(entry.name)
            writer.write(entry.role)
        }
        writer.endObject()
    }

    /// The event as one protocol line, with `id` when it answers a request that carried one.
    public func encoded(id: JSONValue? = nil) -> [UInt8] {
        var writer = JSONWriter()
        writer.envelope(event: name, id: id) { writeParams(into: &$0) }
        return writer.bytes
    }

    private func writeParams(into writer: inout JSONWriter) {
        switch self {
        case .welcome(let user, let rooms, let session):
            writer.key(literal: "user")
            writer.beginObject()
            writer.field("id", user.id)
            writer.field("name", user.name)
            writer.key(literal: "admin")
            writer.write(user.admin)
            writer.endObject()
            writer.key(literal: "rooms")
            writer.write(rooms)
            if let session { writer.field("session", session) }
        case .registered(let name):
            writer.field("name", name)
        case .passwordChanged:
            break
        case .rooms(let rooms):
            writer.key(literal: "rooms")
            writer.write(rooms)
        case .roomCreated(let room):
            writer.key(literal: "room")
            writer.write(room)
        case .joined(let room, let members, let seq, let roles):
            writer.key(literal: "room")
            writer.write(room)
            writer.key(literal: "members")
            writer.write(members)
            writer.field("seq", seq)
            Self.write(roles: roles, into: &writer)
        case .userJoined(let room, let user):
            writer.field("room", room)
            writer.field("user", user)
        case .left(let room):
            writer.field("room", room)
        case .userLeft(let room, let user, let reason):
            writer.field("room", room)
            writer.field("user", user)
            if let reason { writer.field("reason", reason) }
        case .members(let room, let limit, let members, let roles):
            writer.field("room", room)
            writer.field("limit", limit)
            writer.key(literal: "members")
            writer.write(members)
            Self.write(roles: roles, into: &writer)
        case .message(let room, let from, let text, let seq, let ts, let replay):
            writer.field("room", room)
            writer.field("from", from)
            writer.field("text", text)
            writer.field("seq", seq)
            writer.field("ts", ts)
            if replay {
                writer.key(literal: "replay")
                writer.write(true)
            }
        case .historyGap(let room, let from, let to):
            writer.field("room", room)
            writer.field("from", from)
            writer.field("to", to)
        case .history(let room, let messages, let more):
            writer.field("room", room)
            writer.key(literal: "messages")
            writer.beginArray()
            for entry in messages {
                writer.beginObject()
                writer.field("seq", entry.seq)
                writer.field("from", entry.from)
                writer.field("text", entry.text)
                writer.field("ts", entry.ts)
                writer.endObject()
            }
            writer.endArray()
            writer.key(literal: "more")
            writer.write(more)
        case .sent(let room, let seq):
            writer.field("room", room)
            writer.field("seq", seq)
        case .dm(let from, let to, let text, let ts):
            writer.field("from", from)
            writer.field("to", to)
            writer.field("text", text)
            writer.field("ts", ts)
        case .roomClosed(let room, let by):
            writer.field("room", room)
            writer.field("by", by)
        case .kicked(let room, let by, let reason):
            writer.field("room", room)
            writer.field("by", by)
            if let reason { writer.field("reason", reason) }
        case .roleChanged(let room, let user, let role):
            writer.field("room", room)
            writer.field("user", user)
            writer.key(literal: "role")
            writer.write(role.map(JSONValue.string) ?? .null)
        case .userBanned(let room, let user), .userUnbanned(let room, let user), .invited(let room, let user), .uninvited(let room, let user):
            writer.field("room", room)
            writer.field("user", user)
        case .invitedBy(let room, let by):
            writer.field("room", room)
            writer.field("by", by)
        case .roomUpdated(let room):
            writer.key(literal: "room")
            writer.write(room)
        case .logs(let lines):
            writer.key(literal: "lines")
            writer.write(names: lines)
        case .help(let events):
            writer.key(literal: "events")
            writer.beginArray()
            for description in events {
                writer.beginObject()
                writer.field("event", description.event)
                writer.key(literal: "params")
                writer.write(names: description.params)
                writer.field("access", description.access)
                writer.endObject()
            }
            writer.endArray()
        case .stats(let stats):
            for member in stats.members {
                writer.key(member.key)
                writer.write(member.value)
            }
        case .error(let error):
            writer.field("code", error.code)
            writer.field("message", error.message)
            switch error {
            case .roomFull(let room, let limit):
                writer.field("room", room)
                writer.field("limit", limit)
            case .rateLimited(let wait):
                writer.field("retry_after_ms", wait)
            default:
                break
            }
        case .ping, .pong, .bye, .serverShutdown:
            break
        }
    }
}

extension JSONWriter {
    mutating func field(_ key: StaticString, _ value: String) {
        self.key(literal: key)
        write(value)
    }

    mutating func field(_ key: StaticString, _ value: Int) {
        self.key(literal: key)
        write(value)
    }

    package mutating func write(_ room: RoomInfo) {
        beginObject()
        field("name", room.name)
        field("limit", room.limit)
        field("count", room.count)
        if room.isPrivate {
            key(literal: "private")
            write(true)
        }
        endObject()
    }

    /// Rooms as a JSON array of `RoomInfo`, in the order given.
    package mutating func write(rooms: [RoomInfo]) {
        beginArray()
        rooms.forEach { write($0) }
        endArray()
    }

    package mutating func write(names: [String]) {
        beginArray()
        names.forEach { write($0) }
        endArray()
    }
}
