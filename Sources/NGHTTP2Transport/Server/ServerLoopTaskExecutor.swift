import NIOCore

/// Runs task jobs on one NIO event loop. RPC tasks prefer the executor of their connection's loop, so a handler's
/// non-isolated code, its inbound reads and its writes all happen on the thread that owns the nghttp2 session:
/// no thread hop per message, and writes reach the session without `execute` round trips.
final class ServerLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }
}
