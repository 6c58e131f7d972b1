import BlueTraceDomain
import Foundation
import Logging

/// Runs a population of phones through simulated time and scores contact tracing against the ground truth.
public struct Simulator: Sendable {
    /// Progress: steps done and steps in all.
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    private let configuration: SimulationConfiguration
    private let logger: Logger
    /// A hand-built scenario replacing the random population and mobility (tests).
    var scenario: Scenario?

    /// The simulated clock starts at this instant (a Monday midnight, UTC), so runs do not depend on today.
    public static let epoch = Timestamp(secondsSinceEpoch: 1_767_571_200)  // 05/01/2026 00:00:00 UTC

    /// Creates a simulator.
    public init(configuration: SimulationConfiguration, logger: Logger = Logger(label: "bluetrace.simulate")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs the simulation and returns its report.
    public func run(progress: Progress = { _, _ in }) async throws -> SimulationReport {
        if let problem = configuration.problem { throw SimulationError.invalidConfiguration(problem) }
        let started = ContinuousClock.now
        let population =
            scenario.map { Population(configuration: configuration, scenario: $0) }
            ?? Population(configuration: configuration)
        let network: any PhoneNetwork =
            switch configuration.transport {
            case .memory: try await MemoryNetwork(configuration: configuration, logger: logger)
            case .udp: try await UDPNetwork(configuration: configuration, logger: logger)
            }
        do {
            let report = try await run(population: population, network: network, started: started, progress: progress)
            await network.stop()
            return report
        } catch {
            await network.stop()
            throw error
        }
    }

    private func run(
        population: Population, network: any PhoneNetwork, started: ContinuousClock.Instant, progress: Progress
    ) async throws -> SimulationReport {
        let steps = configuration.steps
        let interval = configuration.beaconInterval
        let people = configuration.phones
        try await network.start(phones: population.phones, at: Self.epoch)

        var world = World(configuration: configuration)
        var x = [Float](repeating: 0, count: people)
        var y = [Float](repeating: 0, count: people)
        var grid = SpatialGrid(
            width: configuration.areaWidth, height: configuration.areaHeight, cellSize: configuration.radioRange,
            people: people)
        let radio = Radio(configuration)
        let threads = configuration.threads > 0 ? configuration.threads : ProcessInfo.processInfo.activeProcessorCount
        let collectAll = configuration.transport == .udp

        var exposure = [[Int32: Int32]](repeating: [:], count: population.cases.count)
        var truthAtTest = [[Int32: Int32]](repeating: [:], count: population.cases.count)
        var statistics = SimulationReport.Totals()
        var hourly: [SimulationReport.Hour] = []
        var mapSnapshot: (x: [Float], y: [Float])?

        for step in 0..<steps {
            let time = Self.epoch + Int64(step) * interval
            if let scenario {
                for person in 0..<people { (x[person], y[person]) = scenario.position(step, person) }
            } else {
                world.positions(at: step, x: &x, y: &y)
            }
            grid.rebuild(x: x, y: y)
            let transmitting = try await network.advance(to: time)
            let input = StepInput(
                step: step, seed: configuration.seed, x: x, y: y, grid: grid, radio: radio,
                closeDistance: Float(configuration.closeContactDistance), hasApp: population.hasApp,
                kind: population.kind, offset: population.offset, caseSlot: population.caseSlot,
                transmitting: transmitting, collectAll: collectAll)
            let output = await input.run(threads: threads)

            for (slot, other) in output.truth { exposure[Int(slot)][other, default: 0] += 1 }
            let logged = try await network.deliver(output.pairs, others: output.uncollected, at: time)
            let broadcasting = transmitting.lazy.filter { $0 }.count
            statistics.beaconsSent += broadcasting
            statistics.receptionsInRange += output.eligible
            statistics.beaconsLost += output.lost
            statistics.encountersLogged += logged
            statistics.phoneSteps += people

            let hour = Int(Int64(step) * interval / 3600)
            if hourly.count <= hour { hourly.append(SimulationReport.Hour(hour: hour)) }
            hourly[hour].beaconsSent += broadcasting
            hourly[hour].encountersLogged += logged

            for (slot, phone) in population.cases.enumerated() where population.testStep[slot] == step {
                try await network.upload(phone: phone, at: time)
                truthAtTest[slot] = exposure[slot]
                if mapSnapshot == nil { mapSnapshot = (x, y) }
            }
            progress(step + 1, steps)
        }

        let (issued, downloads) = await network.tempIDStatistics()
        statistics.tempIDsIssued = issued
        statistics.tempIDDownloads = downloads
        statistics.uploads = population.cases.count

        let neededSteps = Int32(((configuration.closeContactMinutes * 60) / Double(interval)).rounded(.up))
        var cases: [SimulationReport.Case] = []
        for (slot, phone) in population.cases.enumerated() {
            let truth = Set(truthAtTest[slot].filter { $0.value >= max(1, neededSteps) }.keys.map(Int.init))
            let traced = Set(
                try await network.tracedContacts(of: phone)
                    .filter { $0.encounters >= configuration.encountersForCloseContact }
                    .compactMap { population.index(ofUsername: $0.phone) })
            cases.append(
                SimulationReport.Case(
                    phone: phone, username: population.phones[phone].username,
                    testHour: Double(population.testStep[slot]) * Double(interval) / 3600,
                    trueContacts: truth.sorted(), tracedContacts: traced.sorted(),
                    truePositives: truth.intersection(traced).count))
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let snapshot = mapSnapshot ?? (x, y)
        return SimulationReport(
            configuration: configuration, totals: statistics, cases: cases, hourly: hourly,
            map: SimulationReport.Map(
                x: snapshot.x.prefix(5_000).map { Double($0) }, y: snapshot.y.prefix(5_000).map { Double($0) }),
            elapsedSeconds: seconds)
    }
}

/// Who the simulated people are: app users, phone kinds, per-phone radio offsets, and who tests positive when.
struct Population: Sendable {
    let phones: [SimulatedPhone]
    let hasApp: [Bool]
    let kind: [UInt8]
    let offset: [Float]
    /// For each person, their slot among the cases, or −1.
    let caseSlot: [Int32]
    /// The cases' phone indices, in slot order.
    let cases: [Int]
    /// The step at which each case tests positive and uploads.
    let testStep: [Int]

    /// A hand-built population: who has the app, their kinds, who tests positive and when; no per-phone offsets.
    init(configuration: SimulationConfiguration, scenario: Scenario) {
        let people = configuration.phones
        hasApp = scenario.hasApp
        kind = scenario.isIPhone.map { $0 ? 1 : 0 }
        offset = [Float](repeating: 0, count: people)
        cases = scenario.cases.map(\.phone)
        testStep = scenario.cases.map(\.testStep)
        var caseSlot = [Int32](repeating: -1, count: people)
        for (slot, phone) in cases.enumerated() { caseSlot[phone] = Int32(slot) }
        self.caseSlot = caseSlot
        phones = (0..<people).map { person in
            SimulatedPhone(
                index: person, username: Self.username(of: person), hasApp: scenario.hasApp[person],
                isCase: caseSlot[person] >= 0)
        }
    }

    init(configuration: SimulationConfiguration) {
        var generator = SeededGenerator(seed: SimRandom.hash(configuration.seed, 0x9090_0002))
        let people = configuration.phones
        var hasApp = [Bool](repeating: false, count: people)
        var kind = [UInt8](repeating: 0, count: people)
        var offset = [Float](repeating: 0, count: people)
        for person in 0..<people {
            hasApp[person] = Double.random(in: 0..<1, using: &generator) < configuration.adoption
            kind[person] = Double.random(in: 0..<1, using: &generator) < configuration.iosShare ? 1 : 0
            let u1 = generator.next()
            let u2 = generator.next()
            offset[person] = Float(configuration.phoneOffsetSD * SimRandom.normal(u1, u2))
        }
        var appUsers = (0..<people).filter { hasApp[$0] }
        appUsers.shuffle(using: &generator)
        let cases = Array(appUsers.prefix(configuration.infected)).sorted()
        var caseSlot = [Int32](repeating: -1, count: people)
        for (slot, phone) in cases.enumerated() { caseSlot[phone] = Int32(slot) }
        let steps = configuration.steps
        let testStep = cases.indices.map { slot -> Int in
            if let hours = configuration.testAtHours {
                return min(steps - 1, Int(hours * 3600 / Double(configuration.beaconInterval)) - 1)
            }
            // Spread over the second half of the run.
            let fraction = cases.count == 1 ? 1.0 : 0.5 + 0.5 * Double(slot + 1) / Double(cases.count)
            return max(0, min(steps - 1, Int(Double(steps) * fraction) - 1))
        }
        self.phones = (0..<people).map { person in
            SimulatedPhone(
                index: person, username: Self.username(of: person), hasApp: hasApp[person],
                isCase: caseSlot[person] >= 0)
        }
        self.hasApp = hasApp
        self.kind = kind
        self.offset = offset
        self.caseSlot = caseSlot
        self.cases = cases
        self.testStep = testStep
    }

    /// The phone number of person `index`: +614 and eight digits.
    static func username(of index: Int) -> String {
        let digits = String(index)
        return "+614" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// The person with phone number `username`, if it is one of ours.
    func index(ofUsername username: String) -> Int? {
        guard username.hasPrefix("+614"), let index = Int(username.dropFirst(4)), index < phones.count else {
            return nil
        }
        return index
    }
}

/// A hand-built scenario: positions as a function of (step, person), and the population's make-up.
struct Scenario: Sendable {
    var position: @Sendable (_ step: Int, _ person: Int) -> (Float, Float)
    var hasApp: [Bool]
    var isIPhone: [Bool]
    var cases: [(phone: Int, testStep: Int)]
}

/// One step's work for the radio and the ground truth: pure, and split across threads by receiver.
struct StepInput: Sendable {
    let step: Int
    let seed: UInt64
    let x: [Float]
    let y: [Float]
    let grid: SpatialGrid
    let radio: Radio
    let closeDistance: Float
    let hasApp: [Bool]
    let kind: [UInt8]
    let offset: [Float]
    let caseSlot: [Int32]
    let transmitting: [Bool]
    /// Whether to list every delivery (the UDP transport sends each), or only those to cases.
    let collectAll: Bool

    struct Output: Sendable {
        var truth: [(slot: Int32, other: Int32)] = []
        var pairs: [(sender: Int32, receiver: Int32)] = []
        var uncollected = 0
        var eligible = 0
        var lost = 0
    }

    func run(threads: Int) async -> Output {
        let people = x.count
        let chunks = max(1, min(threads, people / 2_000 + 1))
        if chunks == 1 { return process(0..<people) }
        return await withTaskGroup(of: (Int, Output).self) { group in
            for chunk in 0..<chunks {
                let range = (people * chunk / chunks)..<(people * (chunk + 1) / chunks)
                group.addTask { (chunk, process(range)) }
            }
            var outputs = [Output](repeating: Output(), count: chunks)
            for await (chunk, output) in group { outputs[chunk] = output }
            var merged = Output()
            for output in outputs {
                merged.truth += output.truth
                merged.pairs += output.pairs
                merged.uncollected += output.uncollected
                merged.eligible += output.eligible
                merged.lost += output.lost
            }
            return merged
        }
    }

    func process(_ receivers: Range<Int>) -> Output {
        var output = Output()
        let range2 = radio.range * radio.range
        let close2 = closeDistance * closeDistance
        let step = UInt64(step)
        for receiver in receivers {
            let slot = caseSlot[receiver]
            let listens = hasApp[receiver]
            guard listens || slot >= 0 else { continue }
            let rx = x[receiver]
            let ry = y[receiver]
            let receiverKind = Int(kind[receiver])
            let receiverOffset = offset[receiver]
            grid.forEachNearby(receiver) { sender in
                guard sender != receiver else { return }
                let dx = x[sender] - rx
                let dy = y[sender] - ry
                let d2 = dx * dx + dy * dy
                guard d2 <= range2 else { return }
                if slot >= 0 && d2 <= close2 { output.truth.append((slot, Int32(sender))) }
                guard listens, transmitting[sender] else { return }
                let h = SimRandom.hash(seed, step, UInt64(sender), UInt64(receiver))
                let rssi = radio.rssi(
                    distance: Double(d2.squareRoot()), offsets: Double(offset[sender] + receiverOffset),
                    SimRandom.mix(h ^ 1), SimRandom.mix(h ^ 2))
                guard rssi >= radio.threshold else { return }
                output.eligible += 1
                let detected =
                    SimRandom.unit(SimRandom.mix(h ^ 3)) < radio.detection[Int(kind[sender])][receiverKind]
                    && SimRandom.unit(SimRandom.mix(h ^ 4)) >= radio.loss
                guard detected else {
                    output.lost += 1
                    return
                }
                if slot >= 0 || collectAll {
                    output.pairs.append((Int32(sender), Int32(receiver)))
                } else {
                    output.uncollected += 1
                }
            }
        }
        return output
    }
}
