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
