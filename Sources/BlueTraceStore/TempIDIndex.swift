import BlueTraceDomain

/// Every stored TempID's mapping (who it was issued to, when it is valid), kept in memory by the SQLite store.
///
/// The table holds TempIDs in blocks in the order they were issued (`TempIDBlock`, a rowid table appended to), so
/// storing them writes to the table's last pages instead of random pages of a B-tree keyed by a random number; the
/// table is the durable copy, read once when the store opens. This index answers the two questions a B-tree keyed by
/// TempID used to: "was it issued before?" when one is issued, and "to whom, valid when?" when an upload is traced —
/// without reading SQLite. A 20-digit TempID takes 32 bytes (its two 64-bit halves, its start, the length of its window
/// and its user's number) in sorted arrays; the most recent ones wait in a hash table (`RecentMappings`) until they are
/// merged in, so an insert never moves the whole array. Users are numbered once each. Any other TempID, and a window
/// that does not fit (an expiry before its start, or longer than 136 years: possible only in an edited tempIDs.txt),
/// sits in a dictionary.
///
/// A value type; the store keeps it behind a lock and changes it only after the transaction it mirrors has committed.
struct TempIDIndex: Sendable {
    /// A 20-digit TempID as its two 10-digit halves; sorts like the text.
    struct Key: Hashable, Comparable, Sendable {
        var high: UInt64
        var low: UInt64

        static func < (left: Key, right: Key) -> Bool {
            (left.high, left.low) < (right.high, right.low)
        }
    }

    /// A mapping in 16 bytes: the window's start, its length (expiry − start) and the user's number.
    struct Mapping: Sendable {
        var start: Int64
        var span: UInt32
        var user: UInt32
    }

    private var sortedKeys: [Key] = []
    private var sortedMappings: [Mapping] = []
    private var recent = RecentMappings()
    private var others: [TempID: TempIDGrant] = [:]
    private var users: [String] = []
    private var userNumbers: [String: UInt32] = [:]
    /// The user `number(of:)` was last asked for, and its number.
    private var lastNumbered: (user: String, number: UInt32)?

    /// How many TempIDs it maps.
    var count: Int { sortedKeys.count + recent.count + others.count }

    /// An empty index.
    init() {}

    /// An index of `grants`, in the order they were stored: a TempID given twice keeps its first mapping, as the
    /// first mapping always wins when one is issued.
    init(_ grants: some Sequence<TempIDGrant>) {
        var loader = Loader()
        for grant in grants { loader.add(grant) }
        self = loader.finish()
    }

    /// Builds an index from stored rows, in the order they were stored, without holding them as grants first (ten
    /// million grants with their strings would take several times the index's own memory).
    struct Loader {
        private var index = TempIDIndex()
        private var keys: [Key] = []
        private var mappings: [Mapping] = []

        /// Starts an empty index, with room for `capacity` 20-digit TempIDs.
        init(capacity: Int = 0) {
            keys.reserveCapacity(capacity)
            mappings.reserveCapacity(capacity)
        }

        /// Adds the next stored mapping.
        mutating func add(_ grant: TempIDGrant) {
            guard let halves = grant.tempID.decimalHalves, let (start, span) = TempIDIndex.compactWindow(grant.validity)
            else {
                if index.others[grant.tempID] == nil { index.others[grant.tempID] = grant }
                return
            }
            add(
                Key(high: halves.high, low: halves.low),
                Mapping(start: start, span: span, user: index.number(of: grant.user)))
        }

        /// The number of `user` in the index being built, given one if it has none yet.
        mutating func number(of user: String) -> UInt32 {
            index.number(of: user)
        }

        /// Adds the next stored mapping of a 20-digit TempID, its user numbered by `number(of:)`.
        mutating func add(_ key: Key, _ mapping: Mapping) {
            keys.append(key)
            mappings.append(mapping)
        }

        /// The index of everything added: sorted once, the first mapping of a key kept.
        consuming func finish() -> TempIDIndex {
            var order = keys.indices.map { (key: keys[$0], position: UInt32($0)) }
            keys = []
            order.sort { ($0.key, $0.position) < ($1.key, $1.position) }
            index.sortedKeys.reserveCapacity(order.count)
            index.sortedMappings.reserveCapacity(order.count)
            for item in order where index.sortedKeys.last != item.key {
                index.sortedKeys.append(item.key)
                index.sortedMappings.append(mappings[Int(item.position)])
            }
            return index
        }
    }

    /// The mapping of `tempID`, if it is stored.
    func grant(of tempID: TempID) -> TempIDGrant? {
        guard let halves = tempID.decimalHalves else { return others[tempID] }
        var lowerBound = 0
        return grant(of: Key(high: halves.high, low: halves.low), tempID: tempID, searchingFrom: &lowerBound)
    }

