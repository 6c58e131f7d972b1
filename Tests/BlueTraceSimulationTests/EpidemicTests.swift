import BlueTraceDomain
import Foundation
import Testing

@testable import BlueTraceSimulation

@Suite("Epidemic")
struct EpidemicTests {
    /// Five people over three days (one step a minute), positions by hand, with a disease whose course is fixed:
    /// infection is certain within 2 m of an infectious person, incubation exactly 24 h, infectious from 12 h before
    /// onset to 24 h after, everyone symptomatic and tested 6 h after onset, everyone complies, notified contacts
    /// isolate 2 h after the notice.
    ///
    /// - 0 is infected at step 0: infectious from 720 (12 h), onset 1440, positive at 1800; isolates from 1440.
    /// - 1 (app) stands 1 m from 0 for steps 0–659, before 0 is infectious: not infected, but 660 encounters logged.
    /// - 2 (app) stands 1 m from 0 for steps 720–779: infected at 720 (infectious from 1440, onset 2160, positive
    ///   at 2520, isolates from 2160); 60 encounters logged.
    /// - 4 (no app) stands 1 m from 0 for steps 840–869: infected at 840 (positive at 2640); never logged.
    /// - 3 (no app) stands 1 m from 2 for steps 1980–2039.
    ///
    /// With tracing, 0's upload at 1800 notifies 1 and 2 (≥ 15 encounters each); 2 isolates from 1920, so 3 is not
    /// infected at 1980. 2's upload at 2520 notifies 0. Without tracing, 2 infects 3 at 1980 (day 1).
    static func handBuilt() -> (SimulationConfiguration, Scenario) {
        var configuration = SimulationConfiguration()
        configuration.phones = 5
        configuration.hours = 72
        configuration.areaWidth = 200
        configuration.areaHeight = 200
        configuration.rssiNoise = 0
        configuration.detectAndroidAndroid = 1
        configuration.detectMixed = 1
        configuration.detectIOSIOS = 1
        configuration.infected = 1
        var epidemic = EpidemicParameters()
        epidemic.transmissionPerMinute = 1e9
        epidemic.transmissionRange = 2
        epidemic.incubationMedianDays = 1
        epidemic.incubationLogSD = 0
        epidemic.presymptomaticDays = 0.5
        epidemic.infectiousAfterOnsetDays = 1
        epidemic.asymptomaticShare = 0
        epidemic.detection = 1
        epidemic.testDelayHours = 6
        epidemic.compliance = 1
        epidemic.isolationDelayHours = 2
        epidemic.contactIsolationDays = 3
        epidemic.caseIsolationDays = 3
        configuration.epidemic = epidemic
        let away: [(Float, Float)] = [(100, 100), (20, 20), (180, 20), (20, 180), (180, 180)]
        let scenario = Scenario(
            position: { step, person in
                switch person {
                case 1 where step < 660: return (101, 100)
                case 2 where (720..<780).contains(step): return (101, 100)
                case 4 where (840..<870).contains(step): return (99, 100)
                case 3 where (1980..<2040).contains(step): return (181, 20)
                default: return away[person]
                }
            },
            hasApp: [true, true, true, false, false], isIPhone: [false, false, true, false, false], cases: [],
            initialInfections: [0])
        return (configuration, scenario)
    }

