import Glibc

/// The process's limit on open descriptors, which bounds how many connections a server or a load
/// generator can hold.
package enum DescriptorLimit {
    /// Raises the soft limit to the hard one and returns it.
    package static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, UInt(Int32.max)))
    }
}
