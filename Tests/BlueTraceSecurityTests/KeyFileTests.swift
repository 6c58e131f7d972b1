import BlueTraceDomain
import BlueTraceSecurity
import Foundation
import Testing

@Suite("KeyFile")
struct KeyFileTests {
    static let validity = ValidityWindow(start: sampleTime, expiry: sampleTime + 899)

    @Test func createsAnOwnerOnlyFileOnFirstStart() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            let (ring, created) = try KeyFile.loadOrCreate(path: path, now: sampleTime)
            #expect(created)
            #expect(ring.keys.count == 1)
            #expect(ring.current.id == 1)
            #expect(ring.current.created == sampleTime)
            #expect(try fileMode(path) == 0o600)
        }
    }

    @Test func reloadGivesTheSameKeys() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            let first = try KeyFile.loadOrCreate(path: path, now: sampleTime)
            let second = try KeyFile.loadOrCreate(path: path, now: sampleTime + 3_600)
            #expect(!second.created)
            #expect(second.ring == first.ring)
            #expect(second.ring.current.created == sampleTime)
            let tempID = try TempIDSealer(keyRing: first.ring).seal(user: "+6591234567", validity: Self.validity)
            #expect(
                TempIDSealer(keyRing: second.ring).open(tempID) == .opened(user: "+6591234567", validity: Self.validity)
            )
        }
    }

    @Test func fileIsTheDocumentedJSON() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            var ring = try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
            ring.rotate(at: sampleTime + 60)
            try KeyFile.save(ring, to: path)
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(json["format"] as? Int == 1)
            let keys = try #require(json["keys"] as? [[String: Any]])
            try #require(keys.count == 2)
            #expect(keys[0]["id"] as? Int == 1)
            #expect(keys[0]["created"] as? Int == 1_700_000_000)
            #expect(keys[0]["retired"] as? Int == 1_700_000_060)
            #expect(keys[1]["id"] as? Int == 2)
            #expect(keys[1]["retired"] is NSNull)
            for key in keys {
                let material = try #require(key["material"] as? String)
                #expect(Data(base64Encoded: material)?.count == 32)
            }
        }
    }

    @Test func saveIsAtomicAndOwnerOnly() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            var ring = try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
            let oldTempID = try TempIDSealer(keyRing: ring).seal(user: "alice", validity: Self.validity)
            ring.rotate(at: sampleTime + 86_400)
            try KeyFile.save(ring, to: path)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["keys.json"])
            #expect(try fileMode(path) == 0o600)
            let reloaded = try KeyFile.loadOrCreate(path: path, now: sampleTime)
            #expect(!reloaded.created)
            #expect(reloaded.ring == ring)
            #expect(reloaded.ring.keys.map(\.id) == [1, 2])
            #expect(
                TempIDSealer(keyRing: reloaded.ring).open(oldTempID) == .opened(user: "alice", validity: Self.validity))
        }
    }

    @Test func saveCreatesAMissingFileAndTightensALooseOne() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            let ring = KeyRing.generate(at: sampleTime)
            try KeyFile.save(ring, to: path)
            #expect(try fileMode(path) == 0o600)
            try writeFile(path, "old", mode: 0o644)
            try KeyFile.save(ring, to: path)
            #expect(try fileMode(path) == 0o600)
            #expect(try KeyFile.loadOrCreate(path: path, now: sampleTime).ring == ring)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["keys.json"])
        }
    }

    @Test(arguments: [0o644, 0o640, 0o604, 0o660, 0o620, 0o602, 0o777])
    func refusesAFileOthersCanAccess(mode: Int) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, keyFileText(entries: [keyEntry(id: 1)]), mode: mode)
            let error = #expect(throws: KeyFileError.self) { try KeyFile.loadOrCreate(path: path, now: sampleTime) }
            #expect(error == .insecurePermissions(path: path, mode: UInt32(mode)))
            #expect(error?.description.contains("chmod 600 \(path)") == true)
        }
    }

    @Test func acceptsAnOwnerReadOnlyFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, keyFileText(entries: [keyEntry(id: 1)]), mode: 0o400)
            #expect(try KeyFile.loadOrCreate(path: path, now: sampleTime).ring.current.id == 1)
        }
    }

    /// Loads `text` as a key file and returns the error it fails with.
    func loadError(_ text: String) throws -> (error: KeyFileError?, path: String) {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            try writeFile(path, text)
            let error = #expect(throws: KeyFileError.self) { try KeyFile.loadOrCreate(path: path, now: sampleTime) }
            return (error, path)
        }
    }

    @Test(arguments: [
        "", "not json", "{", "[]", "{\"format\": 1}", "{\"keys\": []}", "{\"format\": \"1\", \"keys\": []}",
        "{\"format\": 1, \"keys\": [{\"id\": 1}]}",
        keyFileText(entries: [#"{"id": 1, "created": "yesterday", "retired": null, "material": "AA=="}"#]),
    ])
    func refusesCorruptJSON(text: String) throws {
        let (error, path) = try loadError(text)
        guard case .invalid(let errorPath, _) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(errorPath == path)
        #expect(error?.description.contains("is not valid") == true)
        #expect(error?.description.contains("backup") == true)
    }

    @Test func refusesMaterialThatIsNotBase64() throws {
        let (error, _) = try loadError(keyFileText(entries: [keyEntry(id: 1, material: "not base64!")]))
        guard case .invalid(_, let reason) = error else {
            Issue.record("expected .invalid, got \(String(describing: error))")
            return
        }
        #expect(reason.contains("key 1"))
    }

    @Test(arguments: [0, 16, 31, 33, 64])
    func refusesKeysOfTheWrongLength(byteCount: Int) throws {
        let (error, path) = try loadError(keyFileText(entries: [keyEntry(id: 4, material: material(count: byteCount))]))
        #expect(error == .wrongKeyLength(path: path, id: 4, byteCount: byteCount))
        #expect(error?.description.contains("32 bytes") == true)
    }

    @Test func refusesDuplicateIDs() throws {
        let (error, path) = try loadError(
            keyFileText(entries: [
                keyEntry(id: 3, created: 1), keyEntry(id: 5, created: 2), keyEntry(id: 3, created: 3),
            ]))
        #expect(error == .duplicateKeyID(path: path, id: 3))
        #expect(error?.description.contains("more than one key with id 3") == true)
    }

    @Test func refusesAFileWithoutKeys() throws {
        let (error, path) = try loadError(keyFileText(entries: []))
        #expect(error == .noKeys(path: path))
    }

    @Test(arguments: [0, 256, -1, 1_000])
    func refusesIDsOutsideOneTo255(id: Int) throws {
        let (error, path) = try loadError(keyFileText(entries: [keyEntry(id: id)]))
        #expect(error == .invalidKeyID(path: path, id: id))
    }

    @Test func refusesAnotherFormat() throws {
        let (error, path) = try loadError(keyFileText(format: 2, entries: [keyEntry(id: 1)]))
        #expect(error == .unsupportedFormat(path: path, format: 2))
    }

    @Test func refusesADirectory() throws {
        try withTemporaryDirectory { directory in
            #expect(throws: KeyFileError.notARegularFile(path: directory)) {
                try KeyFile.loadOrCreate(path: directory, now: sampleTime)
            }
        }
    }

    @Test func reportsAMissingDirectory() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/missing/keys.json"
            let error = #expect(throws: KeyFileError.self) { try KeyFile.loadOrCreate(path: path, now: sampleTime) }
            guard case .cannotWrite(let errorPath, _) = error else {
                Issue.record("expected .cannotWrite, got \(String(describing: error))")
                return
            }
            #expect(errorPath == path)
            #expect(throws: KeyFileError.self) { try KeyFile.save(KeyRing.generate(at: sampleTime), to: path) }
        }
    }

    @Test func keysAreOrderedOldestFirst() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/keys.json"
            let text = keyFileText(entries: [
                keyEntry(id: 9, created: 300, material: material(first: 9)),
                keyEntry(id: 8, created: 100, retired: 200, material: material(first: 8)),
            ])
            try writeFile(path, text)
            let ring = try KeyFile.loadOrCreate(path: path, now: sampleTime).ring
            #expect(ring.keys.map(\.id) == [8, 9])
            #expect(ring.current.id == 9)
        }
    }
}
