/// Where everyone is at each step: the mobility models.
///
/// Positions are a pure function of (seed, person, step) plus each person's slowly changing state, so a run is
/// reproducible. Coordinates are metres in [0, width) × [0, height).
struct World: Sendable {
    let configuration: SimulationConfiguration
    private var places: Places?
    /// Random-waypoint state, one per person.
    private var walkers: [Walker]

    init(configuration: SimulationConfiguration) {
        self.configuration = configuration
        var generator = SeededGenerator(seed: SimRandom.hash(configuration.seed, 0x5EED_0001))
        switch configuration.mobility {
        case .venues:
            places = Places(configuration: configuration, generator: &generator)
            walkers = []
        case .randomWaypoint:
            places = nil
            walkers = (0..<configuration.phones).map { _ in
                Walker(
                    x: Double.random(in: 0..<configuration.areaWidth, using: &generator),
                    y: Double.random(in: 0..<configuration.areaHeight, using: &generator),
                    targetX: Double.random(in: 0..<configuration.areaWidth, using: &generator),
                    targetY: Double.random(in: 0..<configuration.areaHeight, using: &generator),
                    speed: Double.random(in: 0.5...1.5, using: &generator), pausedUntil: 0)
            }
        }
    }

    /// Where `person` is since the last `positions(at:)`: home, work or a shop (venues); the community otherwise.
    @inline(__always)
    func setting(of person: Int) -> Setting {
        places?.setting(of: person) ?? .community
    }

    /// Moves everyone to `step` and writes their positions; returns whether anyone moved.
    mutating func positions(at step: Int, x: inout [Float], y: inout [Float]) -> Bool {
        // `places!.…` mutates in place; binding a copy would duplicate its arrays every step.
        if places != nil { return places!.positions(at: step, x: &x, y: &y) }
        let seconds = Double(configuration.beaconInterval)
        for index in walkers.indices {
            walkers[index].advance(
                step: step, seconds: seconds, seed: configuration.seed, person: index, configuration: configuration)
            x[index] = Float(walkers[index].x)
            y[index] = Float(walkers[index].y)
        }
        return true
    }
}

/// A random-waypoint walker: walks to a target at its speed, pauses 60–300 s, picks the next target.
/// Speeds are 0.5–1.5 m/s (pedestrians; a minimum above 0, as Yoon, Liu & Noble advise).
private struct Walker: Sendable {
    var x: Double
    var y: Double
    var targetX: Double
    var targetY: Double
    var speed: Double
    var pausedUntil: Int

    mutating func advance(step: Int, seconds: Double, seed: UInt64, person: Int, configuration: SimulationConfiguration)
    {
        guard step >= pausedUntil else { return }
        let dx = targetX - x
        let dy = targetY - y
        let distance = (dx * dx + dy * dy).squareRoot()
        let reach = speed * seconds
        if distance > reach {
            x += dx / distance * reach
            y += dy / distance * reach
            return
        }
        x = targetX
        y = targetY
        let h = SimRandom.hash(seed, UInt64(person), UInt64(step), 0x57A1)
        let pause = 60 + SimRandom.unit(h) * 240
        pausedUntil = step + Int((pause / seconds).rounded(.up))
        targetX = SimRandom.unit(SimRandom.mix(h ^ 1)) * configuration.areaWidth
        targetY = SimRandom.unit(SimRandom.mix(h ^ 2)) * configuration.areaHeight
        speed = 0.5 + SimRandom.unit(SimRandom.mix(h ^ 3))
    }
}

/// The households-and-venues model: people sleep at home, most spend the working day at a workplace, and some go
/// to a shop in the evening. Within a place, each person stands at a spot that changes every 15 minutes.
///
/// Household sizes follow the UK distribution (OpenABM-Covid19: 1–6 people); workplaces hold about 10 people (OpenABM:
/// 7 daily workplace contacts for adults); there is one shop per 50 people.
private struct Places: Sendable {
    struct Place: Sendable {
        var x: Double
        var y: Double
        var radius: Double
    }

    let seed: UInt64
    let interval: Int64
    let homes: [Place]
    let workplaces: [Place]
    let shops: [Place]
    let home: [Int32]
    /// The person's workplace, or −1 for people who stay home by day.
    let work: [Int32]
    /// Hours (fractional) the person leaves for work and comes back.
    let leave: [Float]
    let back: [Float]
    /// The place (kind × 2^28 + index) and 15-minute slot each person's position was last drawn for.
    private var lastPlace: [Int32]
    private var lastSlot: UInt64 = .max

