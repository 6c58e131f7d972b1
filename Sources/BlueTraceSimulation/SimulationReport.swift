import Foundation

/// What a simulation found: how well tracing recovered the true close contacts, and what the protocol did.
public struct SimulationReport: Sendable, Codable, Equatable {
    /// Counts over the whole run.
    public struct Totals: Sendable, Codable, Equatable {
        /// Person-steps simulated (people × steps).
        public var phoneSteps = 0
        /// Beacons broadcast (one per app phone with a TempID, per step).
        public var beaconsSent = 0
        /// Beacons that reached a listening app phone with an RSSI above the threshold.
        public var receptionsInRange = 0
        /// Of those, beacons not logged (detection failure between phone kinds, or `--loss`).
        public var beaconsLost = 0
        /// Valid beacons logged in contact logs.
        public var encountersLogged = 0
        /// TempIDs the server issued.
        public var tempIDsIssued = 0
        /// TempID downloads (a batch each in the sealed scheme).
        public var tempIDDownloads = 0
        /// Contact logs uploaded.
        public var uploads = 0
    }

    /// One index case: who they truly met, who tracing found.
    public struct Case: Sendable, Codable, Equatable {
        /// The person's index.
        public var phone: Int
        /// Their phone number.
        public var username: String
        /// When they tested positive and uploaded, in hours from the start.
        public var testHour: Double
        /// Ground truth: people within the close-contact distance for the close-contact minutes.
        public var trueContacts: [Int]
        /// People the health authority traced with enough logged encounters.
        public var tracedContacts: [Int]
        /// Traced people who were true close contacts.
        public var truePositives: Int

        /// Traced close contacts that were true ones; nil (undefined) when nobody was traced.
        public var precision: Double? { SimulationReport.fraction(truePositives, of: tracedContacts.count) }
        /// True close contacts that tracing found; nil (undefined) when there were none.
        public var recall: Double? { SimulationReport.fraction(truePositives, of: trueContacts.count) }

        private enum CodingKeys: String, CodingKey {
            case phone, username, testHour, trueContacts, tracedContacts, truePositives, precision, recall
        }

        public init(
            phone: Int, username: String, testHour: Double, trueContacts: [Int], tracedContacts: [Int],
            truePositives: Int
        ) {
            self.phone = phone
            self.username = username
            self.testHour = testHour
            self.trueContacts = trueContacts
            self.tracedContacts = tracedContacts
            self.truePositives = truePositives
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(
                phone: try container.decode(Int.self, forKey: .phone),
                username: try container.decode(String.self, forKey: .username),
                testHour: try container.decode(Double.self, forKey: .testHour),
                trueContacts: try container.decode([Int].self, forKey: .trueContacts),
                tracedContacts: try container.decode([Int].self, forKey: .tracedContacts),
                truePositives: try container.decode(Int.self, forKey: .truePositives))
        }