    @Test("A hand-built outbreak: infections, tests, notices and isolations as computed by hand")
    func handBuiltOutbreak() async throws {
        let (configuration, scenario) = Self.handBuilt()
        let report = try await Simulator(configuration: configuration, scenario: scenario).run()
        let epidemic = try #require(report.epidemic)
        let traced = epidemic.withTracing
        #expect(traced.tracing)
        #expect(traced.dailyInfections == [3, 0, 0])
        #expect(traced.infections == 3)
        #expect(traced.positives == 3)
        #expect(traced.uploads == 2)
        #expect(traced.notices == 3)
        #expect(traced.noticeIsolations == 3)
        #expect(traced.notifiedInfected == 2)
        #expect(traced.selfIsolations == 3)
        #expect(traced.reproductionByDay == [2.0 / 3.0, nil, nil])
        #expect(traced.infectionsBySetting == ["community": 2])
        let untraced = epidemic.withoutTracing
        #expect(!untraced.tracing)
        #expect(untraced.dailyInfections == [3, 1, 0])
        #expect(untraced.infections == 4)
        #expect(untraced.positives == 4)
        #expect(untraced.uploads == 0)
        #expect(untraced.notices == 0)
        #expect(untraced.selfIsolations == 4)
        #expect(untraced.reproductionByDay == [1.0, 0.0, nil])
        #expect(untraced.infectionsBySetting == ["community": 3])
        #expect(epidemic.infectionsPrevented == 1)
        #expect(epidemic.preventedPerNotice == 1.0 / 3.0)
        #expect(epidemic.noticesPerCase == 1.5)
        #expect(report.totals.uploads == 2)
    }

