import BlueTraceDomain
import Foundation
import Logging

/// Runs a population of phones through simulated time and scores contact tracing against the ground truth.
public struct Simulator: Sendable {
    /// Progress: steps done and steps in all.
    public typealias Progress = @Sendable (_ done: Int, _ total: Int) -> Void

    private let configuration: SimulationConfiguration
    private let logger: Logger
    /// A scripted world replacing the random population and mobility, if one was given.
    private let scenario: Scenario?
    /// Whether this is an epidemic's run without tracing: no phone runs the app, so nothing is beaconed or logged
    /// (the epidemic never reads the radio; only tracing does).
    private var isControl = false

    /// The simulated clock starts at this instant (a Monday midnight, UTC), so runs do not depend on today.
    public static let epoch = Timestamp(secondsSinceEpoch: 1_767_571_200)  // 05/01/2026 00:00:00 UTC

    /// The logger of a simulator given none: warnings and errors only, as a run of thousands of phones would otherwise
    /// write a line for every login and upload of the server it runs (`bluetrace simulate` passes its own).
    public static var defaultLogger: Logger {
        var logger = Logger(label: "bluetrace.simulate")
        logger.logLevel = .warning
        return logger
    }

    /// Creates a simulator of a random population moving at random (seeded by the configuration).
    public init(configuration: SimulationConfiguration, logger: Logger = Simulator.defaultLogger) {
        self.configuration = configuration
        self.logger = logger
        self.scenario = nil
    }

    /// Creates a simulator of a scripted world: who is where at each step, who has the app on which kind of phone, and
    /// who tests positive when. The radio, the protocol and the scoring are the same as for a random population.
    public init(
        configuration: SimulationConfiguration, scenario: Scenario,
        logger: Logger = Simulator.defaultLogger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.scenario = scenario
    }

    /// Runs the simulation and returns its report. With an epidemic, runs the same world twice, with and without
    /// tracing, and reports both.
    public func run(progress: Progress = { _, _ in }) async throws -> SimulationReport {
        if let problem = configuration.problem
            ?? scenario?.problem(phones: configuration.phones, steps: configuration.steps)
        {
            throw SimulationError.invalidConfiguration(problem)
        }
        guard configuration.epidemic != nil else { return try await runOnce(progress: progress).report }
        let started = ContinuousClock.now
        let steps = configuration.steps
        var untraced = configuration
        untraced.epidemic?.tracing = false
        var control = Simulator(configuration: untraced, optionalScenario: scenario, logger: logger)
        control.isControl = true
        let (traced, tracedArm) = try await runOnce { done, _ in progress(done, 2 * steps) }
        let (_, untracedArm) = try await control.runOnce { done, _ in progress(steps + done, 2 * steps) }
        var report = traced
        report.epidemic = EpidemicReport(withTracing: tracedArm!, withoutTracing: untracedArm!)
        report.elapsedSeconds = Self.seconds(since: started)
        return report
    }

    private init(configuration: SimulationConfiguration, optionalScenario scenario: Scenario?, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.scenario = scenario
    }

    static func seconds(since started: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }

    /// One run of this configuration: the report and, with an epidemic, its figures.
    func runOnce(progress: Progress) async throws -> (report: SimulationReport, arm: EpidemicReport.Arm?) {
        let started = ContinuousClock.now
        let population =
            scenario.map { Population(configuration: configuration, scenario: $0) }
            ?? Population(configuration: configuration)
        let network: any PhoneNetwork =
            switch configuration.transport {
            case _ where isControl: SilentNetwork(phones: configuration.phones)
            case .memory: try await MemoryNetwork(configuration: configuration, logger: logger)
            case .udp: try await UDPNetwork(configuration: configuration, logger: logger)
            }
        do {
            let result = try await run(population: population, network: network, started: started, progress: progress)
            await network.stop()
            logger.info(
                "run finished",
                metadata: [
                    "seconds": "\(Self.seconds(since: started))",
                    "tracing": "\(configuration.epidemic.map { $0.tracing } ?? true)",
                ])
            return result
        } catch {
            await network.stop()
            throw error
        }
    }

