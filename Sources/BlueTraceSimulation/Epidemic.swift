/// The epidemic: who is infected, infectious, symptomatic, tested and isolating, step by step.
///
/// Pure values, no I/O. Every draw is a hash of the seed and what it is for (the person, the step, the pair), never
/// of the order things happen in: two runs of the same world with and without tracing share every transmission
/// draw, so whatever differs between them is tracing's doing.
struct Epidemic: Sendable {
    let parameters: EpidemicParameters
    let seed: UInt64
    /// Simulated minutes per step.
    let minutesPerStep: Double
    let stepsPerHour: Double

    /// The step each person was infected at, or −1.
    private(set) var infectedAt: [Int32]
    private(set) var infectiousFrom: [Int32]
    private(set) var infectiousUntil: [Int32]
    /// Symptom onset, or −1 for asymptomatic (and uninfected) people.
    private(set) var onset: [Int32]
    /// Who infected each person (−1: seeded, or not infected).
    private(set) var infector: [Int32]
    /// Secondary infections each person caused.
    private(set) var secondaries: [Int32]
    private(set) var isolatedFrom: [Int32]
    private(set) var isolatedUntil: [Int32]
    /// Infected people who may still be infectious, in infection order.
    private var active: [Int32] = []
    /// Steps at which test results arrive, with whose.
    private var results: [Int32: [Int32]] = [:]

    /// What happened so far.
    private(set) var tally: Tally

    /// Counts an arm reports.
    struct Tally: Sendable, Equatable {
        var dailyInfections: [Int] = []
        var bySetting: [Setting: Int] = [:]
        var positives = 0
        var selfIsolations = 0
        var notices = 0
        var noticeIsolations = 0
        var notifiedInfected = 0
    }

    init(parameters: EpidemicParameters, seed: UInt64, people: Int, beaconInterval: Int64, days: Int) {
        self.parameters = parameters
        self.seed = seed
        minutesPerStep = Double(beaconInterval) / 60
        stepsPerHour = 3600 / Double(beaconInterval)
        infectedAt = [Int32](repeating: -1, count: people)
        infectiousFrom = infectedAt
        infectiousUntil = infectedAt
        onset = infectedAt
        infector = infectedAt
        secondaries = [Int32](repeating: 0, count: people)
        isolatedFrom = [Int32](repeating: .max, count: people)
        isolatedUntil = [Int32](repeating: .min, count: people)
        tally = Tally(dailyInfections: [Int](repeating: 0, count: max(1, days)))
    }

    private func steps(hours: Double) -> Int32 { Int32((hours * stepsPerHour).rounded()) }

    /// Whether `person` is isolating at `step`.
    @inline(__always)
    func isIsolated(_ person: Int, at step: Int) -> Bool {
        step >= isolatedFrom[person] && step < isolatedUntil[person]
    }

    /// Whether `person` is infected (at any time so far).
    func isInfected(_ person: Int) -> Bool { infectedAt[person] >= 0 }

    /// Infects `person` at `step` (by `source`, −1 for a seeded infection, in `setting`) and draws the course of
    /// their disease: incubation, symptoms, whether they get tested, whether they isolate.
    mutating func infect(_ person: Int, at step: Int, by source: Int, in setting: Setting) {
        infectedAt[person] = Int32(step)
        infector[person] = Int32(source)
        if source >= 0 {
            secondaries[source] += 1
            tally.bySetting[setting, default: 0] += 1
        }
        let day = Int(Double(step) / (stepsPerHour * 24))
        if day < tally.dailyInfections.count { tally.dailyInfections[day] += 1 }
        let p = parameters
        let normal = SimRandom.normal(
            SimRandom.hash(seed, UInt64(person), 0xE1A1), SimRandom.hash(seed, UInt64(person), 0xE1A2))
        let incubationDays = p.incubationMedianDays * _exp(p.incubationLogSD * normal)
        let symptomOnset = Int32(step) + steps(hours: incubationDays * 24)
        infectiousFrom[person] = max(Int32(step) + 1, symptomOnset - steps(hours: p.presymptomaticDays * 24))
        infectiousUntil[person] = symptomOnset + steps(hours: p.infectiousAfterOnsetDays * 24)
        active.append(Int32(person))
        let symptomatic = SimRandom.unit(SimRandom.hash(seed, UInt64(person), 0xE1A3)) >= p.asymptomaticShare
        guard symptomatic else { return }
        onset[person] = symptomOnset
        guard SimRandom.unit(SimRandom.hash(seed, UInt64(person), 0xE1A4)) < p.detection else { return }
        results[symptomOnset + steps(hours: p.testDelayHours), default: []].append(Int32(person))
        // Tested people isolate from their symptoms on, if they comply.
        if SimRandom.unit(SimRandom.hash(seed, UInt64(person), 0xE1A5)) < p.compliance {
            isolate(person, from: Int(symptomOnset), days: p.caseIsolationDays)
            tally.selfIsolations += 1
        }
    }

