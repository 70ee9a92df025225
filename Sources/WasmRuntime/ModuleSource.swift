import Foundation

/// Where a module's bytes come from: a route's `wasm_module_url` (data-plane spec §9.6).
enum ModuleSource: Sendable, Equatable {
    /// `file:///absolute/path` (or `file://localhost/...`), percent-decoded.
    case file(path: String)
    /// `http://` or `https://`, fetched with AsyncHTTPClient.
    case http(url: String)

    init(url: String) throws(WasmFailure) {
        let trimmed = url.trimmingCharacters(in: .whitespaces)
        guard let colon = trimmed.firstIndex(of: ":") else {
            throw .module("wasm_module_url '\(url)' has no scheme; use file://, http:// or https://")
        }
        switch trimmed[..<colon].lowercased() {
        case "file":
            var rest = trimmed[trimmed.index(after: colon)...]
            guard rest.hasPrefix("//") else {
                throw .module("wasm_module_url '\(url)' must look like file:///absolute/path")
            }
            rest = rest.dropFirst(2)
            if rest.lowercased().hasPrefix("localhost/") { rest = rest.dropFirst("localhost".count) }
            guard rest.hasPrefix("/") else {
                throw .module("wasm_module_url '\(url)' must hold an absolute path (file:///absolute/path)")
            }
            let raw = String(rest.prefix { $0 != "?" && $0 != "#" })
            self = .file(path: raw.removingPercentEncoding ?? raw)
        case "http", "https":
            guard let parsed = URL(string: trimmed), let host = parsed.host, !host.isEmpty else {
                throw .module("wasm_module_url '\(url)' is not a valid http(s) URL")
            }
            self = .http(url: trimmed)
        case "oci":
            throw .module("wasm_module_url '\(url)': oci:// modules are not supported in this version; use file:// or http(s)://")
        default:
            throw .module("wasm_module_url '\(url)' must use file://, http:// or https://")
        }
    }
}
