/// A figure estimated from repeated seeds: the mean and its 95% confidence interval (Student's t).
public struct Estimate: Sendable, Codable, Equatable {
    /// The mean over the runs.
    public var mean: Double
    /// The interval's lower end (the mean when there is one run).
    public var low: Double
    /// The interval's upper end.
    public var high: Double
    /// Runs in which the figure was defined.
    public var runs: Int

    /// The estimate from `values` (undefined ones left out); `nil` when none is defined.
    public init?(_ values: [Double?]) {
        let defined = values.compactMap { $0 }
        guard !defined.isEmpty else { return nil }
        let n = Double(defined.count)
        let mean = defined.reduce(0, +) / n
        self.mean = mean
        runs = defined.count
        guard defined.count > 1 else {
            low = mean
            high = mean
            return
        }
        let variance = defined.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        let half = Self.t975(degreesOfFreedom: defined.count - 1) * (variance / n).squareRoot()
        low = mean - half
        high = mean + half
    }

    /// The 97.5% quantile of Student's t distribution.
    static func t975(degreesOfFreedom df: Int) -> Double {
        let table: [Double] = [
            12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
            2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
        ]
        return df <= table.count ? table[max(1, df) - 1] : 1.96
    }
}

/// What repeated seeds of one configuration found: each figure's mean and 95% confidence interval.
public struct RepeatSummary: Sendable, Codable, Equatable {
    /// The seeds run.
    public var seeds: [UInt64]
    /// Overall recall of tracing (without an epidemic).
    public var recall: Estimate?
    /// Overall precision of tracing (without an epidemic).
    public var precision: Estimate?
    /// The attack rate with tracing.
    public var attackRateWithTracing: Estimate?
    /// The attack rate without tracing.
    public var attackRateWithoutTracing: Estimate?
    /// Infections prevented by tracing.
    public var infectionsPrevented: Estimate?
    /// Infections prevented per exposure notice.
    public var preventedPerNotice: Estimate?
    /// Exposure notices per uploaded case.
    public var noticesPerCase: Estimate?

    /// The summary of `reports`, one per seed.
    public init(_ reports: [SimulationReport]) {
        seeds = reports.map(\.configuration.seed)
        recall = Estimate(reports.map(\.recall))
        precision = Estimate(reports.map(\.precision))
        attackRateWithTracing = Estimate(reports.map { $0.epidemic?.withTracing.attackRate })
        attackRateWithoutTracing = Estimate(reports.map { $0.epidemic?.withoutTracing.attackRate })
        infectionsPrevented = Estimate(reports.map { $0.epidemic.map { Double($0.infectionsPrevented) } })
        preventedPerNotice = Estimate(reports.map { $0.epidemic?.preventedPerNotice })
        noticesPerCase = Estimate(reports.map { $0.epidemic?.noticesPerCase })
    }

    /// The lines of the terminal summary.
    public var summary: [String] {
        func line(_ name: String, _ estimate: Estimate?, percent: Bool) -> String? {
            guard let estimate else { return nil }
            let scale = percent ? 100.0 : 1.0
            let unit = percent ? "%" : ""
            func number(_ value: Double) -> String { String(format: "%.2f", value * scale) + unit }
            return name.padding(toLength: 28, withPad: " ", startingAt: 0) + number(estimate.mean) + "  (95% CI "
                + number(estimate.low) + " – " + number(estimate.high) + ", \(estimate.runs) runs)"
        }
        return [
            "Over \(seeds.count) seeds (\(seeds.first.map(String.init) ?? "")–\(seeds.last.map(String.init) ?? "")):",
            line("recall", recall, percent: true), line("precision", precision, percent: true),
            line("attack rate with tracing", attackRateWithTracing, percent: true),
            line("attack rate without", attackRateWithoutTracing, percent: true),
            line("infections prevented", infectionsPrevented, percent: false),
            line("prevented per notice", preventedPerNotice, percent: false),
            line("notices per case", noticesPerCase, percent: false),
        ].compactMap { $0 }
    }
}
