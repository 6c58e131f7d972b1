import BlueTraceDomain

/// Stored TempID mappings in one blob, as a row of `tempIDBlock` holds them (schema v12): an issued batch, or up to
/// `capacity` mappings of an import.
///
/// A row per mapping cost about 5 µs in SQLite and the kernel alone, 50 s for ten million (docs/BENCHMARKS.md,
/// round 15); a block is written and read back as one value. Layout, little-endian: `BTM1`; the number of users
/// (UInt32) and each one's name (UInt16 length, UTF-8); the number of 20-digit TempIDs (UInt32) and, per TempID in
/// ascending order, its halves (2 × UInt64), its window's start (Int64), the window's length (UInt32) and its user's
/// number in the block (UInt32), 32 bytes; then the number of other mappings (UInt32: TempIDs not of 20 digits,
/// windows that do not fit 32 bits) and, per mapping, its TempID (UInt16 length, UTF-8), its user's number (UInt32),
/// its start and its expiry (Int64 each).
struct TempIDBlock {
    /// The blob.
    let bytes: [UInt8]
    /// How many mappings it holds.
    let count: Int
    /// The earliest and latest expiry of its mappings (retention deletes a block whose latest has passed).
    let expiries: ClosedRange<Int64>

    /// At most this many mappings go in one block: 2 MiB of 20-digit ones.
    static let capacity = 65_536

    private static let magic: [UInt8] = Array("BTM1".utf8)
    /// What a block that cannot be read is reported as.
    private static let damaged = CorruptBlock(what: "the stored TempID mappings")
    private static let recordBytes = 32

    /// Encodes the first mapping of each TempID among the grants at the positions where `isNew` is true, in blocks
    /// of their TempIDs in ascending order, and gives each block to `write` as it is made (a whole import's blocks are
    /// never all held at once); a TempID repeated at a later position first has `isNew` set to false there (the first
    /// mapping of a TempID always wins).
    static func encode(
        _ grants: [TempIDGrant], where isNew: inout [Bool], into write: (TempIDBlock) throws -> Void
    ) rethrows {
        try encode(grants, users: denseNumbers(grants.lazy.map(\.user)), where: &isNew, into: write)
    }

    /// Encodes as `encode(_:where:into:)` does, the grants' users already numbered: `users` holds one number per
    /// grant, the same for grants of the same user (the store's index numbers them once each, so that a user's
    /// name is hashed once per mapping stored, not once per block and again per index entry).
    static func encode(
        _ grants: [TempIDGrant], users: [UInt32], where isNew: inout [Bool], into write: (TempIDBlock) throws -> Void
    ) rethrows {
        var compact: [(key: TempIDIndex.Key, position: Int)] = []
        compact.reserveCapacity(grants.count)
        var others: [Int] = []
        for (position, grant) in grants.enumerated() where isNew[position] {
            if let halves = grant.tempID.decimalHalves, TempIDIndex.compactWindow(grant.validity) != nil {
                compact.append((TempIDIndex.Key(high: halves.high, low: halves.low), position))
            } else {
                others.append(position)
            }
        }
        // Sorted for the block, a batch's repeats are neighbours: the first position of each key is kept.
        compact.sort { ($0.key, $0.position) < ($1.key, $1.position) }
        // The others are rare (an edited tempIDs.txt) and found by their text; a 20-digit one whose window does not
        // fit may repeat a compact one, and the earlier of the two wins.
        var seen: Set<TempID> = []
        var keptOthers: [Int] = []
        var outranked: Set<TempIDIndex.Key> = []
        for position in others {
            let tempID = grants[position].tempID
            let compactPosition = firstPosition(of: tempID, in: compact)
            if seen.insert(tempID).inserted, compactPosition.map({ $0 > position }) ?? true {
                keptOthers.append(position)
                if compactPosition != nil, let halves = tempID.decimalHalves {
                    outranked.insert(TempIDIndex.Key(high: halves.high, low: halves.low))
                }
            } else {
                isNew[position] = false
            }
        }
        var kept: [Int] = []
        kept.reserveCapacity(compact.count)
        for (offset, item) in compact.enumerated() {
            if offset > 0 && compact[offset - 1].key == item.key || !outranked.isEmpty && outranked.contains(item.key) {
                isNew[item.position] = false
            } else {
                kept.append(item.position)
            }
        }
        // A block's number for each user number (`UInt32.max`: none yet), reset after each block; numbers spread
        // far wider than the batch (one TempID issued to user 5,000,000) are first made dense.
        let widest = Int(users.max() ?? 0)
        let dense = widest >= 2 * users.count + 64
        let users = dense ? denseNumbers(users) : users
        var local = [UInt32](repeating: .max, count: dense ? users.count : widest + 1)
        for start in stride(from: 0, to: max(kept.count, 1), by: capacity) {
            let slice = kept[start..<min(start + capacity, kept.count)]
            let last = start + capacity >= kept.count
            guard !slice.isEmpty || (last && !keptOthers.isEmpty) else { break }
            try write(encode(slice, others: last ? keptOthers : [], of: grants, users: users, local: &local))
        }
    }

