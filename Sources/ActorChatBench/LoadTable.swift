import Foundation

/// The load test's table: a two-line header (names, then units), one row per step, and a legend.
/// Header and rows come from the same columns, and every cell is right-aligned in a width its
/// values cannot outgrow (rates are scaled to k or M, latencies lose decimals as they grow), so
/// the columns line up at every magnitude.
package enum LoadTable {
    struct Column: Sendable {
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

    package static var header: [String] {
        [line(columns.map(\.title)), line(columns.map(\.unit))]
    }

    package static func row(_ index: Int, _ step: LoadTest.Step) -> String {
        line(columns.map { $0.value(index, step) })
    }

    package static let legend = [
        "offered: messages/s; expected, achieved: deliveries/s (a message to n members is n-1); ratio: achieved/expected",
        "p50 to max: ms from when a message was due to when a member read it; errors: error replies; disc: connections lost",
        "srvCPU, genCPU: CPU seconds of the server and of the generator in the step, drain included; srvRSS: server's peak memory",
    ]

    private static func line(_ cells: [String]) -> String {
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
