import ActorChatCore
import ActorChatProtocol
import ActorChatStore

/// Private rooms, invites and room settings. A private room exists only for those who may see it
/// (its members, invitees, owner, moderators and admins): to anyone else every request about it
/// answers `room_not_found`, and it is in nobody else's room list. Only `create_room` with its
/// name tells it exists (`room_exists`). The shared room list (`RoomDirectory`) holds the public
/// rooms; a viewer's own private rooms are merged into the copy it gets.
extension RoomManager {
    func canSee(_ user: User, _ room: Room) -> Bool {
        !room.isPrivate || user.isMember(of: room) || room.isInvited(key: user.key, userID: user.info.id, account: user.account)
            || standing(of: user, in: room) >= .op
    }

    /// The room named `name` as `user` may know it: `room_not_found` when there is none, or when it
    /// is private and not theirs to see.
    func visibleRoom(_ name: String, to user: User) throws(ChatError) -> (key: String, room: Room) {
        let key = Names.key(name)
        guard let room = rooms[key], canSee(user, room) else { throw .roomNotFound(name) }
        return (key, room)
    }

    /// Keeps the shared list in step with a room: public rooms are in it, private ones are not.
    func publish(_ room: Room) {
        if room.isPrivate {
            directory.remove(named: room.name)
            privateRoomKeys.insert(Names.key(room.name))
        } else {
            directory.set(room.info)
            // Joins and leaves come here: no key to hash unless some room is private.
            if !privateRoomKeys.isEmpty { privateRoomKeys.remove(Names.key(room.name)) }
        }
    }

    /// The room list as `user` sees it: the shared list, with the private rooms it may see merged
    /// in by name. Without such rooms it is the shared list's bytes as they are.
    func roomList(for user: User) -> EncodedJSON {
        let visible = privateRoomKeys.compactMap { rooms[$0] }.filter { canSee(user, $0) }.map(\.info)
        guard !visible.isEmpty else { return directory.encodedList }
        var writer = JSONWriter()
        writer.write(rooms: (directory.rooms + visible).sorted { $0.name < $1.name })
        return EncodedJSON(bytes: writer.bytes)
    }

    /// Invites `target` (online, or `registered`) to the room: an op, the owner or an admin. An
    /// account's invite is durable until `uninvite`; a guest's lasts as long as its login. The
    /// invitee, if online, hears `invited {room, by}` and may see and join the room, over its
    /// limit too.
    public func invite(_ target: String, to name: String, registered: Bool, by userID: Int, replyID: JSONValue?) async throws(ChatError) {
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .op)
        let targetKey = Names.key(target)
        let online = userIDsByKey[targetKey].flatMap { users[$0] }
        guard online != nil || registered else { throw .userNotFound(target) }
        if registered { try await persist(.setInvite(roomID: room.storeID, key: targetKey, on: true)) }
        guard var current = rooms[key], current.storeID == room.storeID else { throw .roomNotFound(name) }
        if registered {
            current.accountInvites.insert(targetKey)
        } else if let online {
            current.guestInvites[targetKey] = online.info.id
        }
        rooms[key] = current
        if let online, online.info.id != userID {
            online.connection.send(ServerEvent.invitedBy(room: current.name, by: requester.info.name).encoded())
        }
        requester.connection.send(ServerEvent.invited(room: current.name, user: online?.info.name ?? target).encoded(id: replyID))
    }

    /// Withdraws an invite: an op, the owner or an admin. A member stays a member.
    public func uninvite(_ target: String, from name: String, by userID: Int, replyID: JSONValue?) async throws(ChatError) {
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .op)
        let targetKey = Names.key(target)
        if room.accountInvites.contains(targetKey) { try await persist(.setInvite(roomID: room.storeID, key: targetKey, on: false)) }
        guard var current = rooms[key], current.storeID == room.storeID else { throw .roomNotFound(name) }
        current.accountInvites.remove(targetKey)
        current.guestInvites[targetKey] = nil
        rooms[key] = current
        let shown = userIDsByKey[targetKey].flatMap { users[$0]?.info.name } ?? target
        requester.connection.send(ServerEvent.uninvited(room: current.name, user: shown).encoded(id: replyID))
    }

    /// Changes a room's limit or privacy: its owner or an admin. A limit below the member count
    /// removes nobody; it refuses new joins. Everyone who can see the room afterwards hears
    /// `room_updated` (the requester as its reply).
    public func setRoom(_ name: String, limit: Int?, isPrivate: Bool?, by userID: Int, replyID: JSONValue?) async throws(ChatError) {
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .owner)
        if let limit, !(1...limits.maxRoomLimit).contains(limit) {
            throw .invalidLimit("a room's limit is a whole number from 1 to \(limits.maxRoomLimit)")
        }
        try await persist(.updateRoom(id: room.storeID, limit: limit, isPrivate: isPrivate))
        // Only what this request names changes: a concurrent change of the other stays.
        guard var current = rooms[key], current.storeID == room.storeID else { throw .roomNotFound(name) }
        current.limit = limit ?? current.limit
        current.isPrivate = isPrivate ?? current.isPrivate
        rooms[key] = current
        publish(current)
        let event = ServerEvent.roomUpdated(current.info)
        let viewers = users.values.lazy.filter { $0.info.id != userID && self.canSee($0, current) }.map(\.connection)
        BroadcastGroup(viewers).send(event.encoded())
        requester.connection.send(event.encoded(id: replyID))
    }
}
