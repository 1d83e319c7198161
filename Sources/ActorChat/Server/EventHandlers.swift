import ActorChatCore
import ActorChatProtocol
import ActorChatStore
extension Dispatcher {
    /// The chat protocol: one registration per event in docs/PROTOCOL.md.
    public static func chat() -> Dispatcher {
        var dispatcher = Dispatcher()

        dispatcher.onNowOrLater("login", params: ["name", "token?", "password?", "session?"], access: .anyone) { request, context throws(ChatError) in
            guard context.user == nil else { throw .alreadyLoggedIn }
            let name = try request.params.requiredString("name")
            let admin = try isAdmin(token: try request.params.optionalString("token"), configuration: context.services.configuration)
            let password = try request.params.optionalString("password")
            let session = try request.params.optionalString("session")
            // A guest's login is done at once; an account's awaits its password's hash.
            guard password != nil || session != nil else {
                try logInGuest(name, admin: admin, replyID: request.id, context: &context)
                return nil
            }
            return { request, context throws(ChatError) in
                try await logInAccount(name, password: password, session: session, admin: admin, replyID: request.id, context: &context)
            }
        }

        dispatcher.onAwaiting("register", params: ["name?", "password", "token?"], access: .anyone) { request, context throws(ChatError) in
            let password = try request.params.requiredString("password")
            let given = try request.params.optionalString("name")
            // A name `--admin` makes an admin is registered with admin rights, or the first
            // stranger to register it would be one.
            if context.services.accounts.settings.adminKeys.contains(Names.key(given ?? context.user?.name ?? "")) {
                let admin = try isAdmin(token: try request.params.optionalString("token"), configuration: context.services.configuration)
                guard admin || context.user?.admin == true else {
                    throw .forbidden("'\(given ?? context.user?.name ?? "")' is an --admin name: register it with the admin token")
                }
            }
            let name: String
            if let user = context.user {
                // A guest may register the name it is using; nobody else's.
                guard context.account == nil else { throw .nameRegistered(user.name) }
                if let given, Names.key(given) != Names.key(user.name) {
                    throw .invalidParams("once logged in, you may register only your own name ('\(user.name)')")
                }
                name = user.name
            } else {
                guard let given else { throw .invalidParams("'name' is required before login") }
                guard await !context.services.rooms.isLoggedIn(given) else { throw .nameTaken(given) }
                name = given
            }
            let registered = try await context.services.accounts.register(name: name, password: password, address: context.connection.peer.host)
            if let user = context.user {
                context.account = Names.key(registered)
                await context.services.rooms.becameAccount(userID: user.id)
            }
            context.reply(.registered(name: registered), to: request)
            context.services.log.log(.info, "register \(registered) #\(context.connection.id)")
        }

        dispatcher.onAwaiting("password", params: ["old", "new"]) { request, context throws(ChatError) in
            let user = try context.loggedInUser()
            guard let key = context.account else { throw .forbidden("only a registered account has a password; register first") }
            try await context.services.accounts.changePassword(
                key: key, old: try request.params.requiredString("old"), new: try request.params.requiredString("new"),
                address: context.connection.peer.host, keeping: context.session)
            context.reply(.passwordChanged, to: request)
            context.services.log.log(.info, "password changed for \(user.name)")
        }

        dispatcher.on("ping", params: [], access: .anyone) { request, context throws(ChatError) in
            context.reply(.pong, to: request)
        }

        dispatcher.onAwaiting("logout", params: ["everywhere?"], access: .anyone) { request, context throws(ChatError) in
            let everywhere = try request.params.optionalBool("everywhere") ?? false
            if let key = context.account {
                if everywhere {
                    try await context.services.accounts.closeSessions(key: key, keeping: nil)
                } else if let session = context.session {
                    try await context.services.accounts.closeSession(session)
                }
            }
            if let user = context.user {
                await context.services.rooms.logout(userID: user.id, reason: "logout")
                context.services.log.log(.info, "logout \(user.name)")
                context.user = nil
            }
            context.reply(.bye, to: request)
            context.closing = .logout
        }

        dispatcher.on("rooms", params: []) { request, context throws(ChatError) in
            let userID = try context.loggedInUser().id
            context.reply(.rooms(try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.encodedRoomList(for: userID) }), to: request)
        }

