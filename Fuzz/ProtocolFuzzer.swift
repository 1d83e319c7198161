// libFuzzer target for the protocol layer, compiled together with Sources/ActorChatProtocol by
// scripts/fuzz.sh (`swift build` cannot link fuzzers). Checks properties, not just crashes:
// - the framer never emits a line over its limit, and a stream split at any byte frames the same;
// - a decoded request re-encodes to one that decodes equal; JSON that parses re-parses equal
//   after writing; names that pass validation are ASCII within their limits.

private let maxLine = 256

private func frames(_ chunks: [[UInt8]]) -> [LineFramer.Frame] {
    var framer = LineFramer(maxLineBytes: maxLine)
    var result: [LineFramer.Frame] = []
    for chunk in chunks {
        framer.append(chunk)
        while let frame = framer.next() {
            if case .line(let line) = frame { precondition(line.count <= maxLine, "a line over the limit was emitted") }
            result.append(frame)
        }
    }
    return result
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let whole = frames([bytes])
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    precondition(frames([Array(bytes[..<split]), Array(bytes[split...])]) == whole, "framing depends on where the stream was split")

    for frame in whole {
        guard case .line(let line) = frame else { continue }
        if case .success(let request) = Envelope.decode(line) {
            let again = Envelope.decode(request.encoded().dropLast())
            precondition((try? again.get()) == request, "encode then decode changed a request")
        }
        if let value = try? JSONParser.parse(line) {
            var writer = JSONWriter()
            writer.write(value)
            precondition((try? JSONParser.parse(writer.bytes)) == value, "write then parse changed a JSON value")
            precondition(!writer.bytes.contains(0x0A), "written JSON contains a raw newline")
        }
        if let text = String(validating: line, as: UTF8.self), Names.problem(with: text, maxLength: Names.maxUserName) == nil {
            precondition(text.utf8.count <= Names.maxUserName && text.utf8.allSatisfy { $0 < 0x80 }, "an invalid name passed")
        }
    }
    return 0
}
