import BlueTraceDomain
import Synchronization

/// The console's sessions, in this process's memory: a random token (the cookie) maps to the official, the session's
/// CSRF token and when it expires. A restart logs every official out.
final class ConsoleSessions: Sendable {
    /// One official's session.
    struct Session: Sendable, Hashable {
        /// The cookie's value.
        var token: String
        /// Who logged in.
        var official: String
        /// The token every form of this session carries.
        var csrf: String
        /// When it ends.
        var expiresAt: Timestamp
    }

    private let sessions = Mutex([String: Session]())
    private let lifetime: Int64

    /// Sessions that last `lifetime` seconds from their login.
    init(lifetime: Int64) { self.lifetime = lifetime }

    /// Starts a session for `official` at `now`.
    func start(for official: String, at now: Timestamp) -> Session {
        let session = Session(
            token: Self.randomToken(), official: official, csrf: Self.randomToken(), expiresAt: now + lifetime)
        sessions.withLock { sessions in
            sessions = sessions.filter { $0.value.expiresAt > now }
            sessions[session.token] = session
        }
        return session
    }

    /// The session whose cookie is `token`, if it exists and has not expired at `now` (an expired one is forgotten).
    func session(for token: String?, at now: Timestamp) -> Session? {
        guard let token else { return nil }
        return sessions.withLock { sessions in
            guard let session = sessions[token] else { return nil }
            guard session.expiresAt > now else {
                sessions[token] = nil
                return nil
            }
            return session
        }
    }

    /// Ends the session whose cookie is `token`.
    func end(_ token: String) {
        _ = sessions.withLock { $0.removeValue(forKey: token) }
    }

    /// 32 random bytes from the system's generator (the kernel's), in hexadecimal.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        var text = ""
        text.reserveCapacity(64)
        for _ in 0..<4 {
            let word = generator.next() as UInt64
            let hex = String(word, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex
        }
        return text
    }

    /// Whether `a` and `b` are equal, in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}
