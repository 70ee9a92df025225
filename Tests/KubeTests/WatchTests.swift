import Foundation
import Kube
import KubeTestServer
import Synchronization
import Testing

@Suite("Watch, bookmarks, 410 Gone and listAndWatch")
struct WatchTests {
    private func summary(_ event: WatchEvent) -> String {
        switch event {
        case .added(let object): return "ADDED \(object.name)"
        case .modified(let object): return "MODIFIED \(object.name)"
        case .deleted(let object): return "DELETED \(object.name)"
        case .bookmark: return "BOOKMARK"
        case .error(let status): return "ERROR \(status.code ?? 0)"
        }
    }

    private func summary(_ event: InformerEvent) -> String {
        switch event {
        case .added(let object): return "added \(object.name)"
        case .modified(let object): return "modified \(object.name)"
        case .deleted(let object): return "deleted \(object.name)"
        case .synced: return "synced"
        }
    }

    private static func bookmarkVersion(_ event: WatchEvent) -> Int64? {
        if case .bookmark(let version) = event { return Int64(version) }
        return nil
    }

    @Test func eventsFromAResourceVersion() async throws {
        try await withKube { _, client in
            try await client.create(.configMaps, configMap("before"))
            let list = try await client.list(.configMaps, namespace: "test")
            let stream = try await client.watch(.configMaps, namespace: "test",
                                                options: WatchOptions(resourceVersion: list.resourceVersion))
            var object = try await client.create(.configMaps, configMap("b"))
            object["data"] = ["k": "v"]
            let modified = try await client.replace(.configMaps, object)
            try await client.delete(.configMaps, namespace: "test", name: "b")
            let events = try await collect(stream) { $0.count == 3 }
            #expect(events.map(summary) == ["ADDED b", "MODIFIED b", "DELETED b"])
            #expect(events[1].object?.resourceVersion == modified.resourceVersion)
            #expect(events[2].object?.value(at: "data", "k") == "v")
            // Versions only grow.
            let versions = events.compactMap { $0.object?.resourceVersion }.compactMap { Int64($0) }
            #expect(versions == versions.sorted() && Set(versions).count == 3)
        }
    }

    @Test func watchWithoutVersionStartsWithCurrentObjects() async throws {
        try await withKube { _, client in
            try await client.create(.configMaps, configMap("one"))
            try await client.create(.configMaps, configMap("two"))
            let stream = try await client.watch(.configMaps, namespace: "test", options: WatchOptions())
            try await client.create(.configMaps, configMap("three"))
            let events = try await collect(stream) { $0.count == 3 }
            #expect(events.map(summary) == ["ADDED one", "ADDED two", "ADDED three"])
        }
    }

    @Test func labelSelectorTransitions() async throws {
        try await withKube { _, client in
            let start = try await client.list(.configMaps, namespace: "test").resourceVersion
            let stream = try await client.watch(.configMaps, namespace: "test", options: WatchOptions(
                labelSelector: ["app": "x"], resourceVersion: start))
            try await client.create(.configMaps, configMap("other", labels: ["app": "y"]))
            var object = try await client.create(.configMaps, configMap("moving", labels: ["app": "y"]))
            object.labels = ["app": "x"]
            object = try await client.replace(.configMaps, object)
            object.labels = ["app": "y"]
            try await client.replace(.configMaps, object)
            let events = try await collect(stream) { $0.count == 2 }
            #expect(events.map(summary) == ["ADDED moving", "DELETED moving"])
        }
    }

    @Test func bookmarksOnlyWhenAllowed() async throws {
        try await withKube(quietServer(bookmarkInterval: .milliseconds(100))) { _, client in
            let start = try await client.list(.configMaps, namespace: "test").resourceVersion
            let withBookmarks = try await client.watch(.configMaps, namespace: "test",
                                                       options: WatchOptions(resourceVersion: start))
            try await client.create(.pods, KubeObject.make(.pods, "unrelated"))
            let startVersion = Int64(start) ?? 0
            // Bookmarks come periodically; one soon carries the revision the unrelated write produced.
            let events = try await collect(withBookmarks) { events in
                events.contains { (Self.bookmarkVersion($0) ?? 0) > startVersion }
            }
            #expect(events.allSatisfy { Self.bookmarkVersion($0) != nil })
            let version = String(events.compactMap(Self.bookmarkVersion).max() ?? 0)

            let without = try await client.watch(.configMaps, namespace: "test", options: WatchOptions(
                resourceVersion: version, allowBookmarks: false))
            try await Task.sleep(for: .milliseconds(350))
            try await client.create(.configMaps, configMap("late"))
            let plain = try await collect(without) { $0.count == 1 }
            #expect(plain.map(summary) == ["ADDED late"])
        }
    }

