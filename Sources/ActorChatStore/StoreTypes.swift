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
    public let creatorKey: String?
    public let createdAt: Int
    /// The room's first seq: 1, or past the last one of an earlier room of the same name.
    public let firstSeq: Int
    public let lastSeq: Int
    /// The newest messages (at most the replay limit), oldest first.
    public let recent: [StoredMessage]
}

/// One change for the writer to make durable, in the order submitted.
public enum StoreOperation: Sendable {
    /// `firstSeq - 1` is where the room's seqs continue (see `ChatStore.retiredSeq`).
    case createRoom(id: Int64, name: String, key: String, limit: Int, creatorKey: String?, createdAt: Int, firstSeq: Int)
    /// Deletes the room and its history; remembers its last seq under its name.
    case deleteRoom(id: Int64, key: String)
    /// Stores a message; the store gives it the room's next seq.
    case append(roomID: Int64, from: String, text: String, ts: Int)
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

/// An operation's outcome, with the token its submitter gave it.
public struct StoreResult<Token: Sendable>: Sendable {
    public let token: Token
    public let outcome: StoreOutcome
}

/// How hard a commit holds on.
public enum SyncMode: String, Sendable {
    /// Survives the server's crash or `kill -9` (WAL, synchronous=NORMAL).
    case normal
    /// Also survives the OS's crash or a power cut: fsync at each commit (synchronous=FULL).
    case full
}

public struct StoreOptions: Sendable {
    public var sync = SyncMode.normal
    /// Messages kept per room; older ones are pruned in the background. 0 keeps none.
    public var historyLimit = 100_000
    /// Newest messages per room loaded at start for replay.
    public var replayLimit = 1000

    public init() {}
}

/// Why the store could not open: each names the file, and the server refuses to start.
public enum StoreError: Error, CustomStringConvertible {
    case locked(path: String)
    case cannotCreate(path: String, reason: String)
    case newerSchema(path: String, version: Int, supported: Int)
    case unreadable(SQLiteError)

    public var description: String {
        switch self {
        case .locked(let path): "\(path) is locked: another actor-chat-server is using this data directory"
        case .cannotCreate(let path, let reason): "cannot use \(path): \(reason)"
        case .newerSchema(let path, let version, let supported):
            "\(path) has schema version \(version); this server reads up to \(supported): use a newer server"
        case .unreadable(let error): "cannot read the store: \(error)"
        }
    }
}

/// The store's figures for `stats`.
public struct StoreStatistics: Sendable {
    public var path = ""
    public var bytes = 0
    public var rows = 0
    public var commits = 0
    public var largestBatch = 0
    public var meanBatch = 0.0
    public var p99CommitMicros = 0
}
