import Testing
@testable import CRM
