import Testing
@testable import LocalRuntime
