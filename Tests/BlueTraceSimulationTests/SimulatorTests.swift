import BlueTraceDomain
import Foundation
import Testing

@testable import BlueTraceSimulation

@Suite("Simulator")
struct SimulatorTests {
    static func small(seed: UInt64 = 7) -> SimulationConfiguration {
        var configuration = SimulationConfiguration()
        configuration.phones = 150
        configuration.hours = 6
        configuration.areaWidth = 300
        configuration.areaHeight = 300
        configuration.infected = 4
        configuration.seed = seed
        return configuration
    }

    @Test("The same seed gives the same report; another seed another")
    func determinism() async throws {
        let first = try await Simulator(configuration: Self.small()).run()
        let second = try await Simulator(configuration: Self.small()).run()
        #expect(first == second)
        #expect(first.totals.encountersLogged > 0)
        #expect(first.cases.count == 4)
        let other = try await Simulator(configuration: Self.small(seed: 8)).run()
        #expect(other != first)
    }

    @Test("The result does not depend on how many threads share the work")
    func threadsDoNotChangeTheResult() async throws {
        var one = Self.small()
        one.threads = 1
        var three = Self.small()
        three.threads = 3
        let a = try await Simulator(configuration: one).run()
        let b = try await Simulator(configuration: three).run()
        #expect(a.totals == b.totals)
        #expect(a.cases == b.cases)
    }

