import AsyncHTTPClient
import Foundation
import NIOCore

/// One event of a watch stream.
public enum WatchEvent: Sendable, Hashable {
    case added(KubeObject)
    case modified(KubeObject)
    case deleted(KubeObject)
    /// Nothing changed for this watch up to `resourceVersion`: resume from here after a disconnect.
    case bookmark(resourceVersion: String)
    /// The server ended the watch with a `Status`; code 410 means the start version is too old: relist.
    case error(KubeStatus)

    /// The object of ADDED/MODIFIED/DELETED.
    public var object: KubeObject? {
        switch self {
        case .added(let object), .modified(let object), .deleted(let object): return object
        case .bookmark, .error: return nil
        }
    }
}

/// Parameters of a watch request.
public struct WatchOptions: Sendable {
    public var labelSelector: LabelSelector?
    public var fieldSelector: String?
    /// Start after this version; `nil` starts with synthetic ADDED events for every current object.
    public var resourceVersion: String?
    /// The server ends the watch after this many seconds (spec §9.2: 300).
    public var timeoutSeconds: Int
    public var allowBookmarks: Bool

    public init(
        labelSelector: LabelSelector? = nil, fieldSelector: String? = nil, resourceVersion: String? = nil,
        timeoutSeconds: Int = 300, allowBookmarks: Bool = true
    ) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.allowBookmarks = allowBookmarks
    }
}

extension KubeClient {
    /// Opens a watch. Returns once the server accepted it; iterate the result for events. The sequence ends when the
    /// server closes the stream (after `timeoutSeconds`, or after an `ERROR` event) and stops when the iterating task
    /// is cancelled. A 410 answered before the stream starts is thrown as `KubeError.gone`.
    public func watch(_ resource: KubeResource, namespace: String?, options: WatchOptions = WatchOptions())
        async throws -> WatchStream
    {
        var query: [(String, String)] = [("watch", "1")]
        if let selector = options.labelSelector, !selector.isEmpty {
            query.append(("labelSelector", selector.description))
        }
        if let fieldSelector = options.fieldSelector, !fieldSelector.isEmpty {
            query.append(("fieldSelector", fieldSelector))
        }
        if let resourceVersion = options.resourceVersion { query.append(("resourceVersion", resourceVersion)) }
        if options.allowBookmarks { query.append(("allowWatchBookmarks", "true")) }
        query.append(("timeoutSeconds", String(options.timeoutSeconds)))
        let request = try makeRequest(method: .get, path: resource.path(namespace: namespace), query: query,
                                      body: nil, contentType: nil)
        let response: HTTPClientResponse
        do {
            // The deadline covers the response head only; the body streams for as long as the server keeps it open.
            response = try await httpClient.execute(request, timeout: requestTimeout.timeAmount)
        } catch {
            throw Self.transportError(error)
        }
        let code = Int(response.status.code)
        guard (200..<300).contains(code) else {
            let body = (try? await response.body.collect(upTo: 1024 * 1024)) ?? ByteBuffer()
            throw Self.apiError(code: code, body: body)
        }
        return WatchStream(body: response.body, resource: resource)
    }
}

/// The events of one watch request: newline-delimited JSON `{"type": …, "object": …}` decoded as they arrive.
public struct WatchStream: AsyncSequence, Sendable {
    public typealias Element = WatchEvent

    let body: HTTPClientResponse.Body
    let resource: KubeResource

    /// A single event line larger than this ends the stream with an error (the server's object limit is far below).
    static let maxLineBytes = 64 * 1024 * 1024

    public func makeAsyncIterator() -> Iterator {
        Iterator(body: body.makeAsyncIterator(), resource: resource)
    }

    public struct Iterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        let resource: KubeResource
        var buffer: [UInt8] = []
        /// Start of the unconsumed bytes in `buffer`, and where the newline search resumes.
        var lineStart = 0
        var scanFrom = 0
        var finished = false

        public mutating func next() async throws -> WatchEvent? {
            while true {
                if let newline = buffer[scanFrom...].firstIndex(of: 0x0A) {
                    let line = buffer[lineStart..<newline]
                    lineStart = newline + 1
                    scanFrom = lineStart
                    if Self.isBlank(line) { continue }
                    return try decode(line)
                }
                if finished { return nil }
                // Drop consumed bytes before growing the buffer, so a long stream does not accumulate.
                if lineStart > 0 {
                    buffer.removeSubrange(..<lineStart)
                    scanFrom -= lineStart
                    lineStart = 0
                }
                scanFrom = buffer.count
                let chunk: ByteBuffer?
                do {
                    chunk = try await body.next()
                } catch {
                    throw KubeClient.transportError(error)
                }
                guard let chunk else {
                    finished = true
                    // A final line without a newline still counts.
                    let rest = buffer[lineStart...]
                    lineStart = buffer.count
                    scanFrom = buffer.count
                    return Self.isBlank(rest) ? nil : try decode(rest)
                }
                buffer.append(contentsOf: chunk.readableBytesView)
                guard buffer.count <= WatchStream.maxLineBytes else {
                    finished = true
                    throw KubeError.decoding("watch event larger than \(WatchStream.maxLineBytes) bytes")
                }
            }
        }

        private static func isBlank(_ bytes: ArraySlice<UInt8>) -> Bool {
            bytes.allSatisfy { $0 == 0x20 || $0 == 0x0D || $0 == 0x09 || $0 == 0x0A }
        }

        private func decode(_ line: ArraySlice<UInt8>) throws -> WatchEvent {
            let json = try JSONValue(jsonData: line)
            guard let type = json["type"]?.stringValue, let objectJSON = json["object"] else {
                throw KubeError.decoding("watch event without type/object")
            }
            switch type {
            case "ADDED": return .added(try object(objectJSON))
            case "MODIFIED": return .modified(try object(objectJSON))
            case "DELETED": return .deleted(try object(objectJSON))
            case "BOOKMARK":
                return .bookmark(resourceVersion: objectJSON.value(at: "metadata", "resourceVersion")?.stringValue ?? "")
            case "ERROR":
                return .error((try? objectJSON.decode(as: KubeStatus.self)) ?? KubeStatus(message: "watch error"))
            default:
                throw KubeError.decoding("unknown watch event type \(type)")
            }
        }

        private func object(_ json: JSONValue) throws -> KubeObject {
            var object = try KubeObject(json: json)
            if object.apiVersion == nil { object.apiVersion = resource.apiVersion }
            if object.kind == nil { object.kind = resource.kind }
            return object
        }
    }
}
