import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct LatencyHistogramTests {
    @Test func percentilesMergeAndJSON() throws {
        var histogram = LatencyHistogram()
        for micros in 1...1000 { histogram.record(nanos: UInt64(micros) * 1000) }
        #expect(histogram.total == 1000)
        #expect(abs(histogram.percentile(0.5) - 0.5) <= 0.0101, "within one 10 µs bucket")
        #expect(abs(histogram.percentile(0.99) - 0.99) <= 0.0101, "within one 10 µs bucket")
        #expect(histogram.percentile(1) == 1.0)
        var other = LatencyHistogram()
        other.record(nanos: 20_000_000_000)
        histogram.merge(other)
        #expect(histogram.total == 1001)
        #expect(histogram.maxNanos == 20_000_000_000)
        #expect(LatencyHistogram(json: histogram.json) == histogram)
    }

    @Test func scenariosSpreadSendersAndRooms() throws {
        let fanout = try #require(BenchScenario.named("fanout-100"))
        #expect((0..<100).filter(fanout.sends).count == 10)
        #expect(fanout.deliveriesPerMessage == 99)
        let rooms = try #require(BenchScenario.named("rooms"))
        #expect(rooms.rooms == 100)
        #expect(rooms.room(of: 19) == "bench-1")
        #expect(BenchScenario.named("nope") == nil)
    }
}

@Suite struct BenchClientTests {
    @Test func countsLossesDuplicatesAndReordersInSeq() {
        let tally = BenchTally()
        let client = BenchClient(index: 7, room: "r", tally: tally)
        func message(_ seq: Int, from sender: Int = 1) -> String {
            #"{"event":"message","params":{"room":"r","from":"b","text":"123|\#(sender)|xx","seq":\#(seq),"ts":1}}"# + "\n"
        }
        let stream = [1, 2, 4, 4, 3, 5].map { message($0) }.joined() + #"{"event":"joined","params":{}}"# + "\n" + message(6, from: 7)
        let bytes = Array(stream.utf8)
        // Split mid-line, so lines carried across reads are scanned too.
        bytes[..<50].withUnsafeBytes { client.consume($0) }
        bytes[50...].withUnsafeBytes { client.consume($0) }
        let totals = tally.totals.withLock { $0 }
        #expect(totals.counts.losses == 1)
        #expect(totals.counts.duplicates == 1)
        #expect(totals.counts.reorders == 1)
        #expect(totals.counts.received == 6)
        #expect(totals.counts.joined == 1)
        #expect(totals.histogram.total == 6)
    }

    @Test func readsMessagesWhateverTheOrderOfTheirParams() {
        let tally = BenchTally()
        let client = BenchClient(index: 7, room: "r", tally: tally)
        // The server's own order is read by skipping the names; any other order by searching for the text.
        let lines = [
            #"{"event":"message","params":{"room":"r","from":"b","text":"123|1|xx","seq":1,"ts":1}}"#,
            #"{"event":"message","params":{"text":"123|1|xx","room":"r","from":"b","seq":2,"ts":1}}"#,
            #"{"event":"message","params":{"room":"r","text":"123|1|xx","from":"b","seq":3,"ts":1}}"#,
        ]
        Array((lines.joined(separator: "\n") + "\n").utf8).withUnsafeBytes { client.consume($0) }
        let totals = tally.totals.withLock { $0 }
        #expect(totals.counts.received == 3)
        #expect(totals.counts.losses == 0 && totals.counts.reorders == 0)
    }
}

@Suite struct BenchWorkerTests {
    /// A server with the fanout scenario's room (at `roomLimit`) and a worker for its first `clients` clients.
    private static func fanout(clients: Int, roomLimit: Int, pipeline: Int = 1, trickle: Bool = false) async throws -> (TestServer, BenchWorker) {
        let server = try await TestServer.start {
            $0.unlimitedRate()
            $0.maxConnectionsPerAddress = 1000
        }
        var scenario = try #require(BenchScenario.named("fanout-100"))
        scenario.runID = "t"
        let setup = try await server.client("setup")
        try await setup.request("create_room", ["room": "t-0", "limit": .number(String(roomLimit))])
        return (server, try BenchWorker(scenario: scenario, indices: 0..<clients, host: "127.0.0.1", port: server.port, pipeline: pipeline, trickle: trickle))
    }

