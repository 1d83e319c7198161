import ActorChatCore
import ActorChatProtocol
import ActorChatStore

/// Who may moderate a room, and how: kicks, bans and moderators. An admin may do anything; the
/// owner (the account that made the room, or the guest login that did, while it lasts) anything in
/// its room; a moderator ("op") may kick and ban, but not the owner or an admin. Role and ban
/// changes are durable before anyone hears of them.
extension RoomManager {
    /// Standing in a room, lowest first.
    enum Standing: Int, Comparable {
        case member, op, owner, admin

        static func < (lhs: Standing, rhs: Standing) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    func standing(of user: User, in room: Room) -> Standing {
        if user.info.admin { return .admin }
        if room.isOwned(byKey: user.key, userID: user.info.id, account: user.account) { return .owner }
        // A moderator is an account: a guest holding the name has no part of it.
        return user.account && room.ops.contains(user.key) ? .op : .member
    }

    func authorize(_ user: User, in room: Room, atLeast needed: Standing) throws(ChatError) {
        guard standing(of: user, in: room) >= needed else {
            throw .forbidden(needed == .op ? "only the owner of '\(room.name)', its moderators or an admin may do that"
                : "only the owner of '\(room.name)' or an admin may do that")
        }
    }

    /// A moderator may act on members and other moderators, not on the owner or an admin; the
    /// owner not on an admin. Oneself is always fair game. `key` names someone who may be offline (then only their
    /// ownership is known).
    private func authorize(_ requester: User, over key: String, in room: Room) throws(ChatError) {
        guard key != requester.key else { return }
        let target = userIDsByKey[key].flatMap { users[$0] }
        let targetStanding = target.map { standing(of: $0, in: room) } ?? (key == room.ownerKey ? .owner : .member)
        let mine = standing(of: requester, in: room)
        guard targetStanding != .admin || mine == .admin, targetStanding != .owner || mine >= .owner else {
            throw .forbidden("a moderator cannot act on the owner of '\(room.name)' or an admin")
        }
    }

    /// Removes `target` from a room (an op, the owner or an admin). The kicked user gets `kicked`;
    /// the others, and the requester as its reply, get `user_left` with reason "kicked".
    public func kick(_ target: String, from name: String, by userID: Int, replyID: JSONValue?) throws(ChatError) {
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .op)
        guard let targetID = userIDsByKey[Names.key(target)], let kicked = users[targetID] else { throw .userNotFound(target) }
        guard kicked.isMember(of: room) else { throw .notMember(room: room.name, user: kicked.info.name) }
        try authorize(requester, over: kicked.key, in: room)
        remove(targetID, fromRoom: key)
        kicked.connection.send(ServerEvent.kicked(room: room.name, by: requester.info.name).encoded())
        let notice = ServerEvent.userLeft(room: room.name, user: kicked.info.name, reason: "kicked")
        var remaining = rooms[key]?.audience ?? BroadcastGroup()
        remaining.remove(requester.connection)
        broadcast(notice, to: remaining)
        // Kicking oneself is still a request: it gets its reply after the `kicked` notice.
        requester.connection.send(notice.encoded(id: replyID))
    }

    /// Makes `target` (a registered account, checked by the caller) a moderator of the room, or
    /// (`op` false) no longer: the owner or an admin only. The requester's reply and every other
    /// member's notice are `role_changed`.
    public func setOp(_ target: String, in name: String, to op: Bool, by userID: Int, replyID: JSONValue?) async throws(ChatError) {
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .owner)
        let targetKey = Names.key(target)
        try await persist(.setOp(roomID: room.storeID, key: targetKey, on: op))
        guard var current = rooms[key], current.storeID == room.storeID else { throw .roomNotFound(name) }
        if op { current.ops.insert(targetKey) } else { current.ops.remove(targetKey) }
        rooms[key] = current
        let notice = ServerEvent.roleChanged(room: current.name, user: displayName(targetKey, fallback: target), role: op ? "op" : nil)
        var others = current.audience
        if let connection = users[userID]?.connection { others.remove(connection) }
        broadcast(notice, to: others)
        users[userID]?.connection.send(notice.encoded(id: replyID))
    }

    /// Bans a name from the room, or (`banned` false) lifts the ban: an op, the owner or an admin.
    /// A banned member is removed at once: `kicked {reason: "banned"}` to them, `user_left {reason:
    /// "banned"}` to the room. The reply is `user_banned` (or `user_unbanned`).
    public func setBan(_ target: String, in name: String, to banned: Bool, by userID: Int, replyID: JSONValue?) async throws(ChatError) {
        try Names.validateUser(target)
        let requester = try user(userID)
        let (key, room) = try visibleRoom(name, to: requester)
        try authorize(requester, in: room, atLeast: .op)
        let targetKey = Names.key(target)
        if banned { try authorize(requester, over: targetKey, in: room) }
        try await persist(.setBan(roomID: room.storeID, key: targetKey, on: banned))
        guard var current = rooms[key], current.storeID == room.storeID else { throw .roomNotFound(name) }
        let shown = displayName(targetKey, fallback: target)
        if banned { current.bans.insert(targetKey) } else { current.bans.remove(targetKey) }
        rooms[key] = current
        if banned, let targetID = userIDsByKey[targetKey], let member = users[targetID], member.isMember(of: current) {
            remove(targetID, fromRoom: key)
            member.connection.send(ServerEvent.kicked(room: current.name, by: requester.info.name, reason: "banned").encoded())
            broadcast(.userLeft(room: current.name, user: member.info.name, reason: "banned"), to: rooms[key]?.audience ?? BroadcastGroup())
        }
        users[userID]?.connection.send((banned ? ServerEvent.userBanned(room: current.name, user: shown) : .userUnbanned(room: current.name, user: shown)).encoded(id: replyID))
    }

    /// A name as its logged-in holder spells it, else as given.
    private func displayName(_ key: String, fallback: String) -> String {
        userIDsByKey[key].flatMap { users[$0]?.info.name } ?? fallback
    }
}
