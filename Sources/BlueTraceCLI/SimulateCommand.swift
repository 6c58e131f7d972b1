import ArgumentParser
import BlueTraceDomain
import BlueTraceSimulation
import Foundation
import Logging
import Synchronization

extension SimulationConfiguration.Mobility: ExpressibleByArgument {}
extension SimulationConfiguration.Transport: ExpressibleByArgument {}

/// `bluetrace simulate`: phones that move, beacon whoever is near, and a report of how well tracing works.
struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Simulate a population of phones and score contact tracing against the ground truth.",
        discussion: """
            Every phone runs the real client rules (login, TempID download, rotation and renewal, beacon validity, \
            contact-log retention) against the real server logic; `--transport udp` runs real clients and a real \
            server on loopback sockets. Models and defaults: docs/SIMULATION.md.
            """
    )

    @Option(help: "Number of people.") var phones = 500
    @Option(help: "Simulated hours.") var hours = 24.0
    @Option(help: "Random seed (same seed, same report).") var seed: UInt64 = 1
    @Option(help: "Area in metres, WIDTHxHEIGHT.") var area = "1000x1000"
    @Option(help: "venues (households, workplaces, shops) or random-waypoint.")
    var mobility: SimulationConfiguration.Mobility = .venues
    @Option(help: "memory (in-process, large populations) or udp (real server and sockets, ≤ 500 phones).")
    var transport: SimulationConfiguration.Transport = .memory
    @Flag(help: "With --transport udp: the phones' TCP sessions use TLS (a development certificate for the run).")
    var tls = false
    @Option(help: "Fraction of people with the app.") var adoption = 0.8
    @Option(help: "Fraction of app phones that are iPhones.") var iosShare = 0.5
    @Option(help: "Detection probability iPhone–iPhone (published 25–50% before Herald).") var detectIosIos = 0.35
    @Option(help: "Detection probability iPhone–Android.") var detectMixed = 0.8
    @Option(help: "Detection probability Android–Android.") var detectAndroidAndroid = 0.9
    @Option(help: "Fraction of beacons lost regardless of distance.") var loss = 0.0
    @Option(help: "Seconds between beacons.") var beaconInterval: Int64 = 60
    @Option(help: "Weakest RSSI (dBm) logged as an encounter.") var rssiThreshold = -81.0
    @Option(help: "Radio range in metres (neighbour search radius).") var radioRange = 10.0
    @Option(help: "Ground truth: close-contact distance in metres.") var closeContactDistance = 2.0
    @Option(help: "Ground truth: close-contact cumulative minutes.") var closeContactMinutes = 15.0
    @Option(help: "Number of people who test positive and upload.") var infected = 5
    @Option(help: "When the cases test positive, hours from the start (default: spread over the second half).")
    var testAt: Double?
    @Option(name: .customLong("tempid-scheme"), help: "sealed (default) or decimal.")
    var tempIDScheme: TempIDScheme = .sealed
    @Option(help: "Sealed TempIDs per download.") var sealedBatchSize = 16
    @Option(help: "Worker threads (0: one per core).") var threads = 0
    @Option(help: "Sweep one parameter, NAME=FROM:TO:STEP, e.g. adoption=0.2:1.0:0.2.") var sweep: String?
    @Option(
        help: """
            Run each configuration with this many seeds (--seed, --seed+1, …) and report means with 95% confidence \
            intervals.
            """)
    var repeats = 1
    @Option(help: "Write CSV files and report.html into this directory.") var out: String?
    @Flag(
        help: """
            Score the cases' logged beacons as exposure-notification apps do (attenuation buckets weighted by time) \
            beside the encounter count, and report precision against recall as the threshold moves.
            """)
    var riskScoring = false
    @Flag(help: "Print the report as JSON (for scripts) instead of the summary.") var json = false
    @OptionGroup(title: "Epidemic") var epidemic: EpidemicOptions
    @OptionGroup var common: CommonOptions

    func run() async throws {
        Logs.bootstrap(level: common.logLevel)
        let base = try configuration()
        guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1.") }
        let sweep = try self.sweep.map { text throws(SimulationError) in try Sweep(parsing: text) }
        if let sweep, Sweep.epidemicParameters.contains(sweep.parameter), base.epidemic == nil {
            throw ValidationError("--sweep \(sweep.parameter) is an epidemic parameter: add --epidemic.")
        }
        let runs = sweep.map { sweep in sweep.values.map { sweep.configuration(base, value: $0) } } ?? [base]
        for run in runs {
            if let problem = run.problem { throw ValidationError(problem) }
        }
        let bar = ProgressBar(enabled: isatty(STDERR_FILENO) == 1 && !json)
        var groups: [[SimulationReport]] = []
        for (index, run) in runs.enumerated() {
            var reports: [SimulationReport] = []
            for attempt in 0..<repeats {
                var seeded = run
                seeded.seed = run.seed &+ UInt64(attempt)
                let label =
                    (sweep.map { "\($0.parameter)=\(format($0.values[index]))" } ?? "simulating")
                    + (repeats > 1 ? " seed \(seeded.seed)" : "")
                let report = try await Simulator(configuration: seeded, logger: Logger(label: "bluetrace.simulate"))
                    .run { bar.show(label: label, done: $0, total: $1) }
                bar.finish()
                reports.append(report)
                if !json {
                    if let sweep, attempt == 0 { print("\n== \(sweep.parameter) = \(format(sweep.values[index]))") }
                    if repeats > 1 { print("\n-- seed \(seeded.seed)") }
                    print(report.summary)
                }
            }
            if repeats > 1 && !json { print("\n" + RepeatSummary(reports).summary.joined(separator: "\n")) }
            groups.append(reports)
        }
        let reports = groups.map { $0[0] }
        let summaries = groups.map(RepeatSummary.init)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data =
                if repeats > 1 {
                    try encoder.encode(
                        RepeatedRuns(
                            parameter: sweep?.parameter,
                            points: groups.indices.map {
                                RepeatedRuns.Point(
                                    value: sweep?.values[$0], summary: summaries[$0], reports: groups[$0])
                            }))
                } else if sweep == nil {
                    try encoder.encode(reports[0])
                } else {
                    try encoder.encode(reports)
                }
            print(String(decoding: data, as: UTF8.self))
        } else if let sweep {
            if base.epidemic == nil && repeats == 1 {
                print("\n\(sweep.parameter)  recall  precision")
                for (value, report) in zip(sweep.values, reports) {
                    print(
                        format(value).padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                            + percent(report.recall) + "  " + percent(report.precision))
                }
            } else {
                print("\n\(sweep.parameter)  recall  precision  attack with  attack without  prevented")
                for (value, summary) in zip(sweep.values, summaries) {
                    print(
                        format(value).padding(toLength: 10, withPad: " ", startingAt: 0) + " "
                            + percent(summary.recall?.mean) + "  " + percent(summary.precision?.mean) + "     "
                            + percent(summary.attackRateWithTracing?.mean) + "      "
                            + percent(summary.attackRateWithoutTracing?.mean) + "       "
                            + (summary.infectionsPrevented.map { String(format: "%.1f", $0.mean) } ?? "–"))
                }
            }
        }
        if let out {
            let path = try ReportWriter.write(
                reports[0], sweep: sweep.map { ($0, reports) }, summaries: summaries, to: out)
            if !json { print("\nReport: \(path)") }
        }
    }

    /// A fraction as a percentage, 6 characters wide; "–" where it is undefined.
    private func percent(_ value: Double?) -> String {
        value.map { String(format: "%5.1f%%", $0 * 100) } ?? "     –"
    }

    private func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%.3g", value)
    }

    private func configuration() throws -> SimulationConfiguration {
        var c = SimulationConfiguration()
        let size = area.lowercased().split(separator: "x").compactMap { Double($0) }
        guard size.count == 2 else { throw ValidationError("--area must be WIDTHxHEIGHT in metres, e.g. 1000x1000.") }
        c.phones = phones
        c.hours = hours
        c.seed = seed
        c.areaWidth = size[0]
        c.areaHeight = size[1]
        c.mobility = mobility
        c.transport = transport
        if tls { c.tls = true }
        c.adoption = adoption
        c.iosShare = iosShare
        c.detectIOSIOS = detectIosIos
        c.detectMixed = detectMixed
        c.detectAndroidAndroid = detectAndroidAndroid
        c.loss = loss
        c.beaconInterval = beaconInterval
        c.rssiThreshold = rssiThreshold
        c.radioRange = radioRange
        c.closeContactDistance = closeContactDistance
        c.closeContactMinutes = closeContactMinutes
        c.infected = infected
        c.testAtHours = testAt
        c.tempIDScheme = tempIDScheme
        c.sealedBatchSize = sealedBatchSize
        c.threads = threads
        if let days = epidemic.days { c.hours = days * 24 }
        c.epidemic = epidemic.parameters
        if riskScoring { c.riskScoring = RiskScoring.calibrated(for: c) }
        if let problem = c.problem { throw ValidationError(problem) }
        return c
    }
}

/// The JSON of repeated runs: for each swept value (or the one configuration), the summary and every report.
struct RepeatedRuns: Encodable {
    /// One configuration's runs.
    struct Point: Encodable {
        var value: Double?
        var summary: RepeatSummary
        var reports: [SimulationReport]
    }

    var parameter: String?
    var points: [Point]
}

/// A one-line progress bar on standard error, redrawn at most ten times a second.
final class ProgressBar: Sendable {
    private let enabled: Bool
    private let last = Mutex<ContinuousClock.Instant?>(nil)

    init(enabled: Bool) { self.enabled = enabled }

    func show(label: String, done: Int, total: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let due = last.withLock { last in
            guard done == total || last.map({ now - $0 > .milliseconds(100) }) ?? true else { return false }
            last = now
            return true
        }
        guard due else { return }
        let width = 40
        let filled = total == 0 ? width : width * done / total
        let line =
            "\r\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            + "] \(done * 100 / max(total, 1))%"
        FileHandle.standardError.write(Data(line.utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
