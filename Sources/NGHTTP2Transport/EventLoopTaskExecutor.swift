import NIOCore

/// Runs task jobs on a NIO event loop (NIO has no task executor of its own). RPC tasks, server handlers and client
/// calls alike, prefer their connection's loop, so touching the connection's loop-confined state is a direct call
/// rather than a thread hop, and a continuation resumed by a socket read lands on the same thread.
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: the only stored property is a Sendable event loop; TaskExecutor requires a class here.
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
