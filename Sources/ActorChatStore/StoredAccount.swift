/// A registered account as loaded at start.
public struct StoredAccount: Sendable {
    public let key: String
    public let name: String
    /// The PHC string of the password's hash.
    public let password: String
}

/// A login session as loaded at start (only unexpired ones): the SHA-256 of its token, never the token.
public struct StoredSession: Sendable {
    public let digest: String
    public let key: String
    public let expiresAt: Int
}
