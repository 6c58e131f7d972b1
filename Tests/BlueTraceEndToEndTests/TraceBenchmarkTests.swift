import BlueTraceBench
import Foundation
import Testing

@Suite("Trace benchmark")
struct TraceBenchmarkTests {
    @Test("Loads the mappings and traces every entry of the upload against them")
    func tracesEverything() async throws {
        let directory = try TestDirectory()
        let result = try await TraceBenchmark.run(
            mappings: 3_000, entries: 1_000, directory: directory.path, logger: quietLogger)
        #expect(result.mappings == 3_000)
        #expect(result.entries == 1_000)
        #expect(result.matched == 1_000)
        #expect(result.distinct == 1_000)
        #expect(result.entriesPerSecond > 0)
        #expect(result.storedBytesPerEntry > 0)
        #expect(result.peakResidentBytes > 1_000_000)
    }

    @Test("Sealed: issues the TempIDs through the core and traces the upload by opening them; repeats count once")
    func sealed() async throws {
        let directory = try TestDirectory()
        let result = try await TraceBenchmark.run(
            scheme: .sealed, mappings: 1, entries: 5_000, distinct: 250, directory: directory.path,
            logger: quietLogger)
        #expect(result.mappings == 250, "TempIDs issued")
        #expect(result.distinct == 250)
        #expect(result.entries == 5_000)
        #expect(result.matched == 5_000, "every sealed TempID opens to its user and window")
    }
}
