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
    let metrics = ServerMetrics()
    private let openConnections = Atomic<Int>(0)
    private let disconnects = Mutex<[DisconnectReason: Int]>([:])
    private let shuttingDown = Atomic<Bool>(false)
    /// The loop the server runs on, once it runs: its figures are in `/metrics`.
    private let loop = Mutex<EventLoop?>(nil)

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

    /// True once shutdown has begun: `/healthz` answers 503.
    var isShuttingDown: Bool { shuttingDown.load(ordering: .relaxed) }

    func beginShutdown() {
        shuttingDown.store(true, ordering: .relaxed)
    }

    func attach(_ loop: EventLoop) {
        self.loop.withLock { $0 = loop }
    }

    var disconnectsByReason: [DisconnectReason: Int] { disconnects.withLock { $0 } }
    var loopFigures: LoopFigures? { loop.withLock { $0?.figures } }

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
