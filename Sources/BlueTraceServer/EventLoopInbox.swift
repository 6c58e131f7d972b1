import NIOCore
import Synchronization

/// Work bound for one event loop from other threads, handed over together: however many replies one store batch
/// completes for the connections of a loop, the loop is woken once, not once per reply.
final class EventLoopInbox: Sendable {
    /// The loop the work runs on.
    let eventLoop: any EventLoop
    private let pending = Mutex<[@Sendable () -> Void]>([])

    /// Creates the inbox of `eventLoop`.
    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// Runs `work` on the loop: soon, with whatever else arrives before the loop gets to it.
    func post(_ work: @escaping @Sendable () -> Void) {
        let wakeLoop = pending.withLock { pending in
            pending.append(work)
            return pending.count == 1
        }
        if wakeLoop { eventLoop.execute { self.drain() } }
    }

    private func drain() {
        let work = pending.withLock { pending in
            defer { pending.removeAll(keepingCapacity: true) }
            return pending
        }
        for item in work { item() }
    }

    /// One inbox per loop of `group`, looked up by loop.
    struct Directory: Sendable {
        private let inboxes: [ObjectIdentifier: EventLoopInbox]

        /// Makes an inbox for every loop of `group`.
        init(_ group: any EventLoopGroup) {
            var inboxes: [ObjectIdentifier: EventLoopInbox] = [:]
            for loop in group.makeIterator() { inboxes[ObjectIdentifier(loop)] = EventLoopInbox(eventLoop: loop) }
            self.inboxes = inboxes
        }

        /// The inbox of `eventLoop`; a new one for a loop not in the group.
        func inbox(for eventLoop: any EventLoop) -> EventLoopInbox {
            inboxes[ObjectIdentifier(eventLoop)] ?? EventLoopInbox(eventLoop: eventLoop)
        }
    }
}
