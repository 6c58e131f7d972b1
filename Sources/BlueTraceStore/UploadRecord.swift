import BlueTraceDomain

/// An upload to store: who sent it, when, every entry with its verdict (kept as the block the stores write), and the
/// people it traced.
public struct UploadRecord: Hashable, Sendable {
    /// The uploader's username.
    public let uploader: String
    /// When the server received it.
    public let receivedAt: Timestamp
    /// The entries with their verdicts, as the stores keep them.
    package let block: EncounterBlock
    /// How many entries it holds.
    public let entryCount: Int
    /// How many of them traced to somebody.
    public let matchedCount: Int
    /// The people this upload traced, one per contact, in the order they were first traced: the rule every store
    /// applies, worked out once when the record is made.
    public let tracedContacts: [TracedContact]

    /// The entries, in upload order, read back from the block (for showing an upload, not for tracing one).
    public var encounters: [StoredEncounter] {
        // The block was written by this record's builder: it always reads back.
        (try? EncounterBlock.encounters(in: block.bytes)) ?? []
    }

    /// Creates an upload record of `encounters`, working out whom it traced.
    public init(uploader: String, receivedAt: Timestamp, encounters: [StoredEncounter]) {
        var builder = Builder(uploader: uploader, receivedAt: receivedAt, expectedEntries: encounters.count)
        for encounter in encounters { builder.append(encounter) }
        self = builder.finish()
    }

    private init(
        uploader: String, receivedAt: Timestamp, block: EncounterBlock, entryCount: Int, matchedCount: Int,
        tracedContacts: [TracedContact]
    ) {
        self.uploader = uploader
        self.receivedAt = receivedAt
        self.block = block
        self.entryCount = entryCount
        self.matchedCount = matchedCount
        self.tracedContacts = tracedContacts
    }

    /// Makes an upload record entry by entry, as tracing judges them: each entry is written into the block at once,
    /// so a million-entry upload is never held as a million stored encounters beside its block. A large upload can be
    /// built in parts side by side, one per core, each part then joined to the one before (`append(contentsOf:)`).
    public struct Builder: Sendable {
        private let uploader: String
        private let receivedAt: Timestamp
        private var writer: EncounterBlock.Writer
        private var entryCount = 0
        private var matchedCount = 0
        private var positions = PhonePositions()
        private var contacts: [TracedContact] = []
        /// The TempIDs listed last of contacts heard through many (see `list`), made when the first such contact is.
        private var listed: RecentListings?
        /// Whether every contact's TempIDs are sorted, each once (as `sortTempIDs` leaves them).
        private var tempIDsSorted = true
        /// The position of the contact the last traced entry named, or -1 before any did.
        private var lastContact: Int32 = -1

        /// Starts the record of an upload of about `expectedEntries` entries from `uploader`, received at
        /// `receivedAt`; `isPart` when it holds entries that follow another builder's, to be joined to it.
        public init(uploader: String, receivedAt: Timestamp, expectedEntries: Int, isPart: Bool = false) {
            self.uploader = uploader
            self.receivedAt = receivedAt
            self.writer = EncounterBlock.Writer(expectedEntries: expectedEntries, isPart: isPart)
        }

        /// Adds the next entry, with its verdict.
        public mutating func append(_ encounter: StoredEncounter) {
            entryCount += 1
            guard let phone = encounter.contact else {
                writer.append(encounter, contactNumber: 0)
                return
            }
            matchedCount += 1
            let when = encounter.heardAt ?? encounter.validity?.start ?? receivedAt
            // Entries of one contact come in runs (a phone logs the same neighbour beacon after beacon): the contact
            // of the entry before is compared first, and only another one is looked up by hashing its number.
            var position = lastContact
            if lastContact < 0 || contacts[Int(lastContact)].phone != phone {
                let (found, added) = positions.position(of: phone, orAdd: Int32(contacts.count))
                position = found
                lastContact = position
                if added {
                    contacts.append(
                        TracedContact(
                            phone: phone, firstEncounter: when, lastEncounter: when, encounters: 1,
                            tempIDs: encounter.validTempID.map { [$0] } ?? []))
                    writer.append(encounter, contactNumber: UInt32(position))
                    return
                }
            }
            let index = Int(position)
            contacts[index].firstEncounter = min(contacts[index].firstEncounter, when)
            contacts[index].lastEncounter = max(contacts[index].lastEncounter, when)
            contacts[index].encounters += 1
            if let tempID = encounter.validTempID { list(tempID, forContactAt: position) }
            writer.append(encounter, contactNumber: UInt32(position))
        }

