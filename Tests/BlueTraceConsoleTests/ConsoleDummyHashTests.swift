import BlueTraceSecurity
import Logging
import Testing

@testable import BlueTraceConsole

/// An unknown official's name is checked against a hash as costly as a real one, so the time a refusal takes does not
/// tell whether the name exists.
@Suite("Console dummy hash")
struct ConsoleDummyHashTests {
    @Test("The dummy hash has the cost officials' hashes have, as configured (officials add's default: 15)")
    func dummyHashCost() async throws {
        let fixture = try await ConsoleFixture()
        #expect(OperationsConfiguration(port: 0).officialPasswordParameters == .standard)
        let console = Console(
            configuration: fixture.configuration, store: fixture.store, authority: fixture.application.authority,
            metrics: fixture.metrics, clock: fixture.clock, format: .init(), logger: Logger(label: "test"))
        #expect(!PasswordHasher(parameters: ConsoleFixture.fastHash).needsRehash(console.dummyHash))
        #expect(PasswordHasher(parameters: .standard).needsRehash(console.dummyHash))
    }
}
