/// The index of every person by grid cell, rebuilt each step by counting sort: neighbour search without all-pairs
/// loops. Cells are as wide as the radio range, so everyone a person can hear is in the 3 × 3 cells around theirs.
struct SpatialGrid: Sendable {
    let cellSize: Float
    let columns: Int
    let rows: Int
    /// `order[start[c] ..< start[c + 1]]` are the people in cell `c`.
    private(set) var start: [Int32]
    private(set) var order: [Int32]
    private(set) var cellOf: [Int32]

    init(width: Double, height: Double, cellSize: Double, people: Int) {
        self.cellSize = Float(cellSize)
        columns = max(1, Int((width / cellSize).rounded(.up)))
        rows = max(1, Int((height / cellSize).rounded(.up)))
        start = [Int32](repeating: 0, count: columns * rows + 1)
        order = [Int32](repeating: 0, count: people)
        cellOf = [Int32](repeating: 0, count: people)
    }

    @inline(__always)
    func cell(x: Float, y: Float) -> (Int, Int) {
        (min(columns - 1, max(0, Int(x / cellSize))), min(rows - 1, max(0, Int(y / cellSize))))
    }

    mutating func rebuild(x: [Float], y: [Float]) {
        for index in start.indices { start[index] = 0 }
        for person in 0..<x.count {
            let (cx, cy) = cell(x: x[person], y: y[person])
            let c = cy * columns + cx
            cellOf[person] = Int32(c)
            start[c + 1] += 1
        }
        for c in 0..<(columns * rows) { start[c + 1] += start[c] }
        var fill = start
        for person in 0..<x.count {
            let c = Int(cellOf[person])
            order[Int(fill[c])] = Int32(person)
            fill[c] += 1
        }
    }

    /// Calls `body` with every person in the 3 × 3 cells around `person`'s cell (including `person`).
    @inline(__always)
    func forEachNearby(_ person: Int, _ body: (Int) -> Void) {
        let c = Int(cellOf[person])
        let cx = c % columns
        let cy = c / columns
        for ny in max(0, cy - 1)...min(rows - 1, cy + 1) {
            let rowBase = ny * columns
            let first = rowBase + max(0, cx - 1)
            let last = rowBase + min(columns - 1, cx + 1)
            for slot in Int(start[first])..<Int(start[last + 1]) { body(Int(order[slot])) }
        }
    }
}

/// The radio model: log-distance path loss with per-phone offsets and noise, an RSSI threshold, and a detection
/// probability for each pair of phone kinds (iPhone–iPhone background detection is poor).
struct Radio: Sendable {
    let rssiAt1m: Double
    let pathLossExponent: Double
    let noise: Double
    let threshold: Double
    let range: Float
    let loss: Double
    /// Detection probability by (sender kind, receiver kind); kind 0 is Android, 1 is iPhone.
    let detection: [[Double]]

    init(_ configuration: SimulationConfiguration) {
        rssiAt1m = configuration.rssiAt1m
        pathLossExponent = configuration.pathLossExponent
        noise = configuration.rssiNoise
        threshold = configuration.rssiThreshold
        range = Float(configuration.radioRange)
        loss = configuration.loss
        detection = [
            [configuration.detectAndroidAndroid, configuration.detectMixed],
            [configuration.detectMixed, configuration.detectIOSIOS],
        ]
    }

    /// The median RSSI at `distance` metres, before phone offsets and noise.
    @inline(__always)
    func meanRSSI(distance: Double) -> Double {
        rssiAt1m - 10 * pathLossExponent * _log10(max(distance, 0.1))
    }
}
