import Testing

@testable import BlueTraceStore

@Suite("Phone positions")
struct PhonePositionsTests {
    @Test("Each phone gets the first position offered, and keeps it: short, long, empty, alike and non-ASCII ones")
    func positionsAsADictionary() {
        var generator = SystemRandomNumberGenerator()
        // Numbers that differ only in one byte, in either word; every length from 0 to 20 bytes; non-ASCII text.
        var phones = (0..<5_000).map { "+614\(10_000_000 + $0)" }
        phones += (0..<21).map { String(repeating: "9", count: $0) }
        phones += ["+61410000000\u{0}", "+61410000000", "телефон", "телефон1", "\u{0}", ""]
        phones += (0..<2_000).map { _ in
            String((0..<Int.random(in: 0...20, using: &generator)).map { _ in "0123456789+".randomElement()! })
        }
        var table = PhonePositions()
        var model: [String: Int32] = [:]
        for round in 0..<3 {
            for (offer, phone) in phones.shuffled(using: &generator).enumerated() {
                let answer = table.position(of: phone, orAdd: Int32(round * 100_000 + offer))
                if let known = model[phone] {
                    #expect(answer.position == known && !answer.added, "\(phone)")
                } else {
                    #expect(answer.position == Int32(round * 100_000 + offer) && answer.added, "\(phone)")
                    model[phone] = answer.position
                }
            }
        }
        #expect(model.count == Set(phones).count)
    }
}
