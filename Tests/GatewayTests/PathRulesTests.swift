import Foundation
import OaaSCore
import Testing

@testable import Gateway

@Suite("Path and query rules")
struct PathRulesTests {
    @Test func percentDecoding() {
        #expect(PathIdentity.percentDecode("plain") == "plain")
        #expect(PathIdentity.percentDecode("a%2Fb") == "a/b")
        #expect(PathIdentity.percentDecode("%E2%9C%93") == "✓")
        #expect(PathIdentity.percentDecode("%zz") == nil)
        #expect(PathIdentity.percentDecode("%4") == nil)
        #expect(PathIdentity.percentDecode("50%") == nil)
        #expect(PathIdentity.percentDecode("%FF") == nil)
    }

    @Test func objectIdSegments() throws {
        #expect(try PathIdentity.objectID("42", forceString: false) == (42, nil))
        #expect(try PathIdentity.objectID("18446744073709551615", forceString: false) == (UInt64.max, nil))
        #expect(try PathIdentity.objectID("18446744073709551616", forceString: false) == (0, "18446744073709551616"))
        #expect(try PathIdentity.objectID("007", forceString: false) == (0, "007"))
        #expect(try PathIdentity.objectID("0", forceString: false) == (0, "0"))
        #expect(try PathIdentity.objectID("42", forceString: true) == (0, "42"))
        #expect(try PathIdentity.objectID("User%2D1", forceString: false) == (0, "User-1"))
        #expect(throws: OaaSError.self) { try PathIdentity.objectID("%G0", forceString: false) }
    }

    @Test func entryKeySegments() throws {
        #expect(try PathIdentity.entryKey("0", forceString: false) == .numeric(0))
        #expect(try PathIdentity.entryKey("4294967295", forceString: false) == .numeric(UInt32.max))
        #expect(try PathIdentity.entryKey("4294967296", forceString: false) == .string("4294967296"))
        #expect(try PathIdentity.entryKey("00", forceString: false) == .string("00"))
        #expect(try PathIdentity.entryKey("0", forceString: true) == .string("0"))
        #expect(try PathIdentity.entryKey("Name%20X", forceString: false) == .string("Name X"))
    }

    @Test func partitions() throws {
        #expect(try PathIdentity.partition("0") == 0)
        #expect(try PathIdentity.partition("4294967295") == UInt32.max)
        for bad in ["", "-1", "+1", "1.0", "4294967296", "x"] {
            #expect(throws: OaaSError.self) { try PathIdentity.partition(bad) }
        }
    }

    @Test func base64URL() {
        for length in 0..<8 {
            let data = Data((0..<length).map { UInt8(truncatingIfNeeded: $0 * 67 + 250) })
            let text = Base64URL.encode(data)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == data)
        }
        #expect(Base64URL.decode("_-8") == Data([0xFF, 0xEF]))
        #expect(Base64URL.decode("AAA=") == nil)
        #expect(Base64URL.decode("a") == nil)
        #expect(Base64URL.decode("a b") == nil)
    }

    @Test func mediaTypes() throws {
        #expect(try MediaType.bodyFormat(contentType: nil) == .protobuf)
        #expect(try MediaType.bodyFormat(contentType: "application/x-protobuf") == .protobuf)
        #expect(try MediaType.bodyFormat(contentType: "application/octet-stream; foo=bar") == .protobuf)
        #expect(try MediaType.bodyFormat(contentType: " application/json ;charset=utf-8") == .json)
        #expect(throws: OaaSError.self) { try MediaType.bodyFormat(contentType: "text/plain") }
        #expect(throws: OaaSError.self) { try MediaType.bodyFormat(contentType: "application/jsonx") }
    }

    @Test func knownRoutes() {
        var routes = KnownRoutes()
        routes.add("/api/class/{cls}/{pid}/objects/{oid}", .get)
        routes.add("/api/class/{cls}/{pid}/objects/{oid}", .put)
        routes.add("/api/capabilities", .get)
        #expect(routes.match("/api/class/a/0/objects/x")?.methods == [.get, .put])
        #expect(routes.match("/api/class/a/0/objects/x/")?.template == "/api/class/{cls}/{pid}/objects/{oid}")
        #expect(routes.match("/api/class/a/0/objects") == nil)
        #expect(routes.match("/api/capabilities")?.methods == [.get])
        #expect(routes.match("/api/other") == nil)
    }
}
