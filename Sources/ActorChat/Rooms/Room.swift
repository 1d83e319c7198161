import ActorChatCore
import ActorChatProtocol
/// A chat room: its rules and its members in the order they joined.
struct Room {
    struct Member {
        let userID: Int
        let name: String
        let connection: Connection
    }

    let name: String
    let limit: Int
    /// The creating user's name key; nil for rooms the operator made.
    let creatorKey: String?
    private(set) var members: [Member] = []
    /// The members' connections, kept beside `members` so a broadcast hands the loop one list.
    private(set) var audience = BroadcastGroup()
    private var memberIDs: Set<Int> = []
    /// The store's id for the room (0 without a store): a room closed and created again under the
    /// same name has a new one, so a late commit for the old room is not taken for the new.
    let storeID: Int64
    /// The last message's sequence number; counts up by one per message, from `firstSeq`.
    private(set) var seq: Int
    /// The room's first seq: 1, or past the last one of an earlier room of that name.
    let firstSeq: Int
    /// The newest messages, for replay.
    private(set) var recent: MessageRing

    init(name: String, limit: Int, creatorKey: String?, storeID: Int64 = 0, firstSeq: Int = 1, replayCapacity: Int,
         lastSeq: Int? = nil, recent: [HistoryEntry] = []) {
        self.name = name
        self.limit = limit
        self.creatorKey = creatorKey
        self.storeID = storeID
        self.firstSeq = firstSeq
        seq = lastSeq ?? firstSeq - 1
        self.recent = MessageRing(capacity: replayCapacity, messages: recent)
    }

    var info: RoomInfo { RoomInfo(name: name, limit: limit, count: members.count) }
    var memberNames: [String] { members.map(\.name) }
    var isFull: Bool { members.count >= limit }

    func contains(_ userID: Int) -> Bool { memberIDs.contains(userID) }

    mutating func add(_ member: Member) {
        precondition(!isFull && !contains(member.userID), "Room.add called without checking the room's rules")
        members.append(member)
        audience.insert(member.connection)
        memberIDs.insert(member.userID)
    }

    mutating func remove(_ userID: Int) {
        guard memberIDs.remove(userID) != nil, let index = members.firstIndex(where: { $0.userID == userID }) else { return }
        audience.remove(members.remove(at: index).connection)
    }

    /// Records a message as sent: the room's seq moves to it and it joins the replay ring.
    mutating func record(_ message: HistoryEntry) {
        seq = message.seq
        recent.append(message)
    }
}
