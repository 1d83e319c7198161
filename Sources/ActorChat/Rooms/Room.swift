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
    /// The last message's sequence number; counts up from 1 per room.
    private(set) var seq = 0

    init(name: String, limit: Int, creatorKey: String?) {
        self.name = name
        self.limit = limit
        self.creatorKey = creatorKey
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

    /// The next message's sequence number, or nil (and no change) when `userID` is not a member.
    mutating func nextSeq(ifMember userID: Int) -> Int? {
        guard contains(userID) else { return nil }
        seq += 1
        return seq
    }
}
