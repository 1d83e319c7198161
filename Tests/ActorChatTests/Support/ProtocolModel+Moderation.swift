@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatProtocol

/// docs/PROTOCOL.md's moderation, as the model plays it: standing in a room (member 0, op 1, owner
/// 2, admin 3), `roles` in `joined` and `members`, kicks, moderators and bans.
extension ProtocolModel {
    func standing(of user: User, in room: Room) -> Int {
        if user.admin { return 3 }
        if (user.account && Self.key(user.name) == room.ownerKey) || user.id == room.guestCreator { return 2 }
        return room.ops.contains(Self.key(user.name)) ? 1 : 0
    }

    /// The members who have a role, by name: `owner` or `op`.
    func roles(of room: Room) -> JSONValue {
        var roles = JSONObject()
        for key in room.members {
            guard let user = users[key] else { continue }
            if (user.account && key == room.ownerKey) || user.id == room.guestCreator {
                roles[user.name] = "owner"
            } else if room.ops.contains(key) {
                roles[user.name] = "op"
            }
        }
        return .object(roles)
    }

    /// Acting on `key`: a moderator not on the owner or an admin, the owner not on an admin; oneself always.
    private func authorize(_ me: User, over key: String, in room: Room) throws(Failure) {
        guard key != Self.key(me.name) else { return }
        let target = users[key].map { standing(of: $0, in: room) } ?? (key == room.ownerKey ? 2 : 0)
        let mine = standing(of: me, in: room)
        guard target != 3 || mine == 3, target != 2 || mine >= 2 else { throw Failure("forbidden") }
    }

    mutating func kick(_ params: JSONObject, me: User, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let roomName = try string("room", in: params)
        let target = try string("user", in: params)
        var room = try visibleRoom(roomName, to: me)
        guard standing(of: me, in: room) >= 1 else { throw Failure("forbidden") }
        guard let kicked = users[Self.key(target)] else { throw Failure("user_not_found") }
        guard let index = room.members.firstIndex(of: Self.key(kicked.name)) else { throw Failure("not_member") }
        try authorize(me, over: Self.key(kicked.name), in: room)
        room.members.remove(at: index)
        rooms[Self.key(room.name)] = room
        let notice: JSONObject = ["room": .string(room.name), "user": .string(kicked.name), "reason": "kicked"]
        outcome.add(kicked.connection, "kicked", ["room": .string(room.name), "by": .string(me.name)])
        for member in room.members where users[member]!.connection != connection {
            outcome.add(users[member]!.connection, "user_left", notice)
        }
        outcome.add(connection, "user_left", notice, id: id)
    }

    mutating func setOp(_ params: JSONObject, to op: Bool, me: User, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let roomName = try string("room", in: params)
        let target = try string("user", in: params)
        let key = Self.key(target)
        guard accounts[key] != nil else { throw Failure("user_not_found") }
        var room = try visibleRoom(roomName, to: me)
        guard standing(of: me, in: room) >= 2 else { throw Failure("forbidden") }
        if op { room.ops.insert(key) } else { room.ops.remove(key) }
        rooms[Self.key(room.name)] = room
        let notice: JSONObject = ["room": .string(room.name), "user": .string(users[key]?.name ?? target), "role": op ? "op" : .null]
        for member in room.members where users[member]!.connection != connection { outcome.add(users[member]!.connection, "role_changed", notice) }
        outcome.add(connection, "role_changed", notice, id: id)
    }

    mutating func setBan(_ params: JSONObject, to ban: Bool, me: User, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let roomName = try string("room", in: params)
        let target = try string("user", in: params)
        guard Self.isValid(target, maxLength: 32) else { throw Failure("invalid_name") }
        var room = try visibleRoom(roomName, to: me)
        guard standing(of: me, in: room) >= 1 else { throw Failure("forbidden") }
        let key = Self.key(target)
        if ban { try authorize(me, over: key, in: room) }
        let shown = users[key]?.name ?? target
        if ban { room.bans.insert(key) } else { room.bans.remove(key) }
        if ban, let index = room.members.firstIndex(of: key), let member = users[key] {
            room.members.remove(at: index)
            outcome.add(member.connection, "kicked", ["room": .string(room.name), "by": .string(me.name), "reason": "banned"])
            for other in room.members {
                outcome.add(users[other]!.connection, "user_left", ["room": .string(room.name), "user": .string(member.name), "reason": "banned"])
            }
        }
        rooms[Self.key(room.name)] = room
        outcome.add(connection, ban ? "user_banned" : "user_unbanned", ["room": .string(room.name), "user": .string(shown)], id: id)
    }
}
