@testable import ActorChat
@testable import ActorChatClient
@testable import ActorChatProtocol

/// docs/PROTOCOL.md's accounts, as the model plays them: who a login is, `register`, `password`,
/// and what `logout` revokes. The lockout and the registration rate are timed, and tested on their
/// own (`AccountTests`); the model's server runs with them out of reach.
extension ProtocolModel {
    /// Who a login is: nil for a guest, or the account (and its session, when the login names one).
    mutating func authenticate(_ name: String, _ params: JSONObject, on connection: Int) throws(Failure) -> (name: String, session: String?)? {
        let password = try optionalString("password", in: params)
        let session = try optionalString("session", in: params)
        let key = Self.key(name)
        switch (password, session) {
        case (.some, .some):
            throw Failure("invalid_params")
        case (let password?, nil):
            guard password.utf8.count <= 1024 else { throw Failure("invalid_params") }
            guard let account = accounts[key], account.password == password else { throw Failure("auth_failed") }
            awaitingSession[connection] = key
            return (account.name, nil)
        case (nil, let session?):
            guard sessions[session] == key, let account = accounts[key] else { throw Failure("auth_failed") }
            sessionOf[connection] = session
            return (account.name, session)
        case (nil, nil):
            guard accounts[key] == nil else { throw Failure("auth_failed") }
            return nil
        }
    }

    /// The token the server gave a password login, read from its `welcome`.
    mutating func learnSession(_ token: String, on connection: Int) {
        guard let key = awaitingSession.removeValue(forKey: connection) else { return }
        sessions[token] = key
        sessionOf[connection] = token
        issuedSessions.append((token, accounts[key]?.name ?? key))
    }

    mutating func register(_ params: JSONObject, me: User?, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        let password = try string("password", in: params)
        let given = try optionalString("name", in: params)
        // An --admin name is registered with admin rights only.
        if limits.adminAccounts.contains(Self.key(given ?? me?.name ?? "")) {
            let token = try optionalString("token", in: params)
            if let token, token != limits.adminToken { throw Failure("forbidden") }
            guard token != nil || me?.admin == true else { throw Failure("forbidden") }
        }
        let name: String
        if let me {
            guard accountOf[connection] == nil else { throw Failure("name_registered") }
            if let given, Self.key(given) != Self.key(me.name) { throw Failure("invalid_params") }
            name = me.name
        } else {
            guard let given else { throw Failure("invalid_params") }
            guard users[Self.key(given)] == nil else { throw Failure("name_taken") }
            name = given
        }
        guard Self.isValid(name, maxLength: 32) else { throw Failure("invalid_name") }
        guard (8...1024).contains(password.utf8.count) else { throw Failure("invalid_params") }
        guard accounts[Self.key(name)] == nil else { throw Failure("name_registered") }
        accounts[Self.key(name)] = (name, password)
        if me != nil { accountOf[connection] = Self.key(name) }
        outcome.add(connection, "registered", ["name": .string(name)], id: id)
    }

    mutating func changePassword(_ params: JSONObject, from connection: Int, id: JSONValue?, into outcome: inout Outcome) throws(Failure) {
        guard let key = accountOf[connection] else { throw Failure("forbidden") }
        let old = try string("old", in: params)
        let new = try string("new", in: params)
        guard (8...1024).contains(new.utf8.count), old.utf8.count <= 1024 else { throw Failure("invalid_params") }
        guard accounts[key]?.password == old else { throw Failure("auth_failed") }
        accounts[key]?.password = new
        let kept = sessionOf[connection]
        sessions = sessions.filter { $0.value != key || $0.key == kept }
        outcome.add(connection, "password_changed", id: id)
    }

    /// What `logout` revokes before it says goodbye: the connection's session, or with
    /// `everywhere` all of its account's.
    mutating func logOutSessions(_ params: JSONObject, from connection: Int) throws(Failure) {
        let everywhere = try optionalBool("everywhere", in: params) ?? false
        guard let key = accountOf[connection] else { return }
        if everywhere {
            sessions = sessions.filter { $0.value != key }
        } else if let session = sessionOf[connection] {
            sessions[session] = nil
        }
    }

    /// Registered names, sorted so that a seed replays the same run.
    var accountNames: [String] { accounts.values.map(\.name).sorted() }

    /// Tokens the server gave out, live or revoked, with their account's name, in the order given
    /// (so a seed replays): revoked ones must fail.
    var knownSessions: [(token: String, name: String)] { issuedSessions }
}
