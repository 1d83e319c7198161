import Glibc
import CSystem

/// An IPv4 or IPv6 socket address. Every connection keeps its peer's, so it is kept in the room
/// an IPv6 address needs (28 bytes), not in a `sockaddr_storage` (128).
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    private var storage: sockaddr_in6

    /// The address's length, told by its family rather than stored: 28 bytes, not 32.
    var length: socklen_t {
        socklen_t(family == AF_INET ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
    }

    /// An address as the system wrote it; anything past an IPv6 address's size is not kept.
    init(storage: sockaddr_storage, length: socklen_t) {
        var compact = sockaddr_in6()
        let kept = min(Int(length), MemoryLayout<sockaddr_in6>.size)
        withUnsafeMutableBytes(of: &compact) { target in
            withUnsafeBytes(of: storage) { source in target.copyMemory(from: UnsafeRawBufferPointer(rebasing: source.prefix(kept))) }
        }
        self.storage = compact
    }

    /// Resolves a numeric address or a host name (getaddrinfo), IPv4 and IPv6.
    public static func resolve(host: String, port: Int) throws(AddressError) -> [SocketAddress] {
        guard (0...65535).contains(port) else { throw .invalidPort(port) }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .unresolvable(host: host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(first) }
        var addresses: [SocketAddress] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            guard let address = entry.pointee.ai_addr else { continue }
            var storage = sockaddr_storage()
            let length = entry.pointee.ai_addrlen
            withUnsafeMutableBytes(of: &storage) { target in
                target.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(length)))
            }
            let resolved = SocketAddress(storage: storage, length: length)
            if !addresses.contains(resolved) { addresses.append(resolved) }
        }
        if addresses.isEmpty { throw .unresolvable(host: host, reason: "no IPv4 or IPv6 address") }
        return addresses
    }

    public var family: Int32 { Int32(storage.sin6_family) }

    public var port: Int {
        withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.sin6_family) {
            case AF_INET: Int(UInt16(bigEndian: raw.load(as: sockaddr_in.self).sin_port))
            case AF_INET6: Int(UInt16(bigEndian: raw.load(as: sockaddr_in6.self).sin6_port))
            default: 0
            }
        }
    }

    /// The numeric host, without brackets.
    public var host: String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        withUnsafeBytes(of: storage) { raw in
            switch Int32(storage.sin6_family) {
            case AF_INET:
                var address = raw.load(as: sockaddr_in.self).sin_addr
                _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
            case AF_INET6:
                var address = raw.load(as: sockaddr_in6.self).sin6_addr
                _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
            default: break
            }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// 127.0.0.0/8, ::1, or an IPv4 loopback address mapped into IPv6.
    public var isLoopback: Bool {
        let host = host
        return host == "::1" || host.hasPrefix("127.") || host.hasPrefix("::ffff:127.")
    }

    public var description: String {
        family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        // The storage is bound to sockaddr_in6: rebinding, not assuming, is what makes reading it
        // as a sockaddr defined.
        withUnsafePointer(to: storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    public static func == (lhs: SocketAddress, rhs: SocketAddress) -> Bool {
        lhs.family == rhs.family && lhs.host == rhs.host && lhs.port == rhs.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(host)
        hasher.combine(port)
    }
}

/// Why an address could not be used.
public enum AddressError: Error, Equatable, CustomStringConvertible {
    case invalidPort(Int)
    case unresolvable(host: String, reason: String)

    public var description: String {
        switch self {
        case .invalidPort(let port): "port \(port) is out of range (0-65535)"
        case .unresolvable(let host, let reason): "cannot resolve host '\(host)': \(reason)"
        }
    }
}
