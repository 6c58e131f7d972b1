import Synchronization

/// A histogram of durations kept in atomic counters: a sample is two relaxed atomic adds (its bucket and the sum),
/// no lock, no allocation; rendered in Prometheus' text format.
///
/// swift-prometheus' own histogram takes a lock and walks every bucket per sample; request and commit latencies are
/// recorded on the request path, where the issue allows no more than an atomic update (docs/OPERATIONS.md).
public final class LatencyHistogram: Sendable {
    /// One bucket's count, a class of its own so that the buckets can be an array (an `Atomic` cannot be copied).
    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    /// The metric's name (`bluetrace_request_duration_seconds`).
    public let name: String
    /// Its labels, rendered once: `operation="login"`.
    private let labels: String
    /// Upper bounds of the buckets, in nanoseconds, ascending.
    private let bounds: [Int64]
    /// The bounds as Prometheus writes them (seconds).
    private let boundLabels: [String]
    /// Samples per bucket (not cumulative); the last counts those above every bound.
    private let counts: [Count]
    private let sum = Atomic<Int64>(0)

    /// A histogram named `name` with `labels`, whose buckets end at `buckets`.
    public init(name: String, labels: [(String, String)], buckets: [Duration]) {
        self.name = name
        self.labels = labels.map { "\($0.0)=\"\($0.1)\"" }.joined(separator: ",")
        let sorted = buckets.sorted()
        bounds = sorted.map { Int64($0.components.seconds) * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000 }
        boundLabels = sorted.map {
            "\(Double($0.components.seconds) + Double($0.components.attoseconds) / 1e18)"
        }
        counts = (0...sorted.count).map { _ in Count() }
    }

    /// Records one duration of `nanoseconds`.
    public func record(nanoseconds: Int64) {
        var index = 0
        while index < bounds.count, nanoseconds > bounds[index] { index += 1 }
        counts[index].value.wrappingAdd(1, ordering: .relaxed)
        sum.wrappingAdd(nanoseconds, ordering: .relaxed)
    }

    /// How many samples were recorded.
    public var count: Int { counts.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }

    /// Appends the histogram's lines (without its `# TYPE` line) to `text`: cumulative buckets, `+Inf`, sum, count.
    /// Read without a lock while samples arrive: the buckets and the count always agree; the sum may miss a sample
    /// being recorded at that moment, which Prometheus' rate functions tolerate.
    public func render(into text: inout String) {
        let separator = labels.isEmpty ? "" : ","
        var cumulative = 0
        for (index, bound) in boundLabels.enumerated() {
            cumulative += counts[index].value.load(ordering: .relaxed)
            text += "\(name)_bucket{\(labels)\(separator)le=\"\(bound)\"} \(cumulative)\n"
        }
        cumulative += counts[bounds.count].value.load(ordering: .relaxed)
        text += "\(name)_bucket{\(labels)\(separator)le=\"+Inf\"} \(cumulative)\n"
        let seconds = Double(sum.load(ordering: .relaxed)) / 1e9
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        text += "\(name)_sum\(braces) \(seconds)\n"
        text += "\(name)_count\(braces) \(cumulative)\n"
    }
}
