import CSystem
import Glibc

/// The loop's epoll instance. Every epoll call goes through here and either succeeds or throws a
/// `SystemError` for its caller to handle, so no result is ignored. EBADF and EFAULT are our bugs,
/// never the peer's, and stop the process, as in `nonBlockingCall`.
struct Epoll {
    let fd: Int32
    /// Failures a test asks for; nil outside tests.
    private let faults: InjectedFaults?

    init(faults: InjectedFaults?) throws(SystemError) {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard fd >= 0 else { throw SystemError("epoll_create1") }
        self.fd = fd
        self.faults = faults
    }

    /// Watches `descriptor` for `events`; its events carry `id`.
    func add(_ descriptor: Int32, id: UInt64, events: UInt32) throws(SystemError) {
        try control(EPOLL_CTL_ADD, descriptor, id: id, events: events, fault: .epollAdd)
    }

    /// Changes what `descriptor` is watched for (0: nothing, while it stays registered).
    func modify(_ descriptor: Int32, id: UInt64, events: UInt32) throws(SystemError) {
        try control(EPOLL_CTL_MOD, descriptor, id: id, events: events, fault: .epollModify)
    }

    func remove(_ descriptor: Int32) throws(SystemError) {
        try control(EPOLL_CTL_DEL, descriptor, id: 0, events: 0, fault: .epollRemove)
    }

    /// Waits up to `timeout` ms (-1: for ever) and returns how many events it stored; 0 when a
    /// signal interrupted the wait.
    func wait(into events: UnsafeMutablePointer<epoll_event>, capacity: Int32, timeout: Int32) throws(SystemError) -> Int {
        let count = epoll_wait(fd, events, capacity, timeout)
        if count >= 0 { return Int(count) }
        let code = errno
        if code == EINTR { return 0 }
        try Self.check("epoll_wait", code)
        return 0
    }

    func close() {
        Glibc.close(fd)
    }

    private func control(_ operation: Int32, _ descriptor: Int32, id: UInt64, events: UInt32, fault: InjectedFaults.Call) throws(SystemError) {
        if let code = faults?.take(fault) { throw SystemError("epoll_ctl", code: code) }
        var event = epoll_event()
        event.events = events
        event.data.u64 = id
        guard epoll_ctl(fd, operation, descriptor, &event) != 0 else { return }
        try Self.check("epoll_ctl", errno)
    }

    private static func check(_ call: String, _ code: Int32) throws(SystemError) {
        if code == EBADF || code == EFAULT { fatalError("\(call) failed with \(SystemError(call, code: code))") }
        throw SystemError(call, code: code)
    }
}