        dispatcher.onAwaiting("create_room", params: ["room", "limit", "private?"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            guard let limit = request.params["limit"] else { throw .invalidParams("'limit' is required") }
            guard let count = limit.integer else { throw .invalidLimit("'limit' must be a whole number") }
            let isPrivate = try request.params.optionalBool("private") ?? false
            let user = try context.loggedInUser()
            try await context.services.rooms.createRoom(name: room, limit: count, isPrivate: isPrivate, by: user.id, replyID: request.id)
            context.services.log.log(.info, "create \(room) limit \(count) by \(user.name)")
        }

        dispatcher.on("join", params: ["room", "history?", "since?"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let user = try context.loggedInUser()
            let replay = try replayRequested(request.params, limits: context.services.configuration.rooms)
            try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.join(room: room, userID: user.id, replyID: request.id, replay: replay) }
            context.services.log.log(.info, "join \(room) \(user.name)")
        }

        dispatcher.onNowOrLater("history", params: ["room", "before?", "limit?"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let user = try context.loggedInUser()
            let before = try request.params.optionalInteger("before")
            let limit = try request.params.optionalInteger("limit") ?? 50
            guard (1...200).contains(limit) else { throw .invalidParams("'limit' must be a whole number from 1 to 200") }
            let (name, source) = try context.services.rooms.fromSession { rooms throws(ChatError) in
                try rooms.historySource(of: room, userID: user.id, admin: user.admin, before: before, limit: limit)
            }
            switch source {
            case .memory(let messages, let more):
                // The usual case: the page is in the replay ring, answered in the request's turn.
                replyHistory(name, messages, more: more, to: request, on: context.connection)
                return nil
            case .stored(let store, let roomID, let oldest, let before):
                return { request, context throws(ChatError) in
                    let page = try await storedPage(of: name, in: store, roomID: roomID, before: before, oldest: oldest, limit: limit, services: context.services)
                    replyHistory(name, page.messages, more: page.more, to: request, on: context.connection)
                }
            }
        }

        dispatcher.on("leave", params: ["room"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let user = try context.loggedInUser()
            try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.leave(room: room, userID: user.id, replyID: request.id) }
            context.services.log.log(.info, "leave \(room) \(user.name)")
        }

        dispatcher.on("who", params: ["room"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let userID = try context.loggedInUser().id
            context.reply(try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.members(of: room, for: userID) }, to: request)
        }

        // Pipelined: the session reads on while the message commits; its reply comes from the commit.
        dispatcher.on("send", params: ["room", "text"], pipelined: true) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let text = try request.params.messageText(maxBytes: context.services.configuration.maxTextBytes)
            let userID = try context.loggedInUser().id
            let commits = context.commitBarrier()
            try context.services.rooms.fromSession { rooms throws(ChatError) in
                try rooms.send(text: text, to: room, userID: userID, replyID: request.id, barrier: commits)
            }
        }

        dispatcher.on("dm", params: ["to", "text"]) { request, context throws(ChatError) in
            let recipient = try request.params.requiredString("to")
            let text = try request.params.messageText(maxBytes: context.services.configuration.maxTextBytes)
            let userID = try context.loggedInUser().id
            try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.directMessage(text: text, to: recipient, userID: userID, replyID: request.id) }
        }

