import ArgumentParser
import Foundation
import GRPCCore
import OaaSCore
import OaaSProto

/// `oaas object watch` (data-plane spec §12.2): follows the change events of a class, a partition or one object
/// through the gateway's proxied `RouterService/Subscribe` (§8.7) until interrupted or the stream ends.
struct ObjectWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch", abstract: "Print the change events of a class, a partition or one object as they happen.",
        aliases: ["w"])

    @OptionGroup var global: GlobalOptions
    @OptionGroup var cls: ClassOption
    @Argument(help: "Partition id (default: every partition).") var partition: UInt32?
    @Argument(help: "Numeric object id (u64); or use --object-id-str.") var id: UInt64?
    @Option(name: .customLong("object-id-str"), help: ArgumentHelp("String object id.", valueName: "ID"))
    var objectIDStr: String?
    @Flag(name: .customLong("with-values"), help: "Include the new values of created and updated entries.")
    var withValues = false

    func validate() throws {
        if id != nil, objectIDStr != nil { throw ValidationError("give either <id> or --object-id-str, not both") }
        if (id != nil || objectIDStr != nil), partition == nil {
            throw ValidationError("an object id needs its PARTITION")
        }
    }

    func request(cls: String) -> Oaas_Router_SubscribeRequest {
        var request = Oaas_Router_SubscribeRequest()
        request.clsID = cls
        if let partition { request.partitionID = partition }
        if let id { request.objectID = id }
        if let objectIDStr { request.objectIDStr = objectIDStr }
        request.includeValues = withValues
        return request
    }

    func run() async throws {
        let code = await run(io: StandardOutput(), environment: ProcessInfo.processInfo.environment)
        if code != 0 { throw ExitCode(code) }
    }

    /// Streams until the subscription ends; each event is written (and flushed) as soon as it arrives.
    func run(io: any CommandOutput, environment: [String: String]) async -> Int32 {
        do {
            let context = try global.resolveContext(store: ConfigStore(path: ConfigStore.defaultPath(environment: environment)))
            let clsID = try cls.resolve(in: context)
            let endpoint = try global.gateway(in: context)
            let format = global.format()
            let oneObject = id != nil || objectIDStr != nil
            let subscription = request(cls: clsID)
            try await GatewayConnection.withClient(endpoint) { grpc in
                var options = CallOptions.defaults
                options.waitForReady = false
                do {
                    try await Oaas_Router_RouterService.Client(wrapping: grpc).subscribe(subscription, options: options) { response in
                        for try await delivery in response.messages {
                            io.out(WatchRender.lines(delivery, format: format, withObject: !oneObject, withValues: withValues))
                        }
                    }
                } catch let error as RPCError where error.code == .unimplemented {
                    throw CLIFailure(code: "UNIMPLEMENTED", message: error.message,
                                     hint: "the gateway serves Subscribe only when it has a router (OPRC_ROUTER_URL, or oaas dev)")
                }
            }
            return 0
        } catch {
            return Terminal.report(error, writeError: io.err).rawValue
        }
    }
}

/// Lines of `oaas object watch`: `v{version} {action} {key}…` per event (prefixed with `{pid}/{id}` when watching more
/// than one object); json: one §8.6 frame object per line.
enum WatchRender {
    static func lines(_ delivery: Oaas_Router_EventDelivery, format: OutputFormat, withObject: Bool, withValues: Bool) -> String {
        var text = ""
        if delivery.droppedBefore > 0 {
            text += format == .table ? "gap: \(delivery.droppedBefore) event(s) dropped\n"
                : json(["type": "gap", "dropped": delivery.droppedBefore]) + "\n"
        }
        guard delivery.hasEvent else { return text }
        let event = delivery.event
        switch format {
        case .table:
            var parts: [String] = []
            if withObject { parts.append("\(event.partitionID)/\(objectID(event))") }
            parts.append("v\(event.version)")
            for change in event.changes {
                var item = "\(action(change.action)) \(key(change))"
                if withValues, change.hasValue { item += "=" + String(decoding: change.value.data, as: UTF8.self) }
                parts.append(item)
            }
            if event.objectDeleted { parts.append("(object deleted)") }
            return text + parts.joined(separator: " ") + "\n"
        case .json, .yaml:
            return text + json(frame(event)) + "\n"
        }
    }

    /// The WebSocket frame of spec §8.6.
    static func frame(_ event: Oaas_Router_ObjectChangeEvent) -> [String: Any] {
        [
            "object_id": objectID(event),
            "id_kind": event.hasObjectIDStr ? "string" : "numeric",
            "cls_id": event.clsID,
            "partition_id": event.partitionID,
            "source": event.source == .sync ? "sync" : "local",
            "version": event.version,
            "changes": event.changes.map { change -> [String: Any] in
                var item: [String: Any] = [
                    "key": key(change), "key_kind": change.hasKeyStr ? "string" : "numeric", "action": action(change.action),
                ]
                if change.hasValue { item["value"] = change.value.data.base64EncodedString() }
                return item
            },
            "object_deleted": event.objectDeleted,
            "truncated": event.truncated,
        ]
    }

    private static func objectID(_ event: Oaas_Router_ObjectChangeEvent) -> String {
        event.hasObjectIDStr ? event.objectIDStr : String(event.objectID)
    }

    private static func key(_ change: Oaas_Router_EntryChange) -> String {
        change.hasKeyStr ? change.keyStr : String(change.key)
    }

    private static func action(_ action: Oaas_Router_ChangeAction) -> String {
        switch action {
        case .create: "create"
        case .update: "update"
        case .delete: "delete"
        default: "change"
        }
    }

    private static func json(_ object: [String: Any]) -> String {
        // Strings, numbers, booleans, arrays and dictionaries of them always serialize.
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
