import ActorChatCore
import ActorChatStore
import ActorChatWeb

extension ServerServices {
    /// `/metrics`: every figure the server keeps, in Prometheus's text format. Read when scraped;
    /// nothing here runs per message.
    func metricsText() async -> String {
        let counters = await rooms.counters()
        let commits = await rooms.commitHistogram()
        var text = PrometheusText()
        text.family("actorchat_connections", .gauge, help: "Open connections, by transport (http: a plain HTTP request being answered).")
        for transport in ServerMetrics.Transport.allCases { text.sample("actorchat_connections", [("transport", transport.rawValue)], metrics.open(transport)) }
        text.family("actorchat_connections_total", .counter, help: "Connections served since start, by transport; an upgraded one counts under http for its request and under websocket after it.")
        for transport in ServerMetrics.Transport.allCases { text.sample("actorchat_connections_total", [("transport", transport.rawValue)], metrics.total(transport)) }
        text.family("actorchat_users", .gauge, help: "Logged-in users.")
        text.sample("actorchat_users", [], counters.users)
        text.family("actorchat_rooms", .gauge, help: "Rooms.")
        text.sample("actorchat_rooms", [], counters.rooms)
        text.family("actorchat_messages_total", .counter, help: "Messages accepted: room sends and direct messages.")
        text.sample("actorchat_messages_total", [], counters.messagesIn)
        text.family("actorchat_deliveries_total", .counter, help: "Events queued for members: one per recipient of each broadcast.")
        text.sample("actorchat_deliveries_total", [], counters.deliveriesOut)
        let reasons = disconnectsByReason
        text.family("actorchat_disconnects_total", .counter, help: "Connections ended, by reason.")
        for (reason, count) in reasons.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            text.sample("actorchat_disconnects_total", [("reason", reason.rawValue)], count)
        }
        text.family("actorchat_slow_consumers_total", .counter, help: "Connections cut for not reading their output.")
        text.sample("actorchat_slow_consumers_total", [], reasons[.slowConsumer, default: 0])
        text.family("actorchat_errors_total", .counter, help: "Error replies sent, by code.")
        for (code, count) in metrics.errorsByCode.sorted(by: { $0.key < $1.key }) { text.sample("actorchat_errors_total", [("code", code)], count) }
        if let loop = loopFigures {
            text.family("actorchat_loop_turns_total", .counter, help: "Turns of the event loop (one epoll_wait each).")
            text.sample("actorchat_loop_turns_total", [], loop.turns)
            text.family("actorchat_bytes_out_total", .counter, help: "Bytes written to clients.")
            text.sample("actorchat_bytes_out_total", [], loop.bytesWritten)
            text.histogram(
                "actorchat_loop_write_bytes", help: "Bytes per write system call: how well output is batched.",
                bounds: LoopFigures.writeSizeBounds.map(Double.init), counts: loop.writeSizes, sum: Double(loop.bytesWritten))
            text.histogram(
                "actorchat_broadcast_seconds",
                help: "Time from a room's broadcast until the event loop has written it to the last member (or found its socket full).",
                bounds: LoopFigures.fanoutBounds.map { Double($0) / 1e9 }, counts: loop.fanoutTimes, sum: Double(loop.fanoutNanos) / 1e9)
        }
        if let commits {
            text.histogram(
                "actorchat_store_commit_seconds", help: "Time per store commit (one transaction for a group of writes).",
                bounds: StoreStatistics.commitBoundsMicros.map { Double($0) / 1e6 }, counts: commits.counts, sum: Double(commits.totalMicros) / 1e6)
        }
        return text.text
    }
}
