/// A message as the store keeps it.
public struct StoredMessage: Sendable, Equatable {
    public let seq: Int
    public let from: String
    public let text: String
    public let ts: Int

    public init(seq: Int, from: String, text: String, ts: Int) {
        self.seq = seq
        self.from = from
        self.text = text
        self.ts = ts
    }
}

/// A room as loaded at start: its settings, its last seq, and its newest messages for replay.
public struct StoredRoom: Sendable {
    public let id: Int64
    public let name: String
    public let limit: Int
    /// The owning account's name key; nil for a guest's or the operator's room.
    public let ownerKey: String?
    public let createdAt: Int
    /// The room's first seq: 1, or past the last one of an earlier room of the same name.
    public let firstSeq: Int
    public let lastSeq: Int
    /// The newest messages (at most the replay limit), oldest first.
    public let recent: [StoredMessage]
    /// Name keys of its moderators, and of the names banned from it.
    public let ops: [String]
    public let bans: [String]
    public let isPrivate: Bool
    /// Name keys of the accounts invited to it.
    public let invites: [String]
}
