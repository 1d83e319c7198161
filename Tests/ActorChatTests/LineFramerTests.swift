import Testing
@testable import ActorChat
@testable import ActorChatBench
@testable import ActorChatClient
@testable import ActorChatCore
@testable import ActorChatProtocol

@Suite struct LineFramerTests {
    private func lines(_ framer: inout LineFramer) -> [String] {
        var result: [String] = []
        while let frame = framer.next() {
            switch frame {
            case .line(let bytes): result.append(String(decoding: bytes, as: UTF8.self))
            case .tooLarge: result.append("<too large>")
            }
        }
        return result
    }

    @Test func splitsCoalescedLines() {
        var framer = LineFramer(maxLineBytes: 100)
        framer.append(Array("one\ntwo\nthr".utf8))
        #expect(lines(&framer) == ["one", "two"])
        framer.append(Array("ee\n".utf8))
        #expect(lines(&framer) == ["three"])
    }

    @Test func joinsALineSplitAtEveryByte() {
        let input = Array("{\"event\":\"ping\"}\r\nsecond\n".utf8)
        for split in 0...input.count {
            var framer = LineFramer(maxLineBytes: 100)
            framer.append(Array(input[..<split]))
            var seen = lines(&framer)
            framer.append(Array(input[split...]))
            seen += lines(&framer)
            #expect(seen == ["{\"event\":\"ping\"}", "second"], "split at \(split)")
        }
    }

    @Test func stripsCarriageReturnOnlyBeforeNewline() {
        var framer = LineFramer(maxLineBytes: 100)
        framer.append(Array("a\r\nb\rc\n\n".utf8))
        #expect(lines(&framer) == ["a", "b\rc", ""])
    }

    @Test func reportsAnOversizeLineOnceAndKeepsMemoryBounded() {
        var framer = LineFramer(maxLineBytes: 16)
        for _ in 0..<1000 { framer.append([UInt8](repeating: 0x61, count: 1000)) }
        // One report while the line streams in, whatever its length, and nothing buffered beyond it.
        var reports = 0
        for _ in 0..<3 where framer.next() == .tooLarge { reports += 1 }
        #expect(reports == 1)
        #expect(framer.bufferedBytes <= 1000)
        framer.append(Array("tail\nnext\n".utf8))
        #expect(lines(&framer) == ["next"])
    }

    @Test func aCompleteLineOverTheLimitIsTooLarge() {
        var framer = LineFramer(maxLineBytes: 4)
        framer.append(Array("12345\n1234\n".utf8))
        #expect(lines(&framer) == ["<too large>", "1234"])
    }

    @Test func aLineOfExactlyTheLimitWithCRLFIsAccepted() {
        var framer = LineFramer(maxLineBytes: 4)
        framer.append(Array("1234\r".utf8))
        #expect(framer.next() == nil)
        framer.append(Array("\n".utf8))
        #expect(lines(&framer) == ["1234"])
    }
}
