/// Connections that receive the same bytes, such as a room's members. Sending to the group costs
/// one mailbox command per event loop however many connections it holds: the loop thread, not the
/// sender, queues the bytes for each connection, so the sender never touches a recipient. The loop
/// stores them once and queues a reference for each member (`OutboundBuffer`).
public struct BroadcastGroup: Sendable {
    /// Grouped by loop; a server with one loop has one entry.
    private var byLoop: [(loop: EventLoop, connections: [Connection])] = []

    public init() {}

    public init(_ connections: some Sequence<Connection>) {
        for connection in connections { insert(connection) }
    }

    public var count: Int { byLoop.reduce(0) { $0 + $1.connections.count } }

    public mutating func insert(_ connection: Connection) {
        if let index = byLoop.firstIndex(where: { $0.loop === connection.loop }) {
            byLoop[index].connections.append(connection)
        } else {
            byLoop.append((connection.loop, [connection]))
        }
    }

    public mutating func remove(_ connection: Connection) {
        guard let index = byLoop.firstIndex(where: { $0.loop === connection.loop }) else { return }
        byLoop[index].connections.removeAll { $0 === connection }
        if byLoop[index].connections.isEmpty { byLoop.remove(at: index) }
    }

    /// Queues `bytes` for every connection in the group, in order with everything else sent to each.
    public func send(_ bytes: [UInt8]) {
        let now = monotonicNanos()
        for (loop, connections) in byLoop { loop.post(.broadcast(bytes, connections, sentAt: now)) }
    }
}