    /// The mapping of the 20-digit `tempID` whose halves are `key`, searched for in the sorted part from `lowerBound`
    /// on, which it moves to where the search ended: asked for keys in ascending order, each search starts where
    /// the last one stopped and gallops ahead, so a million sorted keys cost a few steps each instead of a whole
    /// binary search over ten million. `lowerBound` must not be past the first key at or above `key`.
    func grant(of key: Key, tempID: TempID, searchingFrom lowerBound: inout Int) -> TempIDGrant? {
        // The sorted part first (most TempIDs are there, and a gallop is cheaper than hashing), then the recent ones.
        let mapping: Mapping
        lowerBound = insertionPoint(of: key, from: lowerBound)
        if lowerBound < sortedKeys.count, sortedKeys[lowerBound] == key {
            mapping = sortedMappings[lowerBound]
        } else if !recent.isEmpty, let recentMapping = recent.mapping(of: key) {
            mapping = recentMapping
        } else {
            return others.isEmpty ? nil : others[tempID]
        }
        let start = Timestamp(secondsSinceEpoch: mapping.start)
        return TempIDGrant(
            user: users[Int(mapping.user)], tempID: tempID,
            validity: ValidityWindow(start: start, expiry: start + Int64(mapping.span)))
    }

    /// Whether `tempID` is stored.
    func contains(_ tempID: TempID) -> Bool {
        grant(of: tempID) != nil
    }

    /// Records `grant`, whose TempID must not be in the index yet.
    mutating func insert(_ grant: TempIDGrant) {
        insert(grant, user: number(of: grant.user))
    }

    /// Records `grant`, whose TempID must not be in the index yet and whose user `number(of:)` numbered `user`.
    mutating func insert(_ grant: TempIDGrant, user: UInt32) {
        guard let halves = grant.tempID.decimalHalves, let (start, span) = Self.compactWindow(grant.validity) else {
            others[grant.tempID] = grant
            return
        }
        let key = Key(high: halves.high, low: halves.low)
        recent.insert(key, Mapping(start: start, span: span, user: user))
        // Merged when the hash table reaches an eighth of the sorted part: each TempID is moved about eight times
        // over the index's life, and the hash table stays small.
        if recent.count > max(65_536, sortedKeys.count / 8) { mergeRecent() }
    }

    /// Forgets every TempID in `removed` (those not in the index are ignored).
    mutating func remove(_ removed: [TempID]) {
        guard !removed.isEmpty else { return }
        var keys: Set<Key> = []
        for tempID in removed {
            if others.removeValue(forKey: tempID) != nil { continue }
            guard let halves = tempID.decimalHalves else { continue }
            keys.insert(Key(high: halves.high, low: halves.low))
        }
        if !recent.isEmpty { keys.subtract(recent.remove(keys)) }
        guard !keys.isEmpty else { return }
        var kept = 0
        for position in sortedKeys.indices where !keys.contains(sortedKeys[position]) {
            sortedKeys[kept] = sortedKeys[position]
            sortedMappings[kept] = sortedMappings[position]
            kept += 1
        }
        sortedKeys.removeLast(sortedKeys.count - kept)
        sortedMappings.removeLast(sortedMappings.count - kept)
    }

    /// A window as its start and its length in 32 bits; `nil` when the length is negative or does not fit.
    static func compactWindow(_ validity: ValidityWindow) -> (start: Int64, span: UInt32)? {
        let start = validity.start.secondsSinceEpoch
        let span = validity.expiry.secondsSinceEpoch.subtractingReportingOverflow(start)
        guard !span.overflow, let length = UInt32(exactly: span.partialValue) else { return nil }
        return (start, length)
    }

    /// The number of `user`, given one if it has none yet (numbers are never taken back).
    mutating func number(of user: String) -> UInt32 {
        // Consecutive mappings often share a user (an import's, one person's day of TempIDs): no hashing for those.
        if let lastNumbered, lastNumbered.user == user { return lastNumbered.number }
        let number: UInt32
        if let known = userNumbers[user] {
            number = known
        } else {
            number = UInt32(users.count)
            users.append(user)
            userNumbers[user] = number
        }
        lastNumbered = (user, number)
        return number
    }

    /// The first position in the sorted part, from `start` on, whose key is not below `key`: a binary search, after a
    /// gallop from `start` (steps of 1, 2, 4, …) that brackets it when the search does not start at the beginning.
    private func insertionPoint(of key: Key, from start: Int = 0) -> Int {
        var low = start
        var high = sortedKeys.count
        if start > 0 {
            var step = 1
            while low + step <= sortedKeys.count, sortedKeys[low + step - 1] < key {
                low += step
                step *= 2
            }
            high = min(low + step, sortedKeys.count)
        }
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Moves the recent TempIDs into the sorted arrays: one merge of two sorted runs, from the back, in the
    /// arrays' own storage (grown as arrays grow, so ten million TempIDs are not copied into fresh memory, page by
    /// page, at every merge).
    private mutating func mergeRecent() {
        let incoming = recent.takeSorted()
        let oldCount = sortedKeys.count
        sortedKeys.append(contentsOf: repeatElement(Key(high: 0, low: 0), count: incoming.count))
        sortedMappings.append(contentsOf: repeatElement(Mapping(start: 0, span: 0, user: 0), count: incoming.count))
        sortedKeys.withUnsafeMutableBufferPointer { keys in
            sortedMappings.withUnsafeMutableBufferPointer { mappings in
                var old = oldCount - 1
                var new = incoming.count - 1
                var next = keys.count - 1
                // Once the incoming ones are all placed, the old ones below them are already where they belong.
                while new >= 0 {
                    if old >= 0 && incoming[new].key < keys[old] {
                        keys[next] = keys[old]
                        mappings[next] = mappings[old]
                        old -= 1
                    } else {
                        keys[next] = incoming[new].key
                        mappings[next] = incoming[new].mapping
                        new -= 1
                    }
                    next -= 1
                }
            }
        }
    }
}
