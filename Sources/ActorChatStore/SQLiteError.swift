import CSQLite

/// A failed SQLite call: the primary result code, SQLite's message, and the file it concerns.
public struct SQLiteError: Error, Equatable, CustomStringConvertible {
    /// The extended result code (`SQLITE_CORRUPT`, `SQLITE_FULL`, `SQLITE_IOERR_WRITE`...).
    public let code: Int32
    public let message: String
    public let path: String

    public var description: String { "\(path): \(message) (SQLite error \(code))" }

    /// True for what a full disk or a failing device causes: the store may recover once writes succeed.
    public var isWriteFailure: Bool {
        let primary = code & 0xFF
        return primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_READONLY || primary == SQLITE_CANTOPEN
    }
}
