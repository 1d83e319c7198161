import Glibc

/// A failed system call: which call, and the errno it set.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let code: Int32

    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String {
        "\(call): \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// The outcome of a non-blocking socket call: a value, or "try again after readiness".
enum IOResult<Value> {
    case done(Value)
    case wouldBlock
}

/// Runs a system call, retrying on EINTR, and maps EAGAIN to `.wouldBlock`.
@inline(__always)
func nonBlockingCall<T: FixedWidthInteger>(_ name: String, _ body: () -> T) throws(SystemError) -> IOResult<T> {
    while true {
        let result = body()
        if result >= 0 { return .done(result) }
        let code = errno
        switch code {
        case EINTR: continue
        case EAGAIN, EWOULDBLOCK: return .wouldBlock
        case EBADF, EFAULT:
            // Those are our bugs, never the peer's: carrying on would touch someone else's fd.
            fatalError("\(name) failed with \(SystemError(name, code: code))")
        default: throw SystemError(name, code: code)
        }
    }
}
