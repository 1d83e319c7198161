import Dispatch
import Synchronization
import Glibc

/// Turns signals into an AsyncStream, delivered through DispatchSource rather than a C handler,
/// so the code that reacts to them may do anything.
public enum SignalSource {
    /// SIGINT and SIGTERM as they arrive. Their default actions are disabled while the stream lives.
    public static func termination() -> AsyncStream<Int32> {
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        let sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
        // DispatchSource is not Sendable; the Mutex is what lets the termination handler own them.
        let owner = Mutex(sources)
        continuation.onTermination = { _ in owner.withLock { $0.forEach { $0.cancel() } } }
        return stream
    }

    /// A write to a closed socket must be an EPIPE error, never the death of the process.
    public static func ignoreBrokenPipes() {
        signal(SIGPIPE, SIG_IGN)
    }
}
