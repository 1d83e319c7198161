import ActorChatCore

/// What the writer's thread knows between commits: the committed rooms and their last seqs.
struct WriterState: Sendable {
    var lastSeq: [Int64: Int] = [:]
    /// The oldest seq each room may still keep on disk (pruning deletes below it).
    var prunedBelow: [Int64: Int] = [:]
    /// The rowid through which messages are in the (room, seq) index (see `MessageIndex`).
    var indexedThrough: Int64
    /// Messages stored past `indexedThrough`.
    var unindexed = 0
}

/// The writer thread's SQLite connection and statements. Only the writer's thread uses it.
final class WriterSession {
    private let database: SQLiteDatabase
    private var state: WriterState
    private let historyLimit: Int
    private let indexEvery: Int
    private let indexAfterNanos: UInt64
    private var lastIndexed = monotonicNanos()
    /// Rooms whose history has grown past the limit by enough to be worth a delete.
    private var overLimit: Set<Int64> = []
    private let insertRoom: SQLiteStatement
    private let deleteRoom: SQLiteStatement
    private let deleteMessages: SQLiteStatement
    private let deleteIndex: SQLiteStatement
    private let deleteTail: SQLiteStatement
    private let retireName: SQLiteStatement
    private let insertMessage: SQLiteStatement
    private let pruneMessages: SQLiteStatement
    private let pruneIndex: SQLiteStatement
    private let insertAccount: SQLiteStatement
    private let updatePassword: SQLiteStatement
    private let insertSession: SQLiteStatement
    private let deleteSession: SQLiteStatement
    private let deleteSessions: SQLiteStatement
    private let insertOp: SQLiteStatement
    private let deleteOp: SQLiteStatement
    private let insertBan: SQLiteStatement
    private let deleteBan: SQLiteStatement
    private let deleteRoomOps: SQLiteStatement
    private let deleteRoomBans: SQLiteStatement
    private let updateRoom: SQLiteStatement
    private let insertInvite: SQLiteStatement
    private let deleteInvite: SQLiteStatement
    private let deleteRoomInvites: SQLiteStatement

