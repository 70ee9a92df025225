import Foundation
import Yams

extension KubeConfig {
    /// Reads a kubeconfig file; `context` defaults to its `current-context`. Relative file references
    /// (`certificate-authority`, `client-certificate`, `client-key`, `tokenFile`) resolve against the file's directory,
    /// as kubectl does.
    public static func kubeconfig(path: String, context: String? = nil) throws -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KubeError.configuration("cannot read kubeconfig \(path)")
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return try kubeconfig(yaml: String(decoding: data, as: UTF8.self), baseDirectory: directory, context: context,
                              source: path)
    }

    /// Parses kubeconfig text (YAML or JSON).
    public static func kubeconfig(
        yaml: String, baseDirectory: String, context contextName: String? = nil, source: String = "kubeconfig"
    ) throws -> KubeConfig {
        guard yaml.utf8.count <= 4 * 1024 * 1024, Self.isPlainYAML(yaml) else {
            throw KubeError.configuration("\(source): too large, too deeply nested, or uses YAML anchors")
        }
        let file: KubeconfigFile
        do {
            file = try YAMLDecoder().decode(KubeconfigFile.self, from: yaml)
        } catch {
            throw KubeError.configuration("\(source): not a kubeconfig: \(error)")
        }
        guard let name = contextName ?? file.currentContext, !name.isEmpty else {
            throw KubeError.configuration("\(source): no current-context")
        }
        guard let context = file.contexts?.first(where: { $0.name == name })?.context else {
            throw KubeError.configuration("\(source): context \(name) not found")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw KubeError.configuration("\(source): cluster \(context.cluster) of context \(name) not found")
        }
        guard let server = cluster.server, !server.isEmpty else {
            throw KubeError.configuration("\(source): cluster \(context.cluster) has no server")
        }
        var user = KubeconfigFile.User()
        if let userName = context.user, !userName.isEmpty {
            guard let found = file.users?.first(where: { $0.name == userName })?.user else {
                throw KubeError.configuration("\(source): user \(userName) of context \(name) not found")
            }
            user = found
        }
        if user.exec != nil || user.authProvider != nil {
            throw KubeError.configuration("\(source): user \(context.user ?? "") uses exec/auth-provider plugins, "
                + "which are not supported; use a token, token file or client certificate")
        }

        func resolve(_ file: String) -> String {
            file.hasPrefix("/") ? file : baseDirectory + "/" + file
        }
        func material(data: String?, file: String?, what: String) throws -> [UInt8]? {
            if let data, !data.isEmpty {
                guard let decoded = Data(base64Encoded: data, options: .ignoreUnknownCharacters) else {
                    throw KubeError.configuration("\(source): \(what) data is not base64")
                }
                return Array(decoded)
            }
            if let file, !file.isEmpty { return try readFile(resolve(file), what: what) }
            return nil
        }

        let credentials: Credentials
        if let token = user.token, !token.isEmpty {
            credentials = .bearerToken(token)
        } else if let tokenFile = user.tokenFile, !tokenFile.isEmpty {
            credentials = .tokenFile(TokenFile(path: resolve(tokenFile)))
        } else if let username = user.username, let password = user.password {
            credentials = .basic(username: username, password: password)
        } else {
            credentials = .none
        }
        let certificate = try material(data: user.clientCertificateData, file: user.clientCertificate,
                                       what: "client certificate")
        let key = try material(data: user.clientKeyData, file: user.clientKey, what: "client key")
        guard (certificate == nil) == (key == nil) else {
            throw KubeError.configuration("\(source): a client certificate needs a client key and vice versa")
        }
        return KubeConfig(
            server: server,
            namespace: context.namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            credentials: credentials,
            certificateAuthorityPEM: try material(data: cluster.certificateAuthorityData,
                                                  file: cluster.certificateAuthority, what: "certificate authority"),
            clientCertificatePEM: certificate,
            clientKeyPEM: key,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            source: source
        )
    }
}

extension KubeConfig {
    /// The YAML parser recurses per nesting level and expands aliases: a hostile or corrupt file must not take the
    /// process down, so refuse deep nesting and anchors/aliases (kubeconfigs use neither).
    static func isPlainYAML(_ text: String) -> Bool {
        var flowDepth = 0
        var indent = 0
        var atLineStart = true
        var previous: Character = "\n"
        for character in text {
            switch character {
            case "\n":
                atLineStart = true
                indent = 0
            case " " where atLineStart:
                indent += 1
                if indent > 256 { return false }
            case "[", "{":
                flowDepth += 1
                if flowDepth > 64 { return false }
            case "]", "}":
                flowDepth -= 1
            case "&", "*":
                if " \n\t[{,".contains(previous) { return false }
            default:
                break
            }
            if character != " " && character != "\n" { atLineStart = false }
            previous = character
        }
        return true
    }
}

/// The parts of the kubeconfig format we read (clientcmd `Config`, v1).
struct KubeconfigFile: Decodable {
    struct Cluster: Decodable {
        var server: String?
        var certificateAuthority: String?
        var certificateAuthorityData: String?
        var insecureSkipTLSVerify: Bool?

        enum CodingKeys: String, CodingKey {
            case server
            case certificateAuthority = "certificate-authority"
            case certificateAuthorityData = "certificate-authority-data"
            case insecureSkipTLSVerify = "insecure-skip-tls-verify"
        }
    }

    struct User: Decodable {
        var token: String?
        var tokenFile: String?
        var clientCertificate: String?
        var clientCertificateData: String?
        var clientKey: String?
        var clientKeyData: String?
        var username: String?
        var password: String?
        var exec: Present?
        var authProvider: Present?

        enum CodingKeys: String, CodingKey {
            case token, tokenFile, username, password, exec
            case clientCertificate = "client-certificate"
            case clientCertificateData = "client-certificate-data"
            case clientKey = "client-key"
            case clientKeyData = "client-key-data"
            case authProvider = "auth-provider"
        }
    }

    struct Context: Decodable {
        var cluster: String
        var user: String?
        var namespace: String?
    }

    struct NamedCluster: Decodable {
        var name: String
        var cluster: Cluster
    }

    struct NamedUser: Decodable {
        var name: String
        var user: User?
    }

    struct NamedContext: Decodable {
        var name: String
        var context: Context
    }

    /// Decodes anything: we only need to know a section exists.
    struct Present: Decodable {
        init(from decoder: any Decoder) throws {}
    }

    var currentContext: String?
    var clusters: [NamedCluster]?
    var users: [NamedUser]?
    var contexts: [NamedContext]?

    enum CodingKeys: String, CodingKey {
        case clusters, users, contexts
        case currentContext = "current-context"
    }
}
