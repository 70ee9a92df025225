import Testing
@Suite struct FunctionKitPlaceholderTests { @Test func placeholder() { #expect(Bool(true)) } }
