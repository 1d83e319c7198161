@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatProtocol

/// docs/PROTOCOL.md's private rooms, invites and room settings, as the model plays them.
extension ProtocolModel {
    func isInvited(_ user: User, to room: Room) -> Bool {
        (user.account && room.accountInvites.contains(Self.key(user.name))) || room.guestInvites[Self.key(user.name)] == user.id
    }

    func canSee(_ user: User, _ room: Room) -> Bool {
        !room.isPrivate || room.members.contains(Self.key(user.name)) || isInvited(user, to: room) || standing(of: user, in: room) >= 1
    }

    /// The room as `user` may know it: none, or private and not theirs to see, is `room_not_found`.
    func visibleRoom(_ name: String, to user: User) throws(Failure) -> Room {
        let room = try room(name)
        guard canSee(user, room) else { throw Failure("room_not_found") }
        return room
    }


    mutating func setInvite(_ params: JSONObject, to on: Bool, me: User, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let roomName = try string("room", in: params)
        let target = try string("user", in: params)
        let key = Self.key(target)
        var room = try visibleRoom(roomName, to: me)
        guard standing(of: me, in: room) >= 1 else { throw Failure("forbidden") }
        let online = users[key]
        if on {
            guard online != nil || accounts[key] != nil else { throw Failure("user_not_found") }
            if accounts[key] != nil { room.accountInvites.insert(key) } else if let online { room.guestInvites[key] = online.id }
        } else {
            room.accountInvites.remove(key)
            room.guestInvites[key] = nil
        }
        rooms[Self.key(room.name)] = room
        if on, let online, online.connection != connection {
            outcome.add(online.connection, "invited", ["room": .string(room.name), "by": .string(me.name)])
        }
        outcome.add(connection, on ? "invited" : "uninvited", ["room": .string(room.name), "user": .string(online?.name ?? target)], id: id)
    }

    mutating func setRoom(_ params: JSONObject, me: User, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let roomName = try string("room", in: params)
        var limit: Int?
        if let value = params["limit"], value != .null {
            guard let number = value.integer else { throw Failure("invalid_limit") }
            limit = number
        }
        let isPrivate = try optionalBool("private", in: params)
        guard limit != nil || isPrivate != nil else { throw Failure("invalid_params") }
        var room = try visibleRoom(roomName, to: me)
        guard standing(of: me, in: room) >= 2 else { throw Failure("forbidden") }
        if let limit, !(1...limits.maxRoomLimit).contains(limit) { throw Failure("invalid_limit") }
        room.limit = limit ?? room.limit
        room.isPrivate = isPrivate ?? room.isPrivate
        rooms[Self.key(room.name)] = room
        announce("room_updated", ["room": room.info], from: connection, id: id, in: room, into: &outcome)
    }
}
