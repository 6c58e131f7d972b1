import BlueTraceDomain
import BlueTraceStore

/// A phone as the simulator sees it.
struct SimulatedPhone: Sendable {
    /// Index in the population.
    var index: Int
    /// The account name: an international phone number.
    var username: String
    /// Whether the phone runs the app (non-users still count in the ground truth).
    var hasApp: Bool
    /// Whether this person tests positive during the run.
    var isCase: Bool
}

/// What a simulation transport does: carry the protocol's messages between the simulated phones and the real server
/// logic. The radio model (who hears whom) is the simulator's; the transport only delivers.
protocol PhoneNetwork: Sendable {
    /// Registers and logs in every app phone, and downloads its first TempIDs.
    func start(phones: [SimulatedPhone], at time: Timestamp) async throws

    /// Moves the network's clock to `time`; phones rotate to their next TempID and renew batches that ran out.
    /// Returns which phones are broadcasting a TempID.
    func advance(to time: Timestamp) async throws -> [Bool]

    /// Delivers beacons: each sender's current beacon to its receiver. `others` beacons were delivered to phones
    /// whose logs are never uploaded; a transport may just count them. Returns how many were logged as valid.
    func deliver(_ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp) async throws -> Int

    /// The phone tests positive: it uploads its contact log.
    func upload(phone: Int, at time: Timestamp) async throws

    /// The contacts the health authority traced from a phone's uploads.
    func tracedContacts(of phone: Int) async throws -> [TracedContact]

    /// TempIDs issued and downloads made so far.
    func tempIDStatistics() async -> (issued: Int, downloads: Int)

    /// Releases sockets and files.
    func stop() async

    /// The phone numbers the health authority sent exposure notices to since the last call (epidemic runs).
    func takeNotices() async -> [String]
}

extension PhoneNetwork {
    /// A transport that sends no notices.
    func takeNotices() async -> [String] { [] }
}

/// The network of an epidemic's run without tracing: nobody broadcasts, nothing is logged or uploaded.
struct SilentNetwork: PhoneNetwork {
    private let silence: [Bool]

    init(phones: Int) { silence = [Bool](repeating: false, count: phones) }

    func start(phones: [SimulatedPhone], at time: Timestamp) async throws {}
    func advance(to time: Timestamp) async throws -> [Bool] { silence }
    func deliver(_ pairs: [(sender: Int32, receiver: Int32)], others: Int, at time: Timestamp) async throws -> Int {
        others
    }
    func upload(phone: Int, at time: Timestamp) async throws {}
    func tracedContacts(of phone: Int) async throws -> [TracedContact] { [] }
    func tempIDStatistics() async -> (issued: Int, downloads: Int) { (0, 0) }
    func stop() async {}
}
