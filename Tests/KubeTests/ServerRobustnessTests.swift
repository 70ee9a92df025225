import AsyncHTTPClient
import Foundation
import Kube
import KubeTestServer
import NIOCore
import Testing

/// Raw HTTP against the test server: hostile or malformed requests get a `Status`, never a crash.
@Suite("Test server: malformed requests")
struct ServerRobustnessTests {
    private func send(
        _ http: HTTPClient, _ server: KubeTestServer, _ method: String, _ path: String, body: String? = nil,
        contentType: String = "application/json"
    ) async throws -> (code: Int, body: TestJSON?) {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = .init(rawValue: method)
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await http.execute(request, timeout: .seconds(5))
        let bytes = try await response.body.collect(upTo: 16 * 1024 * 1024)
        return (Int(response.status.code), TestJSON.parse(json: Array(bytes.readableBytesView)))
    }

    @Test func hostileBodiesAndPaths() async throws {
        var configuration = quietServer()
        configuration.maxRequestBytes = 1024 * 1024
        try await KubeTestServer.withRunning(configuration) { server in
            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            do {
                let pods = "/api/v1/namespaces/t/pods"
                let deep = String(repeating: "[", count: 200_000)
                #expect(try await send(http, server, "POST", pods, body: deep).code == 400)
                let deepYAML = (0..<3000).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
                #expect(try await send(http, server, "PATCH", pods + "/p?fieldManager=m", body: deepYAML,
                                       contentType: "application/apply-patch+yaml").code == 413)
                let shallowDeep = (0..<300).map { String(repeating: " ", count: $0) + "k:" }.joined(separator: "\n")
                #expect(try await send(http, server, "PATCH", pods + "/p?fieldManager=m", body: shallowDeep,
                                       contentType: "application/apply-patch+yaml").code == 400)
                let laughs = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\na: &a [x, x]\nb: [*a, *a]\n"
                #expect(try await send(http, server, "PATCH", pods + "/p?fieldManager=m", body: laughs,
                                       contentType: "application/apply-patch+yaml").code == 400)
                #expect(try await send(http, server, "POST", pods, body: "apiVersion: v1\nkind: Pod",
                                       contentType: "application/json").code == 400)
                #expect(try await send(http, server, "POST", pods, body: "[1]").code == 400)
                #expect(try await send(http, server, "POST", pods, body: #"{"metadata":{"labels":{"a":1}}}"#).code == 400)
                #expect(try await send(http, server, "POST", pods, body: #"{"metadata":[]}"#).code == 400)
                #expect(try await send(http, server, "POST", pods,
                                       body: #"{"metadata":{"name":"p","resourceVersion":"5"}}"#).code == 400)
                #expect(try await send(http, server, "POST", pods, body: #"{"kind":"Service","metadata":{"name":"p"}}"#)
                    .code == 400)
                #expect(try await send(http, server, "PATCH", pods + "/p", body: "{}", contentType: "text/plain").code == 415)
                #expect(try await send(http, server, "PATCH", pods + "/p?fieldManager=m&force=true", body: "{}",
                                       contentType: "application/merge-patch+json").code == 422)
                #expect(try await send(http, server, "PATCH", pods + "/p", body: "{}",
                                       contentType: "application/apply-patch+yaml").code == 400)
                #expect(try await send(http, server, "GET", pods + "?labelSelector=a%20in%20(b").code == 400)
                #expect(try await send(http, server, "GET", pods + "?labelSelector=a%3E1").code == 400)
                #expect(try await send(http, server, "GET", pods + "?fieldSelector=status.phase%3DRunning").code == 400)
                #expect(try await send(http, server, "GET", pods + "?watch=1&resourceVersion=abc").code == 400)
                #expect(try await send(http, server, "GET", pods + "?resourceVersion=99999999").code == 504)
                #expect(try await send(http, server, "GET", pods + "?continue=bogus").code == 400)
                #expect(try await send(http, server, "GET", pods + "/p/exec").code == 404)
                #expect(try await send(http, server, "GET", "/api/v1/namespaces/t/configmaps/c/status").code == 404)
                #expect(try await send(http, server, "GET", "/apis/apps").code == 404)
                #expect(try await send(http, server, "GET", "/%%%/x").code == 404)
                #expect(try await send(http, server, "PUT", pods).code == 405)
                #expect(try await send(http, server, "POST", pods, body: String(repeating: "x", count: 2 * 1024 * 1024))
                    .code == 413)
                let missing = try await send(http, server, "GET", pods + "/nothing")
                #expect(missing.code == 404)
                #expect(missing.body?["kind"] == "Status" && missing.body?["reason"] == "NotFound")

                // Still serving.
                #expect(try await send(http, server, "GET", "/healthz").code == 200)
                #expect(try await send(http, server, "POST", pods, body: #"{"metadata":{"name":"ok"}}"#).code == 201)
                try await http.shutdown()
            } catch {
                try? await http.shutdown()
                throw error
            }
        }
    }

    @Test func watchStreamIsNewlineDelimitedJSON() async throws {
        try await KubeTestServer.withRunning(quietServer()) { server in
            let http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
            do {
                let start = server.resourceVersion
                server.compactHistory()
                _ = try await send(http, server, "POST", "/api/v1/namespaces/t/configmaps",
                                   body: #"{"metadata":{"name":"c"}}"#)
                // A version from before the compaction: one ERROR event with a 410 Status, then the end.
                let gone = try await send(http, server, "GET",
                                          "/api/v1/namespaces/t/configmaps?watch=true&resourceVersion=\(start - 1)")
                #expect(gone.code == 200)
                #expect(gone.body?["type"] == "ERROR")
                #expect(gone.body?.value(at: "object", "code") == 410)
                #expect(gone.body?.value(at: "object", "reason") == "Expired")

                let request = HTTPClientRequest(
                    url: server.url + "/api/v1/namespaces/t/configmaps?watch=1&timeoutSeconds=1")
                let response = try await http.execute(request, timeout: .seconds(5))
                let text = String(buffer: try await response.body.collect(upTo: 1024 * 1024))
                let lines = text.split(separator: "\n")
                #expect(lines.count == 1)
                #expect(TestJSON.parse(json: Array(lines[0].utf8))?["type"] == "ADDED")
                try await http.shutdown()
            } catch {
                try? await http.shutdown()
                throw error
            }
        }
    }
}
