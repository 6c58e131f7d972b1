/// What `--epidemic` found: the same seeded world run with and without tracing, and what tracing changed.
public struct EpidemicReport: Sendable, Codable, Equatable {
    /// One run of the epidemic: with tracing, or without.
    public struct Arm: Sendable, Codable, Equatable {
        /// Whether positive app users uploaded and their close contacts were notified.
        public var tracing: Bool
        /// New infections on each simulated day (seeded ones on day 0 included).
        public var dailyInfections: [Int]
        /// Everyone infected by the end, seeds included.
        public var infections: Int
        /// Infections over the population.
        public var attackRate: Double
        /// For each day, the mean number of people infected by those infected that day (the case reproduction
        /// number); `nil` for a day nobody was infected. The last days are low: their infections have not run their
        /// course when the run ends.
        public var reproductionByDay: [Double?]
        /// Infections (not seeds) by the setting they happened in.
        public var infectionsBySetting: [String: Int]
        /// Positive tests.
        public var positives: Int
        /// Contact logs uploaded (positive app users, with tracing).
        public var uploads: Int
        /// Exposure notices the health authority sent.
        public var notices: Int
        /// Notices that led to an isolation (the contact complied).
        public var noticeIsolations: Int
        /// Notices to people who were infected by then.
        public var notifiedInfected: Int
        /// Tested people who isolated on their symptoms.
        public var selfIsolations: Int

        /// Creates an arm's figures.
        public init(
            tracing: Bool, dailyInfections: [Int], infections: Int, attackRate: Double, reproductionByDay: [Double?],
            infectionsBySetting: [String: Int], positives: Int, uploads: Int, notices: Int, noticeIsolations: Int,
            notifiedInfected: Int, selfIsolations: Int
        ) {
            self.tracing = tracing
            self.dailyInfections = dailyInfections
            self.infections = infections
            self.attackRate = attackRate
            self.reproductionByDay = reproductionByDay
            self.infectionsBySetting = infectionsBySetting
            self.positives = positives
            self.uploads = uploads
            self.notices = notices
            self.noticeIsolations = noticeIsolations
            self.notifiedInfected = notifiedInfected
            self.selfIsolations = selfIsolations
        }

        /// Cumulative infections by the end of each day.
        public var cumulativeInfections: [Int] {
            var total = 0
            return dailyInfections.map {
                total += $0
                return total
            }
        }
    }

    /// The run with tracing (positive app users upload; notified contacts isolate).
    public var withTracing: Arm
    /// The same world, the same draws, without tracing.
    public var withoutTracing: Arm

    /// Creates a comparison.
    public init(withTracing: Arm, withoutTracing: Arm) {
        self.withTracing = withTracing
        self.withoutTracing = withoutTracing
    }

    /// Infections tracing prevented (may be negative by chance: a notice can shift who meets whom).
    public var infectionsPrevented: Int { withoutTracing.infections - withTracing.infections }

    /// Infections prevented per exposure notice; `nil` when no notice was sent.
    public var preventedPerNotice: Double? {
        withTracing.notices == 0 ? nil : Double(infectionsPrevented) / Double(withTracing.notices)
    }

    /// Exposure notices per uploaded case (the NHS app: 4.4); `nil` when nobody uploaded.
    public var noticesPerCase: Double? {
        withTracing.uploads == 0 ? nil : Double(withTracing.notices) / Double(withTracing.uploads)
    }

    /// Share of notices that reached someone already infected (the NHS app: 6.1% of notified contacts tested
    /// positive); `nil` without notices.
    public var notifiedInfectedShare: Double? {
        withTracing.notices == 0 ? nil : Double(withTracing.notifiedInfected) / Double(withTracing.notices)
    }

    private enum CodingKeys: String, CodingKey {
        case withTracing, withoutTracing, infectionsPrevented, preventedPerNotice, noticesPerCase
        case notifiedInfectedShare
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            withTracing: try container.decode(Arm.self, forKey: .withTracing),
            withoutTracing: try container.decode(Arm.self, forKey: .withoutTracing))
    }

    /// Encodes both arms and, for readers of the JSON, the derived figures (`null` where undefined).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(withTracing, forKey: .withTracing)
        try container.encode(withoutTracing, forKey: .withoutTracing)
        try container.encode(infectionsPrevented, forKey: .infectionsPrevented)
        try container.encode(preventedPerNotice, forKey: .preventedPerNotice)
        try container.encode(noticesPerCase, forKey: .noticesPerCase)
        try container.encode(notifiedInfectedShare, forKey: .notifiedInfectedShare)
    }
}

