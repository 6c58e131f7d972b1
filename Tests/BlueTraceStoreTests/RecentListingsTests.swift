import BlueTraceDomain
import Testing

@testable import BlueTraceStore

@Suite("Recent listings")
struct RecentListingsTests {
    @Test("A TempID is new once per contact: noted for one contact, it is still new for another")
    func newOncePerContact() throws {
        var listings = RecentListings()
        let tempID = try #require(TempID("12345678901234567890"))
        let answers = [
            listings.note(tempID, forContactAt: 3), listings.note(tempID, forContactAt: 3),
            listings.note(tempID, forContactAt: 4), listings.note(tempID, forContactAt: 4),
        ]
        #expect(answers == [true, false, true, false])
    }

    @Test("A contact's hundred TempIDs, met over and over, are new about once each: only those sharing a slot again")
    func boundedRepeats() {
        var random = SystemRandomNumberGenerator()
        let sealedLike = (0..<100).map { _ in
            TempID(Base64.encodePadded((0..<58).map { _ in UInt8.random(in: 0...255, using: &random) }))!
        }
        for tempIDs in [(0..<100).map { _ in TempID.randomDecimal(using: &random) }, sealedLike] {
            var listings = RecentListings()
            var new = 0
            for round in 0..<100 {
                for tempID in tempIDs where listings.note(tempID, forContactAt: 7) { new += 1 }
                if round == 0 { #expect(new == 100) }
            }
            // 100 TempIDs in 4,096 slots: a pair sharing one, if any, is new again in every round; more than a few
            // such pairs would mean the slots are not spread.
            #expect(new <= 100 + 99 * 2 * 6, "\(new) listings")
        }
    }
}
