import Hummingbird
import NIOCore

extension KubeResponder {
    /// A chunked stream of newline-delimited `{"type","object"}` events. It ends after `timeoutSeconds`, on a 410
    /// Gone `ERROR` event, when the client disconnects, or when the server shuts down; with
    /// `allowWatchBookmarks=true` it carries a BOOKMARK every `bookmarkInterval`.
    func watch(
        info: ResourceInfo, namespace: String?, labels: LabelSelectorExpression, fields: FieldSelectorExpression,
        query: [String: String], context: KubeRequestContext
    ) throws -> Response {
        var timeout = configuration.defaultWatchTimeout
        if let text = query["timeoutSeconds"], !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                throw APIError.badRequest("invalid timeoutSeconds \"\(text)\"")
            }
            timeout = seconds == 0 ? configuration.defaultWatchTimeout : .seconds(seconds)
        }
        let duration = min(timeout, configuration.maxWatchTimeout)
        let bookmarks = query["allowWatchBookmarks"] == "true" || query["allowWatchBookmarks"] == "1"
        let registration = try store.withState { state throws(APIError) in
            try state.openWatch(info, namespace: namespace, labels: labels, fields: fields,
                                resourceVersion: query["resourceVersion"])
        }
        let continuation = registration.continuation
        context.channel.closeFuture.whenComplete { _ in continuation.yield(.end) }
        let store = self.store
        let interval = configuration.bookmarkInterval
        let body = ResponseBody { writer in
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    try? await Task.sleep(for: duration)
                    continuation.yield(.end)
                }
                if bookmarks, let id = registration.id {
                    group.addTask {
                        while true {
                            do { try await Task.sleep(for: interval) } catch { return }
                            store.withState { $0.bookmark(id) }
                        }
                    }
                }
                for await item in registration.stream {
                    guard case .event(let event) = item else { break }
                    var bytes = Array(event.jsonData())
                    bytes.append(0x0A)
                    do {
                        try await writer.write(ByteBuffer(bytes: bytes))
                    } catch {
                        break
                    }
                }
                group.cancelAll()
            }
            if let id = registration.id {
                store.withState { _ = $0.watchers.removeValue(forKey: id) }
            }
            continuation.finish()
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
    }
}
