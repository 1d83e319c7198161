import ActorChatProtocol

/// What one worker measured in one step.
package struct BenchStepFigures: Sendable {
    package var sent: Int
    package var received: Int
    package var histogram: LatencyHistogram
    package var errors: Int
    package var disconnects: Int
    /// Sequence numbers skipped, seen twice, and seen out of order, summed over receivers.
    package var losses: Int
    package var duplicates: Int
    package var reorders: Int
    package var generatorCPUSeconds: Double
    package var seconds: Double

    package var json: JSONValue {
        .object([
            "sent": .number(String(sent)), "received": .number(String(received)), "latency": histogram.json,
            "errors": .number(String(errors)), "disconnects": .number(String(disconnects)),
            "losses": .number(String(losses)), "duplicates": .number(String(duplicates)), "reorders": .number(String(reorders)),
            "generator_cpu_s": .number(String(generatorCPUSeconds)), "seconds": .number(String(seconds)),
        ])
    }

    package init(
        sent: Int, received: Int, histogram: LatencyHistogram, errors: Int, disconnects: Int, losses: Int = 0, duplicates: Int = 0,
        reorders: Int = 0, generatorCPUSeconds: Double, seconds: Double
    ) {
        self.sent = sent
        self.received = received
        self.histogram = histogram
        self.errors = errors
        self.disconnects = disconnects
        self.losses = losses
        self.duplicates = duplicates
        self.reorders = reorders
        self.generatorCPUSeconds = generatorCPUSeconds
        self.seconds = seconds
    }

    package init?(json: JSONValue) {
        guard let object = json.object, let histogram = object["latency"].flatMap(LatencyHistogram.init(json:)) else { return nil }
        func number(_ key: String) -> Double { object[key].flatMap { if case .number(let n) = $0 { Double(n) } else { nil } } ?? 0 }
        self.init(
            sent: Int(number("sent")), received: Int(number("received")), histogram: histogram, errors: Int(number("errors")),
            disconnects: Int(number("disconnects")), losses: Int(number("losses")), duplicates: Int(number("duplicates")),
            reorders: Int(number("reorders")), generatorCPUSeconds: number("generator_cpu_s"), seconds: number("seconds"))
    }

    /// Adds another worker's figures for the same step.
    package mutating func merge(_ other: BenchStepFigures) {
        sent += other.sent
        received += other.received
        histogram.merge(other.histogram)
        errors += other.errors
        disconnects += other.disconnects
        losses += other.losses
        duplicates += other.duplicates
        reorders += other.reorders
        generatorCPUSeconds += other.generatorCPUSeconds
    }
}
