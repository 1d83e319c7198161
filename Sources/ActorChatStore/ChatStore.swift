import ActorChatCore
import Foundation
import Synchronization

/// The durable history: rooms and messages in SQLite (WAL) under a data directory, written by a
/// thread of its own with group commit and read by another. Submitters never wait for the disk:
/// outcomes arrive on `results`, in submission order, once their commit is done; a submitter
/// keeps what it needs to act on them in the same order.
public final class ChatStore: Sendable {
    public static var fileName: String { "actor-chat.sqlite3" }
    public let path: String
    /// Each commit's outcomes, in submission order. One consumer.
    public let results: AsyncStream<[StoreOutcome]>
    private let writer: StoreWriter
    private let reader: StoreReader
    private let lock: StoreLock
    private let nextRoomID: Atomic<Int64>
    private let retired: Mutex<[String: Int]>
    private let closed = Atomic<Bool>(false)

    /// What a store holds at start, besides its messages (the rooms bring their newest ones).
    public struct Contents: Sendable {
        public let rooms: [StoredRoom]
        public let accounts: [StoredAccount]
        /// The sessions still valid at `now`.
        public let sessions: [StoredSession]
    }

    /// Opens (creating if missing) the store in `directory`, takes its lock, migrates it, and
    /// returns it with what it holds; sessions expired by `now` (ms since 1970) are deleted.
    /// Refuses a locked, unreadable or newer store.
    public static func open(directory: String, options: StoreOptions, now: Int) throws(StoreError) -> (ChatStore, Contents) {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreate(path: directory, reason: (error as NSError).localizedDescription)
        }
        let lock = try StoreLock(directory: directory)
        let path = directory + "/" + fileName
        let writing: SQLiteDatabase
        let reading: SQLiteDatabase
        let rooms: [StoredRoom]
        let retired: [String: Int]
        let accounts: [StoredAccount]
        let sessions: [StoredSession]
        do throws(SQLiteError) {
            writing = try SQLiteDatabase(path: path, create: true)
            try writing.execute("PRAGMA journal_mode = WAL")
            try writing.execute("PRAGMA synchronous = \(options.sync == .full ? "FULL" : "NORMAL")")
            try writing.execute("PRAGMA busy_timeout = 5000")
        } catch {
            throw .unreadable(error)
        }
        try StoreSchema.migrate(writing)
        let indexedThrough: Int64
        do throws(SQLiteError) {
            // What a crash left unindexed is indexed before anything is read through the index.
            try writing.execute("BEGIN IMMEDIATE")
            indexedThrough = try MessageIndex.indexTail(in: writing, through: MessageIndex.indexedThrough(in: writing))
            try writing.execute("COMMIT")
            rooms = try loadRooms(writing, options: options)
            retired = try loadRetired(writing)
            (accounts, sessions) = try loadAccounts(writing, now: now)
            reading = try SQLiteDatabase(path: path, readOnly: true)
            try reading.execute("PRAGMA busy_timeout = 5000")
        } catch {
            throw .unreadable(error)
        }
        var state = WriterState(indexedThrough: indexedThrough)
        for room in rooms {
            state.lastSeq[room.id] = room.lastSeq
            state.prunedBelow[room.id] = max(1, room.lastSeq - options.historyLimit + 1)
        }
        let store = ChatStore(
            path: path, lock: lock, writing: writing, reading: reading, state: state, options: options,
            nextRoomID: (rooms.map(\.id).max() ?? 0) + 1, retired: retired)
        return (store, Contents(rooms: rooms, accounts: accounts, sessions: sessions))
    }

    private init(
        path: String, lock: StoreLock, writing: sending SQLiteDatabase, reading: sending SQLiteDatabase, state: WriterState, options: StoreOptions,
        nextRoomID: Int64, retired: [String: Int]
    ) {
        self.path = path
        self.lock = lock
        let (results, continuation) = AsyncStream.makeStream(of: [StoreOutcome].self)
        self.results = results
        writer = StoreWriter(database: writing, state: state, options: options, results: continuation)
        reader = StoreReader(database: reading)
        self.nextRoomID = Atomic(nextRoomID)
        self.retired = Mutex(retired)
    }

    /// A new room's id; ids are never reused within a store.
    public func makeRoomID() -> Int64 {
        nextRoomID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// The last seq a room of this name had before it was closed (0: none), so a room created
    /// again under the name goes on from there.
    public func retiredSeq(forKey key: String) -> Int {
        retired.withLock { $0[key] ?? 0 }
    }

    /// Queues `operation`; its outcome comes on `results`, after those of the operations before it.
    public func submit(_ operation: StoreOperation) {
        writer.submit(operation)
    }

    /// Records that a closed room's name ended at `lastSeq` (for `retiredSeq`).
    public func retire(key: String, lastSeq: Int) {
        retired.withLock { $0[key] = max($0[key] ?? 0, lastSeq) }
    }

    /// Up to `limit` messages of a room with `seq` in `oldest..<before`, ascending, and whether
    /// older ones are kept.
    public func history(roomID: Int64, before: Int, oldest: Int, limit: Int) async throws(SQLiteError) -> (messages: [StoredMessage], more: Bool) {
        try await reader.perform { database throws(SQLiteError) in
            // One read transaction: the index and the tail as of one commit.
            try database.execute("BEGIN")
            var messages: [StoredMessage]
            do throws(SQLiteError) {
                messages = try MessageIndex.newest(in: database, roomID: roomID, before: before, oldest: oldest, limit: limit + 1)
                try database.execute("COMMIT")
            } catch {
                try? database.execute("ROLLBACK")
                throw error
            }
            let more = messages.count > limit
            if more { messages.removeLast() }
            return (messages.reversed(), more)
        }
    }

    /// Caps the file's size in pages from the next commit on (nil lifts the cap): a full disk,
    /// which a test cannot otherwise produce on demand, made by SQLite itself.
    package func limitPages(_ pages: Int?) {
        writer.pageLimit.withLock { $0 = .some(pages) }
    }

    public func commitHistogram() -> CommitHistogram {
        writer.statistics.withLock { CommitHistogram(counts: $0.buckets, totalMicros: $0.totalMicros) }
    }

    public func statistics() async -> StoreStatistics {
        let commits = writer.statistics.withLock { $0 }
        var figures = StoreStatistics()
        figures.path = path
        figures.commits = commits.commits
        figures.meanBatch = commits.meanBatch
        figures.largestBatch = commits.largestBatch
        figures.p99CommitMicros = commits.p99Micros
        let counted = try? await reader.perform { database throws(SQLiteError) in
            (try database.integer("SELECT count(*) FROM messages"), try database.integer("PRAGMA page_count") * database.integer("PRAGMA page_size"))
        }
        figures.rows = Int(counted?.0 ?? 0)
        figures.bytes = Int(counted?.1 ?? 0)
        let wal = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
        figures.bytes += wal
        return figures
    }

    /// Commits what is queued, stops the store's threads, closes the file and releases the
    /// directory's lock.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        writer.close()
        reader.close()
        lock.release()
    }

    private static func loadRooms(_ database: SQLiteDatabase, options: StoreOptions) throws(SQLiteError) -> [StoredRoom] {
        let rooms = try SQLiteStatement(
            "SELECT id, name, max_members, creator_key, created_at, first_seq, (SELECT max(seq) FROM message_index WHERE room_id = rooms.id), private FROM rooms ORDER BY id",
            in: database)
        // Called with the tail indexed, so the index alone finds every message.
        let recent = try SQLiteStatement(MessageIndex.selectIndexed + " WHERE i.room_id = ? AND i.seq >= ? ORDER BY i.seq DESC LIMIT ?", in: database)
        let ops = try keysByRoom("SELECT room_id, name_key FROM room_ops", database)
        let bans = try keysByRoom("SELECT room_id, name_key FROM room_bans", database)
        let invites = try keysByRoom("SELECT room_id, name_key FROM room_invites", database)
        try rooms.bind([])
        var loaded: [StoredRoom] = []
        while try rooms.step() {
            let id = rooms.integer(0)
            let firstSeq = Int(rooms.integer(5))
            let lastSeq = rooms.isNull(6) ? firstSeq - 1 : Int(rooms.integer(6))
            let keep = min(options.replayLimit, options.historyLimit)
            var messages: [StoredMessage] = []
            if keep > 0 && lastSeq >= firstSeq {
                try recent.bind([.integer(id), .integer(Int64(max(firstSeq, lastSeq - options.historyLimit + 1))), .integer(Int64(keep))])
                while try recent.step() { messages.append(MessageIndex.message(in: recent)) }
            }
            loaded.append(StoredRoom(
                id: id, name: rooms.text(1), limit: Int(rooms.integer(2)), ownerKey: rooms.isNull(3) ? nil : rooms.text(3),
                createdAt: Int(rooms.integer(4)), firstSeq: firstSeq, lastSeq: lastSeq, recent: messages.reversed(), ops: ops[id] ?? [],
                bans: bans[id] ?? [], isPrivate: rooms.integer(7) != 0, invites: invites[id] ?? []))
        }
        return loaded
    }

    /// `(room_id, name_key)` rows, grouped by room.
    private static func keysByRoom(_ sql: String, _ database: SQLiteDatabase) throws(SQLiteError) -> [Int64: [String]] {
        let statement = try SQLiteStatement(sql, in: database)
        try statement.bind([])
        var keys: [Int64: [String]] = [:]
        while try statement.step() { keys[statement.integer(0), default: []].append(statement.text(1)) }
        return keys
    }

    private static func loadAccounts(_ database: SQLiteDatabase, now: Int) throws(SQLiteError) -> ([StoredAccount], [StoredSession]) {
        try database.execute("DELETE FROM sessions WHERE expires_at <= \(now)")
        let accounts = try SQLiteStatement("SELECT name_key, name, password FROM accounts", in: database)
        try accounts.bind([])
        var loaded: [StoredAccount] = []
        while try accounts.step() { loaded.append(StoredAccount(key: accounts.text(0), name: accounts.text(1), password: accounts.text(2))) }
        let sessions = try SQLiteStatement("SELECT digest, name_key, expires_at FROM sessions", in: database)
        try sessions.bind([])
        var valid: [StoredSession] = []
        while try sessions.step() { valid.append(StoredSession(digest: sessions.text(0), key: sessions.text(1), expiresAt: Int(sessions.integer(2)))) }
        return (loaded, valid)
    }

    private static func loadRetired(_ database: SQLiteDatabase) throws(SQLiteError) -> [String: Int] {
        let statement = try SQLiteStatement("SELECT name_key, last_seq FROM retired_names", in: database)
        try statement.bind([])
        var retired: [String: Int] = [:]
        while try statement.step() { retired[statement.text(0)] = Int(statement.integer(1)) }
        return retired
    }
}
