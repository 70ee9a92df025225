import AsyncHTTPClient
import Foundation
import WAT
import WasmKit

/// Fetches a module's bytes and decodes them into a WasmKit `Module` (parsed and decoded once; WasmKit
/// translates function bodies per instance, lazily).
struct ModuleLoader: Sendable {
    let http: HTTPClient
    let maxBytes: Int
    let fetchTimeout: Duration

    func load(url: String) async throws(WasmFailure) -> Module {
        let bytes = try await fetch(ModuleSource(url: url), url: url)
        return try Self.decode(bytes, url: url)
    }

    // MARK: Fetching

    private func fetch(_ source: ModuleSource, url: String) async throws(WasmFailure) -> [UInt8] {
        switch source {
        case .file(let path): try readFile(path)
        case .http(let address): try await download(address)
        }
    }

    /// Reads a local module. Blocking file I/O, but once per URL (the cache keeps the result).
    private func readFile(_ path: String) throws(WasmFailure) -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .module("wasm module file '\(path)' not found")
        }
        if isDirectory.boolValue { throw .module("wasm module path '\(path)' is a directory") }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        if size > maxBytes { throw .module("wasm module file '\(path)' is \(size) bytes, above the \(maxBytes)-byte limit") }
        do {
            return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .module("wasm module file '\(path)' could not be read: \(error.localizedDescription)")
        }
    }

    private func download(_ url: String) async throws(WasmFailure) -> [UInt8] {
        let timeout = fetchTimeout.components
        let nanos = timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000
        do {
            let response = try await http.execute(HTTPClientRequest(url: url), timeout: .nanoseconds(nanos))
            guard response.status.code == 200 else {
                throw WasmFailure.module("fetching wasm module \(url) answered HTTP \(response.status.code)")
            }
            if let length = response.headers.first(name: "content-length").flatMap(Int.init), length > maxBytes {
                throw WasmFailure.module("wasm module \(url) is \(length) bytes, above the \(maxBytes)-byte limit")
            }
            var bytes: [UInt8] = []
            for try await chunk in response.body {
                guard bytes.count + chunk.readableBytes <= maxBytes else {
                    throw WasmFailure.module("wasm module \(url) is larger than the \(maxBytes)-byte limit")
                }
                bytes.append(contentsOf: chunk.readableBytesView)
            }
            return bytes
        } catch let failure as WasmFailure {
            throw failure
        } catch {
            throw .module("fetching wasm module \(url) failed: \(error)")
        }
    }

    // MARK: Decoding

    private static let binaryMagic: [UInt8] = [0x00, 0x61, 0x73, 0x6D]
    /// Version and layer bytes of a component binary (component-model preamble).
    private static let componentPreamble: [UInt8] = [0x0D, 0x00, 0x01, 0x00]

    /// A binary module, or WAT text parsed with WasmKit's WAT parser.
    static func decode(_ bytes: [UInt8], url: String) throws(WasmFailure) -> Module {
        var binary = bytes
        if !bytes.starts(with: binaryMagic) {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw .module("wasm module \(url) is neither a WebAssembly binary nor UTF-8 WAT text")
            }
            do {
                binary = try wat2wasm(text)
            } catch {
                throw .module("wasm module \(url) is not valid WAT: \(error)")
            }
        } else if bytes.count >= 8, Array(bytes[4..<8]) == componentPreamble {
            throw .module("wasm module \(url) is a component; only core WebAssembly modules are supported in this version")
        }
        do {
            return try parseWasm(bytes: binary)
        } catch {
            throw .module("wasm module \(url) is not a valid WebAssembly module: \(error)")
        }
    }
}