    private mutating func isolate(_ person: Int, from start: Int, days: Double) {
        let end = Int32(start) + steps(hours: days * 24)
        if isolatedUntil[person] > Int32(start) {
            // Already isolating, or about to: the isolation covers both.
            isolatedFrom[person] = min(isolatedFrom[person], Int32(start))
            isolatedUntil[person] = max(isolatedUntil[person], end)
        } else {
            isolatedFrom[person] = Int32(start)
            isolatedUntil[person] = end
        }
    }

    /// The people whose positive test result arrives at `step` (counted as positives).
    mutating func results(at step: Int) -> [Int] {
        guard let due = results.removeValue(forKey: Int32(step)) else { return [] }
        tally.positives += due.count
        return due.map(Int.init)
    }

    /// `person` received an exposure notice at `step`: they isolate after the delay, if they comply.
    mutating func notify(_ person: Int, at step: Int) {
        tally.notices += 1
        if infectedAt[person] >= 0 { tally.notifiedInfected += 1 }
        let p = parameters
        guard SimRandom.unit(SimRandom.hash(seed, UInt64(person), UInt64(step), 0xE1A6)) < p.compliance else { return }
        isolate(person, from: step + Int(steps(hours: p.isolationDelayHours)), days: p.contactIsolationDays)
        tally.noticeIsolations += 1
    }

    /// Transmission in one step: every infectious person may infect each susceptible person within the transmission
    /// range, with a probability that falls with distance. Someone isolating takes part only at home. Returns how
    /// many were infected.
    @discardableResult
    mutating func spread(
        at step: Int, x: [Float], y: [Float], grid: SpatialGrid, setting: (Int) -> Setting
    ) -> Int {
        let p = parameters
        let range2 = Float(p.transmissionRange * p.transmissionRange)
        var stillActive = 0
        var victims: [(target: Int, source: Int, place: Setting)] = []
        for index in active.indices {
            let source = Int(active[index])
            if step >= infectiousUntil[source] { continue }
            active[stillActive] = active[index]
            stillActive += 1
            guard step >= infectiousFrom[source] else { continue }
            let place = setting(source)
            if isIsolated(source, at: step) && place != .home { continue }
            let strength = (onset[source] >= 0 ? 1 : p.asymptomaticInfectiousness) * p.transmissionPerMinute
            let sx = x[source]
            let sy = y[source]
            grid.forEachNearby(source) { target in
                guard target != source, infectedAt[target] < 0 else { return }
                let dx = x[target] - sx
                let dy = y[target] - sy
                let d2 = dx * dx + dy * dy
                guard d2 <= range2 else { return }
                if isIsolated(target, at: step) && setting(target) != .home { return }
                let distance = Double(d2.squareRoot())
                let hazard = strength * (distance <= 1 ? 1 : _exp2(-(distance - 1) / p.halvingDistance))
                let probability = -_expm1(-hazard * minutesPerStep)
                let draw = SimRandom.unit(SimRandom.hash(seed, UInt64(step), UInt64(source), UInt64(target), 0xE1A7))
                if draw < probability { victims.append((target, source, place)) }
            }
        }
        active.removeLast(active.count - stillActive)
        // Someone two people could infect in the same step is infected by the first of them (in infection order).
        var infected = 0
        for victim in victims where infectedAt[victim.target] < 0 {
            infect(victim.target, at: step, by: victim.source, in: victim.place)
            infected += 1
        }
        return infected
    }
}
