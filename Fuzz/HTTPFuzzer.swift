// libFuzzer target for the HTTP request parser, compiled together with
// Sources/ActorChatWeb/HTTP by scripts/fuzz.sh. Checks properties, not just crashes:
// - a head split at any byte parses the same as the whole;
// - nothing over the head limit is accepted;
// - what is accepted is what the parser promises: a token method, a path target, lower-case token
//   header names, visible ASCII only, and the bytes after the head handed back untouched.

private let maxHead = 512

private func parse(_ chunks: [[UInt8]]) -> HTTPRequestParser.Outcome {
    var parser = HTTPRequestParser(maxHeadBytes: maxHead)
    var outcome = HTTPRequestParser.Outcome.needMore
    for chunk in chunks {
        switch outcome {
        case .needMore: outcome = parser.append(chunk)
        // Bytes that arrive after the head belong to what follows it, as the session hands them on.
        case .request(let request, let rest): outcome = .request(request, rest: rest + chunk)
        case .failure: break
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    let whole = parse([bytes])
    let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    precondition(parse([Array(bytes[..<split]), Array(bytes[split...])]) == whole, "parsing depends on where the head was split")
    guard case .request(let request, let rest) = whole else { return 0 }
    precondition(bytes.count - rest.count <= maxHead, "a head over the limit was accepted")
    precondition(Array(bytes.suffix(rest.count)) == rest, "the bytes after the head were changed")
    precondition(!request.method.isEmpty && request.method.allSatisfy(\.isTokenCharacter), "a method that is not a token")
    precondition(request.path.hasPrefix("/"), "a target that is not a path")
    for (name, value) in request.headers {
        precondition(!name.isEmpty && name.allSatisfy(\.isTokenCharacter) && name == name.lowercased(), "a bad header name")
        precondition(value.utf8.allSatisfy { $0 == 0x09 || (0x20...0x7E).contains($0) }, "a header value with a control byte")
    }
    return 0
}
