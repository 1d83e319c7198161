/// Where a room's messages are found. Messages are stored in arrival order; `message_index` maps
/// (room, seq) to a message's rowid and is filled in bulk by the writer (`StoreOptions.indexEvery`),
/// so that a commit of messages to many rooms dirties no index page. The messages above
/// `indexed_through`, the tail, are not in it yet; a read finds them by a scan of the tail's rowids,
/// which the bulk indexing keeps short.
enum MessageIndex {
    /// A read of messages through the index: their columns in the order `message(in:)` takes them.
    static let selectIndexed = "SELECT m.seq, m.sender, m.text, m.ts FROM message_index i JOIN messages m ON m.id = i.message_id"

    /// The message in the current row of a statement that selects `seq, sender, text, ts`.
    static func message(in statement: SQLiteStatement) -> StoredMessage {
        StoredMessage(seq: Int(statement.integer(0)), from: statement.text(1), text: statement.text(2), ts: Int(statement.integer(3)))
    }

    /// The rowid up to which every stored message is in `message_index`.
    static func indexedThrough(in database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        try database.integer("SELECT indexed_through FROM message_index_state")
    }

    /// Indexes the tail, in the caller's transaction; returns the new `indexed_through`. Sorted
    /// first, the tail's entries land room by room, each room's at the end of its range.
    static func indexTail(in database: SQLiteDatabase, through: Int64) throws(SQLiteError) -> Int64 {
        try database.execute(
            "INSERT INTO message_index (room_id, seq, message_id) SELECT room_id, seq, id FROM messages WHERE id > \(through) ORDER BY room_id, seq")
        let newest = max(through, try newestRowid(in: database))
        try database.execute("UPDATE message_index_state SET indexed_through = \(newest)")
        return newest
    }

    /// After a delete, in the same transaction. Without AUTOINCREMENT, SQLite gives a new row the
    /// largest rowid plus one, so a delete of the newest rows would hand their rowids out again, at
    /// or below `indexed_through`, where neither the index nor a read of the tail would find them.
    /// So `indexed_through` comes down to the newest rowid kept; every row up to it is indexed still.
    static func lowerThrough(in database: SQLiteDatabase, from through: Int64) throws(SQLiteError) -> Int64 {
        let newest = try newestRowid(in: database)
        guard newest < through else { return through }
        try database.execute("UPDATE message_index_state SET indexed_through = \(newest)")
        return newest
    }

    /// A room's messages with seq in `oldest..<before`, newest first, at most `limit`, joined from
    /// the index and the tail; run inside one read transaction, so both see the same commit.
    static func newest(
        in database: SQLiteDatabase, roomID: Int64, before: Int, oldest: Int, limit: Int
    ) throws(SQLiteError) -> [StoredMessage] {
        let through = try indexedThrough(in: database)
        // The tail's messages are newer than any indexed one of the same room: they come first.
        var messages = try rows(
            "SELECT seq, sender, text, ts FROM messages WHERE id > ? AND room_id = ? AND seq < ? AND seq >= ? ORDER BY seq DESC LIMIT ?",
            [.integer(through), .integer(roomID), .integer(Int64(before)), .integer(Int64(oldest)), .integer(Int64(limit))], in: database)
        guard messages.count < limit else { return messages }
        messages += try rows(
            selectIndexed + " WHERE i.room_id = ? AND i.seq < ? AND i.seq >= ? ORDER BY i.seq DESC LIMIT ?",
            [.integer(roomID), .integer(Int64(before)), .integer(Int64(oldest)), .integer(Int64(limit - messages.count))], in: database)
        return messages
    }

    private static func rows(_ sql: String, _ values: [SQLiteValue], in database: SQLiteDatabase) throws(SQLiteError) -> [StoredMessage] {
        let statement = try SQLiteStatement(sql, in: database)
        try statement.bind(values)
        var messages: [StoredMessage] = []
        while try statement.step() { messages.append(message(in: statement)) }
        return messages
    }

    /// The rowid of the newest stored message; 0 with none.
    private static func newestRowid(in database: SQLiteDatabase) throws(SQLiteError) -> Int64 {
        try database.integer("SELECT coalesce(max(id), 0) FROM messages")
    }
}
