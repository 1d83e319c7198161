import ActorChatCore
import ActorChatProtocol
import ActorChatStore
import Glibc

/// Owns users, rooms, membership, limits and fan-out. Every change is serialised here, so a limit
/// check and the join it guards are one step. It never awaits: output is queued on connections,
/// encoded once per broadcast, and the replies that must stay ordered with broadcasts are queued
/// from here too.
public actor RoomManager {
    public struct Limits: Sendable {
        public var maxRoomLimit = 100_000
        public var maxRooms = 10_000
        public var maxRoomsPerUser = 100
        /// Newest messages per room kept in memory and replayed on `join {since}`.
        public var replayLimit = 1000
        /// Messages kept per room; older ones are pruned.
        public var historyLimit = 100_000

        public init() {}

        /// How many messages a room's replay ring holds: never one that retention has dropped.
        var replayCapacity: Int { min(replayLimit, historyLimit) }
    }

    /// What a joiner asks to be sent again after `joined`.
    public enum Replay: Sendable, Equatable {
        case none
        /// The room's newest messages, at most this many.
        case last(Int)
        /// Every message after this seq that is still held, with a `history_gap` for the rest.
        case since(Int)
    }

    /// One per logged-in connection, so kept small: `account` sits in `info`'s tail, and the name's
    /// key is worked out when asked for (a stored copy cost 28 bytes per idle client).
    struct User {
        let info: UserInfo
        /// Logged in as an account, not as a guest.
        var account = false
        let connection: Connection
        var roomKeys = RoomKeySet()

        var key: String { Names.key(info.name) }

        func isMember(of room: Room) -> Bool { roomKeys.contains(room.key) }
    }

    /// Counters for `stats`.
    public struct Counters: Sendable {
        public var users = 0
        public var rooms = 0
        public var messagesIn = 0
        public var deliveriesOut = 0
        public var bytesQueued = 0
    }

    let limits: Limits
    let executor: SessionExecutor
    /// The durable store; nil with `--memory`, where every change is final at once.
    var store: ChatStore?
    /// What each write handed to `store` is waiting for, in submission order.
    var pendingWrites = PendingWriteQueue()
    /// Without a store: the last seq of each closed room's name, so a room created again under it
    /// goes on counting and no seq is given out twice.
    private var retiredSeqs: [String: Int] = [:]
    var users: [Int: User] = [:]
    var userIDsByKey: [String: Int] = [:]
    var rooms: [String: Room] = [:]
    /// The rooms' list in name order, kept encoded: every change to a room's count is told to it.
    var directory = RoomDirectory()
    /// The private rooms' keys: they are not in `directory`, and each viewer's list adds its own.
    var privateRoomKeys: Set<String> = []
    private var nextUserID = 1
    var messagesIn = 0
    private var deliveriesOut = 0

    /// Runs on `executor`, where the server's sessions run too, so their requests enter without a thread switch.
    public init(limits: Limits = Limits(), executor: SessionExecutor = SessionExecutor(name: "chat-rooms")) {
        self.limits = limits
        self.executor = executor
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    // MARK: - Users

    /// Logs a connection in under `name` and sends it `welcome` (with `session`, for an account).
    /// Exactly one of any concurrent guest logins with one name (ignoring ASCII case) wins. An
    /// account's login, proved by the caller, wins over whoever holds the name: that connection
    /// gets `session_replaced` and is closed, and its rooms hear `user_left {reason: "replaced"}`.
    @discardableResult
    public func login(
        name: String, admin: Bool, account: Bool = false, session: String? = nil, connection: Connection, replyID: JSONValue?
    ) throws(ChatError) -> UserInfo {
        try Names.validateUser(name)
        let key = Names.key(name)
        if let holderID = userIDsByKey[key] {
            guard account, let holder = users[holderID] else { throw .nameTaken(name) }
            holder.connection.send(ServerEvent.error(.sessionReplaced).encoded())
            logout(userID: holderID, reason: "replaced")
            holder.connection.close(.sessionReplaced)
        }
        let info = UserInfo(id: nextUserID, name: name, admin: admin)
        nextUserID += 1
        let user = User(info: info, account: account, connection: connection)
        users[info.id] = user
        userIDsByKey[key] = info.id
        connection.send(ServerEvent.welcome(user: info, rooms: roomList(for: user), session: session).encoded(id: replyID))
        return info
    }

    /// A guest registered the name it holds: from now on it is that account, in its rooms too.
    func becameAccount(userID: Int) {
        guard var user = users[userID] else { return }
        user.account = true
        users[userID] = user
        for key in user.roomKeys { rooms[key]?.markAccount(userID) }
    }

    /// Whether a connection is logged in under `name` (ignoring ASCII case).
    func isLoggedIn(_ name: String) -> Bool {
        userIDsByKey[Names.key(name)] != nil
    }

    /// Removes a user: it leaves every room (`user_left` with `reason` to the others) and frees its name.
    public func logout(userID: Int, reason: String) {
        guard let user = users.removeValue(forKey: userID) else { return }
        userIDsByKey[user.key] = nil
        for roomKey in user.roomKeys {
            remove(userID, fromRoom: roomKey)
            guard let room = rooms[roomKey] else { continue }
            broadcast(.userLeft(room: room.name, user: user.info.name, reason: reason), to: room.audience)
        }
    }

    // MARK: - Rooms

    /// The rooms, sorted by name.
    public func roomList() -> [RoomInfo] {
        directory.rooms
    }

    /// The rooms as the JSON array `rooms` carries, as the user sees them.
    func encodedRoomList(for userID: Int) throws(ChatError) -> EncodedJSON {
        roomList(for: try user(userID))
    }

    /// Creates a room and tells every logged-in user. `userID` nil means the operator. With a store,
    /// the creator's reply waits for the room to be durable; the others hear of it at once.
    public func createRoom(name: String, limit: Int, isPrivate: Bool = false, by userID: Int?, replyID: JSONValue? = nil) async throws(ChatError) {
        try Names.validateRoom(name)
        guard (1...limits.maxRoomLimit).contains(limit) else {
            throw .invalidLimit("a room's limit is a whole number from 1 to \(limits.maxRoomLimit)")
        }
        let key = Names.key(name)
        guard rooms[key] == nil else { throw .roomExists(name) }
        guard rooms.count < limits.maxRooms else { throw .limitExceeded("the server has \(limits.maxRooms) rooms, its maximum") }
        let creator = userID.flatMap { users[$0] }
        let firstSeq = (store?.retiredSeq(forKey: key) ?? retiredSeqs[key] ?? 0) + 1
        // An account owns what it makes for as long as the room exists; a guest, while its login lasts.
        let ownerKey = creator.flatMap { $0.account ? $0.key : nil }
        var room = Room(
            name: name, limit: limit, ownerKey: ownerKey, guestCreatorID: creator.flatMap { $0.account ? nil : $0.info.id },
            storeID: store?.makeRoomID() ?? 0, firstSeq: firstSeq, replayCapacity: limits.replayCapacity)
        room.isPrivate = isPrivate
        rooms[key] = room
        publish(room)
        guard let store else {
            announce(.roomCreated(room.info), requester: creator, replyID: replyID, in: room)
            return
        }
        announce(.roomCreated(room.info), requester: nil, replyID: nil, except: creator, in: room)
        let operation = StoreOperation.createRoom(
            id: room.storeID, name: name, key: key, limit: limit, ownerKey: ownerKey, isPrivate: isPrivate, createdAt: Self.now(), firstSeq: firstSeq)
        try await commit(operation, in: store, .createRoom(roomKey: key, roomID: room.storeID), requester: creator?.connection, replyID: replyID)
    }

    /// Adds the user to the room; after `joined` come the messages `replay` asks for, and only then,
    /// through the loop's order, any live message of the room.
    public func join(room name: String, userID: Int, replyID: JSONValue?, replay: Replay = .none) throws(ChatError) {
        let user = try user(userID)
        let (index, overLimit) = try admission(to: name, for: user)
        let (roomName, audience) = inPlace(index) { ($0.name, $0.audience) }
        broadcast(.userJoined(room: roomName, user: user.info.name), to: audience)
        // In place: a copy of the room held across this would copy its member list on every join.
        rooms.values[index].add(Room.Member(userID: userID, connection: user.connection, account: user.account), named: user.info.name, overLimit: overLimit)
        let room = rooms.values[index]
        publish(room)
        users[userID]?.roomKeys.insert(room.key)
        user.connection.send(ServerEvent.joined(room: room.info, members: room.memberList.encoded, seq: room.seq, roles: room.roles).encoded(id: replyID))
        sendReplay(replay, of: room, to: user.connection)
    }

    /// Where `user` may join `name`, checked against the room's rules, and whether past its limit.
    private func admission(to name: String, for user: User) throws(ChatError) -> (index: Dictionary<String, Room>.Index, overLimit: Bool) {
        let (key, room) = try visibleRoom(name, to: user)
        guard !user.isMember(of: room) else { throw .alreadyMember(room.name) }
        guard !room.bans.contains(user.key) || standing(of: user, in: room) >= .owner else { throw .banned(room: room.name) }
        // An invitee, the owner and admins get past a full room.
        let overLimit = room.isInvited(key: user.key, userID: user.info.id, account: user.account) || standing(of: user, in: room) >= .owner
        guard !room.isFull || overLimit else { throw .roomFull(room: room.name, limit: room.limit) }
        guard user.roomKeys.count < limits.maxRoomsPerUser else {
            throw .limitExceeded("you are in \(limits.maxRoomsPerUser) rooms, the most one user may be in")
        }
        return (rooms.index(forKey: key)!, overLimit)
    }

    private func sendReplay(_ replay: Replay, of room: Room, to connection: Connection) {
        let messages: [HistoryEntry]
        switch replay {
        case .none:
            return
        case .last(let count):
            messages = room.recent.last(count)
        case .since(let seq):
            guard seq < room.seq else { return }
            messages = room.recent.after(seq)
            let resumesAt = messages.first?.seq ?? room.seq + 1
            if resumesAt > seq + 1 {
                connection.send(ServerEvent.historyGap(room: room.name, from: seq + 1, to: resumesAt - 1).encoded())
            }
        }
        for message in messages {
            connection.send(
                ServerEvent.message(room: room.name, from: message.from, text: message.text, seq: message.seq, ts: message.ts, replay: true)
                    .encoded())
        }
    }

    public func leave(room name: String, userID: Int, replyID: JSONValue?) throws(ChatError) {
        let user = try user(userID)
        let (key, roomName) = try membership(in: name, of: user)
        remove(userID, fromRoom: key)
        user.connection.send(ServerEvent.left(room: roomName).encoded(id: replyID))
        if let audience = rooms[key]?.audience {
            broadcast(.userLeft(room: roomName, user: user.info.name, reason: nil), to: audience)
        }
    }

    /// The room `user` is in, as its key and name. Only those: a copy of the room kept past this
    /// would make removing the user copy the room's member list.
    private func membership(in name: String, of user: User) throws(ChatError) -> (key: String, name: String) {
        let (key, room) = try visibleRoom(name, to: user)
        guard user.isMember(of: room) else { throw .notMember(room: room.name, user: nil) }
        return (key, room.name)
    }

    /// `who`: the members and their roles, for a user who may see the room (`userID` nil: the operator).
    public func members(of name: String, for userID: Int? = nil) throws(ChatError) -> ServerEvent {
        guard var room = rooms[Names.key(name)] else { throw .roomNotFound(name) }
        if let userID { room = try visibleRoom(name, to: try user(userID)).room }
        return .members(room: room.name, limit: room.limit, members: room.memberList.encoded, roles: room.roles)
    }

    /// Sends a message to every member, the sender included; `sent` follows when the request has an
    /// id. With a store, both come once the message is committed, and the store gives it its seq:
    /// this returns as soon as the message is handed over, and `barrier` hears when its commit has
    /// been acted on (its `sent`, or its error, queued).
    public func send(text: String, to name: String, userID: Int, replyID: JSONValue?, barrier: CommitBarrier? = nil) throws(ChatError) {
        let user = try user(userID)
        let key = Names.key(name)
        // One hash of the name per message: the room is found once, then read and updated in place
        // through its index (`inPlace`).
        guard let index = rooms.index(forKey: key) else { throw .roomNotFound(name) }
        guard user.roomKeys.contains(key) else {
            let room = rooms.values[index]
            throw room.isPrivate && !canSee(user, room) ? .roomNotFound(name) : .notMember(room: room.name, user: nil)
        }
        messagesIn += 1
        let ts = Self.now()
        guard let store else {
            let message = inPlace(index) { room in
                let message = HistoryEntry(seq: room.seq + 1, from: user.info.name, text: text, ts: ts)
                room.record(message)
                return message
            }
            deliver(message, inRoomAt: index, replyTo: user.connection, replyID: replyID)
            return
        }
        barrier?.add()
        let (roomID, roomName) = inPlace(index) { ($0.storeID, $0.name) }
        let write = PendingWrite(
            kind: .message(roomKey: key, roomID: roomID, room: roomName, from: user.info.name, text: text, ts: ts),
            requester: user.connection, replyID: replyID, waiter: nil, barrier: barrier)
        submit(.append(roomID: roomID, from: user.info.name, text: text, ts: ts), to: store, write)
    }

    /// Broadcasts a recorded message to the room at `index` and answers its sender.
    func deliver(_ message: HistoryEntry, inRoomAt index: Dictionary<String, Room>.Index, replyTo sender: Connection?, replyID: JSONValue?) {
        let (roomName, audience) = inPlace(index) { ($0.name, $0.audience) }
        broadcast(.message(room: roomName, from: message.from, text: message.text, seq: message.seq, ts: message.ts), to: audience)
        if let replyID { sender?.send(ServerEvent.sent(room: roomName, seq: message.seq).encoded(id: replyID)) }
    }

    /// Reads or changes the room at `index` where it is stored. `rooms.values[index].seq` goes
    /// through the getter of `Dictionary.Values`, which copies the whole room (retaining and
    /// releasing each of its lists, sets and strings) to hand back one field; a profile found such
    /// copies on every message. The hot path reads rooms through here instead.
    func inPlace<Result>(_ index: Dictionary<String, Room>.Index, _ body: (inout Room) -> Result) -> Result {
        body(&rooms.values[index])
    }

    public func directMessage(text: String, to name: String, userID: Int, replyID: JSONValue?) throws(ChatError) {
        let sender = try user(userID)
        guard let recipientID = userIDsByKey[Names.key(name)], let recipient = users[recipientID] else {
            throw .userNotFound(name)
        }
        let event = ServerEvent.dm(from: sender.info.name, to: recipient.info.name, text: text, ts: Self.now())
        messagesIn += 1
        deliveriesOut += 1
        if recipientID != userID { recipient.connection.send(event.encoded()) }
        sender.connection.send(event.encoded(id: replyID))
    }

    /// Closes a room (its creator or an admin; `userID` nil means the operator) and tells every
    /// logged-in user. With a store, the requester's reply waits for the room and its history to be deleted.
    public func closeRoom(_ name: String, by userID: Int?, replyID: JSONValue? = nil) async throws(ChatError) {
        let requester = try userID.map { id throws(ChatError) in try user(id) }
        let key = Names.key(name)
        guard let room = rooms[key] else { throw .roomNotFound(name) }
        if let requester {
            _ = try visibleRoom(name, to: requester)
            try authorize(requester, in: room, atLeast: .owner)
        }
        rooms[key] = nil
        directory.remove(named: room.name)
        privateRoomKeys.remove(key)
        let by = requester?.info.name ?? "server"
        // The members hear first: a private room's news goes to those who may see it, and
        // membership (the users' `roomKeys`) is part of that.
        guard let store else {
            retiredSeqs[key] = room.seq
            announce(.roomClosed(room: room.name, by: by), requester: requester, replyID: replyID, in: room)
            forgetMembers(of: room)
            return
        }
        store.retire(key: key, lastSeq: room.seq)
        announce(.roomClosed(room: room.name, by: by), requester: nil, replyID: nil, except: requester, in: room)
        forgetMembers(of: room)
        try await commit(.deleteRoom(id: room.storeID, key: key), in: store, .closeRoom(room: room.name, by: by), requester: requester?.connection, replyID: replyID)
    }

    /// Removes a room whose creation could not be stored, and tells everyone it is gone.
    func dropUnstoredRoom(_ key: String) {
        guard let room = rooms.removeValue(forKey: key) else { return }
        directory.remove(named: room.name)
        privateRoomKeys.remove(key)
        announce(.roomClosed(room: room.name, by: "server"), requester: nil, replyID: nil, in: room)
        forgetMembers(of: room)
    }

    /// Takes a room that is gone out of its members' rooms. After its `room_closed` went out: until
    /// then its members are who may see it.
    private func forgetMembers(of room: Room) {
        for member in room.members { users[member.userID]?.roomKeys.remove(room.key) }
    }

    public func counters() -> Counters {
        Counters(
            users: users.count, rooms: rooms.count, messagesIn: messagesIn, deliveriesOut: deliveriesOut,
            bytesQueued: users.values.reduce(0) { $0 + $1.connection.queuedBytes })
    }

    // MARK: - Internals

    func user(_ id: Int) throws(ChatError) -> User {
        guard let user = users[id] else { throw .notLoggedIn }
        return user
    }

    func remove(_ userID: Int, fromRoom key: String) {
        rooms[key]?.remove(userID)
        if let room = rooms[key] { publish(room) }
        users[userID]?.roomKeys.remove(key)
    }

    /// Encodes once and hands the loop one command for all recipients: no per-recipient work here.
    func broadcast(_ event: ServerEvent, to audience: BroadcastGroup) {
        deliveriesOut += audience.count
        audience.send(event.encoded())
    }

    /// Tells every logged-in user; the requester's copy carries the request's id. `except` is left
    /// out (a requester whose reply waits for a commit).
    /// A private `room` is news only to those who may see it.
    func announce(_ event: ServerEvent, requester: User?, replyID: JSONValue?, except excluded: User? = nil, in room: Room? = nil) {
        let skipped = requester?.info.id ?? excluded?.info.id
        // Only a private room's news is filtered: a public one goes to everyone without a check each.
        let privateRoom = room.flatMap { $0.isPrivate ? $0 : nil }
        let others = users.values.lazy.filter { user in user.info.id != skipped && (privateRoom.map { self.canSee(user, $0) } ?? true) }.map(\.connection)
        BroadcastGroup(others).send(event.encoded())
        requester?.connection.send(event.encoded(id: replyID))
    }

    /// Server time in milliseconds since 1970.
    static func now() -> Int {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return time.tv_sec * 1000 + time.tv_nsec / 1_000_000
    }
}
