import CSystem
import Glibc

/// Waits for a process that need not be our child to end, through a pidfd (Linux 5.3): the kernel
/// says when, so nothing polls `/proc`. A process that has ended but is not yet reaped (a zombie)
/// counts as ended: it has already closed its descriptors and released its locks.
package enum ProcessExit {
    /// True once `pid` has ended (or never existed), false if it is still running after `milliseconds`.
    package static func wait(pid: Int32, milliseconds: Int32) -> Bool {
        let descriptor = csystem_pidfd_open(pid)
        guard descriptor >= 0 else { return errno == ESRCH }
        defer { close(descriptor) }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&entry, 1, milliseconds)
            if ready >= 0 { return ready == 1 }
            guard errno == EINTR else { return false }
        }
    }
}
