/// What an operator sets for accounts: who may log in how, how long a session lasts, and the
/// brakes on password guessing and on sign-ups. Defaults are the limits in docs/PROTOCOL.md.
public struct AccountSettings: Sendable {
    /// Refuse guests: only registered accounts log in.
    public var accountsOnly = false
    /// Name keys of the registered accounts that are admins when they log in.
    public var adminKeys: Set<String> = []
    public var sessionDays = 30.0
    /// Failed logins for one name, and from one address, within `failureWindowSeconds` before
    /// further attempts wait for the window to pass.
    public var failuresPerName = 5
    public var failuresPerAddress = 30
    public var failureWindowSeconds = 600.0
    /// Registrations from one address: a burst, then this many a minute.
    public var registerBurst = 5
    public var registerPerMinute = 1.0
    /// Password bytes (UTF-8) a password must have, at least and at most.
    public static let passwordBytes = 8...1024

    public init() {}
}
