import BlueTraceDomain
import Foundation

/// Everything a simulation run can be told; the defaults give a small, meaningful scenario that runs in seconds.
///
/// Defaults come from published figures (../shared/reference/simulation-facts.md, docs/SIMULATION.md).
public struct SimulationConfiguration: Sendable, Hashable, Codable {
    /// How people move.
    public enum Mobility: String, Sendable, Hashable, Codable, CaseIterable {
        /// Random waypoint in the whole area (minimum speed above 0, pauses).
        case randomWaypoint = "random-waypoint"
        /// Households and venues: nights at home, days at a workplace, evenings sometimes at a shop.
        case venues
    }

    /// Which transport carries the protocol's messages.
    public enum Transport: String, Sendable, Hashable, Codable, CaseIterable {
        /// Everything in-process, for large populations.
        case memory
        /// A real `bluetrace` server and real clients with UDP sockets on loopback (up to a few hundred phones).
        case udp
    }

    /// Number of people (each may carry a phone with the app).
    public var phones: Int = 500
    /// Simulated hours.
    public var hours: Double = 24
    /// Seconds between beacons (and between simulation steps): OpenTrace scans about once a minute.
    public var beaconInterval: Int64 = 60
    /// The random seed: the same seed gives the same run.
    public var seed: UInt64 = 1
    /// Width of the area, in metres.
    public var areaWidth: Double = 1_000
    /// Height of the area, in metres.
    public var areaHeight: Double = 1_000
    /// The mobility model.
    public var mobility: Mobility = .venues
    /// Fraction of people whose phone runs the app.
    public var adoption: Double = 0.8
    /// Fraction of app phones that are iPhones (the rest Android).
    public var iosShare: Double = 0.5
    /// Probability an Android phone logs an Android phone in range (OpenABM assumes 0.8 for app users overall).
    public var detectAndroidAndroid: Double = 0.9
    /// Probability of detection between an iPhone and an Android phone.
    public var detectMixed: Double = 0.8
    /// Probability an iPhone logs an iPhone (published: 25–50% in the background before Herald).
    public var detectIOSIOS: Double = 0.35
    /// Fraction of beacons lost on the way, whatever the distance.
    public var loss: Double = 0.0
    /// Median RSSI at 1 m, dBm (Herald's fitted phone-to-phone model: −68).
    public var rssiAt1m: Double = -68
    /// Path-loss exponent (≈2 outdoors; 2.3–2.7 implied by Corona-Warn-App buckets).
    public var pathLossExponent: Double = 2.5
    /// Standard deviation of per-reading noise, dB.
    public var rssiNoise: Double = 4
    /// Standard deviation of each phone's transmit/receive offset, dB (GAEN calibration: 4.4 dB).
    public var phoneOffsetSD: Double = 4.4
    /// Weakest RSSI that counts as an encounter, dBm (≈3 m at the defaults; apps weight 55–63 dB attenuation).
    public var rssiThreshold: Double = -81
    /// Farthest distance at which a phone can hear another at all, metres (the neighbour-search radius).
    public var radioRange: Double = 10
    /// Ground truth: a close contact is within this distance, metres (ECDC: 2 m).
    public var closeContactDistance: Double = 2
    /// Ground truth: for at least this many cumulative minutes (ECDC/CDC: 15).
    public var closeContactMinutes: Double = 15
    /// Number of people who test positive and upload their contact log.
    public var infected: Int = 5
    /// When the cases test positive, in hours from the start; `nil` spreads them over the second half of the run.
    public var testAtHours: Double?
    /// Days a phone keeps its contact log (BlueTrace: 21).
    public var contactRetentionDays: Double = 21
    /// TempID lifetime, seconds (15 minutes).
    public var tempIDLifetime: Int64 = TempIDPolicy.standardLifetime
    /// The TempID scheme the simulated server uses.
    public var tempIDScheme: TempIDScheme = .sealed
    /// Sealed TempIDs per download (a batch covers this many lifetimes; the phone renews when it runs out).
    public var sealedBatchSize: Int = 16
    /// The transport.
    public var transport: Transport = .memory
    /// With the udp transport: the phones' TCP sessions use TLS (a development certificate made for the run);
    /// `nil` or false: plaintext.
    public var tls: Bool? = nil
    /// Worker threads for the memory transport's step loop (0: one per core).
    public var threads: Int = 0

