/// The epidemic's parameters for `bluetrace simulate --epidemic`; every default and its published source is in
/// docs/SIMULATION.md ("The epidemic").
public struct EpidemicParameters: Sendable, Hashable, Codable {
    /// Whether positive app users upload and their close contacts get exposure notices (off: the same epidemic with
    /// no app at all, for comparison).
    public var tracing = true
    /// Hazard of infection per minute spent within 1 m of an infectious person (calibrated: see docs/SIMULATION.md).
    public var transmissionPerMinute = 0.004
    /// The hazard halves with every this many metres beyond 1 m (Chu et al., Lancet 2020: relative risk 2.02 per metre).
    public var halvingDistance = 1.0
    /// No transmission beyond this distance, metres.
    public var transmissionRange = 3.0
    /// Median incubation period, days (Lauer et al., Ann Intern Med 2020: 5.1 days).
    public var incubationMedianDays = 5.1
    /// Standard deviation of the incubation period's logarithm (Lauer et al. 2020 log-normal fit: 0.418).
    public var incubationLogSD = 0.418
    /// Days of infectiousness before symptom onset (He et al., Nat Med 2020: from 2.3 days before).
    public var presymptomaticDays = 2.0
    /// Days of infectiousness after symptom onset (He et al. 2020: infectiousness declines within 7 days).
    public var infectiousAfterOnsetDays = 5.0
    /// Share of infections that never show symptoms (CDC planning scenarios 2020, best estimate: 40%).
    public var asymptomaticShare = 0.4
    /// Infectiousness of an asymptomatic person relative to a symptomatic one (CDC planning scenarios: 75%).
    public var asymptomaticInfectiousness = 0.75
    /// Share of symptomatic people who get tested.
    public var detection = 0.5
    /// Hours from symptom onset to a positive result (and the upload).
    public var testDelayHours = 48.0
    /// Share of people who isolate when told to (a notice, or their own symptoms once tested).
    public var compliance = 0.7
    /// Hours from an exposure notice to the start of isolation.
    public var isolationDelayHours = 6.0
    /// Days a notified contact isolates (UK rule in 2020: 14).
    public var contactIsolationDays = 14.0
    /// Days a tested symptomatic person isolates from symptom onset (UK rule from July 2020: 10).
    public var caseIsolationDays = 10.0

    /// The default parameters.
    public init() {}

    /// Why these parameters cannot run, in words the user can act on; `nil` when they can.
    func problem(radioRange: Double) -> String? {
        for (name, value) in [
            ("asymptomatic-share", asymptomaticShare), ("asymptomatic-infectiousness", asymptomaticInfectiousness),
            ("detection", detection), ("compliance", compliance),
        ] where !(0...1).contains(value) {
            return "--\(name) must be between 0 and 1, not \(value)."
        }
        for (name, value) in [
            ("transmission-per-minute", transmissionPerMinute), ("incubation-log-sd", incubationLogSD),
            ("presymptomatic-days", presymptomaticDays), ("infectious-after-onset-days", infectiousAfterOnsetDays),
            ("test-delay", testDelayHours), ("isolation-delay", isolationDelayHours),
            ("contact-isolation-days", contactIsolationDays), ("case-isolation-days", caseIsolationDays),
        ] where !(value >= 0) || !value.isFinite {
            return "--\(name) must be a number of at least 0, not \(value)."
        }
        if !(incubationMedianDays > 0) { return "--incubation-days must be positive." }
        if !(halvingDistance > 0) { return "--halving-distance must be positive." }
        if !(transmissionRange > 0) || transmissionRange > radioRange {
            return "--transmission-range must be positive and at most --radio-range (\(radioRange) m)."
        }
        return nil
    }
}

/// Where an infection happened: the place the infectious person was at.
public enum Setting: String, Sendable, Hashable, Codable, CaseIterable {
    /// A household.
    case home
    /// A workplace.
    case work
    /// A shop, in the evening.
    case shop
    /// Anywhere else: the random-waypoint world, or a scripted world that does not say.
    case community
}
