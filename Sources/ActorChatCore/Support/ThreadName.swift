import CSystem
import Foundation

extension Thread {
    /// Names the calling thread where top and perf show it. Foundation's `Thread.name` cannot be
    /// relied on for that on Linux: set before `start` it stays in the object, and set by the new
    /// thread it reaches the OS only if `start` has already recorded the thread. Linux refuses a
    /// name over 15 bytes outright, so the name is cut to fit.
    package static func nameCurrent(_ name: String) {
        _ = csystem_name_current_thread(String(decoding: name.utf8.prefix(15), as: UTF8.self))
    }
}
