/// A small argument parser in swift-argument-parser's style: `--name value`, `--name=value`,
/// flags, repeatable options and positionals, with generated usage text.
public struct CommandLineArguments: Sendable {
    public struct Option: Sendable {
        public let name: String
        /// nil for a flag, which takes no value.
        public let valueName: String?
        public let help: String
        public let repeatable: Bool

        public init(_ name: String, value: String? = nil, help: String, repeatable: Bool = false) {
            self.name = name
            self.valueName = value
            self.help = help
            self.repeatable = repeatable
        }
    }

    public struct Positional: Sendable {
        public let name: String
        public let help: String
        /// Takes every remaining argument.
        public let variadic: Bool
        public let optional: Bool

        public init(_ name: String, help: String, variadic: Bool = false, optional: Bool = false) {
            self.name = name
            self.help = help
            self.variadic = variadic
            self.optional = optional
        }
    }

    /// The parsed arguments.
    public struct Parsed: Sendable {
        public var values: [String: [String]] = [:]
        public var flags: Set<String> = []
        public var positionals: [String: [String]] = [:]

        public func value(_ name: String) -> String? { values[name]?.last }
        public func flag(_ name: String) -> Bool { flags.contains(name) }
        public func positional(_ name: String) -> String? { positionals[name]?.first }

        /// An integer option within `range`, or a usage error naming the option.
        public func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
            guard let text = value(name) else { return nil }
            guard let number = Int(text), range.contains(number) else {
                throw UsageError("--\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }

        /// A number of seconds (fractions allowed) within `range`.
        public func seconds(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
            try decimal(name, in: range, described: "seconds")
        }

        /// A number (fractions allowed) within `range`: a rate, a factor.
        public func number(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
            try decimal(name, in: range, described: "a number")
        }

        private func decimal(_ name: String, in range: ClosedRange<Double>, described what: String) throws(UsageError) -> Double? {
            guard let text = value(name) else { return nil }
            guard let number = Double(text), range.contains(number) else {
                throw UsageError("--\(name) takes \(what) from \(range.lowerBound) to \(range.upperBound), not '\(text)'")
            }
            return number
        }
    }

    public let command: String
    public let abstract: String
    public let options: [Option]
    public let positionals: [Positional]

    public init(command: String, abstract: String, options: [Option], positionals: [Positional] = []) {
        self.command = command
        self.abstract = abstract
        self.options = options + [Option("help", help: "Show help information.")]
        self.positionals = positionals
    }

    public func parse(_ arguments: some Sequence<String>) throws(UsageError) -> Parsed {
        var parsed = Parsed()
        var remaining = Array(arguments)[...]
        var loose: [String] = []
        while let argument = remaining.popFirst() {
            if argument == "--" {
                loose.append(contentsOf: remaining)
                break
            }
            guard argument.hasPrefix("-"), argument.count > 1 else {
                loose.append(argument)
                continue
            }
            if argument == "-h" {
                parsed.flags.insert("help")
                continue
            }
            guard argument.hasPrefix("--") else { throw UsageError("unknown option '\(argument)'") }
            let body = argument.dropFirst(2)
            let name = String(body.prefix { $0 != "=" })
            let inline = body.contains("=") ? String(body.drop { $0 != "=" }.dropFirst()) : nil
            guard let option = options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option '--\(name)'")
            }
            guard option.valueName != nil else {
                if inline != nil { throw UsageError("--\(name) takes no value") }
                parsed.flags.insert(name)
                continue
            }
            guard let value = inline ?? remaining.popFirst() else { throw UsageError("--\(name) needs a value") }
            if !option.repeatable && parsed.values[name] != nil { throw UsageError("--\(name) is given twice") }
            parsed.values[name, default: []].append(value)
        }
        if parsed.flag("help") { return parsed }
        var index = 0
        for positional in positionals {
            if positional.variadic {
                parsed.positionals[positional.name] = Array(loose[index...])
                if loose.count == index && !positional.optional { throw UsageError("missing <\(positional.name)>") }
                index = loose.count
            } else if index < loose.count {
                parsed.positionals[positional.name] = [loose[index]]
                index += 1
            } else if !positional.optional {
                throw UsageError("missing <\(positional.name)>")
            }
        }
        if index < loose.count { throw UsageError("unexpected argument '\(loose[index])'") }
        return parsed
    }

    /// The help text: overview, usage line, arguments and options.
    public var usage: String {
        var text = "OVERVIEW: \(abstract)\n\nUSAGE: \(command)"
        for positional in positionals {
            let name = "<\(positional.name)>\(positional.variadic ? " ..." : "")"
            text += positional.optional ? " [\(name)]" : " \(name)"
        }
        text += " [<options>]\n"
        if !positionals.isEmpty {
            text += "\nARGUMENTS:\n"
            for positional in positionals { text += Self.row("<\(positional.name)>", positional.help) }
        }
        text += "\nOPTIONS:\n"
        for option in options {
            text += Self.row("--\(option.name)\(option.valueName.map { " <\($0)>" } ?? "")", option.help)
        }
        return text
    }

    private static func row(_ left: String, _ help: String) -> String {
        let padded = left.count < 24 ? left + String(repeating: " ", count: 24 - left.count) : left + "\n" + String(repeating: " ", count: 26)
        return "  \(padded)\(help)\n"
    }
}

/// A command line that cannot be run as given; the tools print it with the usage and exit 64.
public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
