import ActorChatClient
import ActorChatCore
import ActorChatProtocol
import Foundation

/// Reads a pipe with blocking reads on a thread of its own, delivering chunks until end of file.
/// Not `FileHandle.readabilityHandler`: tearing its dispatch source down races libdispatch's epoll
/// bookkeeping on Linux and can crash the process (swift-corelibs-libdispatch#949).
package enum PipeReader {
    package static func chunks(of handle: FileHandle) -> AsyncStream<Data> {
        let (stream, continuation) = AsyncStream.makeStream(of: Data.self)
        Thread {
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                continuation.yield(data)
            }
            continuation.finish()
        }.start()
        return stream
    }
}
