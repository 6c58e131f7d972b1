import BlueTraceDomain
import BlueTraceSecurity
import Crypto
import Foundation
import Testing

@Suite("KeyRing")
struct KeyRingTests {
    @Test func generateMakesOneCurrentKeyWithIDOne() {
        let ring = KeyRing.generate(at: sampleTime)
        #expect(ring.keys.count == 1)
        #expect(ring.current.id == 1)
        #expect(ring.current.created == sampleTime)
        #expect(ring.current.retired == nil)
        #expect(ring.keys.first { $0.id == 1 } == ring.current)
        #expect(ring.keys.first { $0.id == 2 } == nil)
    }

    @Test func generatedKeysAreRandom() {
        let first = KeyRing.generate(at: sampleTime)
        let second = KeyRing.generate(at: sampleTime)
        #expect(first.current != second.current)
        #expect(first.current.derivedKey(for: .tempID) != second.current.derivedKey(for: .tempID))
    }

    @Test func rotateAddsTheNextIDAndRetiresThePrevious() {
        var ring = KeyRing.generate(at: sampleTime)
        let first = ring.current
        let second = ring.rotate(at: sampleTime + 3_600)
        #expect(second.id == 2)
        #expect(second.created == sampleTime + 3_600)
        #expect(second.retired == nil)
        #expect(ring.current == second)
        #expect(ring.keys.map(\.id) == [1, 2])
        #expect(ring.keys[0].retired == sampleTime + 3_600)
        #expect(ring.keys[0].created == first.created)
        #expect(ring.keys.first { $0.id == 1 }?.derivedKey(for: .tempID) == first.derivedKey(for: .tempID))
        let third = ring.rotate(at: sampleTime + 7_200)
        #expect(third.id == 3)
        #expect(ring.keys.map(\.id) == [1, 2, 3])
        #expect(ring.keys.map(\.retired) == [sampleTime + 3_600, sampleTime + 7_200, nil])
    }

    @Test func idsWrapFrom255ToOne() {
        var ring = KeyRing.generate(at: sampleTime)
        for step in 1...254 { ring.rotate(at: sampleTime + Int64(step)) }
        #expect(ring.keys.map(\.id) == Array(1...255))
        // Key 1 was retired at +1 and key 2 at +2.
        let dropped = ring.prune(retiredBefore: sampleTime + 3)
        #expect(dropped.map(\.id) == [1, 2])
        #expect(ring.rotate(at: sampleTime + 1_000).id == 1)
        #expect(ring.rotate(at: sampleTime + 1_001).id == 2)
        #expect(ring.keys.count == 255)
    }

    @Test func whenAll255IDsAreInUseTheOldestKeyMakesRoom() {
        var ring = KeyRing.generate(at: sampleTime)
        for step in 1...254 { ring.rotate(at: sampleTime + Int64(step)) }
        let newest = ring.rotate(at: sampleTime + 1_000)
        #expect(newest.id == 1)
        #expect(ring.keys.count == 255)
        #expect(ring.keys.first?.id == 2)
        #expect(ring.current == newest)
    }

    @Test func rotateSkipsIDsStillInTheRing() throws {
        // Keys 1 and 2 are old but still held; 255 is current, so the next free id is 3.
        let text = keyFileText(entries: [
            keyEntry(id: 1, created: 100, retired: 200, material: material(first: 1)),
            keyEntry(id: 2, created: 200, retired: 300, material: material(first: 2)),
            keyEntry(id: 255, created: 300, material: material(first: 3)),
        ])
        var ring = try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, text)
            return try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
        }
        #expect(ring.current.id == 255)
        #expect(ring.rotate(at: sampleTime).id == 3)
        #expect(ring.keys.map(\.id) == [1, 2, 255, 3])
    }

    @Test func pruneDropsOnlyKeysRetiredBeforeTheCutoff() {
        var ring = KeyRing.generate(at: sampleTime)
        ring.rotate(at: sampleTime + 100)
        ring.rotate(at: sampleTime + 200)
        // Retired exactly at the cutoff: kept.
        #expect(ring.prune(retiredBefore: sampleTime + 100).isEmpty)
        #expect(ring.keys.map(\.id) == [1, 2, 3])
        let dropped = ring.prune(retiredBefore: sampleTime + 101)
        #expect(dropped.map(\.id) == [1])
        #expect(dropped.first?.retired == sampleTime + 100)
        #expect(ring.keys.map(\.id) == [2, 3])
        #expect(ring.keys.first { $0.id == 1 } == nil)
    }

    @Test func pruneNeverDropsTheCurrentKey() throws {
        var ring = KeyRing.generate(at: sampleTime)
        #expect(ring.prune(retiredBefore: sampleTime + 1_000_000).isEmpty)
        ring.rotate(at: sampleTime + 10)
        #expect(ring.prune(retiredBefore: sampleTime + 1_000_000).map(\.id) == [1])
        #expect(ring.keys.map(\.id) == [2])
        // Even a current key marked retired in a hand-edited file stays.
        let text = keyFileText(entries: [keyEntry(id: 7, created: 100, retired: 200)])
        var loaded = try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, text)
            return try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
        }
        #expect(loaded.prune(retiredBefore: sampleTime).isEmpty)
        #expect(loaded.current.id == 7)
    }

    @Test func purposeKeysAreStable() {
        let key = KeyRing.generate(at: sampleTime).current
        let tempIDKey = key.derivedKey(for: .tempID)
        #expect(tempIDKey.bitCount == 256)
        #expect(key.derivedKey(for: .tempID) == tempIDKey)
    }

    @Test func purposeKeysAreHKDFOfTheMasterKey() throws {
        let master: [UInt8] = Array(1...32)
        let text = keyFileText(entries: [keyEntry(id: 1, material: Data(master).base64EncodedString())])
        let ring = try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, text)
            return try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
        }
        for purpose in KeyPurpose.allCases {
            let expected = HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: master), salt: Array("bluetrace".utf8),
                info: Array(purpose.rawValue.utf8), outputByteCount: 32)
            #expect(ring.current.derivedKey(for: purpose) == expected)
        }
        #expect(KeyPurpose.tempID.rawValue == "bluetrace tempid v1")
    }
}
