import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceWire
import NIOCore
import Synchronization

/// Which connections are logged in as whom, so that what the core sends a user (an exposure notice) reaches their
/// open connections at once. It observes the core's events; the connections' handlers keep it up to date.
public final class SessionDirectory: AuthorityObserver {
    private let sessions = Mutex<[String: [ObjectIdentifier: any Channel]]>([:])

    /// An empty directory.
    public init() {}

    /// Records that `channel` is logged in as `user`, until it closes.
    func loggedIn(_ user: String, on channel: any Channel) {
        let key = ObjectIdentifier(channel)
        sessions.withLock { $0[user, default: [:]][key] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.sessions.withLock { sessions in
                sessions[user]?[key] = nil
                if sessions[user]?.isEmpty == true { sessions[user] = nil }
            }
        }
    }

    /// The connections logged in as `user`.
    func channels(of user: String) -> [any Channel] {
        sessions.withLock { Array(($0[user] ?? [:]).values) }
    }

    public func observe(_ event: AuthorityEvent) {
        guard case .exposureNoticesSent(let notices) = event else { return }
        for notice in notices {
            for channel in channels(of: notice.phone) {
                channel.pipeline.fireUserInboundEventTriggered(
                    SessionHandler.Push(
                        user: notice.phone,
                        message: .exposureNotice(noticeID: notice.id, lastEncounter: notice.lastEncounter)))
            }
        }
    }
}
