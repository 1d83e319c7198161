import ActorChatCore
import ActorChatProtocol
import Synchronization

/// What every session shares: the configuration, the rooms, the log and the server's counters.
public final class ServerServices: Sendable {
    public let configuration: ServerConfiguration
    public let rooms: RoomManager
    public let accounts: AccountBook
    /// The thread the sessions and the rooms share.
    public let executor: SessionExecutor
    public let log: ServerLog
    private let openConnections = Atomic<Int>(0)
    private let disconnects = Mutex<[DisconnectReason: Int]>([:])

    init(configuration: ServerConfiguration, log: ServerLog) {
        self.configuration = configuration
        self.log = log
        executor = SessionExecutor(name: "chat-sessions")
        rooms = RoomManager(limits: configuration.rooms, executor: executor)
        accounts = AccountBook(settings: configuration.accounts, rooms: rooms, executor: executor)
    }

    func connectionOpened() {
        openConnections.add(1, ordering: .relaxed)
    }

    func connectionClosed(_ reason: DisconnectReason) {
        openConnections.subtract(1, ordering: .relaxed)
        disconnects.withLock { $0[reason, default: 0] += 1 }
    }

    func recordRejection() {
        disconnects.withLock { $0[.serverFull, default: 0] += 1 }
    }

    /// The figures the admin `stats` event reports.
    public func stats() async -> JSONObject {
        let counters = await rooms.counters()
        let reasons = disconnects.withLock { $0 }
        var byReason = JSONObject()
        for reason in DisconnectReason.counted {
            byReason[reason.rawValue] = .number(String(reasons[reason, default: 0]))
        }
        return [
            "connections": .number(String(openConnections.load(ordering: .relaxed))),
            "users": .number(String(counters.users)),
            "rooms": .number(String(counters.rooms)),
            "messages_in": .number(String(counters.messagesIn)),
            "deliveries_out": .number(String(counters.deliveriesOut)),
            "bytes_queued": .number(String(counters.bytesQueued)),
            "disconnects": .object(byReason),
            "store": await rooms.storeFigures(),
        ]
    }
}
