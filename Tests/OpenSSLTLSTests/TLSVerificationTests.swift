import NIOCore
import NIOPosix
import OpenSSLTLS
import Testing

@Suite struct TLSVerificationTests {
    let certs: CertFixture
    init() throws { certs = try CertFixture.shared() }

    func server(clientCertificate: TLSConfiguration.ClientCertificateMode = .none) async throws -> TLSEchoServer {
        try await TLSEchoServer.start(TLSContext(configuration: .server(
            certificateChainFile: certs.serverCert, privateKeyFile: certs.serverKey,
            trustRootsFile: clientCertificate == .none ? nil : certs.caCert, clientCertificate: clientCertificate)))
    }

    @Test func wrongTrustRootFailsWithAClearError() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let tls = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.otherCACert))
        let client = try await TLSTestClient.connect(port: server.port, tls)
        let error = try #require(await awaitHandshake(client.events).failure as? TLSError)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.message.contains("unable to get local issuer certificate"))
        // The server learns why from the alert.
        var connections = server.connections.makeAsyncIterator()
        let serverSide = try #require(await connections.next())
        let serverError = try #require(await awaitClose(serverSide) as? TLSError)
        #expect(serverError.message.contains("unknown ca"))
    }

    @Test func wrongHostnameFails() async throws {
        let server = try await server()
        defer { Task { await server.stop() } }
        let tls = try TLSContext(configuration: .client(trustRootsFile: certs.caCert))
        let wrongName = try await TLSTestClient.connect(port: server.port, tls, serverName: "db.example.com")
        let error = try #require(await awaitHandshake(wrongName.events).failure as? TLSError)
        #expect(error.kind == .certificateVerificationFailed)
        #expect(error.message.contains("hostname mismatch"))

        let wrongIP = try await TLSTestClient.connect(port: server.port, tls, serverName: "127.0.0.2")
        let ipError = try #require(await awaitHandshake(wrongIP.events).failure as? TLSError)
        #expect(ipError.message.contains("IP address mismatch"))

        // The names the certificate does carry verify.
        let byIP = try await TLSTestClient.connect(port: server.port, tls, serverName: "127.0.0.1")
        #expect(try await awaitHandshake(byIP.events).get().peerCertificateSubject == CertFixture.serverSubject)
        let byName = try await TLSTestClient.connect(port: server.port, tls, serverName: "localhost")
        #expect(try await awaitHandshake(byName.events).get().negotiatedProtocol == "h2")
        // chainOnly skips the name but still checks the chain.
        let chainOnly = try TLSContext(configuration: .client(
            serverName: "db.example.com", trustRootsFile: certs.caCert, serverVerification: .chainOnly))
        let skipName = try await TLSTestClient.connect(port: server.port, chainOnly)
        #expect(try await awaitHandshake(skipName.events).get().negotiatedProtocol == "h2")
        try await byIP.channel.close()
        try await byName.channel.close()
        try await skipName.channel.close()
    }

    @Test func mutualTLSRejectsAClientWithoutCertificate() async throws {
        let server = try await server(clientCertificate: .require)
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        let tls = try TLSContext(configuration: .client(serverName: "localhost", trustRootsFile: certs.caCert))
        let client = try await TLSTestClient.connect(port: server.port, tls)
        // With TLS 1.3 the client may finish its side first; either way it never gets an echo and learns of the alert.
        try? await client.send(Array("should not echo".utf8))
        var clientError: (any Error)?
        var echoed = false
        for await event in client.events {
            if case .error(let error) = event, clientError == nil { clientError = error }
            if case .data = event { echoed = true }
            if case .closed = event { break }
        }
        #expect(!echoed)
        #expect("\(clientError.map { "\($0)" } ?? "")".contains("certificate required"))

        let serverSide = try #require(await connections.next())
        let serverError = try #require(await awaitClose(serverSide) as? TLSError)
        #expect(serverError.kind == .certificateVerificationFailed)
        #expect(serverError.message.contains("did not"))
    }

    @Test func mutualTLSAcceptsAClientSignedByTheCA() async throws {
        let server = try await server(clientCertificate: .require)
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        let tls = try TLSContext(configuration: .client(
            serverName: "localhost", trustRootsFile: certs.caCert,
            certificateChainFile: certs.clientCert, privateKeyFile: certs.clientKey))
        let client = try await TLSTestClient.connect(port: server.port, tls)
        _ = try await awaitHandshake(client.events).get()
        let message = Array("mutual".utf8)
        try await client.send(message)
        #expect(await readBytes(client.events, count: message.count) == message)
        let serverSide = try #require(await connections.next())
        let serverDone = try await awaitHandshake(serverSide).get()
        #expect(serverDone.peerCertificateSubject == CertFixture.clientSubject)
        #expect(serverDone.peerCertificateSerial == "3003")
        try await client.channel.close()
    }

    @Test func mutualTLSRejectsAClientFromAnotherCA() async throws {
        let server = try await server(clientCertificate: .optional)
        defer { Task { await server.stop() } }
        var connections = server.connections.makeAsyncIterator()
        // Optional: no certificate is fine...
        let anonymous = try await TLSTestClient.connect(port: server.port, TLSContext(configuration: .client(
            serverName: "localhost", trustRootsFile: certs.caCert)))
        _ = try await awaitHandshake(anonymous.events).get()
        let message = Array("anon".utf8)
        try await anonymous.send(message)
        #expect(await readBytes(anonymous.events, count: message.count) == message)
        let anonymousSide = try #require(await connections.next())
        #expect(try await awaitHandshake(anonymousSide).get().peerCertificateSubject == nil)

        // ...but one the server cannot verify is not: the server's own certificate is not a client CA's child.
        let wrong = try await TLSTestClient.connect(port: server.port, TLSContext(configuration: .client(
            serverName: "localhost", trustRootsFile: certs.caCert,
            certificateChainFile: certs.otherCACert, privateKeyFile: certs.directory + "/other-ca.key")))
        try? await wrong.send(Array("x".utf8))
        _ = await awaitClose(wrong.events)
        let serverSide = try #require(await connections.next())
        let serverError = try #require(await awaitClose(serverSide) as? TLSError)
        #expect(serverError.kind == .certificateVerificationFailed)
        try await anonymous.channel.close()
    }
}
