import ActorChatClient
import ActorChatCore
import ActorChatProtocol
/// A load-test scenario: who connects, which rooms they join, and who sends.
package struct BenchScenario: Sendable, Equatable {
    package let name: String
    package let clients: Int
    /// Members per room; clients fill rooms in order.
    package let roomSize: Int
    /// Clients that send, spread over the rooms; nil: every client.
    package let senders: Int?
    /// Rates are offered messages per second for the whole scenario.
    package let defaultRate: Double

    package var rooms: Int { (clients + roomSize - 1) / roomSize }

    /// Deliveries each message should make: to every member of its room but the sender.
    package var deliveriesPerMessage: Int { roomSize - 1 }

    package static func named(_ name: String, clients: Int? = nil) -> BenchScenario? {
        switch name {
        case "fanout-100": BenchScenario(name: name, clients: 100, roomSize: 100, senders: 10, defaultRate: 10_000)
        case "fanout-1000": BenchScenario(name: name, clients: 1000, roomSize: 1000, senders: 10, defaultRate: 1000)
        case "rooms": BenchScenario(name: name, clients: 1000, roomSize: 10, senders: nil, defaultRate: 50_000)
        case "connections":
            BenchScenario(name: name, clients: clients ?? 19_000, roomSize: max(1, ((clients ?? 19_000) + 99) / 100), senders: 0, defaultRate: 0)
        case "churn": BenchScenario(name: name, clients: clients ?? 200, roomSize: 1000, senders: nil, defaultRate: 0)
        default: nil
        }
    }

    package static let names = ["fanout-100", "fanout-1000", "rooms", "connections", "churn"]

    /// Names this run's rooms, so runs against one server never meet each other's rooms.
    package var runID = "bench"

    /// The room client `index` joins.
    package func room(of index: Int) -> String { "\(runID)-\(index / roomSize)" }

    /// Whether client `index` sends: senders are spread evenly over the clients.
    package func sends(_ index: Int) -> Bool {
        guard let senders else { return true }
        guard senders > 0 else { return false }
        let stride = max(1, clients / senders)
        return index % stride == 0 && index / stride < senders
    }
}
