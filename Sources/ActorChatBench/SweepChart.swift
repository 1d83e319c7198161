import Foundation

/// A sweep as a picture (`--svg FILE`): a self-contained SVG with two panels over the offered
/// load, achieved deliveries per second (with the line where achieved equals offered), and p50
/// and p99 latency on a log axis; one line per server, the capacity point circled, and the
/// command, the machine and the date in the caption. Written by hand, with no plotting package.
package struct SweepChart {
    package struct Point: Sendable {
        /// Deliveries per second offered: the messages per second the step offered, times the
        /// members each should reach (what was sent may fall short of it when the generator does).
        package var offered: Double
        package var achieved: Double
        package var p50: Double
        package var p99: Double

        package init(offered: Double, achieved: Double, p50: Double, p99: Double) {
            self.offered = offered
            self.achieved = achieved
            self.p50 = p50
            self.p99 = p99
        }
    }

    package struct Series: Sendable {
        package var name: String
        package var points: [Point]
        /// The index of the last sustained step, if any.
        package var capacity: Int?

        package init(name: String, points: [Point], capacity: Int?) {
            self.name = name
            self.points = points
            self.capacity = capacity
        }
    }

    package var title: String
    package var caption: String
    package var series: [Series]

    package init(title: String, caption: String, series: [Series]) {
        self.title = title
        self.caption = caption
        self.series = series
    }

    /// The page and its margins, shared with `ConnectionsChart`.
    static let width = 760.0, left = 80.0, right = 24.0
    private static let throughputPanel = (top: 56.0, bottom: 286.0)
    private static let latencyPanel = (top: 336.0, bottom: 566.0)
    private static let height = 660.0
    private static let colors = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf"]

    package func svg() -> String {
        let points = series.flatMap(\.points)
        let xMax = Self.niceCeiling(points.map(\.offered).max() ?? 1)
        let yMax = Self.niceCeiling(max(xMax, points.map(\.achieved).max() ?? 1))
        let latencies = points.flatMap { [$0.p50, $0.p99] }.filter { $0 > 0 }
        let lowDecade = Int((log10(latencies.min() ?? 0.1)).rounded(.down))
        let highDecade = max(lowDecade + 1, Int((log10(latencies.max() ?? 1)).rounded(.up)))
        let x = { (value: Double) in Self.left + value / xMax * (Self.width - Self.left - Self.right) }
        let yThroughput = { (value: Double) in Self.throughputPanel.bottom - value / yMax * (Self.throughputPanel.bottom - Self.throughputPanel.top) }
        let yLatency = { (value: Double) -> Double in
            let clamped = max(value, pow(10, Double(lowDecade)))
            let fraction = (log10(clamped) - Double(lowDecade)) / Double(highDecade - lowDecade)
            return Self.latencyPanel.bottom - fraction * (Self.latencyPanel.bottom - Self.latencyPanel.top)
        }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(Self.width))" height="\(Int(Self.height))" viewBox="0 0 \(Int(Self.width)) \(Int(Self.height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Self.left)" y="24" font-size="16" font-weight="bold">\(Self.escape(title))</text>

            """
        // Axes, ticks and grid lines.
        for (panel, label) in [(Self.throughputPanel, "deliveries/s achieved"), (Self.latencyPanel, "latency, ms (log)")] {
            svg += Self.panelFrame(top: panel.top, bottom: panel.bottom, label: label, xMax: xMax, x: x)
        }
        for tick in Self.ticks(upTo: yMax) {
            svg += "<line x1=\"\(Self.left)\" y1=\"\(Self.format(yThroughput(tick)))\" x2=\"\(Self.width - Self.right)\" y2=\"\(Self.format(yThroughput(tick)))\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(Self.left - 6)\" y=\"\(Self.format(yThroughput(tick) + 4))\" text-anchor=\"end\">\(LoadTable.count(tick))</text>\n"
        }
        for decade in lowDecade...highDecade {
            let value = pow(10, Double(decade))
            svg += "<line x1=\"\(Self.left)\" y1=\"\(Self.format(yLatency(value)))\" x2=\"\(Self.width - Self.right)\" y2=\"\(Self.format(yLatency(value)))\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(Self.left - 6)\" y=\"\(Self.format(yLatency(value) + 4))\" text-anchor=\"end\">\(Self.latencyLabel(value))</text>\n"
        }
        // Where achieved equals offered, and the 200 ms the sweep allows.
        svg += "<line x1=\"\(Self.format(x(0)))\" y1=\"\(Self.format(yThroughput(0)))\" x2=\"\(Self.format(x(xMax)))\" y2=\"\(Self.format(yThroughput(xMax)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
        if Double(lowDecade) <= log10(200), log10(200) <= Double(highDecade) {
            svg += "<line x1=\"\(Self.left)\" y1=\"\(Self.format(yLatency(200)))\" x2=\"\(Self.width - Self.right)\" y2=\"\(Self.format(yLatency(200)))\" stroke=\"#999\" stroke-dasharray=\"4 4\"/>\n"
            svg += "<text x=\"\(Self.width - Self.right)\" y=\"\(Self.format(yLatency(200) - 4))\" text-anchor=\"end\" fill=\"#666\">200 ms</text>\n"
        }
        // The series, with a legend.
        var labels: [CapacityLabel] = []
        for (index, line) in series.enumerated() {
            let color = Self.colors[index % Self.colors.count]
            let throughput = line.points.map { "\(Self.format(x($0.offered))),\(Self.format(yThroughput($0.achieved)))" }.joined(separator: " ")
            let p99 = line.points.map { "\(Self.format(x($0.offered))),\(Self.format(yLatency($0.p99)))" }.joined(separator: " ")
            let p50 = line.points.map { "\(Self.format(x($0.offered))),\(Self.format(yLatency($0.p50)))" }.joined(separator: " ")
            svg += "<polyline class=\"achieved\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(throughput)\"/>\n"
            svg += "<polyline class=\"p99\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(p99)\"/>\n"
            svg += "<polyline class=\"p50\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.5\" stroke-dasharray=\"5 3\" points=\"\(p50)\"/>\n"
            // A dot per step, so the steps show where the line bends.
            for point in line.points {
                svg += "<circle cx=\"\(Self.format(x(point.offered)))\" cy=\"\(Self.format(yThroughput(point.achieved)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
                svg += "<circle cx=\"\(Self.format(x(point.offered)))\" cy=\"\(Self.format(yLatency(point.p99)))\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            if let capacity = line.capacity, line.points.indices.contains(capacity) {
                let point = line.points[capacity]
                svg += "<circle class=\"capacity\" cx=\"\(Self.format(x(point.offered)))\" cy=\"\(Self.format(yThroughput(point.achieved)))\" r=\"6\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
                labels.append(CapacityLabel(
                    x: x(point.offered) + 9, y: yThroughput(point.achieved) + 18, color: color,
                    text: "\(Self.escape(line.name)): capacity \(LoadTable.count(point.achieved))"))
            }
            // The legend, in the throughput panel's top left, which the lines rising from the
            // bottom left leave empty.
            let legendY = Self.throughputPanel.top + 18 + Double(index) * 16
            svg += "<line x1=\"\(Self.left + 12)\" y1=\"\(legendY - 4)\" x2=\"\(Self.left + 36)\" y2=\"\(legendY - 4)\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            svg += "<text x=\"\(Self.left + 42)\" y=\"\(legendY)\">\(Self.escape(line.name))</text>\n"
        }
        for label in CapacityLabel.spreadApart(labels) {
            svg += "<text x=\"\(Self.format(label.x))\" y=\"\(Self.format(label.y))\" fill=\"\(label.color)\">\(label.text)</text>\n"
        }
        svg += "<text x=\"\(Self.width - Self.right)\" y=\"\(Self.latencyPanel.top - 8)\" text-anchor=\"end\" fill=\"#666\">solid p99, dashed p50</text>\n"
        svg += "<text x=\"\(Self.format((Self.left + Self.width - Self.right) / 2))\" y=\"\(Self.latencyPanel.bottom + 34)\" text-anchor=\"middle\">deliveries/s offered</text>\n"
        return svg + Self.captionLines(caption, height: Self.height) + "</svg>\n"
    }

    /// A panel's label, its axes, and the x axis's ticks with their grid lines.
    static func panelFrame(top: Double, bottom: Double, label: String, xMax: Double, x: (Double) -> Double) -> String {
        var svg = "<text x=\"\(left)\" y=\"\(top - 8)\" font-weight=\"bold\">\(escape(label))</text>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(width - right)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
        for tick in ticks(upTo: xMax) {
            svg += "<line x1=\"\(format(x(tick)))\" y1=\"\(top)\" x2=\"\(format(x(tick)))\" y2=\"\(bottom)\" stroke=\"#eee\"/>\n"
            svg += "<text x=\"\(format(x(tick)))\" y=\"\(bottom + 16)\" text-anchor=\"middle\">\(LoadTable.count(tick))</text>\n"
        }
        return svg
    }

    /// The caption's parts ("; " apart), each on a line of its own at the foot, so a long command fits.
    static func captionLines(_ caption: String, height: Double) -> String {
        let lines = caption.components(separatedBy: "; ")
        return lines.enumerated().map { index, line in
            let y = height - 10 - Double(lines.count - 1 - index) * 14
            return "<text x=\"12\" y=\"\(format(y))\" font-size=\"11\" fill=\"#444\">\(escape(line))</text>\n"
        }.joined()
    }

    /// The smallest 1, 2 or 5 times a power of ten at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, (log10(value)).rounded(.down))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= value * 0.999_999 } ?? 10 * magnitude
    }

    /// Four or five evenly spaced round values from 0 to `maximum`.
    static func ticks(upTo maximum: Double) -> [Double] {
        let step = niceCeiling(maximum / 5)
        return stride(from: 0, through: maximum * 1.000_001, by: step).map { $0 }
    }

    private static func latencyLabel(_ value: Double) -> String {
        value < 1 ? String(format: "%.1f", value) : String(format: "%.0f", value)
    }

    static func format(_ value: Double) -> String {
        String(format: "%.1f", value)
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}

extension SweepChart {
    /// The series in the rows `scripts/peers.sh` prints (the C generator's table: server, offered
    /// msgs/s, expected/s, achieved/s, ratio, p50, p90, p99, p99.9, max, errors, disc, …), one
    /// series per server in order of first appearance. `deliveriesPerMessage` turns the offered
    /// messages into offered deliveries; a step counts as sustained by the load test's rule.
    package static func series(fromPeerRows text: String, deliveriesPerMessage: Int) -> [Series] {
        var order: [String] = []
        var byServer: [String: Series] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 12, let offered = Double(fields[1]), let achieved = Double(fields[3]), let ratio = Double(fields[4]),
                let p50 = Double(fields[5]), let p99 = Double(fields[7]), let errors = Int(fields[10]), let disconnects = Int(fields[11])
            else { continue }
            let server = fields[0]
            if byServer[server] == nil { order.append(server) }
            var series = byServer[server] ?? Series(name: server, points: [], capacity: nil)
            series.points.append(Point(offered: offered * Double(deliveriesPerMessage), achieved: achieved, p50: p50, p99: p99))
            if ratio >= 0.99, p99 <= 200, errors == 0, disconnects == 0 { series.capacity = series.points.count - 1 }
            byServer[server] = series
        }
        return order.compactMap { byServer[$0] }
    }

    /// A capacity point's label, below and to the right of its circle.
    private struct CapacityLabel {
        let x: Double
        var y: Double
        let color: String
        let text: String

        /// Moves labels down, top first, until none overprints another: servers with the same or
        /// nearly the same capacity would otherwise write their labels over each other.
        static func spreadApart(_ labels: [CapacityLabel]) -> [CapacityLabel] {
            let lineHeight = 14.0
            var placed: [CapacityLabel] = []
            for var label in labels.sorted(by: { $0.y < $1.y }) {
                while let below = placed.first(where: { label.overlaps($0, lineHeight: lineHeight) }) {
                    label.y = below.y + lineHeight
                }
                placed.append(label)
            }
            return placed
        }

        /// About 7 px a character at the chart's 12-px font.
        private func overlaps(_ other: CapacityLabel, lineHeight: Double) -> Bool {
            abs(y - other.y) < lineHeight && x < other.x + Double(other.text.count) * 7 && other.x < x + Double(text.count) * 7
        }
    }
}