        /// Adds every entry of `part`, a builder (started as a part) of the entries that follow those added so far:
        /// the record is the same as if they had been appended here one by one.
        public mutating func append(contentsOf part: consuming Builder) {
            var renumbered: [UInt32] = []
            renumbered.reserveCapacity(part.contacts.count)
            for contact in part.contacts {
                let (position, added) = positions.position(of: contact.phone, orAdd: Int32(contacts.count))
                if added {
                    contacts.append(contact)
                    renumbered.append(UInt32(position))
                    continue
                }
                let index = Int(position)
                contacts[index].firstEncounter = min(contacts[index].firstEncounter, contact.firstEncounter)
                contacts[index].lastEncounter = max(contacts[index].lastEncounter, contact.lastEncounter)
                contacts[index].encounters += contact.encounters
                // Both lists sorted (as parts leave them): merged in one pass, still sorted. Else listed after this
                // builder's own, for `finish` to sort. (What `listed` notes for this builder's contacts stays true:
                // their lists only grow.)
                if tempIDsSorted, part.tempIDsSorted {
                    contacts[index].tempIDs = Self.union(contacts[index].tempIDs, contact.tempIDs)
                } else {
                    contacts[index].tempIDs.append(contentsOf: contact.tempIDs)
                    tempIDsSorted = false
                }
                renumbered.append(UInt32(position))
            }
            if !part.tempIDsSorted { tempIDsSorted = false }
            writer.append(contentsOf: part.writer, renumbering: renumbered)
            entryCount += part.entryCount
            matchedCount += part.matchedCount
        }

        /// Lists `tempID` among those the contact at `position` was heard through (`finish` sorts each list and drops
        /// repeats).
        private mutating func list(_ tempID: TempID, forContactAt position: Int32) {
            let index = Int(position)
            guard contacts[index].tempIDs.last != tempID else { return }
            // A contact heard through many TempIDs has those listed last noted (`RecentListings`), so that each is
            // listed about once instead of a million entries of a hundred TempIDs being sorted in `finish`.
            if contacts[index].tempIDs.count >= 64 {
                if listed == nil { listed = RecentListings() }
                guard listed!.note(tempID, forContactAt: position) else { return }
            }
            contacts[index].tempIDs.append(tempID)
            tempIDsSorted = false
        }

        /// The TempIDs of two sorted lists without repeats, sorted, each once.
        private static func union(_ first: [TempID], _ second: [TempID]) -> [TempID] {
            var union: [TempID] = []
            union.reserveCapacity(first.count + second.count)
            var (i, j) = (0, 0)
            while i < first.count, j < second.count {
                if first[i] < second[j] {
                    union.append(first[i])
                    i += 1
                } else if second[j] < first[i] {
                    union.append(second[j])
                    j += 1
                } else {
                    union.append(first[i])
                    i += 1
                    j += 1
                }
            }
            union.append(contentsOf: first[i...])
            union.append(contentsOf: second[j...])
            return union
        }

        /// The record of every entry added.
        public consuming func finish() -> UploadRecord {
            sortTempIDs()
            return UploadRecord(
                uploader: uploader, receivedAt: receivedAt, block: writer.finish(contacts: contacts.map(\.phone)),
                entryCount: entryCount, matchedCount: matchedCount, tracedContacts: contacts)
        }

        /// Sorts each contact's TempIDs and drops the repeats, as `finish` does: a part calls it before it is joined,
        /// so that its share of the sorting runs on its own core and joining merges sorted lists instead.
        public mutating func sortTempIDs() {
            guard !tempIDsSorted else { return }
            defer { tempIDsSorted = true }
            // Each contact's TempIDs once, sorted: sorting the few a contact has costs less than hashing them.
            for position in contacts.indices where contacts[position].tempIDs.count > 1 {
                contacts[position].tempIDs.sort()
                var kept = 1
                for index in 1..<contacts[position].tempIDs.count
                where contacts[position].tempIDs[index] != contacts[position].tempIDs[kept - 1] {
                    contacts[position].tempIDs[kept] = contacts[position].tempIDs[index]
                    kept += 1
                }
                contacts[position].tempIDs.removeLast(contacts[position].tempIDs.count - kept)
            }
        }
    }
}