    /// Clients arriving in a burst (all logins, then all joins) or one at a time (each joining on
    /// its own welcome) end up the same: all in, every message to everyone.
    @Test(arguments: [false, true])
    func aSmallFanoutDeliversAndCountsExactly(trickle: Bool) async throws {
        let (server, worker) = try await Self.fanout(clients: 100, roomLimit: 100, trickle: trickle)
        try await worker.connectAll()
        let figures = await worker.run(rate: 400, seconds: 0.5)
        #expect(figures.sent == 200)
        #expect(figures.received == figures.sent * 99)
        #expect(figures.histogram.total == figures.received)
        #expect(figures.errors == 0)
        #expect(figures.disconnects == 0)
        await worker.stop()
        await server.stop()
    }

    @Test func pipelinedSendersDeliverEveryMessageInOrder() async throws {
        let (server, worker) = try await Self.fanout(clients: 100, roomLimit: 100, pipeline: 8)
        try await worker.connectAll()
        // 400 messages/s for 0.5 s is 200 due, in 25 writes of 8: the last write is due at 0.4975 s.
        let figures = await worker.run(rate: 400, seconds: 0.5)
        #expect(figures.sent == 200)
        #expect(figures.received == figures.sent * 99)
        #expect(figures.losses == 0 && figures.duplicates == 0 && figures.reorders == 0)
        #expect(figures.errors == 0)
        // A write leaves when its last message is due, stamped with its first's due time: messages
        // wait 0 to 17.5 ms (7 × 2.5 ms) to fill it, so the median is at least 5 ms however fast the machine.
        #expect(figures.histogram.percentile(0.5) >= 5)
        await worker.stop()
        await server.stop()
    }

