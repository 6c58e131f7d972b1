/// Risk scoring as the exposure-notification apps do it (GAEN, Corona-Warn-App): minutes of logged beacons, each
/// weighted by its attenuation bucket, against a threshold of weighted minutes, beside the health authority's count
/// of encounters.
public struct RiskScoring: Sendable, Hashable, Codable {
    /// Attenuation bucket edges, dB (Corona-Warn-App: 55 and 63).
    public var bucketEdges: [Double] = [55, 63]
    /// The weight of each bucket, nearest first (Corona-Warn-App: 1, 0.5, 0).
    public var weights: [Double] = [1, 0.5, 0]
    /// Attenuation is this minus the RSSI, dB: chosen so that the median phone pair 1.5 m apart reads 55 dB, as the
    /// Corona-Warn-App's calibration puts its first edge (set from the radio model by `calibrated(for:)`).
    public var referencePower: Double = -17.4

    /// Thresholds, in minutes, at which the precision–recall curve is drawn.
    public static let thresholds: [Double] = [1, 2, 3, 5, 7, 10, 12, 15, 20, 25, 30, 40, 50, 60, 90, 120]

    /// The default buckets, with the reference power that maps 55 dB to 1.5 m on `configuration`'s radio.
    public static func calibrated(for configuration: SimulationConfiguration) -> RiskScoring {
        var scoring = RiskScoring()
        scoring.referencePower =
            configuration.rssiAt1m - 10 * configuration.pathLossExponent * _log10(1.5) + scoring.bucketEdges[0]
        return scoring
    }

    /// The weight of a beacon heard at `rssi`.
    @inline(__always)
    func weight(rssi: Double) -> Double {
        let attenuation = referencePower - rssi
        for (index, edge) in bucketEdges.enumerated() where attenuation < edge { return weights[index] }
        return weights[bucketEdges.count]
    }
}

/// Precision and recall of two scorings as their threshold moves: counted encounters (today's rule) and weighted
/// minutes (GAEN-style). Summed over every case, against the true close contacts.
public struct RiskCurve: Sendable, Codable, Equatable {
    /// One point of a curve.
    public struct Point: Sendable, Codable, Equatable {
        /// The threshold, in (weighted) minutes.
        public var threshold: Double
        /// Contacts at or above the threshold who were true close contacts, over those at or above it; `nil` when
        /// nobody was.
        public var precision: Double?
        /// True close contacts at or above the threshold, over all true close contacts; `nil` when there were none.
        public var recall: Double?
    }

    /// The scoring used for the weighted curve.
    public var scoring: RiskScoring
    /// Counted encounters, as minutes (one per beacon interval).
    public var encounters: [Point]
    /// Attenuation-weighted minutes.
    public var weighted: [Point]

    /// The curves for cases whose logged beacons scored `scores` (per case: contact → (encounter minutes, weighted
    /// minutes)) against their true close contacts.
    init(scoring: RiskScoring, scores: [[Int32: (minutes: Double, weighted: Double)]], truth: [Set<Int>]) {
        self.scoring = scoring
        func curve(_ value: ((minutes: Double, weighted: Double)) -> Double) -> [Point] {
            RiskScoring.thresholds.map { threshold in
                var flagged = 0
                var right = 0
                var relevant = 0
                for (slot, contacts) in scores.enumerated() {
                    relevant += truth[slot].count
                    for (contact, score) in contacts where value(score) >= threshold {
                        flagged += 1
                        if truth[slot].contains(Int(contact)) { right += 1 }
                    }
                }
                return Point(
                    threshold: threshold, precision: SimulationReport.fraction(right, of: flagged),
                    recall: SimulationReport.fraction(right, of: relevant))
            }
        }
        encounters = curve { $0.minutes }
        weighted = curve { $0.weighted }
    }
}
