import Glibc
import Synchronization

/// An exclusive lock on a data directory while the store is open: a second server on the same
/// directory is refused at start instead of writing beside the first.
final class StoreLock: Sendable {
    /// The locked file's descriptor; -1 once released.
    private let fd: Mutex<Int32>

    init(directory: String) throws(StoreError) {
        let path = directory + "/actor-chat.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotCreate(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { throw .locked(path: path) }
            throw .cannotCreate(path: path, reason: String(cString: strerror(code)))
        }
        self.fd = Mutex(fd)
    }

    /// Lets another server take the directory; closing the descriptor drops the lock.
    func release() {
        fd.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit {
        release()
    }
}
