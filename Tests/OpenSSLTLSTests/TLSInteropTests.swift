import Foundation
import NIOCore
import OpenSSLTLS
import Testing

/// Our handler against the `openssl` CLI: s_server as the server for our client, s_client as the client for ours.
@Suite struct TLSInteropTests {
    let certs: CertFixture
    init() throws { certs = try CertFixture.shared() }

    @Test func ourClientAgainstOpenSSLServer() async throws {
        let server = try OpenSSLProcess(
            ["s_server", "-accept", "0", "-cert", certs.serverCert, "-key", certs.serverKey, "-alpn", "h2", "-rev",
             "-naccept", "1"], in: certs.directory)
        defer { server.stop() }
        let line = try #require(server.readStdout(until: { $0.contains("ACCEPT") && $0.hasSuffix("\n") }))
        let port = try #require(line.split(separator: ":").last.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) })

        let tls = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.caCert))
        let client = try await TLSTestClient.connect(port: port, tls)
        let done = try await awaitHandshake(client.events).get()
        #expect(done.negotiatedProtocol == "h2")
        #expect(done.peerCertificateSubject == CertFixture.serverSubject)

        try await client.send(Array("hello openssl\n".utf8))
        let reply = await readBytes(client.events, count: "lssnepo olleh\n".utf8.count)
        #expect(String(decoding: reply, as: UTF8.self) == "lssnepo olleh\n")
        try await client.channel.close()
    }

    @Test func openSSLClientAgainstOurServer() async throws {
        let server = try await TLSEchoServer.start(TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey)))
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()

        let client = try OpenSSLProcess(
            ["s_client", "-connect", "127.0.0.1:\(server.port)", "-alpn", "h2", "-CAfile", certs.caCert,
             "-servername", "localhost", "-verify_return_error"], in: certs.directory)
        defer { client.stop() }
        client.writeStdin("ping from s_client\n")
        let output = client.readStdout(until: { $0.contains("\nping from s_client") }) ?? ""
        client.closeStdin()
        #expect(output.contains("ALPN protocol: h2"))
        #expect(output.contains("Verify return code: 0 (ok)"))
        #expect(output.contains("\nping from s_client"))
        #expect(client.wait() == 0)

        let serverSide = try #require(await connections.next())
        #expect(try await awaitHandshake(serverSide).get().negotiatedProtocol == "h2")
    }

    @Test func openSSLClientWithCertificateAgainstOurMutualTLSServer() async throws {
        let server = try await TLSEchoServer.start(TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey, trustRootsFile: certs.caCert,
            clientCertificate: .require)))
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        let client = try OpenSSLProcess(
            ["s_client", "-connect", "127.0.0.1:\(server.port)", "-alpn", "h2", "-CAfile", certs.caCert,
             "-cert", certs.clientCert, "-key", certs.clientKey, "-verify_return_error"], in: certs.directory)
        defer { client.stop() }
        client.writeStdin("mutual\n")
        let output = client.readStdout(until: { $0.contains("\nmutual") }) ?? ""
        client.closeStdin()
        #expect(output.contains("\nmutual"))
        _ = client.wait()
        let serverSide = try #require(await connections.next())
        let done = try await awaitHandshake(serverSide).get()
        #expect(done.peerCertificateSubject == CertFixture.clientSubject)
    }

    @Test func renegotiationIsRefusedWithoutHarm() async throws {
        let server = try await TLSEchoServer.start(TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey)))
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        // TLS 1.2 s_client renegotiates when it reads a line "R".
        let client = try OpenSSLProcess(
            ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2", "-alpn", "h2", "-CAfile", certs.caCert,
             "-servername", "localhost"], in: certs.directory)
        defer { client.stop() }
        _ = client.readStdout(until: { $0.contains("Verify return code") && $0.contains("---\n") })
        client.writeStdin("R\n")
        client.writeStdin("after\n")
        // Our server answers the renegotiating ClientHello with a no_renegotiation alert; s_client gives up.
        _ = client.readStdout(until: { $0.contains("\nafter") || $0.contains("no renegotiation") })
        #expect(client.everything.contains("RENEGOTIATING"))
        #expect(client.everything.contains("no renegotiation"))
        client.closeStdin()
        _ = client.wait()
        let serverSide = try #require(await connections.next())
        #expect(try await awaitHandshake(serverSide).get().protocolVersion == "TLSv1.2")
        _ = await awaitClose(serverSide)

        // The listener is fine afterwards.
        let tls = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.caCert))
        let next = try await TLSTestClient.connect(port: server.port, tls)
        #expect(try await awaitHandshake(next.events).get().negotiatedProtocol == "h2")
        try await next.channel.close()
    }
}

/// An `openssl` subprocess with piped stdio. Blocking reads are fine here: they are short and bounded by the
/// child's own output (and `stop()` kills the child if a test gives up).
final class OpenSSLProcess: @unchecked Sendable {
    private let process = Process()
    private let stdin = Pipe()
    private let stdout = Pipe()
    private var collected = ""

    init(_ arguments: [String], in directory: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
    }

    /// Reads output until `done(all output so far)` holds or the child closes stdout; returns everything read.
    func readStdout(until done: (String) -> Bool) -> String? {
        let deadline = Date().addingTimeInterval(15)
        while !done(collected) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty || Date() > deadline { return done(collected) ? collected : nil }
            collected += String(decoding: chunk, as: UTF8.self)
        }
        return collected
    }

    var everything: String { collected }

    func writeStdin(_ text: String) {
        try? stdin.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    func closeStdin() {
        try? stdin.fileHandleForWriting.close()
    }

    func wait() -> Int32 {
        process.waitUntilExit()
        return process.terminationStatus
    }

    func stop() {
        if process.isRunning { process.terminate() }
    }
}