        /// Encodes the counts and, for readers of the JSON, precision and recall (`null` where undefined).
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(phone, forKey: .phone)
            try container.encode(username, forKey: .username)
            try container.encode(testHour, forKey: .testHour)
            try container.encode(trueContacts, forKey: .trueContacts)
            try container.encode(tracedContacts, forKey: .tracedContacts)
            try container.encode(truePositives, forKey: .truePositives)
            try container.encode(precision, forKey: .precision)
            try container.encode(recall, forKey: .recall)
        }
    }

    /// Activity in one simulated hour.
    public struct Hour: Sendable, Codable, Equatable {
        /// Hours from the start.
        public var hour: Int
        /// Beacons broadcast.
        public var beaconsSent = 0
        /// Encounters logged.
        public var encountersLogged = 0
    }

    /// Where everyone stood when the first case uploaded (at most 5,000 people), for the map.
    public struct Map: Sendable, Codable, Equatable {
        /// X coordinates, metres.
        public var x: [Double]
        /// Y coordinates, metres.
        public var y: [Double]
    }

    /// The configuration that produced this report.
    public var configuration: SimulationConfiguration
    /// Counts over the whole run.
    public var totals: Totals
    /// Every index case.
    public var cases: [Case]
    /// Activity by hour.
    public var hourly: [Hour]
    /// Positions for the map.
    public var map: Map
    /// Wall-clock seconds the run took (not part of equality: runs are compared by what they found).
    public var elapsedSeconds: Double
    /// With `--epidemic`: the epidemic with and without tracing.
    public var epidemic: EpidemicReport?
    /// With `--risk-scoring`: precision and recall of counted encounters and of weighted minutes as the threshold moves.
    public var risk: RiskCurve?

    /// Overall precision: all true positives over all traced contacts; nil (undefined) when nobody was traced.
    public var precision: Double? {
        Self.fraction(cases.reduce(0) { $0 + $1.truePositives }, of: cases.reduce(0) { $0 + $1.tracedContacts.count })
    }

    /// Overall recall: all true positives over all true close contacts; nil (undefined) when there were none.
    public var recall: Double? {
        Self.fraction(cases.reduce(0) { $0 + $1.truePositives }, of: cases.reduce(0) { $0 + $1.trueContacts.count })
    }

    /// `part / whole`, undefined (nil) when `whole` is 0: the one rule for every precision and recall.
    static func fraction(_ part: Int, of whole: Int) -> Double? {
        whole == 0 ? nil : Double(part) / Double(whole)
    }

    private enum CodingKeys: String, CodingKey {
        case configuration, totals, cases, hourly, map, elapsedSeconds, precision, recall, epidemic, risk
    }

    /// Creates a report.
    public init(
        configuration: SimulationConfiguration, totals: Totals, cases: [Case], hourly: [Hour], map: Map,
        elapsedSeconds: Double, epidemic: EpidemicReport? = nil
    ) {
        self.epidemic = epidemic
        self.configuration = configuration
        self.totals = totals
        self.cases = cases
        self.hourly = hourly
        self.map = map
        self.elapsedSeconds = elapsedSeconds
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            configuration: try container.decode(SimulationConfiguration.self, forKey: .configuration),
            totals: try container.decode(Totals.self, forKey: .totals),
            cases: try container.decode([Case].self, forKey: .cases),
            hourly: try container.decode([Hour].self, forKey: .hourly),
            map: try container.decode(Map.self, forKey: .map),
            elapsedSeconds: try container.decode(Double.self, forKey: .elapsedSeconds),
            epidemic: try container.decodeIfPresent(EpidemicReport.self, forKey: .epidemic))
        risk = try container.decodeIfPresent(RiskCurve.self, forKey: .risk)
    }

    /// Encodes everything found and, for readers of the JSON, overall precision and recall (`null` where undefined).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(configuration, forKey: .configuration)
        try container.encode(totals, forKey: .totals)
        try container.encode(cases, forKey: .cases)
        try container.encode(hourly, forKey: .hourly)
        try container.encode(map, forKey: .map)
        try container.encode(elapsedSeconds, forKey: .elapsedSeconds)
        try container.encode(precision, forKey: .precision)
        try container.encode(recall, forKey: .recall)
        try container.encodeIfPresent(epidemic, forKey: .epidemic)
        try container.encodeIfPresent(risk, forKey: .risk)
    }

    /// Person-steps per wall-clock second.
    public var phoneStepsPerSecond: Double { Double(totals.phoneSteps) / max(elapsedSeconds, 1e-9) }

    /// Beacon deliveries (receptions in range) per wall-clock second.
    public var deliveriesPerSecond: Double { Double(totals.receptionsInRange) / max(elapsedSeconds, 1e-9) }

    public static func == (lhs: SimulationReport, rhs: SimulationReport) -> Bool {
        lhs.configuration == rhs.configuration && lhs.totals == rhs.totals && lhs.cases == rhs.cases
            && lhs.hourly == rhs.hourly && lhs.map == rhs.map && lhs.epidemic == rhs.epidemic
            && lhs.risk == rhs.risk
    }

    /// The readable summary printed on the terminal.
    public var summary: String {
        func percent(_ value: Double?) -> String { value.map { String(format: "%5.1f%%", $0 * 100) } ?? "     –" }
        let c = configuration
        var lines = [
            "BlueTrace simulation: \(c.phones) people (\(percent(c.adoption)) with the app), \(format(c.hours)) h, "
                + "\(c.mobility.rawValue) mobility, \(c.transport.rawValue) transport, seed \(c.seed)",
            "Close contact: within \(format(c.closeContactDistance)) m for \(format(c.closeContactMinutes)) min; "
                + "traced when ≥ \(c.encountersForCloseContact) encounters are logged",
            "",
            "Beacons sent        \(totals.beaconsSent)",
            "Receptions in range \(totals.receptionsInRange)  (lost: \(totals.beaconsLost))",
            "Encounters logged   \(totals.encountersLogged)",
            "TempIDs issued      \(totals.tempIDsIssued) in \(totals.tempIDDownloads) downloads",
            "Uploads             \(totals.uploads)",
            "",
        ]
        if let epidemic {
            lines += epidemic.summary
            lines.append("")
            lines.append(String(format: "%.2f s for both runs (with and without tracing)", elapsedSeconds))
            return lines.joined(separator: "\n")
        }
        lines.append("case          test at   true  traced  found  precision  recall")
        for item in cases {
            lines.append(
                item.username.padding(toLength: 13, withPad: " ", startingAt: 0)
                    + String(format: " %6.1f h", item.testHour)
                    + String(
                        format: " %6d %7d %6d", item.trueContacts.count, item.tracedContacts.count, item.truePositives)
                    + "     " + percent(item.precision) + "  " + percent(item.recall))
        }
        lines.append(
            "overall" + String(repeating: " ", count: 16)
                + String(
                    format: "%6d %7d %6d",
                    cases.reduce(0) { $0 + $1.trueContacts.count }, cases.reduce(0) { $0 + $1.tracedContacts.count },
                    cases.reduce(0) { $0 + $1.truePositives }) + "     " + percent(precision) + "  " + percent(recall))
        if let risk {
            lines.append("")
            lines.append("Risk scoring: threshold (min)  encounters: precision recall   weighted: precision recall")
            for (count, weighted) in zip(risk.encounters, risk.weighted) {
                lines.append(
                    String(format: "%29.0f", count.threshold) + "              " + percent(count.precision) + " "
                        + percent(count.recall) + "             " + percent(weighted.precision) + " "
                        + percent(weighted.recall))
            }
        }
        lines.append("")
        lines.append(
            String(
                format: "%.2f s: %.0f person-steps/s, %.0f beacon deliveries/s", elapsedSeconds, phoneStepsPerSecond,
                deliveriesPerSecond))
        return lines.joined(separator: "\n")
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}
