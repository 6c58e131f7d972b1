import BlueTraceClient
import BlueTraceDomain
import BlueTraceSecurity
import Foundation
import Testing

/// The sealed TempID scheme end to end: batches, rotation, renewal, version-2 beacons, verdicts, key rotation.
@Suite("Sealed TempIDs, end to end")
struct SealedTempIDTests {
    /// Downloads a batch on `client` and returns the current TempID.
    func download(_ client: ScriptedClient) async throws -> String {
        let before = client.screen.lines.count
        await client.type("Download_tempID")
        return client.screen.lines[try await client.expect("> TempID:", from: before) + 1]
    }

    @Test("A download returns a batch; beacons carry 80-character sealed IDs; the upload traces them")
    func batchBeaconAndTrace() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory, scheme: .sealed, sealedBatchSize: 4) { server in
            let receiver = try await server.loggedInClient("+61410777777", "datha457")
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            let tempID = try await download(sender)
            #expect(tempID.count == TempIDSealer.sealedLength)
            try await sender.expect("> and 3 more, valid until 13/05/2020 18:55:59")
            try await server.screen.waitForLine(containing: "> and 3 more TempIDs following it")
            #expect(try directory.read("tempIDs.txt").contains("+61410888888 \(tempID) 13/05/2020 17:56:00"))

            await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
            try await receiver.expect("The beacon is valid.")
            #expect(receiver.screen.lines.contains("\(tempID),"))

            await receiver.type("Upload_contact_log")
            try await receiver.expect("the server received 1 entry and traced 1.")
            let checking = try await server.screen.waitForLine(containing: "> Contact log checking")
            #expect(server.screen.lines[checking + 1] == "+61410888888,")
        }
    }

    @Test("The phone moves to the next TempID of its batch, and downloads a new batch once all have expired")
    func rotationAndRenewal() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory, scheme: .sealed, sealedBatchSize: 2) { server in
            let receiver = try await server.loggedInClient("+61410777777", "datha457")
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            let first = try await download(sender)

            func beaconedTempID() async throws -> String {
                let before = receiver.screen.lines.count
                await sender.type("Beacon 127.0.0.1 \(receiver.beaconPort)")
                let index = try await receiver.expect("> received beacon:", from: before)
                try await receiver.expect("The beacon is valid.", from: index)
                return String(receiver.screen.lines[index + 1].dropLast())
            }
            #expect(try await beaconedTempID() == first)
            server.clock.advance(by: 900)
            let second = try await beaconedTempID()
            #expect(second != first, "after 15 minutes the phone broadcasts the batch's next TempID")
            server.clock.advance(by: 900)
            let renewed = try await beaconedTempID()
            try await sender.expect("> Your TempIDs have all expired; downloading new ones.")
            #expect(renewed != first && renewed != second)
        }
    }

    @Test("Forged, tampered and expired sealed TempIDs are each flagged with their reason, and stored")
    func verdicts() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory, scheme: .sealed, sealedBatchSize: 1) { server in
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            let tempID = try await download(sender)
            var tampered = Array(tempID)
            tampered[40] = tampered[40] == "A" ? "B" : "A"
            let forged = Data((0..<58).map { UInt8(truncatingIfNeeded: $0 &* 37) }).base64EncodedString()
            let window = "13/05/2020 17:56:00 13/05/2020 18:10:59"
            try directory.write(
                "\(tempID) \(window) 13/05/2020 17:57:00\n"  // traced
                    + "\(forged) \(window) 13/05/2020 17:57:00\n"  // failed_decryption
                    + "\(String(tampered)) \(window) 13/05/2020 17:57:00\n"  // failed_decryption
                    + "\(tempID) \(window) 13/05/2020 18:11:00\n"  // expired_id: heard after its expiry
                    + "\(tempID) 13/05/2020 17:56:00 13/05/2020 18:20:59 13/05/2020 17:57:00\n",  // time_mismatch
                to: "+61410777777_contactlog.txt")
            let uploader = try await server.loggedInClient("+61410777777", "datha457")
            await uploader.type("Upload_contact_log")
            try await uploader.expect("the server received 5 entries and traced 1.")
            for text in [
                "> unmatched: \(forged) (forged or corrupted TempID)",
                "> unmatched: \(String(tampered)) (forged or corrupted TempID)",
                "> unmatched: \(tempID) (heard outside the TempID's validity)",
                "> unmatched: \(tempID) (times disagree with the issued TempID)",
            ] {
                try await server.screen.waitForLine(containing: text)
            }
        }
        let verdicts = try await storedVerdicts(in: directory.path)
        #expect(verdicts == ["traced", "failed_decryption", "failed_decryption", "expired_id", "time_mismatch"])
    }

    @Test("After `keys rotate`, new TempIDs use the new key and TempIDs sealed under the old one still trace")
    func keyRotation() async throws {
        let directory = try TestDirectory()
        try await withServer(in: directory, scheme: .sealed, sealedBatchSize: 1) { server in
            let sender = try await server.loggedInClient("+61410888888", "comp3331")
            let old = try await download(sender)

            var (ring, created) = try KeyFile.loadOrCreate(path: "\(directory.path)/keys.json", now: sampleNow)
            #expect(!created)
            ring.rotate(at: sampleNow)
            try KeyFile.save(ring, to: "\(directory.path)/keys.json")
            try await server.authority.enforceRetention()  // also reloads the key file

            let new = try await download(sender)
            #expect(Data(base64Encoded: new)?.first == 2, "the new current key has id 2")
            #expect(Data(base64Encoded: old)?.first == 1)

            let window = "13/05/2020 17:56:00 13/05/2020 18:10:59 13/05/2020 17:57:00"
            try directory.write("\(old) \(window)\n\(new) \(window)\n", to: "+61410777777_contactlog.txt")
            let uploader = try await server.loggedInClient("+61410777777", "datha457")
            await uploader.type("Upload_contact_log")
            try await uploader.expect("the server received 2 entries and traced 2.")
        }
    }
}

/// The verdicts stored for every encounter, in upload order.
func storedVerdicts(in directory: String) async throws -> [String] {
    try await SQLiteStoreInspector(path: "\(directory)/bluetrace.sqlite").verdicts()
}