        dispatcher.onAwaiting("close_room", params: ["room"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let user = try context.loggedInUser()
            try await context.services.rooms.closeRoom(room, by: user.id, replyID: request.id)
            context.services.log.log(.info, "close \(room) by \(user.name)")
        }

        dispatcher.on("kick", params: ["room", "user"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let target = try request.params.requiredString("user")
            let user = try context.loggedInUser()
            try context.services.rooms.fromSession { rooms throws(ChatError) in try rooms.kick(target, from: room, by: user.id, replyID: request.id) }
            context.services.log.log(.info, "kick \(target) from \(room) by \(user.name)")
        }

        for (event, op) in [("op", true), ("deop", false)] {
            dispatcher.onAwaiting(event, params: ["room", "user"]) { request, context throws(ChatError) in
                let room = try request.params.requiredString("room")
                let target = try request.params.requiredString("user")
                let user = try context.loggedInUser()
                // Moderators are accounts: a guest's name could be anyone's tomorrow.
                guard await context.services.accounts.isRegistered(target) else { throw .userNotFound(target) }
                try await context.services.rooms.setOp(target, in: room, to: op, by: user.id, replyID: request.id)
                context.services.log.log(.info, "\(event) \(target) in \(room) by \(user.name)")
            }
        }

        dispatcher.onAwaiting("invite", params: ["room", "user"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let target = try request.params.requiredString("user")
            let user = try context.loggedInUser()
            let registered = await context.services.accounts.isRegistered(target)
            try await context.services.rooms.invite(target, to: room, registered: registered, by: user.id, replyID: request.id)
            context.services.log.log(.info, "invite \(target) to \(room) by \(user.name)")
        }

        dispatcher.onAwaiting("uninvite", params: ["room", "user"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let target = try request.params.requiredString("user")
            let user = try context.loggedInUser()
            try await context.services.rooms.uninvite(target, from: room, by: user.id, replyID: request.id)
            context.services.log.log(.info, "uninvite \(target) from \(room) by \(user.name)")
        }

        dispatcher.onAwaiting("set_room", params: ["room", "limit?", "private?"]) { request, context throws(ChatError) in
            let room = try request.params.requiredString("room")
            let limit: Int?
            switch request.params["limit"] {
            case nil, .null?: limit = nil
            case let value?:
                guard let number = value.integer else { throw .invalidLimit("'limit' must be a whole number") }
                limit = number
            }
            let isPrivate = try request.params.optionalBool("private")
            guard limit != nil || isPrivate != nil else { throw .invalidParams("give 'limit', 'private' or both") }
            let user = try context.loggedInUser()
            try await context.services.rooms.setRoom(room, limit: limit, isPrivate: isPrivate, by: user.id, replyID: request.id)
            context.services.log.log(.info, "set_room \(room) by \(user.name)")
        }

        for (event, ban) in [("ban", true), ("unban", false)] {
            dispatcher.onAwaiting(event, params: ["room", "user"]) { request, context throws(ChatError) in
                let room = try request.params.requiredString("room")
                let target = try request.params.requiredString("user")
                let user = try context.loggedInUser()
                try await context.services.rooms.setBan(target, in: room, to: ban, by: user.id, replyID: request.id)
                context.services.log.log(.info, "\(event) \(target) in \(room) by \(user.name)")
            }
        }

        dispatcher.on("logs", params: ["limit?"], access: .admin) { request, context throws(ChatError) in
            let limit = try request.params.optionalInteger("limit") ?? 100
            guard limit >= 0 else { throw .invalidParams("'limit' must not be negative") }
            context.reply(.logs(context.services.log.lines(limit: limit)), to: request)
        }

        dispatcher.onAwaiting("stats", params: [], access: .admin) { request, context throws(ChatError) in
            context.reply(.stats(await context.services.stats()), to: request)
        }

        // Last, and straight from the registrations, so it lists exactly what this dispatcher serves.
        let events = (dispatcher.descriptions + [EventDescription(event: "help", params: [], access: "anyone")]).sorted { $0.event < $1.event }
        dispatcher.on("help", params: [], access: .anyone) { request, context throws(ChatError) in
            context.reply(.help(events), to: request)
        }

        return dispatcher
    }

    /// A page of history, encoded and queued; from the handler at once, or from the task that read
    /// the page from disk.
    private static func replyHistory(_ room: String, _ messages: [HistoryEntry], more: Bool, to request: ClientRequest, on connection: Connection) {
        connection.send(ServerEvent.history(room: room, messages: messages, more: more).encoded(id: request.id))
    }

    /// A `history` page the replay ring cannot give, read by the store's reader. It runs in the
    /// request's task of its own (see `Dispatcher.Action`).
    private static func storedPage(
        of room: String, in store: ChatStore, roomID: Int64, before: Int, oldest: Int, limit: Int, services: ServerServices
    ) async throws(ChatError) -> (messages: [HistoryEntry], more: Bool) {
        do throws(SQLiteError) {
            let page = try await store.history(roomID: roomID, before: before, oldest: oldest, limit: limit)
            return (page.messages.map { HistoryEntry(seq: $0.seq, from: $0.from, text: $0.text, ts: $0.ts) }, page.more)
        } catch {
            services.log.log(.error, "history \(room): \(error)")
            throw .unavailable("the store could not read (\(error.message))")
        }
    }

    /// What a `join` asks to be replayed: `history: N` (0 to 200, capped by the replay limit) or
    /// `since: S`, never both.
    private static func replayRequested(_ params: JSONObject, limits: RoomManager.Limits) throws(ChatError) -> RoomManager.Replay {
        let history = try params.optionalInteger("history")
        let since = try params.optionalInteger("since")
        switch (history, since) {
        case (nil, nil):
            return .none
        case (.some, .some):
            throw .invalidParams("'history' and 'since' exclude each other")
        case (let count?, nil):
            guard (0...200).contains(count) else { throw .invalidParams("'history' must be a whole number from 0 to 200") }
            return .last(min(count, limits.replayCapacity))
        case (nil, let seq?):
            guard seq >= 0 else { throw .invalidParams("'since' must not be negative") }
            return .since(seq)
        }
    }

    /// A guest's login: any name that is not registered, unless only accounts are admitted.
    private static func logInGuest(_ name: String, admin: Bool, replyID: JSONValue?, context: inout SessionContext) throws(ChatError) {
        let accounts = context.services.accounts
        guard !accounts.fromSession({ accounts in accounts.isRegistered(name) }) else {
            throw .authFailed("'\(name)' is a registered name: log in with its password or session")
        }
        guard !accounts.settings.accountsOnly else { throw .authFailed("this server admits registered accounts only") }
        let connection = context.connection
        let user = try context.services.rooms.fromSession { rooms throws(ChatError) in
            try rooms.login(name: name, admin: admin, connection: connection, replyID: replyID)
        }
        context.user = user
        context.services.log.log(.info, "login \(user.name)\(admin ? " (admin)" : "") #\(context.connection.id)")
    }

    /// An account's login, proved by `password` (which opens a new session) or by `session`.
    private static func logInAccount(
        _ name: String, password: String?, session: String?, admin: Bool, replyID: JSONValue?, context: inout SessionContext
    ) async throws(ChatError) {
        let accounts = context.services.accounts
        let address = context.connection.peer.host
        let account: (key: String, name: String)
        let token: String
        switch (password, session) {
        case (let password?, nil):
            account = try await accounts.checkPassword(name: name, password: password, address: address)
            token = try await accounts.openSession(key: account.key)
        case (nil, let session?):
            account = try await accounts.checkSession(name: name, token: session, address: address)
            token = session
        default:
            throw .invalidParams("'password' and 'session' exclude each other")
        }
        let admin = admin || accounts.settings.adminKeys.contains(account.key)
        let user = try await context.services.rooms.login(
            name: account.name, admin: admin, account: true, session: token, connection: context.connection, replyID: replyID)
        (context.user, context.account, context.session) = (user, account.key, token)
        context.services.log.log(.info, "login \(user.name) (account)\(admin ? " (admin)" : "") #\(context.connection.id)")
    }

    /// A login is admin when it carries the configured token; a wrong token is refused, not ignored.
    private static func isAdmin(token: String?, configuration: ServerConfiguration) throws(ChatError) -> Bool {
        guard let token else { return false }
        guard let expected = configuration.adminToken else { throw .forbidden("this server has no admin token (--admin-token)") }
        guard ConstantTime.equal(token, expected) else { throw .forbidden("wrong admin token") }
        return true
    }
}
