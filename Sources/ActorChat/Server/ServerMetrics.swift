import ActorChatCore
import Synchronization

/// The server's own counters for `/metrics`, beside the rooms' and the loop's figures. Each is an
/// atomic or is touched once per connection or per error, never once per message.
final class ServerMetrics: Sendable {
    enum Transport: String, CaseIterable {
        case tcp
        case websocket
        /// A plain HTTP request (the web client's files, health, metrics) being answered.
        case http

        var index: Int { Self.allCases.firstIndex(of: self)! }
    }

    /// Open connections and connections served, per transport, in `Transport.allCases` order.
    private let open = [MetricCounter(), MetricCounter(), MetricCounter()]
    private let served = [MetricCounter(), MetricCounter(), MetricCounter()]
    private let errors = Mutex<[String: Int]>([:])

    func opened(_ transport: Transport) {
        open[transport.index].value.add(1, ordering: .relaxed)
        served[transport.index].value.add(1, ordering: .relaxed)
    }

    func closed(_ transport: Transport) {
        open[transport.index].value.subtract(1, ordering: .relaxed)
    }

    /// An HTTP connection became a WebSocket one.
    func upgraded() {
        closed(.http)
        opened(.websocket)
    }

    func error(_ code: String) {
        errors.withLock { $0[code, default: 0] += 1 }
    }

    func open(_ transport: Transport) -> Int { open[transport.index].value.load(ordering: .relaxed) }
    func total(_ transport: Transport) -> Int { served[transport.index].value.load(ordering: .relaxed) }
    var errorsByCode: [String: Int] { errors.withLock { $0 } }
}

/// One counter, shared by reference so counters can sit in an array.
final class MetricCounter: Sendable {
    let value = Atomic<Int>(0)
}
