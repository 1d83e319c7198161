import ActorChatCore
import ActorChatProtocol
import ActorChatStore

/// Registered accounts and their login sessions. Lookups are in memory; a change is made durable
/// through the store's writer before it is answered (with `--memory`, it lasts until the server
/// stops). Password work goes to the `PasswordHasher`'s threads, never to this executor, which it
/// shares with the sessions and the rooms.
public actor AccountBook {
    struct Account {
        let name: String
        /// The PHC string of the password's hash.
        var password: String
    }

    struct Session {
        let key: String
        /// Milliseconds since 1970.
        let expiresAt: Int
    }

    public nonisolated let settings: AccountSettings
    private let hasher: PasswordHasher
    private let rooms: RoomManager
    private let executor: SessionExecutor
    private var accounts: [String: Account] = [:]
    /// By the SHA-256 of the token.
    private var sessions: [String: Session] = [:]
    /// Names being hashed and stored: a second registration meanwhile is refused at once.
    private var registering: Set<String> = []
    /// Per account, how many times all its sessions were revoked: a session stored meanwhile is dropped.
    private var revocations: [String: Int] = [:]
    private var throttle: LoginThrottle

    init(settings: AccountSettings, rooms: RoomManager, executor: SessionExecutor, hasher: PasswordHasher = PasswordHasher()) {
        self.settings = settings
        self.rooms = rooms
        self.executor = executor
        self.hasher = hasher
        throttle = LoginThrottle(settings: settings)
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        executor.asUnownedSerialExecutor()
    }

    /// Takes over what the store held at start.
    func restore(_ storedAccounts: [StoredAccount], sessions storedSessions: [StoredSession]) {
        for account in storedAccounts { accounts[account.key] = Account(name: account.name, password: account.password) }
        for session in storedSessions { sessions[session.digest] = Session(key: session.key, expiresAt: session.expiresAt) }
    }

    /// Registered, or being registered: a guest may not take a name whose registration is under way.
    func isRegistered(_ name: String) -> Bool {
        let key = Names.key(name)
        return accounts[key] != nil || registering.contains(key)
    }

    /// Registers `name` with `password` and returns the name as registered, once it is durable.
    func register(name: String, password: String, address: String) async throws(ChatError) -> String {
        try Names.validateUser(name)
        try Self.validate(password)
        let key = Names.key(name)
        guard accounts[key] == nil, !registering.contains(key) else { throw .nameRegistered(name) }
        if let wait = throttle.reserveRegistration(address: address, now: monotonicNanos()) { throw .rateLimited(retryAfterMilliseconds: wait) }
        registering.insert(key)
        defer { registering.remove(key) }
        guard let hash = await hasher.hash(password) else { throw .unavailable("the password could not be hashed") }
        try await rooms.persist(.createAccount(key: key, name: name, password: hash, createdAt: RoomManager.now()))
        accounts[key] = Account(name: name, password: hash)
        return name
    }

    /// The account of `name` if `password` is its password. An unknown name and a wrong password
    /// both get `auth_failed`, after the same hashing work, so neither answer nor time tells them apart.
    func checkPassword(name: String, password: String, address: String) async throws(ChatError) -> (key: String, name: String) {
        guard password.utf8.count <= AccountSettings.passwordBytes.upperBound else { throw .invalidParams("a password is at most 1024 bytes") }
        let key = Names.key(name)
        if let wait = throttle.loginWait(name: key, address: address, now: monotonicNanos()) { throw .rateLimited(retryAfterMilliseconds: wait) }
        let verified = accounts[key]?.password
        let matches = await hasher.verify(password, against: verified)
        // The password may have changed while this one was being hashed: it must still be the one checked.
        guard matches, let account = accounts[key], account.password == verified else {
            throttle.recordFailure(name: key, address: address, now: monotonicNanos())
            throw .authFailed("wrong name or password")
        }
        throttle.recordSuccess(name: key)
        return (key, account.name)
    }

    /// The account of `name` if `token` is one of its unexpired, unrevoked sessions.
    func checkSession(name: String, token: String, address: String) throws(ChatError) -> (key: String, name: String) {
        let key = Names.key(name)
        if let wait = throttle.loginWait(name: key, address: address, now: monotonicNanos()) { throw .rateLimited(retryAfterMilliseconds: wait) }
        let digest = SessionToken.digest(token)
        guard let session = sessions[digest], session.key == key, session.expiresAt > RoomManager.now(), let account = accounts[key] else {
            throttle.recordFailure(name: key, address: address, now: monotonicNanos())
            if let session = sessions[digest], session.expiresAt <= RoomManager.now() { sessions[digest] = nil }
            throw .authFailed("the session is not valid: expired, revoked or another account's")
        }
        return (key, account.name)
    }

    /// A new session for the account: its token, once the session is durable.
    func openSession(key: String) async throws(ChatError) -> String {
        let token = SessionToken.make()
        let digest = SessionToken.digest(token)
        let expiresAt = RoomManager.now() + Int(settings.sessionDays * 86_400_000)
        let epoch = revocations[key, default: 0]
        try await rooms.persist(.addSession(digest: digest, key: key, expiresAt: expiresAt))
        // Every session of the account was revoked while this one was being stored: it goes too.
        guard revocations[key, default: 0] == epoch else {
            try await rooms.persist(.removeSession(digest: digest))
            throw .authFailed("the account's sessions were revoked meanwhile; log in again")
        }
        sessions[digest] = Session(key: key, expiresAt: expiresAt)
        return token
    }

    /// Revokes one session: durably first, so a failed write leaves it as it was (and says so).
    func closeSession(_ token: String) async throws(ChatError) {
        let digest = SessionToken.digest(token)
        guard sessions[digest] != nil else { return }
        try await rooms.persist(.removeSession(digest: digest))
        sessions[digest] = nil
    }

    /// Revokes the account's sessions but `keeping` (nil: all of them), durably first.
    func closeSessions(key: String, keeping token: String?) async throws(ChatError) {
        let kept = token.map(SessionToken.digest)
        revocations[key, default: 0] += 1
        try await rooms.persist(.removeSessions(key: key, keeping: kept))
        sessions = sessions.filter { $0.value.key != key || $0.key == kept }
    }

    /// Changes the password when `old` is right, and revokes every session but `keeping`.
    func changePassword(key: String, old: String, new: String, address: String, keeping token: String?) async throws(ChatError) {
        try Self.validate(new)
        _ = try await checkPassword(name: key, password: old, address: address)
        guard let hash = await hasher.hash(new) else { throw .unavailable("the password could not be hashed") }
        try await rooms.persist(.setPassword(key: key, password: hash))
        accounts[key]?.password = hash
        try await closeSessions(key: key, keeping: token)
    }

    private static func validate(_ password: String) throws(ChatError) {
        guard AccountSettings.passwordBytes.contains(password.utf8.count) else {
            throw .invalidParams("a password is 8 to 1024 bytes of UTF-8")
        }
    }
}
