import BlueTraceDomain
import BlueTraceWire

/// Something a phone did, as its observers learn it: the simulator scores runs from these, never from the screen.
public enum PhoneEvent: Sendable {
    /// A beacon arrived: the TempID it carried, and whether it was valid when heard (then it is in the contact log).
    case beaconHeard(IssuedTempID, valid: Bool)
    /// A datagram arrived that is not a beacon.
    case invalidDatagram
    /// TempIDs were downloaded (one, or a sealed batch); `renewal` when the phone did it by itself because its
    /// TempIDs had all expired.
    case tempIDsDownloaded(count: Int, renewal: Bool)
    /// The contact log was uploaded and traced.
    case contactLogUploaded(UploadReceipt)
    /// The server sent an exposure notice: a close contact of someone who has since tested positive, last on
    /// `lastEncounter`.
    case exposureNoticeReceived(lastEncounter: Timestamp)
}

/// Learns what a phone does.
public protocol PhoneObserver: Sendable {
    /// Called once per event, on whichever task did the work: it must not block.
    func observe(_ event: PhoneEvent)
}
