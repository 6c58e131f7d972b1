import BlueTraceAuthority
import BlueTraceDomain
import BlueTraceServer
import BlueTraceWire
import CoreMetrics
import Prometheus

/// The server's metrics, through swift-metrics into a Prometheus registry of their own: an observer of the core's
/// events, of the transport (open connections, request latencies) and of the store's commits (`TimedStore`).
///
/// Every observation is an atomic update: of a counter or gauge (swift-prometheus keeps integer counts in atomics),
/// or of a `LatencyHistogram` bucket and sum; nothing here takes a lock, blocks or allocates per event beyond what the
/// event itself carries.
public final class OperationsMetrics: AuthorityObserver, TransportObserver, Sendable {
    /// The counters and gauges; `render()` adds the histograms.
    private let registry: PrometheusCollectorRegistry

    private let connectionsOpen: CoreMetrics.Meter
    private let connectionsTotal: CoreMetrics.Counter
    private let registrations: CoreMetrics.Counter
    private let loginsAccepted: CoreMetrics.Counter
    private let loginsRefused: CoreMetrics.Counter
    private let loginsWhileBlocked: CoreMetrics.Counter
    private let blocks: CoreMetrics.Counter
    private let tempIDs: CoreMetrics.Counter
    private let uploads: CoreMetrics.Counter
    private let entriesTraced: CoreMetrics.Counter
    private let entriesUnmatched: [UnmatchedReason: CoreMetrics.Counter]
    private let noticesSent: CoreMetrics.Counter
    private let noticesDelivered: CoreMetrics.Counter
    private let codesIssued: CoreMetrics.Counter
    private let codesTried: [String: CoreMetrics.Counter]
    private let consoleLogins: [String: CoreMetrics.Counter]
    /// One histogram per request kind, indexed by its raw value, made up front.
    private let requestDurations: [LatencyHistogram]
    /// One histogram per kind of store commit.
    private let commitDurations: [StoreCommit: LatencyHistogram]

    /// Latency buckets, from 50 µs to 10 s.
    static let durationBuckets: [Duration] = [
        .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
        .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
        .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
        .seconds(10),
    ]

    /// Creates the metrics in a new registry.
    public init() {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        func counter(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Counter {
            CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        }
        connectionsOpen = CoreMetrics.Meter(label: "bluetrace_connections_open", factory: factory)
        connectionsTotal = counter("bluetrace_connections_total")
        registrations = counter("bluetrace_registrations_total")
        loginsAccepted = counter("bluetrace_logins_total", [("outcome", "accepted")])
        loginsRefused = counter("bluetrace_logins_total", [("outcome", "refused")])
        loginsWhileBlocked = counter("bluetrace_logins_total", [("outcome", "blocked")])
        blocks = counter("bluetrace_blocks_total")
        tempIDs = counter("bluetrace_tempids_issued_total")
        uploads = counter("bluetrace_uploads_total")
        entriesTraced = counter("bluetrace_upload_entries_total", [("verdict", "traced")])
        entriesUnmatched = Dictionary(
            uniqueKeysWithValues: UnmatchedReason.allCases.map {
                ($0, counter("bluetrace_upload_entries_total", [("verdict", $0.rawValue)]))
            })
        noticesSent = counter("bluetrace_exposure_notices_sent_total")
        noticesDelivered = counter("bluetrace_exposure_notices_delivered_total")
        codesIssued = counter("bluetrace_upload_codes_issued_total")
        codesTried = Dictionary(
            uniqueKeysWithValues: ["accepted", "wrong", "expired", "voided", "missing"].map {
                ($0, counter("bluetrace_upload_codes_tried_total", [("decision", $0)]))
            })
        consoleLogins = Dictionary(
            uniqueKeysWithValues: ["accepted", "refused", "locked"].map {
                ($0, counter("bluetrace_console_logins_total", [("outcome", $0)]))
            })
        requestDurations = ClientMessage.Kind.allCases.map {
            LatencyHistogram(
                name: Self.requestDurationName, labels: [("operation", $0.name)], buckets: Self.durationBuckets)
        }
        commitDurations = Dictionary(
            uniqueKeysWithValues: StoreCommit.allCases.map {
                (
                    $0,
                    LatencyHistogram(
                        name: Self.commitDurationName, labels: [("operation", $0.rawValue)],
                        buckets: Self.durationBuckets)
                )
            })
    }

    static let requestDurationName = "bluetrace_request_duration_seconds"
    static let commitDurationName = "bluetrace_store_commit_duration_seconds"

    /// The metrics in Prometheus' text format: the registry's counters and gauges, then the latency histograms.
    public func render() -> String {
        var text = registry.emitToString()
        text += "# TYPE \(Self.requestDurationName) histogram\n"
        for histogram in requestDurations { histogram.render(into: &text) }
        text += "# TYPE \(Self.commitDurationName) histogram\n"
        for commit in StoreCommit.allCases { commitDurations[commit]?.render(into: &text) }
        return text
    }

    // MARK: AuthorityObserver

    public func observe(_ event: AuthorityEvent) {
        switch event {
        case .registered: registrations.increment()
        case .loginAccepted: loginsAccepted.increment()
        case .loginRefused(_, let blockedUntil):
            (blockedUntil == nil ? loginsRefused : loginsWhileBlocked).increment()
        case .userBlocked: blocks.increment()
        case .tempIDsIssued(_, let grants): tempIDs.increment(by: grants.count)
        case .uploadTraced(let upload):
            uploads.increment()
            entriesTraced.increment(by: upload.receipt.matched)
            var unmatched: [UnmatchedReason: Int] = [:]
            for entry in upload.receipt.unmatched { unmatched[entry.reason, default: 0] += 1 }
            for (reason, count) in unmatched { entriesUnmatched[reason]?.increment(by: count) }
        case .loggedOut: break
        case .uploadCodeIssued: codesIssued.increment()
        case .uploadCodeTried(_, let decision):
            let name =
                switch decision {
                case .accepted: "accepted"
                case .wrong: "wrong"
                case .expired: "expired"
                case .voided: "voided"
                case .noCode: "missing"
                }
            codesTried[name]?.increment()
        case .exposureNoticesSent(let notices): noticesSent.increment(by: notices.count)
        case .exposureNoticeDelivered: noticesDelivered.increment()
        }
    }

    // MARK: TransportObserver

    public func connectionOpened() {
        connectionsOpen.increment()
        connectionsTotal.increment()
    }

    public func connectionClosed() { connectionsOpen.decrement() }

    public func requestAnswered(_ kind: ClientMessage.Kind, nanoseconds: Int64) {
        requestDurations[kind.rawValue].record(nanoseconds: nanoseconds)
    }

    // MARK: The store and the console

    /// A store transaction of kind `commit` took `nanoseconds` to commit.
    func committed(_ commit: StoreCommit, nanoseconds: Int64) {
        commitDurations[commit]?.record(nanoseconds: nanoseconds)
    }

    /// A console login ended with `outcome` (accepted, refused, locked).
    func consoleLogin(_ outcome: String) { consoleLogins[outcome]?.increment() }
}
