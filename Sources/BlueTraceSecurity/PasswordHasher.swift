import BlueTraceDomain
import Crypto
import CryptoExtras
import Foundation

/// Hashes and verifies passwords with salted scrypt, writing the parameters into every hash (a PHC string).
///
/// A hash looks like `$scrypt$ln=15,r=8,p=1$<salt>$<hash>`: N = 2^ln, block size r, parallelism p, then the 16-byte
/// salt and the 32-byte derived key in unpadded standard base64. Passwords are normalised to Unicode NFC first, so
/// the same password typed as composed or decomposed characters verifies.
public struct PasswordHasher: Sendable {
    /// The scrypt cost parameters: N = 2^`logRounds`, r = `blockSize`, p = `parallelism`.
    public struct Parameters: Sendable, Hashable, CustomStringConvertible {
        /// log2 of scrypt's CPU/memory cost N.
        public var logRounds: Int
        /// scrypt's block size r.
        public var blockSize: Int
        /// scrypt's parallelism p.
        public var parallelism: Int

        /// Creates parameters; see `isSupported` for the accepted ranges.
        public init(logRounds: Int, blockSize: Int, parallelism: Int) {
            self.logRounds = logRounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// The production parameters: N = 2^15, r = 8, p = 1 (32 MiB, tens of milliseconds).
        public static let standard = Parameters(logRounds: 15, blockSize: 8, parallelism: 1)
        /// Cheap parameters for tests and demos: N = 2^10, r = 8, p = 1 (1 MiB).
        public static let fast = Parameters(logRounds: 10, blockSize: 8, parallelism: 1)
        /// Nearly free parameters for simulations of thousands of phones (never for real accounts): N = 2, r = 1.
        public static let simulation = Parameters(logRounds: 1, blockSize: 1, parallelism: 1)

        /// The largest accepted `logRounds`.
        public static let maximumLogRounds = 20
        /// The largest accepted `blockSize`.
        public static let maximumBlockSize = 16
        /// The largest accepted `parallelism`.
        public static let maximumParallelism = 16
        /// The most memory (128 · N · r bytes) a hash may ask for: 1 GiB.
        public static let maximumMemory = 1 << 30

        /// Whether these parameters are sane enough to run: anything else is refused rather than computed.
        public var isSupported: Bool {
            guard (1...Self.maximumLogRounds).contains(logRounds), (1...Self.maximumBlockSize).contains(blockSize),
                (1...Self.maximumParallelism).contains(parallelism)
            else { return false }
            // scrypt requires N < 2^(16·r).
            guard logRounds < 16 * blockSize else { return false }
            return 128 * (1 << logRounds) * blockSize <= Self.maximumMemory
        }

        /// The PHC parameter field, `ln=15,r=8,p=1`.
        public var description: String { "ln=\(logRounds),r=\(blockSize),p=\(parallelism)" }
    }

    /// The identifier of scrypt in PHC strings.
    static let algorithm = "scrypt"
    /// The length of the random salt in new hashes.
    static let saltByteCount = 16
    /// The length of the derived key in new hashes.
    static let hashByteCount = 32
    /// The salt lengths accepted from stored hashes.
    static let acceptedSaltByteCounts = 8...64
    /// The derived-key lengths accepted from stored hashes.
    static let acceptedHashByteCounts = 16...64
    /// The longest PHC string looked at; anything longer is malformed.
    static let maximumEncodedLength = 512

    /// The parameters new hashes are made with.
    public let parameters: Parameters

    /// Creates a hasher that makes new hashes with `parameters`.
    public init(parameters: Parameters = .standard) {
        self.parameters = parameters
    }

    /// A PHC string for `password` with a fresh random salt; the password itself never appears in it.
    public func hash(_ password: String) throws(PasswordHashError) -> String {
        guard parameters.isSupported else { throw .unsupportedParameters(parameters) }
        let passwordBytes = Self.normalizedBytes(password)
        guard !passwordBytes.isEmpty else { throw .emptyPassword }
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        guard
            let derived = Self.derive(
                passwordBytes, salt: salt, parameters: parameters, byteCount: Self.hashByteCount)
        else { throw .derivationFailed }
        let hashText = derived.withUnsafeBytes { Base64.encodeUnpadded($0) }
        return "$\(Self.algorithm)$\(parameters)$\(Base64.encodeUnpadded(salt))$\(hashText)"
    }

