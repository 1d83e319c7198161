import ActorChatCore
import ActorChatProtocol
/// A chat room: its rules and its members in the order they joined.
struct Room {
    /// A member; its name is in `memberList`, at the same place.
    struct Member {
        let userID: Int
        let connection: Connection
        /// Logged in as an account (a guest never owns a room by name).
        var account = false
    }

    let name: String
    /// The name's key: `rooms` is keyed by it, and a user's `roomKeys` hold it.
    let key: String
    var limit: Int
    var isPrivate = false
    /// The owning account's name key; nil for a guest's or the operator's room.
    let ownerKey: String?
    /// The guest who made the room: its rights last as long as that login (its user id).
    let guestCreatorID: Int?
    /// Name keys of the room's moderators, and of the names banned from it.
    var ops: Set<String> = []
    var bans: Set<String> = []
    /// Invited accounts (durable), and invited guests by name key with the login that holds the invite.
    var accountInvites: Set<String> = []
    var guestInvites: [String: Int] = [:]
    private(set) var members: [Member] = []
    /// The members' names, encoded, in the same order as `members`.
    private(set) var memberList = MemberNameList()
    /// The members' connections, kept beside `members` so a broadcast hands the loop one list.
    private(set) var audience = BroadcastGroup()
    /// The store's id for the room (0 without a store): a room closed and created again under the
    /// same name has a new one, so a late commit for the old room is not taken for the new.
    let storeID: Int64
    /// The last message's sequence number; counts up by one per message, from `firstSeq`.
    private(set) var seq: Int
    /// The room's first seq: 1, or past the last one of an earlier room of that name.
    let firstSeq: Int
    /// The newest messages, for replay.
    private(set) var recent: MessageRing

    init(name: String, limit: Int, ownerKey: String?, guestCreatorID: Int? = nil, storeID: Int64 = 0, firstSeq: Int = 1, replayCapacity: Int,
         lastSeq: Int? = nil, recent: [HistoryEntry] = []) {
        self.name = name
        key = Names.key(name)
        self.limit = limit
        self.ownerKey = ownerKey
        self.guestCreatorID = guestCreatorID
        self.storeID = storeID
        self.firstSeq = firstSeq
        seq = lastSeq ?? firstSeq - 1
        self.recent = MessageRing(capacity: replayCapacity, messages: recent)
    }

    var info: RoomInfo { RoomInfo(name: name, limit: limit, count: members.count, isPrivate: isPrivate) }
    var isFull: Bool { members.count >= limit }

    func isInvited(key: String, userID: Int, account: Bool) -> Bool {
        (account && accountInvites.contains(key)) || guestInvites[key] == userID
    }

    /// Whether a login owns the room: the account that made it, or the guest login that did.
    func isOwned(byKey key: String, userID: Int, account: Bool) -> Bool {
        (account && key == ownerKey) || userID == guestCreatorID
    }

    /// The members who have a role, in join order: `owner` or `op`.
    var roles: [MemberRole] {
        // Most rooms have nobody with a role: a join there does not walk the members.
        guard ownerKey != nil || guestCreatorID != nil || !ops.isEmpty else { return [] }
        // Names are read back only for the members who may hold a role: a guest creator's room
        // (every storm's, when a guest made the rooms) reads one.
        let ranges = memberList.nameRanges()
        let byName = ownerKey != nil || !ops.isEmpty
        return members.indices.compactMap { index in
            let member = members[index]
            if member.userID == guestCreatorID { return MemberRole(name: memberList.name(in: ranges[index]), role: "owner") }
            // As in `RoomManager.standing`: only an account owns a room by name or moderates it.
            guard byName && member.account else { return nil }
            let name = memberList.name(in: ranges[index])
            let key = Names.key(name)
            if key == ownerKey { return MemberRole(name: name, role: "owner") }
            return ops.contains(key) ? MemberRole(name: name, role: "op") : nil
        }
    }

    /// Adds a member who is not one yet (the user's `roomKeys` tell); `overLimit` lets an invitee,
    /// the owner or an admin past a full room.
    mutating func add(_ member: Member, named name: String, overLimit: Bool = false) {
        precondition(overLimit || !isFull, "Room.add called without checking the room's limit")
        assert(!members.contains { $0.userID == member.userID }, "Room.add called for a member: the user's roomKeys disagree")
        members.append(member)
        memberList.append(name)
        audience.insert(member.connection)
    }

    /// A member who was a guest registered its name.
    mutating func markAccount(_ userID: Int) {
        guard let index = members.firstIndex(where: { $0.userID == userID }) else { return }
        members[index].account = true
    }

    mutating func remove(_ userID: Int) {
        guard let index = members.firstIndex(where: { $0.userID == userID }) else { return }
        memberList.remove(at: index)
        audience.remove(members.remove(at: index).connection)
    }

    /// Records a message as sent: the room's seq moves to it and it joins the replay ring.
    mutating func record(_ message: HistoryEntry) {
        seq = message.seq
        recent.append(message)
    }
}
