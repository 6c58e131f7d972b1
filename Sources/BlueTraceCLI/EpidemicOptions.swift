import ArgumentParser
import BlueTraceSimulation

/// The `--epidemic` options of `bluetrace simulate` (defaults and sources: docs/SIMULATION.md, "The epidemic").
struct EpidemicOptions: ParsableArguments {
    @Flag(
        help: """
            Spread an epidemic along true proximity (--infected people infected at the start), with testing, uploads, \
            exposure notices and isolation; run the same world with and without tracing and compare.
            """)
    var epidemic = false
    @Option(help: "Simulated days (instead of --hours).") var days: Double?
    @Option(help: "Hazard of infection per minute within 1 m of an infectious person.")
    var transmissionPerMinute = EpidemicParameters().transmissionPerMinute
    @Option(help: "The hazard halves every this many metres beyond 1 m.")
    var halvingDistance = EpidemicParameters().halvingDistance
    @Option(help: "No transmission beyond this many metres (at most --radio-range).")
    var transmissionRange = EpidemicParameters().transmissionRange
    @Option(help: "Median incubation period, days.") var incubationDays = EpidemicParameters().incubationMedianDays
    @Option(help: "Standard deviation of the log incubation period.")
    var incubationLogSd = EpidemicParameters().incubationLogSD
    @Option(help: "Days infectious before symptom onset.") var presymptomaticDays = EpidemicParameters()
        .presymptomaticDays
    @Option(help: "Days infectious after symptom onset.") var infectiousAfterOnsetDays = EpidemicParameters()
        .infectiousAfterOnsetDays
    @Option(help: "Share of infections without symptoms.") var asymptomaticShare = EpidemicParameters()
        .asymptomaticShare
    @Option(help: "Relative infectiousness of asymptomatic people.")
    var asymptomaticInfectiousness = EpidemicParameters().asymptomaticInfectiousness
    @Option(help: "Share of symptomatic people who get tested.") var detection = EpidemicParameters().detection
    @Option(help: "Hours from symptom onset to a positive result and upload.")
    var testDelay = EpidemicParameters().testDelayHours
    @Option(help: "Share of people who isolate when told to.") var compliance = EpidemicParameters().compliance
    @Option(help: "Hours from an exposure notice to isolation.")
    var isolationDelay = EpidemicParameters().isolationDelayHours
    @Option(help: "Days a notified contact isolates.") var contactIsolationDays = EpidemicParameters()
        .contactIsolationDays
    @Option(help: "Days a tested case isolates from symptom onset.") var caseIsolationDays = EpidemicParameters()
        .caseIsolationDays

    /// The parameters, or `nil` without `--epidemic`.
    var parameters: EpidemicParameters? {
        guard epidemic else { return nil }
        var p = EpidemicParameters()
        p.transmissionPerMinute = transmissionPerMinute
        p.halvingDistance = halvingDistance
        p.transmissionRange = transmissionRange
        p.incubationMedianDays = incubationDays
        p.incubationLogSD = incubationLogSd
        p.presymptomaticDays = presymptomaticDays
        p.infectiousAfterOnsetDays = infectiousAfterOnsetDays
        p.asymptomaticShare = asymptomaticShare
        p.asymptomaticInfectiousness = asymptomaticInfectiousness
        p.detection = detection
        p.testDelayHours = testDelay
        p.compliance = compliance
        p.isolationDelayHours = isolationDelay
        p.contactIsolationDays = contactIsolationDays
        p.caseIsolationDays = caseIsolationDays
        return p
    }
}
