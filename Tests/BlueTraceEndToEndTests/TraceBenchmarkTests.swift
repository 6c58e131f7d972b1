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
        #expect(result.entriesPerSecond > 0)
    }
}
