import Foundation

/// What idle connections cost, as a picture: the server's memory (idle, and just after the joins)
/// and the time to connect, log in and join, against the number of clients, from one
/// `loadtest --scenario connections --json` run per count. Drawn by hand, as `SweepChart` is.
package struct ConnectionsChart {
    package struct Run: Sendable, Equatable {
        package var clients: Double
        package var seconds: Double
        /// Server RSS before the clients came, just after the last join, and idle (settled), in bytes.
        package var before: Double
        package var afterJoins: Double
        package var idle: Double

        package init(clients: Double, seconds: Double, before: Double, afterJoins: Double, idle: Double) {
            self.clients = clients
            self.seconds = seconds
            self.before = before
            self.afterJoins = afterJoins
            self.idle = idle
        }

        /// A run from the load test's `--json` object; nil for another scenario's.
        package init?(json object: [String: Any]) {
            func number(_ key: String) -> Double? { (object[key] as? NSNumber)?.doubleValue }
            guard object["scenario"] as? String == "connections", let clients = number("clients"), let seconds = number("connect_seconds"),
                let before = number("server_rss_before"), let after = number("server_rss_after"), let idle = number("server_rss_idle")
            else { return nil }
            self.init(clients: clients, seconds: seconds, before: before, afterJoins: after, idle: idle)
        }

        /// Idle bytes per client: the growth over the memory before the run.
        package var idleBytesPerClient: Double { (idle - before) / max(1, clients) }
    }

    package var caption: String
    package var runs: [Run]

    package init(caption: String, runs: [Run]) {
        self.caption = caption
        self.runs = runs.sorted { $0.clients < $1.clients }
    }

    private static let width = SweepChart.width, left = SweepChart.left, right = SweepChart.right
    private static let memoryPanel = (top: 56.0, bottom: 286.0)
    private static let timePanel = (top: 336.0, bottom: 526.0)
    private static let height = 620.0
    private static let idleColor = "#1f77b4", joinColor = "#d62728", timeColor = "#2ca02c"

    package func svg() -> String {
        let xMax = SweepChart.niceCeiling(runs.map(\.clients).max() ?? 1)
        let megabytes = runs.flatMap { [$0.afterJoins, $0.idle] }.map { $0 / 1_048_576 }
        let memoryMax = SweepChart.niceCeiling(megabytes.max() ?? 1)
        let timeMax = SweepChart.niceCeiling(runs.map(\.seconds).max() ?? 1)
        let x = { (value: Double) in Self.left + value / xMax * (Self.width - Self.left - Self.right) }
        let yMemory = { (bytes: Double) in Self.memoryPanel.bottom - bytes / 1_048_576 / memoryMax * (Self.memoryPanel.bottom - Self.memoryPanel.top) }
        let yTime = { (seconds: Double) in Self.timePanel.bottom - seconds / timeMax * (Self.timePanel.bottom - Self.timePanel.top) }
        let largest = runs.last
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Self.left)" y="24" font-size="16" font-weight="bold">connections: idle clients, each logged in and in one of 100 rooms</text>

            """
        for (panel, label, yMax, y) in [
            (Self.memoryPanel, "server memory (RSS), MB", memoryMax, { (value: Double) in yMemory(value * 1_048_576) }),
            (Self.timePanel, "seconds to connect, log in and join", timeMax, yTime),
        ] {
            svg += SweepChart.panelFrame(top: panel.top, bottom: panel.bottom, label: label, xMax: xMax, x: x)
            for tick in SweepChart.ticks(upTo: yMax) {
                svg += "<line x1=\"\(Self.left)\" y1=\"\(SweepChart.format(y(tick)))\" x2=\"\(Self.width - Self.right)\" y2=\"\(SweepChart.format(y(tick)))\" stroke=\"#eee\"/>\n"
                svg += "<text x=\"\(Self.left - 6)\" y=\"\(SweepChart.format(y(tick) + 4))\" text-anchor=\"end\">\(Self.label(tick))</text>\n"
            }
        }
        for (name, color, value, panelY) in [
            ("idle (settled)", Self.idleColor, \Run.idle, yMemory), ("just after the joins", Self.joinColor, \Run.afterJoins, yMemory),
            ("time", Self.timeColor, \Run.seconds, yTime),
        ] {
            // Memory starts from the server's size before any client came.
            let start = color == Self.timeColor ? "" : runs.first.map { "\(SweepChart.format(x(0))),\(SweepChart.format(yMemory($0.before))) " } ?? ""
            let points = start + runs.map { "\(SweepChart.format(x($0.clients))),\(SweepChart.format(panelY($0[keyPath: value])))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>\n"
            for run in runs {
                svg += "<circle cx=\"\(SweepChart.format(x(run.clients)))\" cy=\"\(SweepChart.format(panelY(run[keyPath: value])))\" r=\"3\" fill=\"\(color)\"/>\n"
            }
            guard color != Self.timeColor else { continue }
            let legendY = Self.memoryPanel.top + 18 + (color == Self.idleColor ? 0 : 16)
            svg += "<line x1=\"\(Self.left + 12)\" y1=\"\(legendY - 4)\" x2=\"\(Self.left + 36)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(Self.left + 42)\" y=\"\(legendY)\">\(name)</text>\n"
        }
        if let largest {
            // The figure the targets are stated in: bytes per idle client, and the time, at the largest count.
            let perClient = String(format: "%.1f KiB per idle client", largest.idleBytesPerClient / 1024)
            svg += "<text x=\"\(SweepChart.format(x(largest.clients) - 8))\" y=\"\(SweepChart.format(yMemory(largest.afterJoins) - 12))\" text-anchor=\"end\" fill=\"\(Self.idleColor)\">\(perClient) at \(LoadTable.count(largest.clients))</text>\n"
            svg += "<text x=\"\(SweepChart.format(x(largest.clients) - 8))\" y=\"\(SweepChart.format(yTime(largest.seconds) - 8))\" text-anchor=\"end\" fill=\"\(Self.timeColor)\">\(String(format: "%.2f s", largest.seconds))</text>\n"
        }
        svg += "<text x=\"\(SweepChart.format((Self.left + Self.width - Self.right) / 2))\" y=\"\(Self.timePanel.bottom + 34)\" text-anchor=\"middle\">clients</text>\n"
        return svg + SweepChart.captionLines(caption, height: Self.height) + "</svg>\n"
    }

    private static func label(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