    /// Six people, positions by hand, no noise and perfect detection, so every number can be worked out:
    /// - B stands 1 m from the case for 20 min: a true close contact, 20 encounters logged → traced (true positive).
    /// - C stands 5 m away all hour: RSSI −85.5 dBm < −81 → never logged; not close → true negative.
    /// - D stands 1.5 m away for 10 min: not close (10 < 15 min); 10 encounters < 15 → not traced.
    /// - E stands 1 m away for 30 min without the app: a true close contact tracing cannot find (false negative).
    /// - F stands 3 m away for 40 min: RSSI −79.9 dBm ≥ −81 → 40 encounters → traced, but not within 2 m (false
    ///   positive).
    /// So truth = {B, E}, traced = {B, F}: precision 1/2, recall 1/2.
    @Test("A scripted world that does not fit the configuration is refused with what to fix")
    func mismatchedScenario() async throws {
        var configuration = SimulationConfiguration()
        configuration.phones = 3
        configuration.infected = 1
        configuration.hours = 1
        let scenario = Scenario(
            position: { _, _ in (0, 0) }, hasApp: [true, true], isIPhone: [false, false, false],
            cases: [(phone: 0, testStep: 0)])
        #expect(configuration.problem == nil)
        let error = await #expect(throws: SimulationError.self) {
            try await Simulator(configuration: configuration, scenario: scenario).run()
        }
        guard case .invalidConfiguration(let problem) = error else { return }
        #expect(problem.contains("describes 2 phones with the app flag and 3 with a phone kind"))
    }

    /// Six people for an hour, one case (A, who tests at minute 59), every detection certain and no RSSI noise: B is
    /// 1 m from A for 20 minutes, C 5 m away throughout, D 1.5 m for 10 minutes, E (no app) 1 m for 30 minutes, F 3 m
    /// for 40 minutes; everyone else far away. The hand-computed tests (scores, risk curves) share it.
    static func handBuiltWorld() -> (SimulationConfiguration, Scenario) {
        var configuration = SimulationConfiguration()
        configuration.phones = 6
        configuration.hours = 1
        configuration.areaWidth = 200
        configuration.areaHeight = 200
        configuration.rssiNoise = 0
        configuration.detectAndroidAndroid = 1
        configuration.detectMixed = 1
        configuration.detectIOSIOS = 1
        configuration.infected = 1
        let away: [(Float, Float)] = [(0, 0), (180, 20), (20, 180), (180, 180), (100, 190), (190, 100)]
        let scenario = Scenario(
            position: { step, person in
                switch person {
                case 0: return (100, 100)
                case 1 where step < 20: return (101, 100)
                case 2: return (105, 100)
                case 3 where (20..<30).contains(step): return (100, 101.5)
                case 4 where step < 30: return (99, 100)
                case 5 where step < 40: return (103, 100)
                default: return away[person]
                }
            },
            hasApp: [true, true, true, true, false, true], isIPhone: [false, true, false, true, false, false],
            cases: [(phone: 0, testStep: 59)])
        return (configuration, scenario)
    }

    @Test("A hand-built scenario scores exactly as computed by hand")
    func handBuiltScenario() async throws {
        let (configuration, scenario) = Self.handBuiltWorld()
        let simulator = Simulator(configuration: configuration, scenario: scenario)
        let report = try await simulator.run()
        let item = try #require(report.cases.first)
        #expect(item.trueContacts == [1, 4])
        #expect(item.tracedContacts == [1, 5])
        #expect(item.truePositives == 1)
        #expect(item.precision == 0.5)
        #expect(item.recall == 0.5)
        #expect(report.totals.uploads == 1)
    }

    @Test("Precision and recall are in the JSON, null where undefined, and shown as – in the table")
    func undefinedFigures() throws {
        let report = SimulationReport(
            configuration: SimulationConfiguration(), totals: .init(),
            cases: [
                .init(
                    phone: 0, username: "+61400000000", testHour: 1, trueContacts: [], tracedContacts: [],
                    truePositives: 0),
                .init(
                    phone: 1, username: "+61400000001", testHour: 2, trueContacts: [4, 5], tracedContacts: [4],
                    truePositives: 1),
            ],
            hourly: [], map: .init(x: [], y: []), elapsedSeconds: 1)
        let json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]
        let cases = try #require(json?["cases"] as? [[String: Any]])
        #expect(cases[0]["precision"] is NSNull, "nobody traced: precision undefined")
        #expect(cases[0]["recall"] is NSNull, "no true contacts: recall undefined")
        #expect(cases[1]["precision"] as? Double == 1)
        #expect(cases[1]["recall"] as? Double == 0.5)
        #expect(json?["precision"] as? Double == 1)
        #expect(json?["recall"] as? Double == 0.5)
        #expect(try JSONDecoder().decode(SimulationReport.self, from: JSONEncoder().encode(report)) == report)

        let rows = report.summary.split(separator: "\n")
        let first = try #require(rows.first { $0.hasPrefix("+61400000000") })
        #expect(first.hasSuffix("     –       –"), "row was: \(first)")
        #expect(!first.contains("100.0%") && !first.contains("0.0%"))
        let second = try #require(rows.first { $0.hasPrefix("+61400000001") })
        #expect(second.hasSuffix("100.0%   50.0%"), "row was: \(second)")

        let nobody = SimulationReport(
            configuration: SimulationConfiguration(), totals: .init(), cases: [report.cases[0]], hourly: [],
            map: .init(x: [], y: []), elapsedSeconds: 1)
        let overall = try JSONSerialization.jsonObject(with: JSONEncoder().encode(nobody)) as? [String: Any]
        #expect(overall?["precision"] is NSNull && overall?["recall"] is NSNull)
        #expect(!ReportWriter.html(nobody).contains("100.0%"))
    }

    @Test("Phones move to the next TempID of their batch and download a new batch when it runs out")
    func rotationAndRenewalInSimulatedTime() async throws {
        var configuration = Self.small()
        configuration.phones = 20
        configuration.adoption = 1
        configuration.hours = 2
        configuration.sealedBatchSize = 2
        configuration.infected = 1
        let report = try await Simulator(configuration: configuration).run()
        // 2 hours = 8 TempIDs of 15 minutes; batches of 2 → 4 downloads per phone.
        #expect(report.totals.tempIDDownloads == 20 * 4)
        #expect(report.totals.tempIDsIssued == 20 * 8)
        #expect(report.totals.beaconsSent == 20 * 120, "every phone always has a valid TempID to broadcast")
    }

    /// Six phones in a small square for half an hour, all with the app, two of them cases: small enough for real
    /// sockets, close enough that the server traces someone.
    static func sixPhones() -> SimulationConfiguration {
        var configuration = SimulationConfiguration()
        configuration.phones = 6
        configuration.hours = 0.5
        configuration.areaWidth = 30
        configuration.areaHeight = 30
        configuration.adoption = 1
        configuration.infected = 2
        configuration.closeContactMinutes = 5
        configuration.seed = 3
        return configuration
    }

    @Test("The UDP transport (real server, real clients, real sockets) finds what the memory transport finds")
    func udpTransportAgreesWithMemory() async throws {
        var configuration = Self.sixPhones()
        let memory = try await Simulator(configuration: configuration).run()
        configuration.transport = .udp
        let udp = try await Simulator(configuration: configuration).run()
        #expect(udp.totals.encountersLogged == memory.totals.encountersLogged)
        #expect(udp.totals.encountersLogged > 0)
        #expect(udp.cases == memory.cases)
        #expect(udp.cases.contains { !$0.tracedContacts.isEmpty }, "the real server traced someone")
    }

    @Test("The UDP transport over TLS finds what the memory transport finds")
    func udpTransportOverTLS() async throws {
        var configuration = Self.sixPhones()
        let memory = try await Simulator(configuration: configuration).run()
        configuration.transport = .udp
        configuration.tls = true
        let udp = try await Simulator(configuration: configuration).run()
        #expect(udp.totals.encountersLogged == memory.totals.encountersLogged)
        #expect(udp.cases == memory.cases)
        #expect(udp.cases.contains { !$0.tracedContacts.isEmpty }, "the real server traced someone over TLS")
        configuration.transport = .memory
        #expect(configuration.problem?.contains("--tls") == true)
    }

    @Test("Configurations that cannot run say why")
    func invalidConfigurations() {
        var configuration = SimulationConfiguration()
        configuration.adoption = 1.5
        #expect(configuration.problem?.contains("adoption") == true)
        configuration = SimulationConfiguration()
        configuration.transport = .udp
        configuration.phones = 10_000
        #expect(configuration.problem?.contains("udp") == true)
        #expect(SimulationConfiguration().problem == nil)
    }

    @Test("Sweeps parse NAME=FROM:TO:STEP")
    func sweeps() throws {
        let sweep = try Sweep(parsing: "adoption=0.2:1.0:0.2")
        #expect(sweep.values.count == 5)
        #expect(abs(sweep.values.last! - 1.0) < 1e-9)
        #expect(sweep.configuration(SimulationConfiguration(), value: 0.4).adoption == 0.4)
        #expect(throws: SimulationError.self) { try Sweep(parsing: "colour=1:2:1") }
        #expect(throws: SimulationError.self) { try Sweep(parsing: "adoption=1:0:0.1") }
    }
}
