import OaaSCore
import Testing

/// One rule for client-chosen invocation ids (spec §5.5), used by the CLI, the gateway and ODGM.
@Suite struct InvocationIDsTests {
    @Test func problemsNameWhatIsWrong() {
        #expect(InvocationIDs.problem("inv-1_A") == nil)
        #expect(InvocationIDs.problem(String(repeating: "a", count: 64)) == nil)
        #expect(InvocationIDs.problem("") == "must not be empty")
        #expect(InvocationIDs.problem(String(repeating: "a", count: 65)) == "length 65 exceeds maximum 64")
        #expect(InvocationIDs.problem("ab$c") == "contains invalid character '$' at offset 2; allowed [A-Za-z0-9_-]")
        #expect(!InvocationIDs.isValid("a.b"))
    }

    @Test func generatedIdsAreValidAndDistinct() {
        let ids = (0..<100).map { _ in InvocationIDs.generate() }
        #expect(ids.allSatisfy { $0.utf8.count == 21 && InvocationIDs.isValid($0) })
        #expect(Set(ids).count == ids.count)
    }
}
