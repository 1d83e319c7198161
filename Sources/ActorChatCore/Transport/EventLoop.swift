import Glibc
import CSystem
import Foundation
import Synchronization

/// One thread blocked in epoll_wait, serving many non-blocking sockets. Other threads talk to it
/// through a mailbox and an eventfd; all socket I/O and every fd's lifecycle happen on the loop
/// thread, so an fd is never closed while another thread might still use it.
public final class EventLoop: Sendable {
    let epoll: Epoll
    let wakeFD: Int32
    /// System-call failures a test scripts; nil in production.
    let faults: InjectedFaults?
    /// The executor the loop's reads wake (the sessions'), woken once per turn rather than once per read.
    let sessions: SessionExecutor?
    /// Where failures the loop handles itself are told, so that none passes silently.
    private let onError: @Sendable (SystemError) -> Void
    /// The loop thread's pthread id, for the debug-build check that loop-only state stays there.
    private let threadID = Atomic<UInt>(0)
    private let mailbox = Mutex<Mailbox>(Mailbox())
    private let wakeRequested = Atomic<Bool>(false)
    private let nextID = Atomic<UInt64>(1)
    private let finished = Mutex<Finished>(Finished())
    /// The loop's figures as last published (four times a second).
    let published = Mutex<LoopFigures>(LoopFigures())

    struct Mailbox {
        var commands: [Command] = []
        var stopped = false
    }

    struct Finished {
        var done = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    enum Command: Sendable {
        case register(Connection, connecting: CheckedContinuation<Void, any Error>?)
        case listen(Listener)
        /// Bytes for one connection, queued behind everything sent to it before.
        case write(Connection, [UInt8])
        /// The same bytes for every connection in the list: one command, however many recipients.
        /// `sentAt` (monotonic ns) times the fan-out.
        case broadcast([UInt8], [Connection], sentAt: UInt64)
        case resumeReading(Connection)
        /// From now on the connection's output is framed for WebSocket.
        case upgradeToWebSocket(Connection, masked: Bool)
        /// A WebSocket frame, queued as it is; `closes` marks a close frame.
        case writeFrame(Connection, [UInt8], closes: Bool)
        case close(Connection, CloseMode)
        case closeListener(Listener)
        case closeAll(notice: [UInt8], reason: DisconnectReason)
        case stop
    }

    enum CloseMode: Sendable {
        /// Write what is queued (within the drain deadline), half-close, then close.
        case drain
        /// One last write attempt, then close.
        case abort
    }

    /// The loop clients use unless given one.
    public static let shared: EventLoop = {
        do { return try EventLoop(name: "actor-chat-io") } catch {
            fatalError("cannot start the shared event loop: \(error)")
        }
    }()

    /// Creates the loop and starts its thread. `onError` hears of failures the loop handles itself
    /// (a listener that could not be watched again, say); by default they go to stderr.
    /// `sessions` is the executor the sessions reading from this loop's connections run on: a
    /// turn's reads wake it once, at the end of the turn, instead of once per read.
    public convenience init(
        name: String, sessions: SessionExecutor? = nil, onError: @escaping @Sendable (SystemError) -> Void = EventLoop.printError
    ) throws(SystemError) {
        try self.init(name: name, sessions: sessions, onError: onError, faults: nil)
    }

    /// A loop whose system calls fail as `faults` scripts: for tests of faults the kernel cannot
    /// be made to produce.
    package init(
        name: String, sessions: SessionExecutor? = nil, onError: @escaping @Sendable (SystemError) -> Void = EventLoop.printError,
        faults: InjectedFaults?
    ) throws(SystemError) {
        // Set up in locals first: once every stored property is set, a throw would run deinit,
        // which closes both descriptors, and closing them here too would close someone else's.
        let epoll = try Epoll(faults: faults)
        let wake = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        guard wake >= 0 else {
            let error = SystemError("eventfd")
            epoll.close()
            throw error
        }
        do {
            try epoll.add(wake, id: 0, events: EPOLLIN.rawValue)
        } catch {
            Glibc.close(wake)
            epoll.close()
            throw error
        }
        self.epoll = epoll
        wakeFD = wake
        self.faults = faults
        self.sessions = sessions
        self.onError = onError
        let thread = Thread { [self] in
            threadID.store(UInt(pthread_self()), ordering: .releasing)
            Thread.nameCurrent(name)
            let driver = LoopDriver(loop: self)
            driver.run()
            self.didFinish()
        }
        thread.start()
    }

    /// The default for `onError`: one line on stderr.
    public static let printError: @Sendable (SystemError) -> Void = { error in
        var line = "event loop: \(error)\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    deinit {
        // Only now: a late `post` from another thread may still write to wakeFD until the last reference goes.
        Glibc.close(wakeFD)
        epoll.close()
    }