    @Test("The JSON carries every epidemic figure; the HTML report and CSV files gain the epidemic's charts")
    func outputs() async throws {
        let (configuration, scenario) = Self.handBuilt()
        let report = try await Simulator(configuration: configuration, scenario: scenario).run()
        let json = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any])
        let epidemic = try #require(json["epidemic"] as? [String: Any])
        #expect(epidemic["infectionsPrevented"] as? Int == 1)
        #expect(epidemic["noticesPerCase"] as? Double == 1.5)
        let traced = try #require(epidemic["withTracing"] as? [String: Any])
        #expect(traced["dailyInfections"] as? [Int] == [3, 0, 0])
        #expect(traced["attackRate"] as? Double == 0.6)
        #expect((traced["reproductionByDay"] as? [Any])?.count == 3)
        #expect(try JSONDecoder().decode(SimulationReport.self, from: JSONEncoder().encode(report)) == report)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("epidemic-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let page = try String(contentsOfFile: try ReportWriter.write(report, to: directory), encoding: .utf8)
        #expect(page.contains("Epidemic: with and without tracing"))
        #expect(page.contains("secondary infections per case"))
        #expect(page.contains("<svg"))
        let csv = try String(contentsOfFile: "\(directory)/epidemic.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").dropFirst().first == "0,3,3,3,3,0.6666666666666666,1.0")
        // Without --epidemic and --risk-scoring, the JSON has neither.
        var plain = configuration
        plain.epidemic = nil
        var world = scenario
        world.cases = [(phone: 0, testStep: 100)]
        let classic = try await Simulator(configuration: plain, scenario: world).run()
        let object = try #require(
            try JSONSerialization.jsonObject(with: JSONEncoder().encode(classic)) as? [String: Any])
        #expect(object["epidemic"] == nil)
        #expect(object["risk"] == nil)
        #expect((object["configuration"] as? [String: Any])?["epidemic"] == nil)
    }

    @Test("Isolation at home still lets a person infect their household")
    func isolationAtHome() async throws {
        var (configuration, scenario) = Self.handBuilt()
        // Everyone is at home, so 2's isolation does not protect 3.
        scenario.setting = { _, _ in .home }
        let report = try await Simulator(configuration: configuration, scenario: scenario).run()
        let epidemic = try #require(report.epidemic)
        #expect(epidemic.withTracing.infections == 4)
        #expect(epidemic.withTracing.infectionsBySetting == ["home": 3])
        _ = configuration
    }

    static func outbreak(adoption: Double, threads: Int = 0) -> SimulationConfiguration {
        var configuration = SimulationConfiguration()
        configuration.phones = 200
        configuration.hours = 24 * 5
        configuration.areaWidth = 300
        configuration.areaHeight = 300
        configuration.adoption = adoption
        configuration.infected = 10
        configuration.threads = threads
        var epidemic = EpidemicParameters()
        epidemic.transmissionPerMinute = 0.01
        epidemic.incubationMedianDays = 2
        epidemic.presymptomaticDays = 1
        epidemic.testDelayHours = 12
        epidemic.detection = 0.8
        configuration.epidemic = epidemic
        return configuration
    }

    @Test("With tracing switched off the epidemic is exactly the one without any app (same seed)")
    func tracingOffIsNoApp() async throws {
        let withApp = try #require(try await Simulator(configuration: Self.outbreak(adoption: 0.8)).run().epidemic)
        let noApp = try #require(try await Simulator(configuration: Self.outbreak(adoption: 0)).run().epidemic)
        #expect(withApp.withTracing.notices > 0)
        #expect(withApp.withoutTracing.infections > 10)
        #expect(noApp.withTracing.notices == 0)
        var expected = noApp.withTracing
        expected.tracing = false
        #expect(withApp.withoutTracing == expected)
        #expect(noApp.withoutTracing == expected)
    }

    @Test("Uploads of TempIDs sealed anew trace as the decimal TempIDs the server maps: the same epidemic")
    func sealedAnewTracesAsHeard() async throws {
        var decimal = Self.outbreak(adoption: 0.8)
        decimal.tempIDScheme = .decimal
        let sealed = try #require(try await Simulator(configuration: Self.outbreak(adoption: 0.8)).run().epidemic)
        let mapped = try #require(try await Simulator(configuration: decimal).run().epidemic)
        #expect(sealed.withTracing.notices > 0)
        #expect(sealed == mapped)
    }

    @Test("The epidemic does not depend on how many threads share the work")
    func threadsDoNotChangeTheEpidemic() async throws {
        // Enough people for three chunks of receivers (one per 2,000), and a fast disease so that 20 hours (a beacon
        // every 2 minutes) see tests, uploads and notices.
        func configuration(threads: Int) -> SimulationConfiguration {
            var configuration = Self.outbreak(adoption: 0.8, threads: threads)
            configuration.phones = 4_100
            configuration.hours = 20
            configuration.beaconInterval = 120
            configuration.areaWidth = 1_000
            configuration.areaHeight = 1_000
            configuration.infected = 60
            configuration.epidemic?.incubationMedianDays = 0.4
            configuration.epidemic?.presymptomaticDays = 0.2
            configuration.epidemic?.testDelayHours = 1
            return configuration
        }
        let one = try await Simulator(configuration: configuration(threads: 1)).run()
        let three = try await Simulator(configuration: configuration(threads: 3)).run()
        #expect(one.epidemic?.withTracing.notices ?? 0 > 0)
        #expect(one.epidemic == three.epidemic)
        #expect(one.totals == three.totals)
    }

    @Test("Repeated seeds: the mean with Student's t interval; undefined figures left out")
    func estimates() throws {
        let estimate = try #require(Estimate([1, 2, nil, 3]))
        #expect(estimate.mean == 2)
        #expect(estimate.runs == 3)
        #expect(abs(estimate.high - (2 + 4.303 / 3.0.squareRoot())) < 1e-9)
        #expect(abs(estimate.low - (2 - 4.303 / 3.0.squareRoot())) < 1e-9)
        #expect(Estimate([nil, nil]) == nil)
        #expect(Estimate([0.5]) == Estimate([0.5]))
        #expect(Estimate([0.5])?.low == 0.5)
        let sweep = try Sweep(parsing: "test-delay=0:48:24")
        #expect(sweep.values == [0, 24, 48])
        #expect(sweep.configuration(Self.outbreak(adoption: 0.5), value: 24).epidemic?.testDelayHours == 24)
    }

    @Test("Bad epidemic parameters are refused with what to fix")
    func badParameters() {
        var configuration = Self.outbreak(adoption: 0.5)
        configuration.epidemic?.compliance = 1.5
        #expect(configuration.problem == "--compliance must be between 0 and 1, not 1.5.")
        configuration = Self.outbreak(adoption: 0.5)
        configuration.epidemic?.transmissionRange = 20
        #expect(configuration.problem?.contains("--transmission-range") == true)
        configuration = Self.outbreak(adoption: 0.5)
        configuration.transport = .udp
        #expect(configuration.problem?.contains("memory transport") == true)
    }
}
