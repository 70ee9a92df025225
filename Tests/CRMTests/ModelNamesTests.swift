import GRPCCore
import OaaSModels
import Testing

@testable import CRM

@Suite("CRM model: names and errors")
struct ModelNamesTests {
    @Test("sanitize lowercases, replaces and trims, keeping valid ids unchanged")
    func sanitize() throws {
        #expect(try CRMNames.sanitize("cart-3f2a9c1b") == "cart-3f2a9c1b")
        #expect(try CRMNames.sanitize("Cart_Unit.V2") == "cart-unit-v2")
        #expect(try CRMNames.sanitize("--abc--") == "abc")
        #expect(try CRMNames.sanitize(String(repeating: "a", count: 63)).count == 63)
    }

    @Test("sanitize rejects empty and over-long ids, naming deployment_unit.id",
          arguments: ["", "___", "--", String(repeating: "a", count: 64), "A" + String(repeating: "b", count: 70)])
    func sanitizeRejects(id: String) {
        #expect {
            try CRMNames.sanitize(id)
        } throws: { error in
            guard case CRMError.invalidArgument(let message) = error else { return false }
            return message.hasPrefix("deployment_unit.id:")
        }
    }

    @Test("labelSafe keeps valid values and hashes the rest into ≤ 63 valid characters")
    func labelSafe() {
        #expect(CRMNames.labelSafe("shop.Cart") == "shop.Cart")
        #expect(CRMNames.labelSafe("") == "")
        let slash = CRMNames.labelSafe("shop/Cart")
        #expect(slash == "shop-Cart-" + DeterministicIds.hex8("shop/Cart"))
        let long = String(repeating: "x", count: 80)
        let safeLong = CRMNames.labelSafe(long)
        #expect(safeLong.count == 63)
        #expect(safeLong.hasSuffix("-" + DeterministicIds.hex8(long)))
        #expect(CRMNames.isLabelValue(safeLong))
        #expect(CRMNames.labelSafe("_lead.") == "lead-" + DeterministicIds.hex8("_lead."))
        // Different inputs that clean up alike still get different labels.
        #expect(CRMNames.labelSafe("a/b") != CRMNames.labelSafe("a:b"))
        #expect(CRMNames.labelSafe("a/b") == CRMNames.labelSafe("a/b"))
    }

    @Test("child names fit their limit for a 63-character CR name, stay distinct and end in an alphanumeric")
    func childNamesForLongIds() throws {
        let cr = try CRMNames.sanitize(String(repeating: "d", count: 54) + "-3f2a9c1b")
        #expect(cr.count == 63)
        let names = [
            CRMNames.functionChild(cr: cr, functionKey: "Cart.total"),
            CRMNames.functionChild(cr: cr, functionKey: "Cart.add"),
            CRMNames.odgmHeadless(cr: cr), CRMNames.odgmService(cr: cr), CRMNames.odgmPDB(cr: cr),
        ]
        for name in names {
            #expect(name.count <= 63, "\(name)")
            #expect(CRMNames.isLabelValue(name), "\(name)")
        }
        #expect(Set(names).count == names.count)
        let statefulSet = CRMNames.odgmStatefulSet(cr: cr)
        #expect(statefulSet.count <= 47)
        #expect(statefulSet.hasSuffix("-" + DeterministicIds.hex8(cr + "-odgm")))
        // Short names are just base-suffix.
        #expect(CRMNames.child("cart-1", "odgm-svc") == "cart-1-odgm-svc")
        #expect(CRMNames.functionChild(cr: "cart-1", functionKey: "Cart.total") == "cart-1-fn-cart-total")
        // Deterministic.
        #expect(CRMNames.odgmService(cr: cr) == CRMNames.odgmService(cr: cr))
    }

    @Test("CRMError maps every case to its gRPC code")
    func errorCodes() {
        let cases: [(CRMError, RPCError.Code)] = [
            (.invalidArgument("a"), .invalidArgument), (.alreadyExists("a"), .alreadyExists),
            (.failedPrecondition("a"), .failedPrecondition), (.aborted("a"), .aborted), (.notFound("a"), .notFound),
            (.permissionDenied("a"), .permissionDenied), (.unavailable("a"), .unavailable),
            (.deadlineExceeded("a"), .deadlineExceeded), (.internalError("a"), .internalError),
        ]
        for (error, code) in cases {
            #expect(error.rpcError.code == code)
            #expect(error.rpcError.message == "a")
        }
    }
}
