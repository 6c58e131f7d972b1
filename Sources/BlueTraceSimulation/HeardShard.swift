import BlueTraceDomain
import Synchronization

/// Beacons one phone heard from one TempID: its sender (sealed TempIDs) or place in the issued list (decimal), its
/// window, the first and last time it was heard (all in seconds since the simulation's epoch) and how many times.
struct HeardRun: Sendable {
    var key: Int32
    var start: Int32
    var expiry: Int32
    var first: Int32
    var last: Int32
    var count: Int32

    /// `time` as a run keeps it: seconds since the simulation's epoch.
    static func seconds(_ time: Timestamp) -> Int32 {
        Int32(time.secondsSinceEpoch - Simulator.epoch.secondsSinceEpoch)
    }
}

/// What every phone broadcasts during one step, as the receivers' logs need it: a snapshot, read by all shards.
struct BeaconsOnAir: Sendable {
    /// Each phone's current TempID, if it has one.
    let current: [IssuedTempID?]
    /// What a run of each phone's current TempID is keyed by (−1: none); see `MemoryNetwork.key(of:phone:)`.
    let ordinal: [Int32]
    /// The step's time.
    let time: Timestamp
    /// The step's time as runs keep it (`HeardRun.seconds`).
    let now: Int32
    /// A TempID's lifetime in seconds: a run for a TempID began at most this long ago.
    let lifetime: Int32

    init(current: [IssuedTempID?], ordinal: [Int32], time: Timestamp, lifetime: Int64) {
        self.current = current
        self.ordinal = ordinal
        self.time = time
        self.now = HeardRun.seconds(time)
        self.lifetime = Int32(clamping: lifetime)
    }
}

/// The runs of beacons heard by one shard of the phones: phone `p` is in shard `p % shards`, at `p / shards`.
/// Only the network's actor hands a shard out, to one task at a time, so its lock is never contended.
///
/// Each phone's runs are in two parts, in the order they began: the closed ones (begun over a TempID's lifetime ago,
/// so no beacon can extend them) and the open ones. A beacon looks only through its receiver's few open runs, which
/// sit together in memory; with every run in one long array, its end was a cache miss of its own for every beacon.
final class HeardShard: Sendable {
    /// Every phone's runs, in its two parts.
    private struct Runs {
        var closed: [[HeardRun]]
        var open: [[HeardRun]]
    }

    private let heard: Mutex<Runs>

    init(phones: Int) {
        heard = Mutex(Runs(closed: Array(repeating: [], count: phones), open: Array(repeating: [], count: phones)))
    }

    /// The runs the phone at `local` in this shard has heard, in the order they began.
    func runs(of local: Int) -> [HeardRun] {
        heard.withLock { $0.closed[local] + $0.open[local] }
    }

    /// Delivers the beacons of `pairs` whose receiver is in this shard (`shard` of `shards`); returns how many were
    /// logged: a beacon is logged when the sender has a TempID valid now.
    func deliver(
        _ pairs: [(sender: Int32, receiver: Int32)], from beacons: BeaconsOnAir, shard: Int, of shards: Int
    ) -> Int {
        heard.withLock { heard in
            var logged = 0
            let (now, lifetime) = (beacons.now, beacons.lifetime)
            for (sender, receiver) in pairs where Int(receiver) % shards == shard {
                guard let beacon = beacons.current[Int(sender)], beacon.validity.contains(beacons.time) else {
                    continue
                }
                let key = beacons.ordinal[Int(sender)]
                guard key >= 0 else { continue }
                let start = HeardRun.seconds(beacon.validity.start)
                logged += 1
                let r = Int(receiver) / shards
                // A run for this TempID began at most one lifetime ago: the older ones are closed first.
                let ended = heard.open[r].firstIndex { $0.first >= now - lifetime } ?? heard.open[r].count
                if ended > 0 {
                    heard.closed[r].append(contentsOf: heard.open[r][..<ended])
                    heard.open[r].removeFirst(ended)
                }
                if let index = heard.open[r].lastIndex(where: { $0.key == key && $0.start == start }) {
                    heard.open[r][index].count += 1
                    heard.open[r][index].last = now
                } else {
                    let expiry = HeardRun.seconds(beacon.validity.expiry)
                    heard.open[r].append(
                        HeardRun(key: key, start: start, expiry: expiry, first: now, last: now, count: 1))
                }
            }
            return logged
        }
    }
}
