import BlueTraceDomain

/// Every stored TempID's mapping (who it was issued to, when it is valid), kept in memory by the SQLite store.
///
/// The table holds TempIDs in the order they were issued (a rowid table, appended to), so storing one writes to the
/// table's last page instead of a random page of a B-tree keyed by a random number; the table is the durable copy,
/// read once when the store opens. This index answers the two questions a B-tree keyed by TempID used to: "was it
/// issued before?" when one is issued, and "to whom, valid when?" when an upload is traced — without reading SQLite.
/// A 20-digit TempID takes 32 bytes (its two 64-bit halves, its start, the length of its window and its user's
/// number) in sorted arrays; the most recent ones wait in a hash table until they are merged in, so an insert never
/// moves the whole array. Users are numbered once each. Any other TempID, and a window that does not fit (an expiry
/// before its start, or longer than 136 years: possible only in an edited tempIDs.txt), sits in a dictionary.
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
    private var recent: [Key: Mapping] = [:]
    private var others: [TempID: TempIDGrant] = [:]
    private var users: [String] = []
    private var userNumbers: [String: UInt32] = [:]

    /// How many TempIDs it maps.
    var count: Int { sortedKeys.count + recent.count + others.count }

    /// An empty index.
    init() {}

    /// An index of `grants`, in the order they were stored: a TempID given twice keeps its first mapping, as the
    /// first mapping always wins when one is issued.
    init(_ grants: some Sequence<TempIDGrant>) {
        var keys: [Key] = []
        var mappings: [Mapping] = []
        for grant in grants {
            guard let (key, mapping) = compact(grant) else {
                if others[grant.tempID] == nil { others[grant.tempID] = grant }
                continue
            }
            keys.append(key)
            mappings.append(mapping)
        }
        var order = Array(keys.indices)
        order.sort { (keys[$0], $0) < (keys[$1], $1) }
        sortedKeys.reserveCapacity(keys.count)
        sortedMappings.reserveCapacity(keys.count)
        for position in order where sortedKeys.last != keys[position] {
            sortedKeys.append(keys[position])
            sortedMappings.append(mappings[position])
        }
    }

    /// The mapping of `tempID`, if it is stored.
    func grant(of tempID: TempID) -> TempIDGrant? {
        guard let halves = tempID.decimalHalves else { return others[tempID] }
        let key = Key(high: halves.high, low: halves.low)
        let mapping: Mapping
        if let recentMapping = recent[key] {
            mapping = recentMapping
        } else {
            let position = insertionPoint(of: key)
            guard position < sortedKeys.count, sortedKeys[position] == key else { return others[tempID] }
            mapping = sortedMappings[position]
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
        guard let (key, mapping) = compact(grant) else {
            others[grant.tempID] = grant
            return
        }
        recent[key] = mapping
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
            let key = Key(high: halves.high, low: halves.low)
            if recent.removeValue(forKey: key) == nil { keys.insert(key) }
        }
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

    /// `grant` as a key and a 16-byte mapping, numbering its user if new; `nil` when it does not fit (not a 20-digit
    /// TempID, or a window that cannot be written as a start and an unsigned 32-bit length).
    private mutating func compact(_ grant: TempIDGrant) -> (Key, Mapping)? {
        let start = grant.validity.start.secondsSinceEpoch
        let span = grant.validity.expiry.secondsSinceEpoch.subtractingReportingOverflow(start)
        guard let halves = grant.tempID.decimalHalves, !span.overflow, let span = UInt32(exactly: span.partialValue)
        else { return nil }
        let user: UInt32
        if let number = userNumbers[grant.user] {
            user = number
        } else {
            user = UInt32(users.count)
            users.append(grant.user)
            userNumbers[grant.user] = user
        }
        return (Key(high: halves.high, low: halves.low), Mapping(start: start, span: span, user: user))
    }

    /// The first position in the sorted part whose key is not below `key`.
    private func insertionPoint(of key: Key) -> Int {
        var low = 0
        var high = sortedKeys.count
        while low < high {
            let middle = (low + high) / 2
            if sortedKeys[middle] < key { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Moves the hash table's TempIDs into the sorted arrays (one merge of two sorted runs).
    private mutating func mergeRecent() {
        let incoming = recent.sorted { $0.key < $1.key }
        recent.removeAll(keepingCapacity: true)
        var keys: [Key] = []
        var mappings: [Mapping] = []
        keys.reserveCapacity(sortedKeys.count + incoming.count)
        mappings.reserveCapacity(sortedKeys.count + incoming.count)
        var old = 0
        for (key, mapping) in incoming {
            while old < sortedKeys.count && sortedKeys[old] < key {
                keys.append(sortedKeys[old])
                mappings.append(sortedMappings[old])
                old += 1
            }
            keys.append(key)
            mappings.append(mapping)
        }
        keys.append(contentsOf: sortedKeys[old...])
        mappings.append(contentsOf: sortedMappings[old...])
        sortedKeys = keys
        sortedMappings = mappings
    }
}