    @Test func timeoutSecondsEndsTheStream() async throws {
        try await withKube { server, client in
            let stream = try await client.watch(.configMaps, namespace: "test", options: WatchOptions(
                timeoutSeconds: 1, allowBookmarks: false))
            let started = ContinuousClock.now
            let events = try await collect(stream, limit: .seconds(30)) { _ in false }
            #expect(events.isEmpty)
            #expect(ContinuousClock.now - started < .seconds(20))  // ended by the server, not by the 30 s limit
            try await eventually(.seconds(2), "watch deregistered") { server.openWatchCount == 0 }
        }
    }

    @Test func compactedVersionIsGone() async throws {
        try await withKube(quietServer(eventWindow: 3)) { _, client in
            let start = try await client.list(.configMaps, namespace: "test").resourceVersion
            for index in 0..<5 { try await client.create(.configMaps, configMap("c\(index)")) }
            let stream = try await client.watch(.configMaps, namespace: "test",
                                                options: WatchOptions(resourceVersion: start))
            let events = try await collect(stream) { _ in false }
            #expect(events.map(summary) == ["ERROR 410"])
            if case .error(let status) = events.first { #expect(status.reason == "Expired") }

            // Within the window the history replays.
            let recent = try await client.list(.configMaps, namespace: "test").resourceVersion
            let before = String((Int64(recent) ?? 0) - 2)
            let replay = try await client.watch(.configMaps, namespace: "test",
                                                options: WatchOptions(resourceVersion: before))
            #expect(try await collect(replay) { $0.count == 2 }.map(summary) == ["ADDED c3", "ADDED c4"])
        }
    }

    @Test func listAndWatchRelistsAfterGone() async throws {
        try await withKube { server, client in
            try await client.create(.configMaps, configMap("a"))
            try await client.create(.configMaps, configMap("keep"))
            let informer = client.listAndWatch(.configMaps, namespace: "test", options: InformerOptions(
                initialBackoff: .milliseconds(50), maxBackoff: .milliseconds(100)))
            let observed = try await within(.seconds(10), "relist") { () -> [String] in
                var seen: [String] = []
                var syncs = 0
                for try await event in informer {
                    seen.append(summary(event))
                    if case .synced = event { syncs += 1 }
                    if syncs == 1, seen.last == "synced" {
                        // The informer pulls, so while this body runs it is disconnected: end its watch, change
                        // the world and compact the history it would need to catch up.
                        server.closeWatches()
                        try await client.delete(.configMaps, namespace: "test", name: "a")
                        var kept = try await client.get(.configMaps, namespace: "test", name: "keep")
                        kept["data"] = ["v": "2"]
                        try await client.replace(.configMaps, kept)
                        try await client.create(.configMaps, configMap("c"))
                        server.compactHistory()
                    }
                    if syncs == 2 { break }
                }
                return seen
            }
            #expect(observed == ["added a", "added keep", "synced", "added c", "modified keep", "deleted a", "synced"])
            #expect(server.recordedRequests().filter {
                $0.method == "GET" && $0.path.hasSuffix("/configmaps") && $0.query["watch"] == nil
            }.count == 2)
        }
    }

    @Test func listAndWatchResumesFromBookmarks() async throws {
        try await withKube(quietServer(bookmarkInterval: .milliseconds(50))) { server, client in
            try await client.create(.configMaps, configMap("a"))
            let informer = client.listAndWatch(.configMaps, namespace: "test")
            let observed = try await within(.seconds(10), "resume") { () -> [String] in
                var seen: [String] = []
                for try await event in informer {
                    seen.append(summary(event))
                    if seen.last == "synced" {
                        // Unrelated writes move the revision; bookmarks carry the informer along, so after a
                        // compaction and a reconnect it resumes without a relist.
                        for index in 0..<3 { try await client.create(.pods, KubeObject.make(.pods, "p\(index)")) }
                        let target = server.resourceVersion
                        try await Task.sleep(for: .milliseconds(300))
                        server.compactHistory()
                        #expect(server.resourceVersion == target)
                        server.closeWatches()
                        try await client.create(.configMaps, configMap("b"))
                    }
                    if seen.last == "added b" { break }
                }
                return seen
            }
            #expect(observed == ["added a", "synced", "added b"])
            let lists = server.recordedRequests().filter {
                $0.method == "GET" && $0.path.hasSuffix("/configmaps") && $0.query["watch"] == nil
            }
            #expect(lists.count == 1, "\(server.recordedRequests().map { "\($0.method) \($0.path) \($0.query)" })")
        }
    }

    @Test func informerStopsWhenCancelled() async throws {
        try await withKube { _, client in
            let informer = client.listAndWatch(.configMaps, namespace: "test")
            let received = Mutex(0)
            let task = Task {
                for try await _ in informer { received.withLock { $0 += 1 } }
            }
            try await eventually(.seconds(5), "synced") { received.withLock { $0 } == 1 }
            // Now blocked in the watch: cancellation must end the sequence, not hang it.
            task.cancel()
            try await within(.seconds(5), "informer end") { try await task.value }
            #expect(received.withLock { $0 } == 1)
        }
    }
}