    private func run(
        population: Population, network: any PhoneNetwork, started: ContinuousClock.Instant, progress: Progress
    ) async throws -> (report: SimulationReport, arm: EpidemicReport.Arm?) {
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
        let chunks = configuration.parts
        // Every logged beacon goes to the network when anyone might upload: over UDP, or in an epidemic with tracing.
        let collectAll = configuration.transport == .udp || configuration.epidemic?.tracing == true
        var epidemic = configuration.epidemic.map {
            Epidemic(
                parameters: $0, seed: configuration.seed, people: people, beaconInterval: interval,
                days: configuration.days)
        }
        for person in population.seeded { epidemic?.infect(person, at: 0, by: -1, in: .community) }
        var epidemicUploads = 0
        var lists: [NeighbourLists] = []
        var built = false

        var exposure = [[Int32: Int32]](repeating: [:], count: population.cases.count)
        var truthAtTest = [[Int32: Int32]](repeating: [:], count: population.cases.count)
        var scores = [[Int32: (minutes: Double, weighted: Double)]](repeating: [:], count: population.cases.count)
        var statistics = SimulationReport.Totals()
        var hourly: [SimulationReport.Hour] = []
        var mapSnapshot: (x: [Float], y: [Float])?

        for step in 0..<steps {
            // A step may well finish without ever suspending (the memory transport answers at once): give the other
            // tasks of the process their turn, as a run of days would otherwise hold a thread of the cooperative pool
            // for its whole length (and, two at a time, every thread of a 2-core machine).
            await Task.yield()
            let time = Self.epoch + Int64(step) * interval
            let moved: Bool
            if let scenario {
                for person in 0..<people { (x[person], y[person]) = scenario.position(step, person) }
                moved = true
            } else {
                moved = world.positions(at: step, x: &x, y: &y)
            }
            if moved || !built {
                built = true
                grid.rebuild(x: x, y: y)
                if !isControl {
                    lists = await NeighbourLists.build(
                        chunks: chunks, x: x, y: y, grid: grid, radio: radio,
                        closeDistance: Float(configuration.closeContactDistance), population: population)
                }
            }
            let transmitting = try await network.advance(to: time)
            let output =
                isControl
                ? StepOutput()
                : await Self.step(
                    step, lists: lists, seed: configuration.seed, radio: radio, population: population,
                    transmitting: transmitting, collectAll: collectAll)

            for (slot, other) in output.truth { exposure[Int(slot)][other, default: 0] += 1 }
            if let scoring = configuration.riskScoring {
                let minutes = Double(interval) / 60
                for (slot, sender, rssi) in output.readings where step <= population.testStep[Int(slot)] {
                    scores[Int(slot)][sender, default: (0, 0)].minutes += minutes
                    scores[Int(slot)][sender, default: (0, 0)].weighted += minutes * scoring.weight(rssi: Double(rssi))
                }
            }
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
            if epidemic != nil {
                if let scenario {
                    // A scripted world's places are its own to say; it is the community where it does not.
                    let setting = scenario.setting ?? { _, _ in .community }
                    epidemic!.spread(at: step, x: x, y: y, grid: grid) { setting(step, $0) }
                } else {
                    epidemic!.spread(at: step, x: x, y: y, grid: grid) { world.setting(of: $0) }
                }
                for person in epidemic!.results(at: step)
                where configuration.epidemic!.tracing && population.hasApp[person] {
                    try await network.upload(phone: person, at: time)
                    epidemicUploads += 1
                    if mapSnapshot == nil { mapSnapshot = (x, y) }
                    for phone in await network.takeNotices() {
                        if let contact = population.index(ofUsername: phone) { epidemic!.notify(contact, at: step) }
                    }
                }
            }
            progress(step + 1, steps)
        }

        let (issued, downloads) = await network.tempIDStatistics()
        statistics.tempIDsIssued = issued
        statistics.tempIDDownloads = downloads
        statistics.uploads = population.cases.count + epidemicUploads

        let neededSteps = Int32(((configuration.closeContactMinutes * 60) / Double(interval)).rounded(.up))
        var cases: [SimulationReport.Case] = []
        var truths: [Set<Int>] = []
        for (slot, phone) in population.cases.enumerated() {
            let truth = Set(truthAtTest[slot].filter { $0.value >= max(1, neededSteps) }.keys.map(Int.init))
            truths.append(truth)
            let traced = Set(
                try await network.tracedContacts(of: phone)
                    .filter { configuration.closeContactRule.isCloseContact(encounters: $0.encounters) }
                    .compactMap { population.index(ofUsername: $0.phone) })
            cases.append(
                SimulationReport.Case(
                    phone: phone, username: population.phones[phone].username,
                    testHour: Double(population.testStep[slot]) * Double(interval) / 3600,
                    trueContacts: truth.sorted(), tracedContacts: traced.sorted(),
                    truePositives: truth.intersection(traced).count))
        }
        let snapshot = mapSnapshot ?? (x, y)
        var report = SimulationReport(
            configuration: configuration, totals: statistics, cases: cases, hourly: hourly,
            map: SimulationReport.Map(
                x: snapshot.x.prefix(5_000).map { Double($0) }, y: snapshot.y.prefix(5_000).map { Double($0) }),
            elapsedSeconds: Self.seconds(since: started))
        if let scoring = configuration.riskScoring, !population.cases.isEmpty {
            report.risk = RiskCurve(scoring: scoring, scores: scores, truth: truths)
        }
        return (report, epidemic?.arm(uploads: epidemicUploads, days: configuration.days))
    }
}