    init(database: SQLiteDatabase, state: WriterState, options: StoreOptions) {
        self.database = database
        self.state = state
        historyLimit = options.historyLimit
        indexEvery = options.indexEvery
        indexAfterNanos = options.indexAfterNanos
        // The statements are fixed and the schema is in place: a failure here is a bug, not a condition.
        do {
            insertRoom = try SQLiteStatement(
                "INSERT INTO rooms (id, name, name_key, max_members, creator_key, created_at, first_seq, private) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                in: database)
            deleteRoom = try SQLiteStatement("DELETE FROM rooms WHERE id = ?", in: database)
            deleteMessages = try SQLiteStatement("DELETE FROM messages WHERE id IN (SELECT message_id FROM message_index WHERE room_id = ?)", in: database)
            deleteTail = try SQLiteStatement("DELETE FROM messages WHERE id > ? AND room_id = ?", in: database)
            deleteIndex = try SQLiteStatement("DELETE FROM message_index WHERE room_id = ?", in: database)
            retireName = try SQLiteStatement("INSERT OR REPLACE INTO retired_names (name_key, last_seq) VALUES (?, ?)", in: database)
            insertMessage = try SQLiteStatement("INSERT INTO messages (room_id, seq, sender, text, ts) VALUES (?, ?, ?, ?, ?)", in: database)
            pruneMessages = try SQLiteStatement(
                "DELETE FROM messages WHERE id IN (SELECT message_id FROM message_index WHERE room_id = ? AND seq < ?)", in: database)
            pruneIndex = try SQLiteStatement("DELETE FROM message_index WHERE room_id = ? AND seq < ?", in: database)
            insertAccount = try SQLiteStatement("INSERT INTO accounts (name_key, name, password, created_at) VALUES (?, ?, ?, ?)", in: database)
            updatePassword = try SQLiteStatement("UPDATE accounts SET password = ? WHERE name_key = ?", in: database)
            insertSession = try SQLiteStatement("INSERT INTO sessions (digest, name_key, expires_at) VALUES (?, ?, ?)", in: database)
            deleteSession = try SQLiteStatement("DELETE FROM sessions WHERE digest = ?", in: database)
            deleteSessions = try SQLiteStatement("DELETE FROM sessions WHERE name_key = ? AND digest IS NOT ?", in: database)
            insertOp = try SQLiteStatement("INSERT OR IGNORE INTO room_ops (room_id, name_key) VALUES (?, ?)", in: database)
            deleteOp = try SQLiteStatement("DELETE FROM room_ops WHERE room_id = ? AND name_key = ?", in: database)
            insertBan = try SQLiteStatement("INSERT OR IGNORE INTO room_bans (room_id, name_key) VALUES (?, ?)", in: database)
            deleteBan = try SQLiteStatement("DELETE FROM room_bans WHERE room_id = ? AND name_key = ?", in: database)
            deleteRoomOps = try SQLiteStatement("DELETE FROM room_ops WHERE room_id = ?", in: database)
            deleteRoomBans = try SQLiteStatement("DELETE FROM room_bans WHERE room_id = ?", in: database)
            updateRoom = try SQLiteStatement(
                "UPDATE rooms SET max_members = coalesce(?, max_members), private = coalesce(?, private) WHERE id = ?", in: database)
            insertInvite = try SQLiteStatement("INSERT OR IGNORE INTO room_invites (room_id, name_key) VALUES (?, ?)", in: database)
            deleteInvite = try SQLiteStatement("DELETE FROM room_invites WHERE room_id = ? AND name_key = ?", in: database)
            deleteRoomInvites = try SQLiteStatement("DELETE FROM room_invites WHERE room_id = ?", in: database)
        } catch {
            fatalError("the store's statements do not prepare: \(error)")
        }
    }

    /// Runs `operations` in one transaction and returns each one's outcome. On failure nothing
    /// of it is stored and the committed state is as before, so no seq is given out twice.
    func commit(_ operations: [StoreOperation]) -> [StoreOutcome] {
        var next = state
        var outcomes: [StoreOutcome] = []
        outcomes.reserveCapacity(operations.count)
        do throws(SQLiteError) {
            try database.execute("BEGIN IMMEDIATE")
            for operation in operations {
                outcomes.append(try apply(operation, to: &next))
            }
            try database.execute("COMMIT")
            state = next
            return outcomes
        } catch {
            try? database.execute("ROLLBACK")
            return operations.map { _ in .failed(error) }
        }
    }

    private func apply(_ operation: StoreOperation, to next: inout WriterState) throws(SQLiteError) -> StoreOutcome {
        switch operation {
        case .createRoom(let id, let name, let key, let limit, let ownerKey, let isPrivate, let createdAt, let firstSeq):
            try insertRoom.run([
                .integer(id), .text(name), .text(key), .integer(Int64(limit)), ownerKey.map { .text($0) } ?? .null,
                .integer(Int64(createdAt)), .integer(Int64(firstSeq)), .integer(isPrivate ? 1 : 0),
            ])
            next.lastSeq[id] = firstSeq - 1
            next.prunedBelow[id] = firstSeq
            return .stored(seq: nil)
        case .deleteRoom(let id, let key):
            guard let last = next.lastSeq.removeValue(forKey: id) else { return .roomGone }
            next.prunedBelow[id] = nil
            // The room's indexed messages through the index, its tail by rowid.
            try deleteMessages.run([.integer(id)])
            try deleteTail.run([.integer(next.indexedThrough), .integer(id)])
            try deleteIndex.run([.integer(id)])
            next.indexedThrough = try MessageIndex.lowerThrough(in: database, from: next.indexedThrough)
            try deleteRoomOps.run([.integer(id)])
            try deleteRoomBans.run([.integer(id)])
            try deleteRoomInvites.run([.integer(id)])
            try deleteRoom.run([.integer(id)])
            try retireName.run([.text(key), .integer(Int64(last))])
            overLimit.remove(id)
            return .stored(seq: nil)
        case .append(let roomID, let from, let text, let ts):
            guard let last = next.lastSeq[roomID] else { return .roomGone }
            let seq = last + 1
            try insertMessage.run([.integer(roomID), .integer(Int64(seq)), .text(from), .text(text), .integer(Int64(ts))])
            next.lastSeq[roomID] = seq
            next.unindexed += 1
            if seq - (next.prunedBelow[roomID] ?? 1) + 1 > historyLimit + Self.pruneSlack(historyLimit) { overLimit.insert(roomID) }
            return .stored(seq: seq)
        case .createAccount(let key, let name, let password, let createdAt):
            try insertAccount.run([.text(key), .text(name), .text(password), .integer(Int64(createdAt))])
        case .setPassword(let key, let password):
            try updatePassword.run([.text(password), .text(key)])
        case .addSession(let digest, let key, let expiresAt):
            try insertSession.run([.text(digest), .text(key), .integer(Int64(expiresAt))])
        case .removeSession(let digest):
            try deleteSession.run([.text(digest)])
        case .removeSessions(let key, let keeping):
            try deleteSessions.run([.text(key), keeping.map { .text($0) } ?? .null])
        case .setOp(let roomID, let key, let on):
            guard next.lastSeq[roomID] != nil else { return .roomGone }
            try (on ? insertOp : deleteOp).run([.integer(roomID), .text(key)])
        case .setBan(let roomID, let key, let on):
            guard next.lastSeq[roomID] != nil else { return .roomGone }
            try (on ? insertBan : deleteBan).run([.integer(roomID), .text(key)])
        case .setInvite(let roomID, let key, let on):
            guard next.lastSeq[roomID] != nil else { return .roomGone }
            try (on ? insertInvite : deleteInvite).run([.integer(roomID), .text(key)])
        case .updateRoom(let id, let limit, let isPrivate):
            guard next.lastSeq[id] != nil else { return .roomGone }
            try updateRoom.run([limit.map { .integer(Int64($0)) } ?? .null, isPrivate.map { .integer($0 ? 1 : 0) } ?? .null, .integer(id)])
        }
        return .stored(seq: nil)
    }

    /// Caps the file at `pages` (nil: SQLite's maximum). SQLite keeps a cap below the file's size at
    /// its size, so a write that needs a new page then fails as a full disk does.
    func limitPages(to pages: Int?) {
        try? database.execute("PRAGMA max_page_count = \(pages ?? 4_294_967_294)")
    }

    /// Deletes what the rooms over the history limit no longer keep, in a transaction of its own.
    /// A failure leaves them for the next time.
    func pruneIfDue() {
        guard !overLimit.isEmpty else { return }
        let rooms = overLimit
        do {
            try database.execute("BEGIN IMMEDIATE")
            var next = state
            try indexTail(&next)
            for room in rooms {
                guard let last = next.lastSeq[room] else { continue }
                let keepFrom = last - historyLimit + 1
                // The newest row stays even when none is kept (`--history-limit 0`): a start takes
                // a room's last seq from it, so seqs go on and none is given out twice.
                let deleteBelow = Int64(min(keepFrom, last))
                try pruneMessages.run([.integer(room), .integer(deleteBelow)])
                try pruneIndex.run([.integer(room), .integer(deleteBelow)])
                next.prunedBelow[room] = keepFrom
            }
            next.indexedThrough = try MessageIndex.lowerThrough(in: database, from: next.indexedThrough)
            try database.execute("COMMIT")
            state = next
            overLimit.removeAll()
        } catch {
            try? database.execute("ROLLBACK")
        }
    }

    /// Indexes the tail in a transaction of its own once `indexEvery` messages wait for it, once
    /// `indexAfterNanos` have passed since the last indexing, or (`force`) whenever one waits. A failure leaves the
    /// tail for the next time: reads find it by rowid meanwhile.
    func indexIfDue(force: Bool = false) {
        guard state.unindexed > 0 else { return }
        let now = monotonicNanos()
        guard force || state.unindexed >= indexEvery || now - lastIndexed >= indexAfterNanos else { return }
        lastIndexed = now
        do {
            try database.execute("BEGIN IMMEDIATE")
            var next = state
            try indexTail(&next)
            try database.execute("COMMIT")
            state = next
        } catch {
            try? database.execute("ROLLBACK")
        }
    }

    /// Indexes the tail within the caller's transaction (see `MessageIndex`).
    private func indexTail(_ next: inout WriterState) throws(SQLiteError) {
        guard next.unindexed > 0 else { return }
        next.indexedThrough = try MessageIndex.indexTail(in: database, through: next.indexedThrough)
        next.unindexed = 0
    }

    /// Pruning waits until a room is this far over its limit, so a delete is a batch, not a row per message.
    static func pruneSlack(_ limit: Int) -> Int {
        max(64, limit / 16)
    }
}
