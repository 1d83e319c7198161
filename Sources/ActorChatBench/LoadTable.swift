import Foundation

/// The load test's table: a two-line header (names, then units), one row per step, and a legend.
/// Header and rows come from the same columns, and every cell is right-aligned in a width its
/// values cannot outgrow (rates are scaled to k or M, latencies lose decimals as they grow), so
/// the columns line up at every magnitude.
package enum LoadTable {
    package struct Column: Sendable {
        let title: String
        let unit: String
        let width: Int
        let value: @Sendable (Int, LoadTest.Step) -> String
    }

    static let columns: [Column] = [
        Column(title: "step", unit: "", width: 4) { index, _ in String(index) },
        Column(title: "offered", unit: "msgs/s", width: 8) { count($1.offered) },
        Column(title: "expected", unit: "dlv/s", width: 8) { count($1.expectedPerSecond) },
        Column(title: "achieved", unit: "dlv/s", width: 8) { count($1.achievedPerSecond) },
        Column(title: "ratio", unit: "", width: 6) { String(format: "%.3f", min($1.ratio, 9.999)) },
        Column(title: "p50", unit: "ms", width: 6) { milliseconds($1.figures.histogram.percentile(0.5)) },
        Column(title: "p90", unit: "ms", width: 6) { milliseconds($1.figures.histogram.percentile(0.9)) },
        Column(title: "p99", unit: "ms", width: 6) { milliseconds($1.figures.histogram.percentile(0.99)) },
        Column(title: "p99.9", unit: "ms", width: 6) { milliseconds($1.figures.histogram.percentile(0.999)) },
        Column(title: "max", unit: "ms", width: 6) { milliseconds(Double($1.figures.histogram.maxNanos) / 1e6) },
        Column(title: "errors", unit: "", width: 7) { count(Double($1.figures.errors)) },
        Column(title: "disc", unit: "", width: 6) { count(Double($1.figures.disconnects)) },
        Column(title: "srvCPU", unit: "s", width: 6) { seconds($1.serverCPUSeconds) },
        Column(title: "srvRSS", unit: "MB", width: 6) { count(Double($1.serverPeakRSS >> 20)) },
        Column(title: "genCPU", unit: "s", width: 6) { seconds($1.figures.generatorCPUSeconds) },
    ]

    /// The second table, with `--token`: the store's commits in each step, and with
    /// `--history-probe` how long a 50-message `history` took meanwhile.
    static let storeColumns: [Column] = [
        Column(title: "step", unit: "", width: 4) { index, _ in String(index) },
        Column(title: "commits", unit: "/s", width: 7) { count(Double($1.probe?.commits ?? 0) / $1.figures.seconds) },
        Column(title: "batch", unit: "mean", width: 6) { String(format: "%.1f", $1.probe?.meanBatch ?? 0) },
        Column(title: "commit", unit: "p99 ms", width: 6) { milliseconds(Double($1.probe?.p99CommitMicros ?? 0) / 1000) },
        Column(title: "store", unit: "MB", width: 6) { count(Double(($1.probe?.bytes ?? 0) >> 20)) },
        Column(title: "history", unit: "p50 ms", width: 7) { cell($1.probe?.history) { milliseconds($0.percentile(0.5)) } },
        Column(title: "history", unit: "p99 ms", width: 7) { cell($1.probe?.history) { milliseconds($0.percentile(0.99)) } },
        Column(title: "history", unit: "max ms", width: 7) { cell($1.probe?.history) { milliseconds(Double($0.maxNanos) / 1e6) } },
        Column(title: "history", unit: "errors", width: 7) { index, step in step.probe?.history == nil ? "-" : count(Double(step.probe?.historyErrors ?? 0)) },
        Column(title: "ping", unit: "p50 ms", width: 7) { cell($1.probe?.ping) { milliseconds($0.percentile(0.5)) } },
        Column(title: "ping", unit: "p99 ms", width: 7) { cell($1.probe?.ping) { milliseconds($0.percentile(0.99)) } },
    ]

    package static func header(_ columns: [Column] = columns) -> [String] {
        [line(columns.map(\.title), columns), line(columns.map(\.unit), columns)]
    }

    package static func row(_ index: Int, _ step: LoadTest.Step, _ columns: [Column] = columns) -> String {
        line(columns.map { $0.value(index, step) }, columns)
    }

    private static func cell(_ histogram: LatencyHistogram?, _ value: (LatencyHistogram) -> String) -> String {
        histogram.map(value) ?? "-"
    }

    package static let legend = [
        "offered: messages/s; expected, achieved: deliveries/s (a message to n members is n-1); ratio: achieved/expected",
        "p50 to max: ms from when a message was due to when a member read it; errors: error replies; disc: connections lost",
        "srvCPU, genCPU: CPU seconds of the server and of the generator in the step, drain included; srvRSS: server's peak memory",
        "CPU grows far slower than the load: a lightly loaded server writes each delivery at once, a busy one many per write",
    ]

    package static let storeLegend = [
        "commits: store transactions per second; batch: writes per commit; commit: p99 of the newest 4,096 commits",
        "store: the file and its WAL; history: ms for a 50-message history request, one every 10 ms (--history-probe)",
        "ping: ms for a ping sent right after each probing history, on the same connection: what any request waits",
    ]

    private static func line(_ cells: [String], _ columns: [Column]) -> String {
        zip(columns, cells).map { column, cell in
            String(repeating: " ", count: max(0, column.width - cell.count)) + cell
        }.joined(separator: "  ")
    }

    /// At most 6 characters below 10 G: "999", "99.9k", "999.9k", "99.99M".
    static func count(_ value: Double) -> String {
        switch value {
        case 1e9...: String(format: "%.2fG", value / 1e9)
        case 1e6...: String(format: "%.2fM", value / 1e6)
        case 1e3...: String(format: "%.1fk", value / 1e3)
        default: String(format: "%.0f", value)
        }
    }

    /// At most 6 characters up to the histogram's 10 s ceiling: "0.37", "12.5", "312", "10000".
    static func milliseconds(_ value: Double) -> String {
        switch value {
        case 100...: String(format: "%.0f", value)
        case 10...: String(format: "%.1f", value)
        default: String(format: "%.2f", value)
        }
    }

    static func seconds(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
    }
}
