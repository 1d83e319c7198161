import Glibc
import CSystem

/// Thin wrappers over the socket system calls the transport uses, all non-blocking.
enum Socket {
    /// A listening socket bound to `address`; for `::` it also accepts IPv4 (dual stack).
    static func listen(on address: SocketAddress, backlog: Int32) throws(SystemError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        do throws(SystemError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1)
            if address.family == AF_INET6 { try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 0) }
            guard address.withSockAddr({ bind(fd, $0, $1) }) == 0 else { throw SystemError("bind") }
            guard Glibc.listen(fd, backlog) == 0 else { throw SystemError("listen") }
            return fd
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    /// Starts a non-blocking connect; completion is reported as writability. With `source`, the
    /// connection leaves from that address (its port still chosen by the kernel at connect time).
    static func connect(to address: SocketAddress, from source: SocketAddress? = nil) throws(SystemError) -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        do throws(SystemError) {
            if let source {
                // Without this, bind picks a port unique on its own, ignoring the destination, and
                // a few tens of thousands of connections exhaust the range.
                try setOption(fd, Int32(IPPROTO_IP), IP_BIND_ADDRESS_NO_PORT, 1)
                guard source.withSockAddr({ bind(fd, $0, $1) }) == 0 else { throw SystemError("bind") }
            }
            guard address.withSockAddr({ Glibc.connect(fd, $0, $1) }) == 0 || errno == EINPROGRESS else { throw SystemError("connect") }
        } catch {
            Glibc.close(fd)
            throw error
        }
        try? setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        return fd
    }

    /// Accepts one connection, already non-blocking and close-on-exec.
    static func accept(_ fd: Int32) throws(SystemError) -> IOResult<(Int32, SocketAddress)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = try withUnsafeMutablePointer(to: &storage) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(SystemError) in
                try nonBlockingCall("accept4") {
                    csystem_accept4(fd, address, &length, Int32(SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue))
                }
            }
        }
        switch result {
        case .wouldBlock: return .wouldBlock
        case .done(let client):
            try? setOption(client, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            return .done((client, SocketAddress(storage: storage, length: length)))
        }
    }

    static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try nonBlockingCall("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// Sends with MSG_NOSIGNAL: a peer that went away is an EPIPE, never a SIGPIPE.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try nonBlockingCall("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Sends the buffers in order in one `sendmsg`, with MSG_NOSIGNAL.
    static func send(_ fd: Int32, _ vectors: UnsafeMutableBufferPointer<iovec>) throws(SystemError) -> IOResult<Int> {
        var message = msghdr()
        message.msg_iov = vectors.baseAddress
        message.msg_iovlen = vectors.count
        return try nonBlockingCall("sendmsg") { sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
    }

    static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? SocketAddress(storage: storage, length: length) : nil
    }

    /// The error a non-blocking connect ended with (0 when it succeeded).
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 ? value : errno
    }

    static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) throws(SystemError) {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemError("setsockopt")
        }
    }
}
