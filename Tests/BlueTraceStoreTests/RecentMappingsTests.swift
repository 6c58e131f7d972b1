import Testing

@testable import BlueTraceStore

@Suite("Recent mappings")
struct RecentMappingsTests {
    private static func mapping(_ number: Int) -> TempIDIndex.Mapping {
        TempIDIndex.Mapping(start: Int64(number), span: 899, user: UInt32(number % 7))
    }

    @Test("Every key is found with its mapping across growths, absent ones are not, and it comes out sorted")
    func insertFindTake() {
        var recent = RecentMappings()
        var generator = SystemRandomNumberGenerator()
        // Random keys, and keys a power of two apart (which a hash of their low bits would put in one slot).
        var keys = Set<TempIDIndex.Key>()
        while keys.count < 50_000 {
            keys.insert(
                TempIDIndex.Key(
                    high: UInt64.random(in: 0..<10_000_000_000, using: &generator),
                    low: UInt64.random(in: 0..<10_000_000_000, using: &generator)))
        }
        for step in 0..<100 { keys.insert(TempIDIndex.Key(high: 0, low: UInt64(step) << 20)) }
        let ordered = Array(keys)
        for (number, key) in ordered.enumerated() { recent.insert(key, Self.mapping(number)) }
        #expect(recent.count == ordered.count)
        for (number, key) in ordered.enumerated() {
            #expect(recent.mapping(of: key)?.start == Int64(number))
        }
        #expect(recent.mapping(of: TempIDIndex.Key(high: 0, low: 1)) == nil)
        let removed = Set(ordered.prefix(1_000)).union([TempIDIndex.Key(high: 0, low: 3)])
        #expect(recent.remove(removed) == Set(ordered.prefix(1_000)), "only the keys it held are reported")
        #expect(recent.count == ordered.count - 1_000)
        #expect(ordered.prefix(1_000).allSatisfy { recent.mapping(of: $0) == nil })
        #expect(ordered.dropFirst(1_000).allSatisfy { recent.mapping(of: $0) != nil })
        let sorted = recent.takeSorted()
        #expect(sorted.map(\.key) == ordered.dropFirst(1_000).sorted())
        #expect(recent.isEmpty)
        #expect(recent.mapping(of: ordered[2_000]) == nil, "taken, it is empty")
        recent.insert(ordered[2_000], Self.mapping(1))
        #expect(recent.mapping(of: ordered[2_000])?.start == 1)
    }
}
