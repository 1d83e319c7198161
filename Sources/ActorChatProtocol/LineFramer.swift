/// Splits a byte stream into `\n`-terminated lines (a trailing `\r` is dropped), holding at most
/// `maxLineBytes` of an unfinished line: past that it reports `.tooLarge` once and discards the
/// rest of that line, so a 10 MB line with no newline costs no more memory than a legal one.
public struct LineFramer: Sendable {
    public enum Frame: Equatable, Sendable {
        case line(ArraySlice<UInt8>)
        case tooLarge
    }

    /// The longest line accepted, in bytes, without its terminator. May change between lines.
    public var maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the next newline resumes, so no byte is scanned twice.
    private var scanned = 0
    private var discarding = false

    public init(maxLineBytes: Int) {
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes held for a line not yet complete.
    public var bufferedBytes: Int { buffer.count - start }

    /// With nothing held, the chunk itself becomes the buffer, uncopied.
    public mutating func append(_ chunk: [UInt8]) {
        if start == buffer.count && !discarding {
            buffer = chunk
            start = 0
            scanned = 0
            return
        }
        if start > 4096 && start * 2 > buffer.count {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: chunk)
    }

    /// The next complete line, `.tooLarge` for a line over the limit, or nil when more bytes are needed.
    public mutating func next() -> Frame? {
        while true {
            guard let newline = buffer[scanned...].firstIndex(of: 0x0A) else {
                if start == buffer.count && !discarding {
                    // Every line is out: an idle connection holds no buffer.
                    buffer = []
                    start = 0
                    scanned = 0
                    return nil
                }
                scanned = buffer.count
                if !discarding && buffer.count - start > maxLineBytes + 1 {
                    discard()
                    discarding = true
                    return .tooLarge
                }
                if discarding { discard() }
                return nil
            }
            let lineStart = start
            start = newline + 1
            scanned = start
            if discarding {
                discarding = false
                continue
            }
            var end = newline
            if end > lineStart && buffer[end - 1] == 0x0D { end -= 1 }
            if end - lineStart > maxLineBytes { return .tooLarge }
            return .line(buffer[lineStart..<end])
        }
    }

    private mutating func discard() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        scanned = 0
    }
}
