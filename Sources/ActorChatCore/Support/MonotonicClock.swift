import Glibc

/// The monotonic clock in nanoseconds: deadlines, rates and latencies never follow wall-clock jumps.
public func monotonicNanos() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
