import Foundation

/// Certificates made by the test with the `openssl` CLI in a temporary directory (EC P-256, valid two days):
/// a CA, a server certificate (SAN DNS:localhost, IP:127.0.0.1), a second server certificate from the same CA for
/// reload tests, a client certificate, and an unrelated CA for the wrong-trust-root case.
struct CertFixture: Sendable {
    let directory: String
    var caCert: String { directory + "/ca.pem" }
    var otherCACert: String { directory + "/other-ca.pem" }
    var serverCert: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var server2Cert: String { directory + "/server2.pem" }
    var server2Key: String { directory + "/server2.key" }
    var clientCert: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }

    static let serverSubject = "CN=localhost,O=OaaS Server One"
    static let server2Subject = "CN=localhost,O=OaaS Second Server (reloaded)"
    static let clientSubject = "CN=oaas-client"
    static let serverSerial = "1001"
    static let server2Serial = "2002"

    private static let made: Result<CertFixture, CertFixtureError> = {
        do { return .success(try make()) } catch let error as CertFixtureError {
            return .failure(error)
        } catch {
            return .failure(CertFixtureError(message: "\(error)"))
        }
    }()

    /// Created once per test process and shared (read-only: tests that modify files copy them first).
    static func shared() throws -> CertFixture { try made.get() }

    private static func make() throws -> CertFixture {
        let dir = NSTemporaryDirectory() + "oaas-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try openssl(["req", "-x509"] + ec + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                     "-subj", "/CN=OaaS Test CA"], in: dir)
        try openssl(["req", "-x509"] + ec + ["-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2",
                     "-subj", "/CN=Some Other CA"], in: dir)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: dir + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: dir + "/client.ext", atomically: true, encoding: .utf8)
        let leaves: [(String, String, String, String)] = [
            ("server", "/O=OaaS Server One/CN=localhost", "0x1001", "server.ext"),
            ("server2", "/O=OaaS Second Server (reloaded)/CN=localhost", "0x2002", "server.ext"),
            ("client", "/CN=oaas-client", "0x3003", "client.ext"),
        ]
        for (name, subject, serial, ext) in leaves {
            try openssl(["req", "-new"] + ec + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject],
                        in: dir)
            try openssl(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                         "-set_serial", serial, "-days", "2", "-extfile", ext, "-out", "\(name).pem"], in: dir)
        }
        return CertFixture(directory: dir)
    }

    /// A private copy of the server certificate and key, for tests that overwrite them.
    func copyOfServerFiles() throws -> (cert: String, key: String) {
        let dir = directory + "/copy-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: serverCert, toPath: dir + "/tls.crt")
        try FileManager.default.copyItem(atPath: serverKey, toPath: dir + "/tls.key")
        return (dir + "/tls.crt", dir + "/tls.key")
    }
}

struct CertFixtureError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

/// Runs `openssl args...` in `directory` and throws with its stderr when it fails.
@discardableResult
func openssl(_ arguments: [String], in directory: String) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let output = out.fileHandleForReading.readDataToEndOfFile()
    let errors = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CertFixtureError(
            message: "openssl \(arguments.joined(separator: " ")) failed: \(String(decoding: errors, as: UTF8.self))")
    }
    return String(decoding: output, as: UTF8.self)
}