    /// Binds and listens on `address`; accepted connections go to `onAccept` on the loop thread.
    /// The default backlog asks for the most the kernel allows (it caps it at net.core.somaxconn):
    /// a handshake completes before the server accepts, so a connection storm arriving while the
    /// loop is busy overflows a short queue, and each overflow costs the client a one-second SYN retry.
    public func listen(
        on address: SocketAddress, backlog: Int32 = Int32.max, limits: ConnectionLimits = ConnectionLimits(),
        admission: Admission = Admission(),
        onAccept: @escaping @Sendable (Connection) -> Void,
        onEvent: @escaping @Sendable (ListenerEvent) -> Void = { _ in }
    ) throws(SystemError) -> Listener {
        let fd = try Socket.listen(on: address, backlog: backlog)
        let listener = Listener(
            id: makeID(), fd: fd, address: Socket.localAddress(fd) ?? address, loop: self, limits: limits,
            admission: admission, onAccept: onAccept, onEvent: onEvent)
        post(.listen(listener))
        return listener
    }

    /// Connects to `address` (from `source` when given) and returns once the TCP handshake has
    /// completed. With `onRead`, input goes to that handler on the loop thread rather than to
    /// `inbound` (see `Connection.InboundSink`).
    public func connect(
        to address: SocketAddress, from source: SocketAddress? = nil, limits: ConnectionLimits = ConnectionLimits(),
        onRead: (@Sendable (UnsafeRawBufferPointer?) -> Void)? = nil
    ) async throws -> Connection {
        let fd = try Socket.connect(to: address, from: source)
        let connection = Connection(id: makeID(), fd: fd, peer: address, loop: self, limits: SharedConnectionLimits(limits), readHandler: onRead)
        try await withCheckedThrowingContinuation { continuation in
            post(.register(connection, connecting: continuation))
        }
        return connection
    }

    /// Sends `notice` to every connection, then closes each once its output is written.
    public func closeAll(notice: [UInt8], reason: DisconnectReason) {
        post(.closeAll(notice: notice, reason: reason))
    }

    /// Two connected sockets served by this loop: the transport without TCP, for tests and in-process peers.
    public func connectedPair(limits: ConnectionLimits = ConnectionLimits()) async throws -> (Connection, Connection) {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw SystemError("socketpair")
        }
        var storage = sockaddr_storage()
        storage.ss_family = sa_family_t(AF_UNIX)
        let address = SocketAddress(storage: storage, length: socklen_t(MemoryLayout<sa_family_t>.size))
        let shared = SharedConnectionLimits(limits)
        let pair = fds.map { Connection(id: makeID(), fd: $0, peer: address, loop: self, limits: shared) }
        // A socketpair is writable at once, so registering it completes like a finished connect.
        for (index, connection) in pair.enumerated() {
            do {
                try await withCheckedThrowingContinuation { post(.register(connection, connecting: $0)) }
            } catch {
                pair[(index + 1)...].forEach { Glibc.close($0.fd) }
                throw error
            }
        }
        return (pair[0], pair[1])
    }

    /// What the loop has done, as of its last publication (at most a quarter second old).
    public var figures: LoopFigures { published.withLock { $0 } }

    /// Closes every connection and listener, then ends the thread.
    public func stop() async {
        post(.stop)
        await withCheckedContinuation { continuation in
            let done = finished.withLock { state -> Bool in
                if !state.done { state.waiters.append(continuation) }
                return state.done
            }
            if done { continuation.resume() }
        }
    }

    func post(_ command: Command) {
        let accepted = mailbox.withLock { mailbox -> Bool in
            guard !mailbox.stopped else { return false }
            mailbox.commands.append(command)
            return true
        }
        guard accepted else {
            Self.refuse(command)
            return
        }
        // Appending happens before the exchange, and the loop clears the flag before it drains,
        // so a command is either drained this turn or its poster writes the eventfd.
        if !wakeRequested.exchange(true, ordering: .acquiringAndReleasing) {
            var one: UInt64 = 1
            _ = Glibc.write(wakeFD, &one, MemoryLayout<UInt64>.size)
        }
    }

    /// A command that arrives after the loop stopped still resumes whoever waits on it.
    private static func refuse(_ command: Command) {
        switch command {
        case .register(let connection, let connecting):
            connection.finishInbound()
            Glibc.close(connection.fd)
            connecting?.resume(throwing: SystemError("connect", code: ECANCELED))
        case .listen(let listener):
            Glibc.close(listener.fd)
            listener.onEvent(.closed)
        default:
            break
        }
    }

    /// Tells `onError` of a failure the loop handled.
    func report(_ error: SystemError) {
        onError(error)
    }

    /// Stops a debug build when state that only the loop thread may touch is touched elsewhere
    /// (NIO's `assertInEventLoop`). Costs nothing in a release build.
    func assertOnLoopThread(file: StaticString = #fileID, line: UInt = #line) {
        assert(threadID.load(ordering: .acquiring) == UInt(pthread_self()), "touched off its event loop's thread", file: file, line: line)
    }

    func makeID() -> UInt64 {
        nextID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Called by the driver each turn, before it drains the mailbox: swaps the queued commands
    /// into `batch` (empty, with capacity), so neither side allocates in the steady state.
    func takeCommands(into batch: inout [Command]) {
        wakeRequested.store(false, ordering: .sequentiallyConsistent)
        mailbox.withLock { swap(&$0.commands, &batch) }
    }

    /// Called by the driver when it stops: later commands are refused.
    func closeMailbox() -> [Command] {
        mailbox.withLock { mailbox in
            mailbox.stopped = true
            defer { mailbox.commands = [] }
            return mailbox.commands
        }
    }

    private func didFinish() {
        let waiters = finished.withLock { state in
            state.done = true
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }
}
