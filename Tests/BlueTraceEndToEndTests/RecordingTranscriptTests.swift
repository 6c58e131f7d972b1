import BlueTraceClient
import Testing

@Suite("RecordingTranscript")
struct RecordingTranscriptTests {
    @Test func recordsLinesAndPromptsInOrderAndForwardsBlocks() {
        let forwarded = RecordingTranscript()
        let transcript = RecordingTranscript(forward: forwarded)
        transcript.prompt("> ")
        transcript.write(["a", "b"])
        transcript.write("c")
        #expect(transcript.lines == ["> ", "a", "b", "c"])
        #expect(forwarded.lines == ["> ", "a", "b", "c"])
    }

    @Test func waitsForALineWrittenLater() async throws {
        let transcript = RecordingTranscript()
        transcript.write(["first", "needle 1"])
        async let found = transcript.waitForLine(containing: "needle", from: 2)
        transcript.write(["other", "needle 2"])
        #expect(try await found == 3)
        #expect(try await transcript.waitForLine(containing: "needle") == 1)
    }

    @Test func givesUpAfterTheTimeoutListingTheLines() async throws {
        let transcript = RecordingTranscript()
        transcript.write("only line")
        let error = await #expect(throws: TranscriptWaitTimeout.self) {
            try await transcript.waitForLine(containing: "missing", timeout: .milliseconds(10))
        }
        #expect(error?.lines == ["only line"])
    }
}
