import Synchronization

/// System-call failures a test scripts for an event loop: faults the kernel cannot be made to
/// produce on demand, such as an `epoll_ctl` refused for lack of memory. Production loops have none.
package final class InjectedFaults: Sendable {
    package enum Call: Hashable, Sendable {
        case accept, epollAdd, epollModify, epollRemove
    }

    /// Per call, the outcomes of its next invocations in order: an errno to fail with, or nil to run it.
    private let scripts = Mutex<[Call: [Int32?]]>([:])

    package init() {}

    /// The next invocations of `call` fail with these errnos, or run as usual where nil.
    package func script(_ call: Call, _ outcomes: [Int32?]) {
        scripts.withLock { $0[call, default: []] += outcomes }
    }

    /// The errno the next `call` must fail with, if the script says so.
    func take(_ call: Call) -> Int32? {
        scripts.withLock { scripts in
            guard var outcomes = scripts[call], !outcomes.isEmpty else { return nil }
            let next = outcomes.removeFirst()
            scripts[call] = outcomes
            return next
        }
    }
}
