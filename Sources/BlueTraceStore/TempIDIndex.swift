import BlueTraceDomain

/// Where each stored TempID lives in the SQLite store's `tempID` table, kept in memory.
///
/// The table holds TempIDs in the order they were issued (a rowid table, appended to), so storing one writes to the
/// table's last page instead of a random page of a B-tree keyed by a random number. This index answers the two
/// questions a B-tree keyed by TempID used to: "was it issued before?" when one is issued, and "which row?" when an
/// upload is traced. 20-digit TempIDs take 24 bytes each (two 64-bit halves and the row) in sorted arrays; the most
/// recent ones wait in a hash table until they are merged in, so an insert never moves the whole array. Any other
/// TempID (only the store's contract allows them; the server stores only 20-digit ones) sits in a dictionary.
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

    private var sortedKeys: [Key] = []
    private var sortedRows: [Int64] = []
    private var recent: [Key: Int64] = [:]
    private var others: [TempID: Int64] = [:]

    /// How many TempIDs it maps.
    var count: Int { sortedKeys.count + recent.count + others.count }

    /// Bytes held for the 20-digit TempIDs (arrays and hash table at their capacity), for the documented budget.
    var approximateBytes: Int {
        sortedKeys.capacity * MemoryLayout<Key>.stride + sortedRows.capacity * MemoryLayout<Int64>.stride
            + recent.capacity * (MemoryLayout<Key>.stride + MemoryLayout<Int64>.stride + 1)
    }

    /// An empty index.
    init() {}

    /// An index of 20-digit TempIDs (`keys[i]` is stored in `rows[i]`, in any order) and of `others`. A key given
    /// twice keeps its lowest row: the first mapping stored wins, as when it is issued.
    init(keys: [Key], rows: [Int64], others: [TempID: Int64]) {
        precondition(keys.count == rows.count)
        var order = Array(keys.indices)
        order.sort { (keys[$0], rows[$0]) < (keys[$1], rows[$1]) }
        sortedKeys.reserveCapacity(keys.count)
        sortedRows.reserveCapacity(keys.count)
        for position in order where sortedKeys.last != keys[position] {
            sortedKeys.append(keys[position])
            sortedRows.append(rows[position])
        }
        self.others = others
    }

    /// The row holding `tempID`, if it is stored.
    func row(of tempID: TempID) -> Int64? {
        guard let halves = tempID.decimalHalves else { return others[tempID] }
        return row(of: Key(high: halves.high, low: halves.low))
    }

    /// The row holding the 20-digit TempID `key`, if it is stored.
    func row(of key: Key) -> Int64? {
        if let row = recent[key] { return row }
        let position = insertionPoint(of: key)
        return position < sortedKeys.count && sortedKeys[position] == key ? sortedRows[position] : nil
    }

    /// Records that `row` holds `tempID`, which must not be in the index yet.
    mutating func insert(_ tempID: TempID, row: Int64) {
        guard let halves = tempID.decimalHalves else {
            others[tempID] = row
            return
        }
        recent[Key(high: halves.high, low: halves.low)] = row
        // Merged when the hash table reaches an eighth of the sorted part: each TempID is moved about eight times
        // over the index's life, and the hash table stays small.
        if recent.count > max(65_536, sortedKeys.count / 8) { mergeRecent() }
    }

    /// Forgets every TempID in `removed` (those not in the index are ignored).
    mutating func remove(_ removed: [TempID]) {
        guard !removed.isEmpty else { return }
        var keys: Set<Key> = []
        for tempID in removed {
            if let halves = tempID.decimalHalves {
                let key = Key(high: halves.high, low: halves.low)
                if recent.removeValue(forKey: key) == nil { keys.insert(key) }
            } else {
                others[tempID] = nil
            }
        }
        guard !keys.isEmpty else { return }
        var kept = 0
        for position in sortedKeys.indices where !keys.contains(sortedKeys[position]) {
            sortedKeys[kept] = sortedKeys[position]
            sortedRows[kept] = sortedRows[position]
            kept += 1
        }
        sortedKeys.removeLast(sortedKeys.count - kept)
        sortedRows.removeLast(sortedRows.count - kept)
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
        var rows: [Int64] = []
        keys.reserveCapacity(sortedKeys.count + incoming.count)
        rows.reserveCapacity(sortedKeys.count + incoming.count)
        var old = 0
        for (key, row) in incoming {
            while old < sortedKeys.count && sortedKeys[old] < key {
                keys.append(sortedKeys[old])
                rows.append(sortedRows[old])
                old += 1
            }
            keys.append(key)
            rows.append(row)
        }
        keys.append(contentsOf: sortedKeys[old...])
        rows.append(contentsOf: sortedRows[old...])
        sortedKeys = keys
        sortedRows = rows
    }
}