    /// A number for each of `values`, in order: 0, 1, 2, … for each value met for the first time, the same number
    /// for a value met again.
    private static func denseNumbers<Value: Hashable>(_ values: some Collection<Value>) -> [UInt32] {
        var numbers: [Value: UInt32] = [:]
        return values.map { value in
            if let number = numbers[value] { return number }
            numbers[value] = UInt32(numbers.count)
            return UInt32(numbers.count - 1)
        }
    }

    /// The first position at which the 20-digit `tempID` is among `compact` (sorted by key, then position).
    private static func firstPosition(
        of tempID: TempID, in compact: [(key: TempIDIndex.Key, position: Int)]
    ) -> Int? {
        guard let halves = tempID.decimalHalves else { return nil }
        let key = TempIDIndex.Key(high: halves.high, low: halves.low)
        var low = 0
        var high = compact.count
        while low < high {
            let middle = (low + high) / 2
            if compact[middle].key < key { low = middle + 1 } else { high = middle }
        }
        return low < compact.count && compact[low].key == key ? compact[low].position : nil
    }

    /// A block of the grants at the positions `compact` (20-digit TempIDs in ascending order whose windows fit) and
    /// `others`, numbering their users in the order met through `local` (left as it was found).
    private static func encode(
        _ compact: ArraySlice<Int>, others: [Int], of grants: [TempIDGrant], users: [UInt32], local: inout [UInt32]
    ) -> TempIDBlock {
        var names: [String] = []
        var numbered: [UInt32] = []
        func number(_ position: Int) -> UInt32 {
            let user = Int(users[position])
            if local[user] == .max {
                local[user] = UInt32(names.count)
                names.append(grants[position].user)
                numbered.append(UInt32(user))
            }
            return local[user]
        }
        let userNumbers = compact.map(number)
        let otherNumbers = others.map(number)
        defer { for user in numbered { local[Int(user)] = .max } }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16 + compact.count * recordBytes + names.reduce(0) { $0 + 2 + $1.utf8.count })
        bytes.append(contentsOf: magic)
        bytes.appendLittleEndian(UInt32(names.count))
        for name in names { bytes.appendText(name, lengthBytes: 2) }
        bytes.appendLittleEndian(UInt32(compact.count))
        var expiries: ClosedRange<Int64>?
        func note(_ expiry: Int64) {
            expiries = expiries.map { min($0.lowerBound, expiry)...max($0.upperBound, expiry) } ?? expiry...expiry
        }
        for (grant, user) in zip(compact.lazy.map { grants[$0] }, userNumbers) {
            let halves = grant.tempID.decimalHalves!
            let (start, span) = TempIDIndex.compactWindow(grant.validity)!
            bytes.appendLittleEndian(halves.high)
            bytes.appendLittleEndian(halves.low)
            bytes.appendLittleEndian(start)
            bytes.appendLittleEndian(span)
            bytes.appendLittleEndian(user)
            note(grant.validity.expiry.secondsSinceEpoch)
        }
        bytes.appendLittleEndian(UInt32(others.count))
        for (grant, user) in zip(others.lazy.map { grants[$0] }, otherNumbers) {
            bytes.appendText(grant.tempID.rawValue, lengthBytes: 2)
            bytes.appendLittleEndian(user)
            bytes.appendLittleEndian(grant.validity.start.secondsSinceEpoch)
            bytes.appendLittleEndian(grant.validity.expiry.secondsSinceEpoch)
            note(grant.validity.expiry.secondsSinceEpoch)
        }
        return TempIDBlock(bytes: bytes, count: compact.count + others.count, expiries: expiries ?? 0...0)
    }

    /// Adds the mappings of the block `bytes` to `loader`, in the block's order.
    static func load(_ bytes: UnsafeRawBufferPointer, into loader: inout TempIDIndex.Loader) throws(CorruptBlock) {
        try read(
            bytes, numberingUsers: { loader.number(of: $0) },
            compact: { key, mapping in loader.add(key, mapping) }, other: { loader.add($0) })
    }

    /// The mappings of the block `bytes`, in the block's order (`read` has checked that every key's halves are a
    /// TempID's).
    static func grants(in bytes: UnsafeRawBufferPointer) throws(CorruptBlock) -> [TempIDGrant] {
        var users: [String] = []
        var grants: [TempIDGrant] = []
        try read(
            bytes,
            numberingUsers: { user in
                users.append(user)
                return UInt32(users.count - 1)
            },
            compact: { key, mapping in
                let start = Timestamp(secondsSinceEpoch: mapping.start)
                grants.append(
                    TempIDGrant(
                        user: users[Int(mapping.user)], tempID: TempID(decimalHalves: (key.high, key.low))!,
                        validity: ValidityWindow(start: start, expiry: start + Int64(mapping.span))))
            }, other: { grants.append($0) })
        return grants
    }

    /// The TempIDs of the block `bytes`, in the block's order (`read` has checked that every key's halves are a
    /// TempID's).
    static func tempIDs(in bytes: UnsafeRawBufferPointer) throws(CorruptBlock) -> [TempID] {
        var tempIDs: [TempID] = []
        try read(
            bytes, numberingUsers: { _ in 0 },
            compact: { key, _ in tempIDs.append(TempID(decimalHalves: (key.high, key.low))!) },
            other: { tempIDs.append($0.tempID) })
        return tempIDs
    }

    /// The one reader of the layout: gives each user's name to `numberingUsers` (which tells the number the 20-digit
    /// mappings' users become), then each 20-digit mapping to `compact` and each other one to `other`.
    private static func read(
        _ bytes: UnsafeRawBufferPointer, numberingUsers: (String) -> UInt32,
        compact: (TempIDIndex.Key, TempIDIndex.Mapping) -> Void, other: (TempIDGrant) -> Void
    ) throws(CorruptBlock) {
        var offset = 0
        func take(_ count: Int) throws(CorruptBlock) -> UnsafeRawBufferPointer {
            guard count >= 0, count <= bytes.count - offset else { throw Self.damaged }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count])
        }
        func integer<Integer: FixedWidthInteger>(_: Integer.Type) throws(CorruptBlock) -> Integer {
            Integer(littleEndian: try take(MemoryLayout<Integer>.size).loadUnaligned(as: Integer.self))
        }
        func text() throws(CorruptBlock) -> String {
            String(decoding: try take(Int(try integer(UInt16.self))), as: UTF8.self)
        }
        guard try take(magic.count).elementsEqual(magic) else { throw Self.damaged }
        let userCount = Int(try integer(UInt32.self))
        var names: [String] = []
        var numbers: [UInt32] = []
        names.reserveCapacity(userCount)
        numbers.reserveCapacity(userCount)
        for _ in 0..<userCount {
            names.append(try text())
            numbers.append(numberingUsers(names[names.count - 1]))
        }
        let compactCount = Int(try integer(UInt32.self))
        let records = try take(compactCount * recordBytes)
        for record in 0..<compactCount {
            let base = record * recordBytes
            let user = Int(UInt32(littleEndian: records.loadUnaligned(fromByteOffset: base + 28, as: UInt32.self)))
            guard user < numbers.count else { throw Self.damaged }
            let key = TempIDIndex.Key(
                high: UInt64(littleEndian: records.loadUnaligned(fromByteOffset: base, as: UInt64.self)),
                low: UInt64(littleEndian: records.loadUnaligned(fromByteOffset: base + 8, as: UInt64.self)))
            // Each half is ten digits: anything larger is damage, not a TempID.
            guard key.high < 10_000_000_000, key.low < 10_000_000_000 else { throw Self.damaged }
            let mapping = TempIDIndex.Mapping(
                start: Int64(littleEndian: records.loadUnaligned(fromByteOffset: base + 16, as: Int64.self)),
                span: UInt32(littleEndian: records.loadUnaligned(fromByteOffset: base + 24, as: UInt32.self)),
                user: numbers[user])
            compact(key, mapping)
        }
        let otherCount = Int(try integer(UInt32.self))
        for _ in 0..<otherCount {
            guard let tempID = TempID(try text()) else { throw Self.damaged }
            let user = Int(try integer(UInt32.self))
            guard user < names.count else { throw Self.damaged }
            let start = Timestamp(secondsSinceEpoch: try integer(Int64.self))
            let expiry = Timestamp(secondsSinceEpoch: try integer(Int64.self))
            other(
                TempIDGrant(user: names[user], tempID: tempID, validity: ValidityWindow(start: start, expiry: expiry)))
        }
        guard offset == bytes.count else { throw Self.damaged }
    }
}
