/// The store's schema, versioned with `PRAGMA user_version`: each migration takes the file from
/// version N to N+1, inside the transaction that records the new version.
enum StoreSchema {
    static let migrations: [String] = [
        // 1: rooms, messages clustered by (room, seq), and the last seq of closed rooms' names,
        // so a room closed and created again goes on counting and no seq is used twice.
        """
        CREATE TABLE rooms (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            max_members INTEGER NOT NULL,
            creator_key TEXT,
            created_at INTEGER NOT NULL,
            first_seq INTEGER NOT NULL
        );
        CREATE TABLE messages (
            room_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            sender TEXT NOT NULL,
            text TEXT NOT NULL,
            ts INTEGER NOT NULL,
            PRIMARY KEY (room_id, seq)
        ) WITHOUT ROWID;
        CREATE TABLE retired_names (
            name_key TEXT PRIMARY KEY,
            last_seq INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 2: messages in arrival order, found by a unique (room, seq) index. Clustered by room, a
        // commit of n messages dirtied a page of every room it touched and split a full leaf every
        // few dozen messages per room; appended in arrival order, it fills pages one after another,
        // and only the small index entries land room by room: half the writer's time per message.
        """
        CREATE TABLE messages_by_arrival (
            id INTEGER PRIMARY KEY,
            room_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            sender TEXT NOT NULL,
            text TEXT NOT NULL,
            ts INTEGER NOT NULL
        );
        INSERT INTO messages_by_arrival (room_id, seq, sender, text, ts)
            SELECT room_id, seq, sender, text, ts FROM messages ORDER BY ts, room_id, seq;
        DROP TABLE messages;
        ALTER TABLE messages_by_arrival RENAME TO messages;
        CREATE UNIQUE INDEX messages_by_room ON messages (room_id, seq);
        """,
        // 3: accounts (a password's PHC string, never the password) and login sessions (the
        // SHA-256 of a token, never the token).
        """
        CREATE TABLE accounts (
            name_key TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            password TEXT NOT NULL,
            created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE sessions (
            digest TEXT PRIMARY KEY,
            name_key TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX sessions_by_account ON sessions (name_key);
        """,
        // 4: a room's creator key names its owner, an account; a guest's rights ended with its
        // connection, so keys that are no account are cleared. Moderators and bans, by name key.
        """
        UPDATE rooms SET creator_key = NULL WHERE creator_key NOT IN (SELECT name_key FROM accounts);
        CREATE TABLE room_ops (
            room_id INTEGER NOT NULL,
            name_key TEXT NOT NULL,
            PRIMARY KEY (room_id, name_key)
        ) WITHOUT ROWID;
        CREATE TABLE room_bans (
            room_id INTEGER NOT NULL,
            name_key TEXT NOT NULL,
            PRIMARY KEY (room_id, name_key)
        ) WITHOUT ROWID;
        """,
        // 5: private rooms, and the accounts invited to a room.
        """
        ALTER TABLE rooms ADD COLUMN private INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE room_invites (
            room_id INTEGER NOT NULL,
            name_key TEXT NOT NULL,
            PRIMARY KEY (room_id, name_key)
        ) WITHOUT ROWID;
        """,
        // 6: the (room, seq) index becomes a table the writer fills in bulk. Indexed as each
        // message arrived, a commit of n messages over many rooms dirtied an index page per room
        // and wrote each to the WAL: two thirds of the writer's time per message. Messages past
        // `indexed_through` are found by their rowid instead (see `MessageIndex`).
        """
        CREATE TABLE message_index (
            room_id INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            message_id INTEGER NOT NULL,
            PRIMARY KEY (room_id, seq)
        ) WITHOUT ROWID;
        INSERT INTO message_index (room_id, seq, message_id) SELECT room_id, seq, id FROM messages ORDER BY room_id, seq;
        DROP INDEX messages_by_room;
        CREATE TABLE message_index_state (indexed_through INTEGER NOT NULL);
        INSERT INTO message_index_state SELECT coalesce(max(id), 0) FROM messages;
        """,
    ]

    static var version: Int { migrations.count }

    /// Brings the file to the current version; refuses one written by a newer server.
    static func migrate(_ database: SQLiteDatabase) throws(StoreError) {
        do {
            let current = Int(try database.integer("PRAGMA user_version"))
            guard current <= version else { throw StoreError.newerSchema(path: database.path, version: current, supported: version) }
            for next in current..<version {
                try database.execute("BEGIN IMMEDIATE")
                do {
                    try database.execute(migrations[next])
                    try database.execute("PRAGMA user_version = \(next + 1)")
                    try database.execute("COMMIT")
                } catch {
                    try? database.execute("ROLLBACK")
                    throw error
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as SQLiteError {
            throw .unreadable(error)
        } catch {
            throw .unreadable(SQLiteError(code: -1, message: "\(error)", path: database.path))
        }
    }
}
