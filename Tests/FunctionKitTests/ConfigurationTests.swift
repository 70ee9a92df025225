import Foundation
@testable import FunctionKit
import GRPCCore
import Testing

/// Settings from the environment, and the small parsers behind them.
@Suite struct ConfigurationTests {
    @Test func defaultsWithAnEmptyEnvironment() throws {
        let configuration = try FunctionConfiguration.fromEnvironment([:])
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 8080)
        #expect(configuration.odgmService == nil)
        #expect(configuration.logLevel == .info)
    }

    @Test func readsTheInjectedVariables() throws {
        let configuration = try FunctionConfiguration.fromEnvironment([
            "HTTP_PORT": "9090", "HTTP_HOST": "::", "ODGM_SERVICE": "odgm.oaas.svc:8080", "LOG_LEVEL": "warn,odgm=debug",
            "ODGM_ENABLED": "true", "ODGM_SERVICE_UNRELATED": "x",
        ])
        #expect(configuration.port == 9090)
        #expect(configuration.host == "::")
        #expect(configuration.odgmService == ServiceAddress(host: "odgm.oaas.svc", port: 8080))
        #expect(configuration.logLevel == .warning)
    }

    @Test func everyBadVariableIsReportedByName() {
        #expect {
            try FunctionConfiguration.fromEnvironment([
                "HTTP_PORT": "80a", "HTTP_HOST": "localhost", "ODGM_SERVICE": "https://odgm:443", "LOG_LEVEL": "loud",
            ])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.problems.count == 4
                && error.problems[0].hasPrefix("HTTP_HOST: 'localhost'")
                && error.problems[1].hasPrefix("HTTP_PORT: '80a'")
                && error.problems[2].hasPrefix("ODGM_SERVICE: 'https://odgm:443' must be host:port without a scheme")
                && error.problems[3].hasPrefix("LOG_LEVEL: 'loud'")
        }
        #expect(throws: ConfigurationError.self) { try FunctionConfiguration.fromEnvironment(["HTTP_PORT": "70000"]) }
    }

    @Test func serviceAddressesParse() throws {
        #expect(try ServiceAddress(parsing: "127.0.0.1:8081") == ServiceAddress(host: "127.0.0.1", port: 8081))
        #expect(try ServiceAddress(parsing: "http://gw:80/") == ServiceAddress(host: "gw", port: 80))
        #expect(try ServiceAddress(parsing: "[::1]:8080") == ServiceAddress(host: "::1", port: 8080))
        #expect(ServiceAddress(host: "::1", port: 8080).description == "[::1]:8080")
        for bad in ["odgm", ":8080", "odgm:0", "odgm:x", "grpc://odgm:1"] {
            #expect(throws: InvalidSetting.self, "\(bad)") { try ServiceAddress(parsing: bad) }
        }
    }

    @Test func ipAddressCheck() {
        for good in ["0.0.0.0", "127.0.0.1", "::", "::1", "fe80::1"] { #expect(FunctionConfiguration.isIPAddress(good), "\(good)") }
        for bad in ["localhost", "256.0.0.1", "1.2.3", "", "a.b.c.d"] { #expect(!FunctionConfiguration.isIPAddress(bad), "\(bad)") }
    }

    @Test func grpcTimeoutHeaders() {
        #expect(GRPCTimeout.parse("250m") == .milliseconds(250))
        #expect(GRPCTimeout.parse("5S") == .seconds(5))
        #expect(GRPCTimeout.parse("2M") == .seconds(120))
        #expect(GRPCTimeout.parse("1H") == .seconds(3600))
        #expect(GRPCTimeout.parse("100u") == .microseconds(100))
        #expect(GRPCTimeout.parse("7n") == .nanoseconds(7))
        for bad in ["", "m", "5", "5x", "123456789m", "+5m", "-5m"] { #expect(GRPCTimeout.parse(bad) == nil, "\(bad)") }
    }

    @Test func callMetadataPrefersMetadataOverOptions() {
        let arrival = ContinuousClock.now
        let call = CallMetadata(
            metadata: ["oaas-trigger-depth": "4", "grpc-timeout": "1S"],
            options: ["oaas-trigger-depth": "9", "traceparent": "tp"], arrival: arrival
        )
        #expect(call.triggerDepth == 4)
        #expect(call.traceparent == "tp")
        #expect(call.deadline == arrival + .seconds(1))
        #expect(CallMetadata(metadata: ["oaas-trigger-depth": "-3"], options: [:]).triggerDepth == 0)
        #expect(CallMetadata(metadata: ["oaas-trigger-depth": "x"], options: [:]).triggerDepth == 0)

        let outgoing = call.outgoing
        #expect(outgoing[stringValues: "oaas-trigger-depth"].map { $0 } == ["4"])
        #expect(outgoing[stringValues: "traceparent"].map { $0 } == ["tp"])
        #expect(outgoing[stringValues: "grpc-timeout"].map { $0 }.isEmpty)
    }

    @Test func responseHelpers() throws {
        #expect(FunctionResponse.ok("hi").contentType == FunctionResponse.textContentType)
        #expect(FunctionResponse.ok(Data([1])).contentType == nil)
        #expect(try FunctionResponse.ok(json: ["a": 1]).contentType == "application/json")
        let proto = FunctionResponse.appError("no").header("Retry-After", "5").proto(invocationID: "i")
        #expect(proto.status == .appError)
        #expect(proto.headers["retry-after"] == "5")
        #expect(proto.invocationID == "i")
        #expect(String(decoding: proto.payload, as: UTF8.self) == "no")
    }
}
