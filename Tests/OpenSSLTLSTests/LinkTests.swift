import COpenSSL
import Testing

@Suite struct OpenSSLLinkTests {
    @Test func linksTheSystemLibrary() {
        #expect(OpenSSL_version_num() >= 0x3000_0000)
    }
}