    @Test func aPipelinedSenderPutsItsMessagesInOneWrite() async throws {
        // A stand-in server that welcomes, confirms the join, then records what each read brought.
        let loop = try EventLoop(name: "fake-server")
        let (accepted, continuation) = AsyncStream.makeStream(of: Connection.self)
        let listener = try loop.listen(on: try SocketAddress.resolve(host: "127.0.0.1", port: 0)[0], onAccept: { continuation.yield($0) })
        var scenario = try #require(BenchScenario.named("fanout-100"))
        scenario.runID = "t"
        let worker = try BenchWorker(scenario: scenario, indices: 0..<1, host: "127.0.0.1", port: listener.address.port, pipeline: 8)
        let server = Task {
            var sendsPerRead: [Int] = []
            for await connection in accepted {
                for await chunk in connection.inbound {
                    let lines = String(decoding: chunk, as: UTF8.self).split(separator: "\n")
                    if lines.contains(where: { $0.contains(#""event":"login""#) }) { connection.send(Array("{\"event\":\"welcome\",\"params\":{}}\n".utf8)) }
                    if lines.contains(where: { $0.contains(#""event":"join""#) }) { connection.send(Array("{\"event\":\"joined\",\"params\":{}}\n".utf8)) }
                    let sends = lines.filter { $0.contains(#""event":"send""#) }.count
                    if sends > 0 { sendsPerRead.append(sends) }
                    connection.didConsume(chunk.count)
                    if sendsPerRead.reduce(0, +) >= 200 { return sendsPerRead }
                }
            }
            return sendsPerRead
        }
        try await worker.connectAll()
        let figures = await worker.run(rate: 400, seconds: 0.5, drainSeconds: 1)
        let sendsPerRead = try await withDeadline(.seconds(10), waitingFor: "200 sends at the stand-in server") { await server.value }
        #expect(figures.sent == 200)
        #expect(sendsPerRead.reduce(0, +) == 200)
        #expect(sendsPerRead.allSatisfy { $0 % 8 == 0 }, "each write carries 8 messages: \(sendsPerRead)")
        await worker.stop()
        await loop.stop()
    }

    @Test func churnScannerFindsTheEndOfARoundHoweverTheRepliesAreSplit() {
        let welcome = #"{"event":"welcome","params":{"rooms":["# + String(repeating: #"{"name":"left","limit":1,"count":0},"#, count: 50) + "{}]}}\n"
        let replies: [(String, Bool?)] = [
            (welcome + #"{"event":"joined","params":{}}"# + "\n" + #"{"event":"left","params":{"room":"x"}}"# + "\n", true),
            (welcome + #"{"event":"error","params":{"code":"room_full"}}"# + "\n", false),
            (welcome + #"{"event":"left""#, nil),
        ]
        for (text, expected) in replies {
            let bytes = Array(text.utf8)
            for split in stride(from: 0, through: bytes.count, by: 7) {
                var scanner = ChurnReplyScanner()
                let first = bytes[..<split].withUnsafeBytes { scanner.verdict(after: $0) }
                let verdict = first ?? bytes[split...].withUnsafeBytes { scanner.verdict(after: $0) }
                #expect(verdict == expected, "split at \(split) of \(bytes.count)")
            }
        }
    }

    @Test func churnRoundsLogInJoinSendAndLeave() async throws {
        let (server, worker) = try await Self.fanout(clients: 1, roomLimit: 100)
        let watcher = try await server.client("watcher")
        try await watcher.request("join", ["room": "t-0"])
        let (logins, errors) = await worker.churn(seconds: 0.3, concurrency: 4)
        #expect(logins > 0)
        #expect(errors == 0)
        // Every churned client said its line in the room before leaving.
        #expect(try await watcher.next("message")["text"] == "churning")
        await worker.stop()
        await server.stop()
    }

    @Test func refusedLoginsEndTheWaitBeforeAnyJoin() async throws {
        let (server, worker) = try await Self.fanout(clients: 5, roomLimit: 10)
        let squatter = try await server.client("bench3")
        await #expect(throws: BenchError.loginsRefused(welcomed: 4, of: 5, errors: ["name_taken": 1])) { try await worker.connectAll() }
        // Nobody joined: the worker stops before its join storm when a login fails.
        let members = try await squatter.request("who", ["room": "t-0"])
        #expect(members["members"] == .array([]))
        await worker.stop()
        await server.stop()
    }

    @Test func refusedJoinsEndTheWaitWithAnError() async throws {
        let (server, worker) = try await Self.fanout(clients: 20, roomLimit: 10)
        await #expect(throws: BenchError.self) { try await worker.connectAll() }
        await worker.stop()
        await server.stop()
    }
}

/// The real `actor-chat-cli loadtest`, against a server in this process.
@Suite struct LoadTestExecutableTests {
    /// After the idle figure, every client leaves at once; the run waits until the server has let
    /// go of each of them before it says how long that took.
    @Test func theConnectionsScenarioTimesEveryClientLeavingAtOnce() async throws {
        let server = try await TestServer.start {
            $0.unlimitedRate()
            $0.maxConnectionsPerAddress = 1000
        }
        let cli = try ChildProcess("actor-chat-cli", [
            "loadtest", "--scenario", "connections", "--clients", "40", "--host", "127.0.0.1", "--port", String(server.port), "--token", "sesame",
        ])
        #expect(try await cli.exitStatus(timeout: .seconds(60)) == 0)
        #expect(cli.stdout.contains("connected, logged in and joined 40 clients"))
        #expect(cli.stdout.contains("all 40 clients left at once: the server let go of them in"))
        // The run's probe has gone too, once the server has read its close.
        let admin = try await server.client("admin", admin: true)
        try await withDeadline(.seconds(10), waitingFor: "only the admin logged in") {
            while try await admin.request("stats")["users"]?.integer != 1 {}
        }
        await server.stop()
    }
}

@Suite struct LoadTableTests {
    /// A step whose every figure is `scale` times a small base, so one test spans every magnitude.
    private func step(scale: Double, received: Int? = nil, latencyMs: Double = 1, troubled: Bool = false) -> LoadTest.Step {
        var histogram = LatencyHistogram()
        for _ in 0..<100 { histogram.record(nanos: UInt64(latencyMs * 1e6)) }
        let sent = Int(10 * scale)
        let figures = BenchStepFigures(
            sent: sent, received: received ?? sent * 9, histogram: histogram, errors: troubled ? Int(scale) / 10 : 0, disconnects: troubled ? Int(scale) / 100 : 0,
            generatorCPUSeconds: scale / 1e4, seconds: 1)
        let probe = ServerProbe.StepFigures(
            commits: Int(scale), writes: Int(scale * 37), p99CommitMicros: Int(latencyMs * 1000), bytes: Int(scale) << 16, history: histogram,
            historyErrors: troubled ? Int(scale) / 100 : 0)
        return LoadTest.Step(
            offered: 10 * scale, figures: figures, deliveriesPerMessage: 9, serverCPUSeconds: scale / 1e3, serverPeakRSS: Int(scale) << 12, probe: probe)
    }

    /// The main table, and the store's table that `--token` adds.
    @Test(arguments: [false, true])
    func columnsLineUpAtEveryMagnitude(storeTable: Bool) {
        let columns = storeTable ? LoadTable.storeColumns : LoadTable.columns
        let rows = [(1.0, 0.01), (9.0, 0.37), (120.0, 12.5), (4_500.0, 312), (99_999.0, 9_999), (3e6, 60_000)].enumerated().map { index, figures in
            LoadTable.row(index + 1, step(scale: figures.0, latencyMs: figures.1, troubled: true), columns)
        }
        let lines = LoadTable.header(columns) + rows
        #expect(Set(lines.map(\.count)).count == 1, "every line is as wide as the header:\n\(lines.joined(separator: "\n"))")
        // Each column's cells end at the same offset, with the separator after it blank.
        var end = 0
        for column in columns {
            end += column.width
            for line in lines {
                let characters = Array(line)
                #expect(end == characters.count || characters[end] == " ", "column \(column.title) overflows in: \(line)")
                if !column.unit.isEmpty || line != lines[1] {
                    #expect(characters[end - 1] != " ", "column \(column.title) is right-aligned in: \(line)")
                }
            }
            end += 2
        }
        #expect(LoadTable.legend.count == 4)
        #expect(rows[5].contains(storeTable ? "3.00M" : "30.00M"), "rates are scaled: \(rows[5])")
    }

    @Test func theLastLineSaysWhatWasSustainedAndWhyASweepStopped() throws {
        var options = LoadTest.Options(scenario: try #require(BenchScenario.named("rooms")))
        options.sweep = true
        let sweep = LoadTest(options: options, say: { _ in })
        let steps = [step(scale: 1000), step(scale: 1250, latencyMs: 312)]
        #expect(sweep.verdict(steps) == "sustained 90.0k deliveries/s (step 1); stopped: p99 312 ms > 200 ms at 112.5k deliveries/s (step 2)")
        let starved = [step(scale: 1000, received: 4_500)]
        #expect(sweep.verdict(starved) == "sustained: none; stopped: 5.0% delivered < 99% at 4.5k deliveries/s (step 1)")
        options.sweep = false
        let single = LoadTest(options: options, say: { _ in })
        #expect(single.verdict([step(scale: 10)]) == "sustained 900 deliveries/s (step 1) (at least 99% delivered, p99 ≤ 200 ms, no connection lost)")
    }
}

@Suite struct SweepChartTests {
    @Test func roundAxesCoverTheData() {
        #expect(SweepChart.niceCeiling(7.3e5) == 1e6)
        #expect(SweepChart.niceCeiling(1.5e6) == 2e6)
        #expect(SweepChart.niceCeiling(3e6) == 5e6)
        #expect(SweepChart.niceCeiling(5e6) == 5e6)
        #expect(SweepChart.ticks(upTo: 1e6) == [0, 2e5, 4e5, 6e5, 8e5, 1e6])
    }

    /// Well-formed XML, a line of each kind per server, the capacity marked, the caption escaped.
    @Test func aSweepIsAWellFormedSVG() throws {
        let points = [(1e5, 1e5, 0.4, 2.0), (2e5, 2e5, 0.9, 11), (4e5, 3.1e5, 80, 450)].map {
            SweepChart.Point(offered: $0.0, achieved: $0.1, p50: $0.2, p99: $0.3)
        }
        let chart = SweepChart(
            title: "rooms: 1000 clients", caption: "scripts/loadtest.sh --scenario rooms --sweep <store & co>",
            series: [SweepChart.Series(name: "ActorChat", points: points, capacity: 1), SweepChart.Series(name: "Redis", points: points, capacity: nil)])
        let svg = chart.svg()
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        for kind in ["achieved", "p99", "p50"] {
            #expect(svg.components(separatedBy: "class=\"\(kind)\"").count - 1 == 2, "one \(kind) line per server")
        }
        #expect(svg.components(separatedBy: "class=\"capacity\"").count - 1 == 1)
        #expect(svg.contains("ActorChat: capacity 200.0k"))
        #expect(svg.contains("&lt;store &amp; co&gt;"))
        #expect(svg.contains(">200 ms<"), "the sweep's latency limit is drawn")
    }
}

extension SweepChartTests {
    /// Servers whose capacities are equal or close get their labels one under another, not over.
    @Test func capacityLabelsOfCloseServersDoNotOverprint() {
        let steps = [(1e5, 1e5), (9.86e5, 9.86e5), (1.09e6, 1.09e6), (1.45e6, 1.45e6)]
        let points = steps.map { SweepChart.Point(offered: $0.0, achieved: $0.1, p50: 1, p99: 10) }
        let chart = SweepChart(
            title: "rooms", caption: "close capacities",
            series: [
                SweepChart.Series(name: "actorchat", points: points, capacity: 3),
                SweepChart.Series(name: "redis", points: points, capacity: 1),
                SweepChart.Series(name: "floor", points: points, capacity: 2),
                SweepChart.Series(name: "nats", points: points, capacity: 2),
            ])
        var labelY: [String: Double] = [:]
        for line in chart.svg().split(separator: "\n") {
            guard let match = line.firstMatch(of: #/y="([0-9.]+)"[^>]*>([a-z]+): capacity/#) else { continue }
            labelY[String(match.output.2)] = Double(String(match.output.1))
        }
        #expect(labelY.keys.sorted() == ["actorchat", "floor", "nats", "redis"])
        // redis's, floor's and nats's would start within a line of one another.
        let close = ["redis", "floor", "nats"].compactMap { labelY[$0] }.sorted()
        #expect(close.count == 3 && zip(close, close.dropFirst()).allSatisfy { $1 - $0 >= 14 }, "\(close)")
    }

    /// The C generator's rows, as scripts/peers.sh prints them, become one series per server.
    @Test func thePeersRowsBecomeOneSeriesPerServer() {
        let rows = """
            server      offered/s   expected/s   achieved/s  ratio   p50ms   p90ms   p99ms  p99.9ms    maxms errors  disc srvCPU   srvMB  genCPU
            actorchat       40000       360000       360000  1.000    1.23    1.73    2.08     3.62     3.86      0     0   2.1    30.0    1.2
            actorchat       50000       450000       440000  0.978    9.00   40.00  300.00   400.00   420.00      0     0   2.6    31.0    1.3
            floor           40000       360000       360000  1.000    0.50    0.90    1.10     2.00     2.50      0     0   0.9    10.0    1.2
            """
        let series = SweepChart.series(fromPeerRows: rows, deliveriesPerMessage: 9)
        #expect(series.map(\.name) == ["actorchat", "floor"])
        #expect(series[0].points.map(\.offered) == [360_000, 450_000])
        #expect(series[0].capacity == 0, "the second step missed the ratio and the p99")
        #expect(series[1].capacity == 0)
    }
}

@Suite struct ConnectionsChartTests {
    /// Runs from the load test's JSON, in any order, make one well-formed chart with the figure the
    /// target is stated in: idle bytes per client at the largest count.
    @Test func connectionsRunsMakeAWellFormedChart() throws {
        let json = #"{"scenario":"connections","clients":19000,"connect_seconds":1.42,"server_rss_before":26214400,"server_rss_after":236978176,"server_rss_idle":226492416,"server_rss_per_client":10540}"#
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let largest = try #require(ConnectionsChart.Run(json: object))
        #expect(largest.idleBytesPerClient == Double(226_492_416 - 26_214_400) / 19000)
        #expect(ConnectionsChart.Run(json: ["scenario": "rooms"]) == nil)
        let small = ConnectionsChart.Run(clients: 1000, seconds: 0.1, before: 26_214_400, afterJoins: 37_748_736, idle: 36_700_160)
        let svg = ConnectionsChart(caption: "scripts/connections-chart.sh out.svg 19000 1000; 2 cores", runs: [largest, small]).svg()
        let parser = XMLParser(data: Data(svg.utf8))
        #expect(parser.parse(), "not well-formed: \(parser.parserError.map { "\($0)" } ?? "")")
        #expect(svg.contains("10.3 KiB per idle client at 19.0k"))
        #expect(svg.contains(">1.42 s<"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 3, "idle, after the joins, and time")
    }
}

@Suite struct BenchResumeTests {
    /// What the soak's closing check reads: gap notices, and a room's newest stored seq above the
    /// last one a client saw.
    @Test func gapsAndMessagesMissingAtTheTailAreCounted() {
        let tally = BenchTally()
        let client = BenchClient(index: 7, room: "r", tally: tally)
        let lines = [
            #"{"event":"message","params":{"room":"r","from":"b","text":"123|1|xx","seq":1,"ts":1}}"#,
            #"{"event":"history_gap","params":{"room":"r","from":2,"to":3}}"#,
            #"{"event":"message","params":{"room":"r","from":"b","text":"123|1|xx","seq":4,"ts":1,"replay":true}}"#,
            #"{"event":"history","params":{"room":"r","messages":[{"seq":6,"from":"b","text":"t","ts":1}],"more":true}}"#,
        ].joined(separator: "\n") + "\n"
        Array(lines.utf8).withUnsafeBytes { client.consume($0) }
        let counts = tally.totals.withLock { $0.counts }
        #expect(counts.gaps == 1)
        #expect(counts.verified == 1)
        #expect(counts.tailLosses == 2, "seqs 5 and 6 were stored but never seen")
        #expect(client.lastSeq == 4)
    }
}
