import ActorChatCore
import CCrypt
import Foundation
import Synchronization

/// Password hashing with yescrypt from libxcrypt, on a small pool of its own threads: a hash takes
/// tens of milliseconds of CPU by design, so it never runs on the sessions' executor or the event
/// loop, and a storm of password logins queues here instead of stalling chat traffic. Hashes are
/// PHC strings (`$y$…`), which carry their salt and cost, so a later cost still verifies old ones.
public final class PasswordHasher: Sendable {
    /// One job: it runs on a hashing thread and resumes its caller itself.
    private typealias Job = @Sendable () -> Void

    private let queues: [ThreadQueue<Job>]
    /// The queues whose thread runs: each starts on first use, so a server nobody logs in to with
    /// a password keeps none.
    private let running = Mutex<Set<Int>>([])
    private let next = Atomic(0)
    /// Verified against when a name has no account, so a login takes as long whether or not the
    /// name exists. Made on first use, on a hashing thread.
    private static let decoy = hashNow("decoy password \(UInt64.random(in: 0...UInt64.max))") ?? ""

    /// `threads` threads of its own, used in turn. (Tried: running them at nice 10. On a saturated
    /// machine logins then queued for seconds while the chat's p99 hardly moved; see BENCHMARKS.)
    public init(threads: Int = 2) {
        queues = (0..<max(1, threads)).map { _ in ThreadQueue<Job>() }
    }

    deinit {
        queues.forEach { $0.close() }
    }

    /// A new PHC string for `password`, with a fresh salt from the OS's generator; nil if libxcrypt fails.
    public func hash(_ password: String) async -> String? {
        await run { Self.hashNow(password) }
    }

    /// Whether `password` matches `phc`; with `phc` nil (no such account) it does the same work and answers false.
    public func verify(_ password: String, against phc: String?) async -> Bool {
        await run {
            let decoy = Self.decoy
            guard let computed = Self.crypt(password, setting: phc ?? decoy) else { return false }
            return ConstantTime.equal(computed, phc ?? decoy) && phc != nil
        }
    }

    private func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        let index = next.wrappingAdd(1, ordering: .relaxed).oldValue % queues.count
        if running.withLock({ $0.insert(index).inserted }) { startThread(index) }
        let queue = queues[index]
        return await withCheckedContinuation { continuation in
            queue.push { continuation.resume(returning: work()) }
        }
    }

    private func startThread(_ index: Int) {
        let queue = queues[index]
        Thread {
            Thread.nameCurrent("chat-hash-\(index)")
            // Made before the first job, so the first login with an unknown name is not the slow one.
            _ = Self.decoy
            var jobs: [Job] = []
            while queue.take(into: &jobs) {
                jobs.forEach { $0() }
                jobs.removeAll(keepingCapacity: true)
            }
        }.start()
    }

    private static func hashNow(_ password: String) -> String? {
        // A null random source asks libxcrypt for bytes from the OS (getrandom); cost 0 is yescrypt's default.
        var setting = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$y$", 0, nil, 0, &setting, Int32(setting.count)) != nil else { return nil }
        return crypt(password, setting: String(decoding: setting.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }

    /// crypt_rn into a scratch area of its own; nil on failure (libxcrypt returns null, or a string starting with '*').
    private static func crypt(_ password: String, setting: String) -> String? {
        let data = UnsafeMutablePointer<crypt_data>.allocate(capacity: 1)
        defer {
            // The scratch area held the password: cleared before it is freed.
            memset(data, 0, MemoryLayout<crypt_data>.size)
            data.deallocate()
        }
        memset(data, 0, MemoryLayout<crypt_data>.size)
        guard let result = crypt_rn(password, setting, data, Int32(MemoryLayout<crypt_data>.size)), result.pointee != 0x2A else { return nil }
        return String(cString: result)
    }
}
