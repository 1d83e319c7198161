import ActorChatCore
import ActorChatProtocol

/// How a session cuts its input into requests: JSON lines on TCP, one text message each on
/// WebSocket. `Session` is generic over it, so the TCP path is compiled as it was, with no switch.
protocol RequestFraming {
    /// The longest request accepted, in bytes; raised after login.
    var maxRequestBytes: Int { get set }
    mutating func append(_ chunk: [UInt8])
    /// The next request, or nil until more input comes.
    mutating func nextRequest() -> RequestFrame?
}

enum RequestFrame {
    case request(ArraySlice<UInt8>)
    /// A request over `maxRequestBytes`: answered with `frame_too_large`, then the connection closes.
    case tooLarge
    /// The input ended for `reason` (a WebSocket close or violation, already answered).
    case end(DisconnectReason)
    /// A WebSocket ping or pong, answered already: it counts as activity, and against the rate.
    case control
}

extension LineFramer: RequestFraming {
    var maxRequestBytes: Int {
        get { maxLineBytes }
        set { maxLineBytes = newValue }
    }

    mutating func nextRequest() -> RequestFrame? {
        switch next() {
        case .line(let line): .request(line)
        case .tooLarge: .tooLarge
        case nil: nil
        }
    }
}
