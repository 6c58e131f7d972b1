import Histogram

/// What one client measured of one kind of operation.
struct OperationTally: Sendable {
    /// Latencies of the operations that succeeded, in microseconds.
    var latencies = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    /// Operations that failed.
    var errors = 0
    /// Upload entries the server traced.
    var tracedEntries = 0

    mutating func merge(_ other: OperationTally) {
        latencies.add(other.latencies)
        errors += other.errors
        tracedEntries += other.tracedEntries
    }
}

/// Latencies and errors per operation, kept by each client for itself and merged at the end.
struct LatencyRecorder: Sendable {
    /// The most distinct error messages kept.
    static let errorSampleLimit = 8

    private(set) var tallies: [BenchOperation: OperationTally] = [:]
    private(set) var errorSamples: [String] = []
    /// When the last counted operation succeeded.
    private(set) var lastCompletion: ContinuousClock.Instant?

    mutating func success(
        _ operation: BenchOperation, latency: Duration, completedAt: ContinuousClock.Instant, tracedEntries: Int = 0
    ) {
        tallies[operation, default: OperationTally()].latencies.record(latency.microseconds)
        tallies[operation, default: OperationTally()].tracedEntries += tracedEntries
        noteCompletion(completedAt)
    }

    /// Counts a failed operation (failures do not stretch the measured time).
    mutating func failure(_ operation: BenchOperation, _ message: String) {
        tallies[operation, default: OperationTally()].errors += 1
        noteSample("\(operation.rawValue): \(message)")
    }

    /// Records a latency measured outside a run window (connections opened while setting up).
    mutating func record(_ operation: BenchOperation, microseconds: UInt64) {
        tallies[operation, default: OperationTally()].latencies.record(microseconds)
    }

    mutating func merge(_ other: LatencyRecorder) {
        for (operation, tally) in other.tallies { tallies[operation, default: OperationTally()].merge(tally) }
        for sample in other.errorSamples { noteSample(sample) }
        if let theirs = other.lastCompletion { noteCompletion(theirs) }
    }

    private mutating func noteSample(_ message: String) {
        guard errorSamples.count < Self.errorSampleLimit, !errorSamples.contains(message) else { return }
        errorSamples.append(message)
    }

    private mutating func noteCompletion(_ instant: ContinuousClock.Instant) {
        if lastCompletion.map({ instant > $0 }) ?? true { lastCompletion = instant }
    }
}