    /// Into how many parts the work over the phones is split (the radio step's receivers, the contact logs): one per
    /// worker thread, but none under about 2,000 phones.
    var parts: Int {
        let workers = threads > 0 ? threads : ProcessInfo.processInfo.activeProcessorCount
        return max(1, min(workers, phones / 2_000 + 1))
    }
    /// The epidemic, if one spreads (`--epidemic`): `infected` people are then infected at the start, and whoever
    /// tests positive uploads; `nil` scores tracing for `infected` chosen cases, as without `--epidemic`.
    public var epidemic: EpidemicParameters?
    /// With risk scoring (`--risk-scoring`): the buckets by which the cases' logged beacons are scored, for the
    /// precision–recall curve; `nil`: none.
    public var riskScoring: RiskScoring?

    /// Creates the default configuration.
    public init() {}

    /// Whole simulated days (at least 1), the epidemic's daily figures.
    public var days: Int { max(1, Int((hours / 24).rounded(.up))) }

    /// Number of simulation steps.
    public var steps: Int { Int((hours * 3600 / Double(beaconInterval)).rounded(.down)) }

    /// Logged encounters needed for the authority to call a traced person a close contact: one per beacon interval
    /// over the close-contact minutes.
    public var encountersForCloseContact: Int { closeContactRule.minimumEncounters }

    /// The health authority's close-contact rule for these phones (the server's notices use the same rule).
    public var closeContactRule: CloseContactRule {
        CloseContactRule(minutes: closeContactMinutes, beaconInterval: Int64(beaconInterval))
    }

    /// Why this configuration cannot run, in words the user can act on; `nil` when it can.
    public var problem: String? {
        if phones < 2 { return "--phones must be at least 2." }
        if hours <= 0 || steps < 1 { return "--hours must cover at least one beacon interval." }
        if beaconInterval < 1 { return "--beacon-interval must be at least 1 second." }
        if areaWidth <= 0 || areaHeight <= 0 { return "--area must be positive, e.g. 1000x1000." }
        for (name, value) in [
            ("adoption", adoption), ("ios-share", iosShare), ("loss", loss),
            ("detect-android-android", detectAndroidAndroid),
            ("detect-mixed", detectMixed), ("detect-ios-ios", detectIOSIOS),
        ] where !(0...1).contains(value) {
            return "--\(name) must be between 0 and 1, not \(value)."
        }
        if infected < 0 || infected > phones { return "--infected must be between 0 and --phones." }
        if radioRange <= 0 || closeContactDistance <= 0 { return "distances must be positive." }
        if closeContactDistance > radioRange { return "--close-contact-distance must not exceed --radio-range." }
        if let testAtHours, testAtHours <= 0 || testAtHours > hours {
            return "--test-at must be within the run (0 < hours ≤ --hours)."
        }
        if tls == true && transport != .udp {
            return "--tls is for --transport udp (the memory transport has no connections to encrypt)."
        }
        if transport == .udp && phones > 500 {
            return "the udp transport is for up to 500 phones; use --transport memory."
        }
        if sealedBatchSize < 1 { return "--sealed-batch-size must be at least 1." }
        if let epidemic {
            if transport == .udp { return "--epidemic runs on the memory transport only; leave out --transport udp." }
            if riskScoring != nil {
                return
                    "--risk-scoring scores the contacts of the --infected cases of a run without --epidemic (an epidemic's cases come and go, and its notices follow --close-contact-minutes); leave out one of the two."
            }
            if let problem = epidemic.problem(radioRange: radioRange) { return problem }
        }
        return nil
    }
}
