/// Writes Prometheus's text exposition format, version 0.0.4: a HELP and a TYPE line per metric
/// family, then its samples. Label values are escaped as the format requires.
public struct PrometheusText: Sendable {
    public private(set) var text = ""

    public init() {}

    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public mutating func family(_ name: String, _ kind: Kind, help: String) {
        text += "# HELP \(name) \(Self.escape(help, quotes: false))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    public mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: some Numeric & CustomStringConvertible) {
        text += name
        if !labels.isEmpty {
            text += "{" + labels.map { "\($0.0)=\"\(Self.escape($0.1, quotes: true))\"" }.joined(separator: ",") + "}"
        }
        text += " \(value)\n"
    }

    /// A histogram: `counts` per upper bound in `bounds` (then one past the last), and their sum.
    public mutating func histogram(_ name: String, help: String, bounds: [Double], counts: [Int], sum: Double) {
        family(name, .histogram, help: help)
        var cumulative = 0
        for (index, bound) in bounds.enumerated() {
            cumulative += counts[index]
            sample(name + "_bucket", [("le", Self.format(bound))], cumulative)
        }
        cumulative += counts[bounds.count]
        sample(name + "_bucket", [("le", "+Inf")], cumulative)
        text += "\(name)_sum \(Self.format(sum))\n"
        sample(name + "_count", [], cumulative)
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func escape(_ value: String, quotes: Bool) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"" where quotes: escaped += "\\\""
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
