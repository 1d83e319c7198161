/// One change for the writer to make durable, in the order submitted.
public enum StoreOperation: Sendable {
    /// `firstSeq - 1` is where the room's seqs continue (see `ChatStore.retiredSeq`). `ownerKey`:
    /// the account that owns the room, nil when a guest or the operator made it.
    case createRoom(id: Int64, name: String, key: String, limit: Int, ownerKey: String?, isPrivate: Bool, createdAt: Int, firstSeq: Int)
    /// A room's new limit, privacy, or both (nil: as it is).
    case updateRoom(id: Int64, limit: Int?, isPrivate: Bool?)
    /// Deletes the room and its history; remembers its last seq under its name.
    case deleteRoom(id: Int64, key: String)
    /// Stores a message; the store gives it the room's next seq.
    case append(roomID: Int64, from: String, text: String, ts: Int)
    /// Registers an account under a name key; `password` is the PHC string of its hash.
    case createAccount(key: String, name: String, password: String, createdAt: Int)
    /// Replaces an account's password hash.
    case setPassword(key: String, password: String)
    /// Records a login session by the SHA-256 of its token.
    case addSession(digest: String, key: String, expiresAt: Int)
    /// Revokes one session.
    case removeSession(digest: String)
    /// Revokes an account's sessions, but `keeping` one (nil: all).
    case removeSessions(key: String, keeping: String?)
    /// Makes a name a room's moderator, or (`on` false) no longer.
    case setOp(roomID: Int64, key: String, on: Bool)
    /// Bans a name from a room, or (`on` false) lifts the ban.
    case setBan(roomID: Int64, key: String, on: Bool)
    /// Invites an account to a room, or (`on` false) withdraws the invite.
    case setInvite(roomID: Int64, key: String, on: Bool)
}

/// What became of one operation.
public enum StoreOutcome: Sendable, Equatable {
    /// Durable; `seq` for an append.
    case stored(seq: Int?)
    /// An append to a room that was deleted first: nothing stored.
    case roomGone
    /// The transaction failed (disk full, I/O error): nothing of it was stored.
    case failed(SQLiteError)
}

