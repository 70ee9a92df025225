import Hummingbird
import NIOCore

/// Request context that keeps the connection, so a watch can end as soon as its client goes away.
struct KubeRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