extension Simulator {
    /// Runs one step over every chunk of receivers in parallel and merges the results in chunk order.
    static func step(
        _ step: Int, lists: [NeighbourLists], seed: UInt64, radio: Radio, population: Population,
        transmitting: [Bool], collectAll: Bool
    ) async -> StepOutput {
        if lists.count == 1 {
            return lists[0].step(
                step, seed: seed, radio: radio, population: population, transmitting: transmitting,
                collectAll: collectAll)
        }
        return await withTaskGroup(of: (Int, StepOutput).self) { group in
            for (index, list) in lists.enumerated() {
                group.addTask {
                    (
                        index,
                        list.step(
                            step, seed: seed, radio: radio, population: population, transmitting: transmitting,
                            collectAll: collectAll)
                    )
                }
            }
            var outputs = [StepOutput?](repeating: nil, count: lists.count)
            for await (index, output) in group { outputs[index] = output }
            var merged = StepOutput()
            for output in outputs { merged.merge(output!) }
            return merged
        }
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
    /// With an epidemic: the people infected at the start.
    let seeded: [Int]

    /// A hand-built population: who has the app, their kinds, who tests positive and when; no per-phone offsets.
    init(configuration: SimulationConfiguration, scenario: Scenario) {
        let people = configuration.phones
        hasApp = scenario.hasApp
        kind = scenario.isIPhone.map { $0 ? 1 : 0 }
        offset = [Float](repeating: 0, count: people)
        seeded = scenario.initialInfections
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
        // With an epidemic nobody is chosen to test positive: whoever is infected may be. The first infections are
        // drawn from everyone, apart from who has the app, so every adoption starts from the same outbreak.
        let cases = configuration.epidemic == nil ? Array(appUsers.prefix(configuration.infected)).sorted() : []
        if configuration.epidemic != nil {
            var seeding = SeededGenerator(seed: SimRandom.hash(configuration.seed, 0x9090_0003))
            var everyone = Array(0..<people)
            everyone.shuffle(using: &seeding)
            seeded = Array(everyone.prefix(configuration.infected)).sorted()
        } else {
            seeded = []
        }
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

/// A scripted world for `Simulator`: positions as a function of (step, person), and the population's make-up. Every
/// array has one element per phone of the configuration.
public struct Scenario: Sendable {
    /// Where person `person` stands at step `step`, in metres.
    public var position: @Sendable (_ step: Int, _ person: Int) -> (Float, Float)
    /// Whether each person runs the app.
    public var hasApp: [Bool]
    /// Whether each person's phone is an iPhone (detection between phone kinds differs).
    public var isIPhone: [Bool]
    /// The people who test positive, and the step at which each uploads (without an epidemic).
    public var cases: [(phone: Int, testStep: Int)]
    /// With an epidemic: the people infected at step 0.
    public var initialInfections: [Int]
    /// With an epidemic: the kind of place person `person` is at at step `step` (`nil`: the community).
    public var setting: (@Sendable (_ step: Int, _ person: Int) -> Setting)?

    /// What makes this world unfit for `phones` phones over `steps` steps, if anything.
    func problem(phones: Int, steps: Int) -> String? {
        guard hasApp.count == phones, isIPhone.count == phones else {
            return "the scenario describes \(hasApp.count) phones with the app flag and \(isIPhone.count) with a "
                + "phone kind, but the configuration has \(phones) phones: give one of each per phone"
        }
        for (phone, testStep) in cases where !(0..<phones).contains(phone) || !(0..<steps).contains(testStep) {
            return "the scenario's case \(phone) testing at step \(testStep) is outside the \(phones) phones or the "
                + "\(steps) steps of the configuration"
        }
        for person in initialInfections where !(0..<phones).contains(person) {
            return "the scenario's initial infection \(person) is outside the \(phones) phones of the configuration"
        }
        return nil
    }

    /// Creates a scripted world.
    public init(
        position: @escaping @Sendable (_ step: Int, _ person: Int) -> (Float, Float), hasApp: [Bool],
        isIPhone: [Bool], cases: [(phone: Int, testStep: Int)], initialInfections: [Int] = [],
        setting: (@Sendable (_ step: Int, _ person: Int) -> Setting)? = nil
    ) {
        self.position = position
        self.hasApp = hasApp
        self.isIPhone = isIPhone
        self.cases = cases
        self.initialInfections = initialInfections
        self.setting = setting
    }
}

/// Everyone each receiver can hear while nobody moves: built from the grid when positions change, reused by every
/// step until then. Holds, per receiver, its senders in range, the RSSI they would measure without noise, and whether
/// they stand within the close-contact distance.
struct NeighbourLists: Sendable {
    let receivers: Range<Int>
    /// `senders[offsets[r − receivers.lowerBound] ..< offsets[r − receivers.lowerBound + 1]]` are receiver r's.
    private(set) var offsets: [Int32] = []
    private(set) var senders: [Int32] = []
    private(set) var meanRSSI: [Float] = []
    private(set) var close: [Bool] = []

    init(
        receivers: Range<Int>, x: [Float], y: [Float], grid: SpatialGrid, radio: Radio, closeDistance: Float,
        population: Population
    ) {
        self.receivers = receivers
        offsets.reserveCapacity(receivers.count + 1)
        let range2 = radio.range * radio.range
        let close2 = closeDistance * closeDistance
        for receiver in receivers {
            offsets.append(Int32(senders.count))
            guard population.hasApp[receiver] || population.caseSlot[receiver] >= 0 else { continue }
            let rx = x[receiver]
            let ry = y[receiver]
            let receiverOffset = population.offset[receiver]
            grid.forEachNearby(receiver) { sender in
                guard sender != receiver else { return }
                let dx = x[sender] - rx
                let dy = y[sender] - ry
                let d2 = dx * dx + dy * dy
                guard d2 <= range2 else { return }
                senders.append(Int32(sender))
                meanRSSI.append(
                    Float(radio.meanRSSI(distance: Double(d2.squareRoot())))
                        + population.offset[sender] + receiverOffset)
                close.append(d2 <= close2)
            }
        }
        offsets.append(Int32(senders.count))
    }

    /// The lists for everyone, split into `chunks` ranges of receivers built in parallel.
    static func build(
        chunks: Int, x: [Float], y: [Float], grid: SpatialGrid, radio: Radio, closeDistance: Float,
        population: Population
    ) async -> [NeighbourLists] {
        let people = x.count
        return await withTaskGroup(of: (Int, NeighbourLists).self) { group in
            for chunk in 0..<chunks {
                let range = (people * chunk / chunks)..<(people * (chunk + 1) / chunks)
                group.addTask {
                    (
                        chunk,
                        NeighbourLists(
                            receivers: range, x: x, y: y, grid: grid, radio: radio, closeDistance: closeDistance,
                            population: population)
                    )
                }
            }
            var lists = [NeighbourLists?](repeating: nil, count: chunks)
            for await (chunk, list) in group { lists[chunk] = list }
            return lists.map { $0! }
        }
    }

    /// What happens in one step: who hears whom (noise and detection drawn per step), and the ground truth.
    func step(
        _ step: Int, seed: UInt64, radio: Radio, population: Population, transmitting: [Bool], collectAll: Bool
    ) -> StepOutput {
        var output = StepOutput()
        let stepKey = SimRandom.mix(seed ^ UInt64(step) &* 0x9E37_79B9_7F4A_7C15)
        let threshold = Float(radio.threshold)
        let noise = Float(radio.noise)
        for receiver in receivers {
            let first = Int(offsets[receiver - receivers.lowerBound])
            let last = Int(offsets[receiver - receivers.lowerBound + 1])
            guard first < last else { continue }
            let slot = population.caseSlot[receiver]
            let listens = population.hasApp[receiver]
            let receiverKind = Int(population.kind[receiver])
            for pair in first..<last {
                let sender = Int(senders[pair])
                if slot >= 0 && close[pair] { output.truth.append((slot, Int32(sender))) }
                guard listens, transmitting[sender] else { continue }
                // One hash per pair and step: 12 bits pick the noise, 26 bits detection, 26 bits loss.
                let h = SimRandom.mix(stepKey ^ (UInt64(sender) << 32 | UInt64(receiver)))
                let rssi = meanRSSI[pair] + noise * NormalTable.values[Int(h & 4095)]
                guard rssi >= threshold else { continue }
                output.eligible += 1
                let detect = Double((h >> 12) & 0x3FF_FFFF) * 0x1.0p-26
                let lose = Double(h >> 38) * 0x1.0p-26
                guard detect < radio.detection[Int(population.kind[sender])][receiverKind], lose >= radio.loss else {
                    output.lost += 1
                    continue
                }
                if slot >= 0 { output.readings.append((slot, Int32(sender), rssi)) }
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

/// What one step produced.
struct StepOutput: Sendable {
    var truth: [(slot: Int32, other: Int32)] = []
    var pairs: [(sender: Int32, receiver: Int32)] = []
    /// What the cases heard (the beacons they logged), with the RSSI, for risk scoring.
    var readings: [(slot: Int32, sender: Int32, rssi: Float)] = []
    var uncollected = 0
    var eligible = 0
    var lost = 0

    mutating func merge(_ other: StepOutput) {
        truth += other.truth
        pairs += other.pairs
        readings += other.readings
        uncollected += other.uncollected
        eligible += other.eligible
        lost += other.lost
    }
}

/// 4,096 standard-normal quantiles, so per-reading noise is a table lookup.
enum NormalTable {
    static let values: [Float] = (0..<4096).map { index in
        Float(inverseNormal((Double(index) + 0.5) / 4096))
    }

    /// Acklam's rational approximation of the normal quantile function (relative error < 1.2e-9).
    static func inverseNormal(_ p: Double) -> Double {
        let a = [
            -39.696_830_286_653_76, 220.946_098_424_520_5, -275.928_510_446_968_7, 138.357_751_867_269,
            -30.664_798_066_147_16, 2.506_628_277_459_239,
        ]
        let b = [
            -54.476_098_798_224_06, 161.585_836_858_040_9, -155.698_979_859_886_6, 66.801_311_887_719_72,
            -13.280_681_552_885_72,
        ]
        let c = [
            -0.007_784_894_002_430_293, -0.322_396_458_041_136_5, -2.400_758_277_161_838, -2.549_732_539_343_734,
            4.374_664_141_464_968, 2.938_163_982_698_783,
        ]
        let d = [0.007_784_695_709_041_462, 0.322_467_129_070_039_8, 2.445_134_137_142_996, 3.754_408_661_907_416]
        let low = 0.024_25
        if p < low {
            let q = (-2 * _log(p)).squareRoot()
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
        }
        if p > 1 - low { return -inverseNormal(1 - p) }
        let q = p - 0.5
        let r = q * q
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
    }
}
