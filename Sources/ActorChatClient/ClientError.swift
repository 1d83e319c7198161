import ActorChatCore
import ActorChatProtocol
/// Why a client call did not get what it waited for.
package enum ClientError: Error, Equatable, CustomStringConvertible {
    /// The server answered with an `error` event.
    case server(code: String, message: String)
    case timeout(waitingFor: String, after: Duration)
    /// The connection ended.
    case closed
    /// There is no connection (it is being re-established): the request was not sent.
    case notConnected

    package var description: String {
        switch self {
        case .server(_, let message): message
        case .timeout(let what, let after): "timed out after \(after) waiting for \(what)"
        case .closed: "the connection to the server was closed"
        case .notConnected: "not connected to the server (reconnecting)"
        }
    }
}