    /// Whether `password` matches `encoded`, using the parameters written in `encoded` and a constant-time
    /// comparison; `false` for a malformed string or one whose parameters are unsupported.
    public func verify(_ password: String, against encoded: String) -> Bool {
        guard let stored = PHCString(encoded), stored.parameters.isSupported else { return false }
        let passwordBytes = Self.normalizedBytes(password)
        guard !passwordBytes.isEmpty,
            let derived = Self.derive(
                passwordBytes, salt: stored.salt, parameters: stored.parameters, byteCount: stored.hash.count)
        else { return false }
        // SymmetricKey's == compares in constant time.
        return derived == SymmetricKey(data: stored.hash)
    }

    /// Whether `encoded` should be replaced by a fresh hash at the next successful login: it is malformed, or was made
    /// with other parameters or another salt or output length than this hasher uses.
    public func needsRehash(_ encoded: String) -> Bool {
        guard let stored = PHCString(encoded) else { return true }
        return stored.parameters != parameters || stored.salt.count != Self.saltByteCount
            || stored.hash.count != Self.hashByteCount
    }

    /// The UTF-8 bytes of `password` in Unicode Normalization Form C.
    static func normalizedBytes(_ password: String) -> [UInt8] {
        Array(password.precomposedStringWithCanonicalMapping.utf8)
    }

    /// scrypt of `password`, or `nil` when the library refuses.
    static func derive(_ password: [UInt8], salt: [UInt8], parameters: Parameters, byteCount: Int) -> SymmetricKey? {
        guard !password.isEmpty, !salt.isEmpty, parameters.isSupported else { return nil }
        return try? KDF.Scrypt.deriveKey(
            from: password, salt: salt, outputByteCount: byteCount, rounds: 1 << parameters.logRounds,
            blockSize: parameters.blockSize, parallelism: parameters.parallelism)
    }
}

/// A parsed `$scrypt$ln=…,r=…,p=…$salt$hash` string; only the canonical spelling parses.
struct PHCString {
    /// The scrypt parameters written in the string.
    var parameters: PasswordHasher.Parameters
    /// The salt bytes.
    var salt: [UInt8]
    /// The derived-key bytes.
    var hash: [UInt8]

    /// Parses `text`, or returns `nil` when it is not a well-formed scrypt PHC string.
    init?(_ text: String) {
        guard text.utf8.count <= PasswordHasher.maximumEncodedLength else { return nil }
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == PasswordHasher.algorithm else { return nil }
        let values = fields[2].split(separator: ",", omittingEmptySubsequences: false)
        guard values.count == 3,
            let logRounds = Self.number(values[0], name: "ln"),
            let blockSize = Self.number(values[1], name: "r"),
            let parallelism = Self.number(values[2], name: "p")
        else { return nil }
        let parameters = PasswordHasher.Parameters(
            logRounds: logRounds, blockSize: blockSize, parallelism: parallelism)
        guard fields[2] == parameters.description,
            let salt = Base64.decodeUnpadded(fields[3]), let hash = Base64.decodeUnpadded(fields[4]),
            PasswordHasher.acceptedSaltByteCounts.contains(salt.count),
            PasswordHasher.acceptedHashByteCounts.contains(hash.count)
        else { return nil }
        self.parameters = parameters
        self.salt = salt
        self.hash = hash
    }

    /// The value of `name=digits`, at most four digits, or `nil`.
    private static func number(_ field: Substring, name: String) -> Int? {
        guard field.hasPrefix(name + "=") else { return nil }
        let digits = field.dropFirst(name.count + 1)
        guard (1...4).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isWholeNumber }) else { return nil }
        return Int(digits)
    }
}

/// Why a password could not be hashed.
public enum PasswordHashError: Error, Hashable, CustomStringConvertible {
    /// The password is empty.
    case emptyPassword
    /// The hasher was configured with parameters outside the supported ranges.
    case unsupportedParameters(PasswordHasher.Parameters)
    /// The scrypt implementation refused to run (for example, it could not allocate its memory).
    case derivationFailed

    /// What went wrong and what to do about it.
    public var description: String {
        switch self {
        case .emptyPassword:
            "the password is empty; choose a password of at least one character"
        case .unsupportedParameters(let parameters):
            "the scrypt parameters \(parameters) are not supported; use PasswordHasher.Parameters.standard, or "
                + "ln 1–\(PasswordHasher.Parameters.maximumLogRounds), "
                + "r 1–\(PasswordHasher.Parameters.maximumBlockSize), "
                + "p 1–\(PasswordHasher.Parameters.maximumParallelism) within 1 GiB of memory"
        case .derivationFailed:
            "scrypt could not compute the hash (probably out of memory); free some memory or use smaller parameters, "
                + "then try again"
        }
    }
}
