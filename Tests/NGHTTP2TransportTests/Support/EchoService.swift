import GRPCCore

/// Raw bytes in and out: the tests speak gRPC without generated code, so any transport and any peer
/// (grpc-swift's NIO transport, Python grpcio) can be driven with the same service.
struct RawSerializer: MessageSerializer, MessageDeserializer {
    func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}

/// `test.Echo`: one method per RPC kind, plus methods that fail, stall and stream large messages.
/// Request text conventions: "status:<code>:<message>" makes Get fail with that code.
struct EchoService: RegistrableRPCService {
    static let get = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Get")
    static let expand = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Expand")
    static let collect = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Collect")
    static let update = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Update")
    static let stall = MethodDescriptor(fullyQualifiedService: "test.Echo", method: "Stall")

    func registerMethods<Transport: ServerTransport>(with router: inout RPCRouter<Transport>) {
        let raw = RawSerializer()
        // Get: echoes the message; echoes request metadata "echo-*" back as initial metadata and "x-trailer" as trailers.
        router.registerHandler(forMethod: Self.get, deserializer: raw, serializer: raw) { request, _ in
            var received: [UInt8] = []
            for try await part in request.messages { received += part }
            let message = received
            let text = String(decoding: message, as: UTF8.self)
            if text.hasPrefix("status:") {
                let fields = text.split(separator: ":", maxSplits: 2).map(String.init)
                let raw = fields.count > 1 ? Int(fields[1]) ?? 2 : 2
                let code = Status.Code(rawValue: raw).flatMap { RPCError.Code($0) } ?? .unknown
                throw RPCError(code: code, message: fields.count > 2 ? fields[2] : "")
            }
            var initial = Metadata()
            for (key, value) in request.metadata where key.hasPrefix("echo-") {
                switch value {
                case .string(let s): initial.addString(s, forKey: key)
                case .binary(let b): initial.addBinary(b, forKey: key)
                }
            }
            return StreamingServerResponse(metadata: initial) { writer in
                try await writer.write(message)
                var trailers = Metadata()
                trailers.addString("done", forKey: "x-trailer")
                return trailers
            }
        }
        // Expand: one message per byte of the request's first message's value N (UInt8), each of `size` bytes.
        router.registerHandler(forMethod: Self.expand, deserializer: raw, serializer: raw) { request, _ in
            var first: [UInt8] = []
            for try await part in request.messages { first = part; break }
            let count = Int(first.first ?? 0)
            let size = first.count > 1 ? Int(first[1]) * 1024 : 1
            return StreamingServerResponse { writer in
                for index in 0..<count {
                    try await writer.write([UInt8](repeating: UInt8(truncatingIfNeeded: index), count: size))
                }
                return [:]
            }
        }
        // Collect: concatenates every request message into one response.
        router.registerHandler(forMethod: Self.collect, deserializer: raw, serializer: raw) { request, _ in
            var collected: [UInt8] = []
            for try await part in request.messages { collected += part }
            let all = collected
            return StreamingServerResponse { writer in
                try await writer.write(all)
                return [:]
            }
        }
        // Update: echoes each message as it arrives.
        router.registerHandler(forMethod: Self.update, deserializer: raw, serializer: raw) { request, _ in
            StreamingServerResponse { writer in
                for try await part in request.messages { try await writer.write(part) }
                return [:]
            }
        }
        // Stall: never answers until the RPC is cancelled (deadline or RST_STREAM). GRPCCore flags cancellation on the
        // context rather than cancelling the handler's task, so wait on that.
        router.registerHandler(forMethod: Self.stall, deserializer: raw, serializer: raw) { _, context in
            try await context.cancellation.cancelled
            return StreamingServerResponse { _ in [:] }
        }
    }
}
