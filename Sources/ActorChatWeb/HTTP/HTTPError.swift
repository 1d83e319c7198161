/// Why a request is refused: the status it is answered with, and a line that says why.
public struct HTTPError: Error, Equatable, Sendable {
    public var status: HTTPStatus
    public var detail: String
    /// Headers the status needs (`Upgrade` with a 426, say).
    public var headers: [String: String]

    public init(_ status: HTTPStatus, _ detail: String, headers: [String: String] = [:]) {
        self.status = status
        self.detail = detail
        self.headers = headers
    }
}
