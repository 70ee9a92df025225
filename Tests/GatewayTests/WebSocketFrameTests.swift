import Foundation
import OaaSCore
import OaaSProto
import Testing
@testable import Gateway

@Suite struct WebSocketFrameTests {
    func json(_ text: String) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test func eventFrameCarriesTheSpecFields() throws {
        var event = Oaas_Router_ObjectChangeEvent()
        event.clsID = "users"
        event.partitionID = 3
        event.objectID = 42
        event.version = 7
        event.source = .local
        var created = Oaas_Router_EntryChange()
        created.key = 1
        created.action = .create
        created.value.data = Data("hi".utf8)
        var deleted = Oaas_Router_EntryChange()
        deleted.keyStr = "name"
        deleted.action = .delete
        event.changes = [created, deleted]
        let frame = try json(ChangeEventFrame.event(event))
        #expect(frame["object_id"] as? String == "42")
        #expect(frame["id_kind"] as? String == "numeric")
        #expect(frame["cls_id"] as? String == "users")
        #expect(frame["partition_id"] as? Int == 3)
        #expect(frame["source"] as? String == "local")
        #expect(frame["version"] as? Int == 7)
        #expect(frame["object_deleted"] as? Bool == false)
        #expect(frame["truncated"] as? Bool == false)
        let changes = try #require(frame["changes"] as? [[String: Any]])
        #expect(changes.count == 2)
        #expect(changes[0]["key"] as? String == "1" && changes[0]["key_kind"] as? String == "numeric")
        #expect(changes[0]["action"] as? String == "create" && changes[0]["value"] as? String == "aGk=")
        #expect(changes[1]["key"] as? String == "name" && changes[1]["key_kind"] as? String == "string")
        #expect(changes[1]["action"] as? String == "delete" && changes[1]["value"] == nil)
    }

    @Test func stringIdsSyncSourceAndDeletes() throws {
        var event = Oaas_Router_ObjectChangeEvent()
        event.clsID = "users"
        event.objectIDStr = "user-1"
        event.source = .sync
        event.objectDeleted = true
        event.truncated = true
        let frame = try json(ChangeEventFrame.event(event))
        #expect(frame["object_id"] as? String == "user-1" && frame["id_kind"] as? String == "string")
        #expect(frame["source"] as? String == "sync")
        #expect(frame["object_deleted"] as? Bool == true && frame["truncated"] as? Bool == true)
    }

    @Test func gapFrame() throws {
        #expect(ChangeEventFrame.gap(dropped: 5) == #"{"dropped":5,"type":"gap"}"#)
    }

    @Test func webSocketPathsNameTheirScope() throws {
        let rules = IdentityRules()
        let cls = try #require(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/ws", rules: rules))
        #expect(cls.clsID == "users" && !cls.hasPartitionID && !cls.hasObjectID && !cls.hasObjectIDStr)
        let partition = try #require(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/2/ws?x=1", rules: rules))
        #expect(partition.partitionID == 2 && !partition.hasObjectID)
        let numeric = try #require(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/2/objects/42/ws", rules: rules))
        #expect(numeric.objectID == 42 && !numeric.hasObjectIDStr)
        let string = try #require(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/0/objects/User-A/ws", rules: rules))
        #expect(string.objectIDStr == "user-a")
        let forced = try #require(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/0/objects-str/42/ws", rules: rules))
        #expect(forced.objectIDStr == "42")
        #expect(try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/0/objects", rules: rules) == nil)
        #expect(try GatewayWebSocketRoutes.subscription(forPath: "/healthz", rules: rules) == nil)
        #expect(throws: OaaSError.self) { try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/x/ws", rules: rules) }
        #expect(throws: OaaSError.self) { try GatewayWebSocketRoutes.subscription(forPath: "/api/class/users/0/objects/Bad$/ws", rules: rules) }
    }
}