    init(configuration: SimulationConfiguration, generator: inout SeededGenerator) {
        seed = configuration.seed
        interval = configuration.beaconInterval
        let width = configuration.areaWidth
        let height = configuration.areaHeight
        func place(radius: Double) -> Place {
            Place(
                x: Double.random(in: radius..<max(radius + 1, width - radius), using: &generator),
                y: Double.random(in: radius..<max(radius + 1, height - radius), using: &generator), radius: radius)
        }
        // UK households of 1–6 people, in millions of households.
        let sizeWeights = [7.45, 9.94, 4.42, 4.14, 1.10, 0.55]
        let totalWeight = sizeWeights.reduce(0, +)
        var homes: [Place] = []
        var home: [Int32] = []
        while home.count < configuration.phones {
            var draw = Double.random(in: 0..<totalWeight, using: &generator)
            var size = 1
            for (index, weight) in sizeWeights.enumerated() {
                if draw < weight {
                    size = index + 1
                    break
                }
                draw -= weight
            }
            homes.append(place(radius: 4))
            for _ in 0..<min(size, configuration.phones - home.count) { home.append(Int32(homes.count - 1)) }
        }
        let workplaceCount = max(1, configuration.phones / 10)
        var workplaces: [Place] = []
        for _ in 0..<workplaceCount {
            // About 10 people on (10 × 12 m²)^½ ≈ 11 m of radius: a few stand within 2 m of each other.
            workplaces.append(place(radius: 10))
        }
        shops = (0..<max(1, configuration.phones / 50)).map { _ in place(radius: 12) }
        var work: [Int32] = []
        var leave: [Float] = []
        var back: [Float] = []
        for _ in 0..<configuration.phones {
            let goes = Double.random(in: 0..<1, using: &generator) < 0.7
            work.append(goes ? Int32(Int.random(in: 0..<workplaceCount, using: &generator)) : -1)
            // On quarter hours, like the spot changes, so everyone moves at the same steps and the simulator can
            // keep its neighbour lists in between.
            leave.append(Float(Int.random(in: 28...38, using: &generator)) / 4)
            back.append(Float(Int.random(in: 64...74, using: &generator)) / 4)
        }
        self.homes = homes
        self.workplaces = workplaces
        self.home = home
        self.work = work
        self.leave = leave
        self.back = back
        lastPlace = [Int32](repeating: -1, count: configuration.phones)
    }

    /// The kind of place `person` was put in by the last `positions(at:)`.
    @inline(__always)
    func setting(of person: Int) -> Setting {
        switch lastPlace[person] >> 28 {
        case 1: .work
        case 2: .shop
        default: .home
        }
    }

    /// Positions at `step`. A spot is drawn again only when the person changes place or a 15-minute slot begins,
    /// so most steps move nobody and the caller can keep its neighbour lists.
    mutating func positions(at step: Int, x: inout [Float], y: inout [Float]) -> Bool {
        let seconds = Int64(step) * interval
        let hour = Float(seconds % 86_400) / 3600
        let day = UInt64(seconds / 86_400)
        let slot = UInt64(seconds / 900)
        let newSlot = slot != lastSlot
        lastSlot = slot
        var moved = false
        for person in 0..<home.count {
            let placeID: Int32
            if work[person] >= 0 && hour >= leave[person] && hour < back[person] {
                placeID = 1 << 28 | work[person]
            } else if hour >= 18, hour < 19.5,
                SimRandom.unit(SimRandom.hash(seed, UInt64(person), day, 0x5409)) < 0.3
            {
                placeID = 2 << 28 | Int32(SimRandom.hash(seed, UInt64(person), day, 0x5408) % UInt64(shops.count))
            } else {
                placeID = home[person]
            }
            guard newSlot || placeID != lastPlace[person] else { continue }
            lastPlace[person] = placeID
            moved = true
            let index = Int(placeID & (1 << 28 - 1))
            let place =
                switch placeID >> 28 {
                case 1: workplaces[index]
                case 2: shops[index]
                default: homes[index]
                }
            let h = SimRandom.hash(seed, UInt64(person), slot, 0x590F)
            // A uniform spot in the place's disc.
            let r = place.radius * SimRandom.unit(h).squareRoot()
            let angle = 2 * Double.pi * SimRandom.unit(SimRandom.mix(h ^ 0x1))
            x[person] = Float(place.x + r * _cos(angle))
            y[person] = Float(place.y + r * _cos(angle - Double.pi / 2))
        }
        return moved
    }
}