extension EpidemicReport {
    /// The lines of the terminal summary.
    var summary: [String] {
        func percent(_ value: Double?) -> String { value.map { String(format: "%.1f%%", $0 * 100) } ?? "–" }
        func number(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "–" }
        func r(_ arm: Arm) -> String {
            arm.reproductionByDay.map { $0.map { String(format: "%.2f", $0) } ?? "–" }.joined(separator: " ")
        }
        func settings(_ arm: Arm) -> String {
            let total = arm.infectionsBySetting.values.reduce(0, +)
            return Setting.allCases.compactMap { setting in
                arm.infectionsBySetting[setting.rawValue].map {
                    "\(setting.rawValue) \(percent(Double($0) / Double(max(1, total))))"
                }
            }.joined(separator: ", ")
        }
        var lines = ["Epidemic              with tracing  without"]
        func row(_ name: String, _ a: String, _ b: String) {
            lines.append(
                name.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + a.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + b)
        }
        row("infections", "\(withTracing.infections)", "\(withoutTracing.infections)")
        row("attack rate", percent(withTracing.attackRate), percent(withoutTracing.attackRate))
        row("positive tests", "\(withTracing.positives)", "\(withoutTracing.positives)")
        row("uploads", "\(withTracing.uploads)", "\(withoutTracing.uploads)")
        row("exposure notices", "\(withTracing.notices)", "\(withoutTracing.notices)")
        row("isolations (notice)", "\(withTracing.noticeIsolations)", "\(withoutTracing.noticeIsolations)")
        row("isolations (symptoms)", "\(withTracing.selfIsolations)", "\(withoutTracing.selfIsolations)")
        lines.append("")
        lines.append("Infections prevented \(infectionsPrevented) (\(number(preventedPerNotice)) per notice)")
        lines.append(
            "Notices per case     \(number(noticesPerCase)); notified already infected \(percent(notifiedInfectedShare))"
        )
        lines.append(
            "Daily infections     with:    " + withTracing.dailyInfections.map(String.init).joined(separator: " "))
        lines.append(
            "                     without: " + withoutTracing.dailyInfections.map(String.init).joined(separator: " "))
        lines.append("R by infection day   with:    " + r(withTracing))
        lines.append("                     without: " + r(withoutTracing))
        lines.append("Infections by place  with:    " + settings(withTracing))
        lines.append("                     without: " + settings(withoutTracing))
        return lines
    }
}

extension Epidemic {
    /// The figures of this run, once it has ended.
    func arm(uploads: Int, days: Int) -> EpidemicReport.Arm {
        var secondaries = [Int](repeating: 0, count: days)
        var infectedThatDay = [Int](repeating: 0, count: days)
        var infections = 0
        let stepsPerDay = stepsPerHour * 24
        for person in infectedAt.indices where infectedAt[person] >= 0 {
            infections += 1
            let day = min(days - 1, Int(Double(infectedAt[person]) / stepsPerDay))
            infectedThatDay[day] += 1
            secondaries[day] += Int(self.secondaries[person])
        }
        return EpidemicReport.Arm(
            tracing: parameters.tracing, dailyInfections: tally.dailyInfections, infections: infections,
            attackRate: Double(infections) / Double(max(1, infectedAt.count)),
            reproductionByDay: zip(secondaries, infectedThatDay).map { $1 == 0 ? nil : Double($0) / Double($1) },
            infectionsBySetting: Dictionary(uniqueKeysWithValues: tally.bySetting.map { ($0.key.rawValue, $0.value) }),
            positives: tally.positives, uploads: uploads, notices: tally.notices,
            noticeIsolations: tally.noticeIsolations, notifiedInfected: tally.notifiedInfected,
            selfIsolations: tally.selfIsolations)
    }
}
