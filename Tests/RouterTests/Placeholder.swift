import Testing
@Suite struct RouterPlaceholderTests { @Test func placeholder() { #expect(Bool(true)) } }
