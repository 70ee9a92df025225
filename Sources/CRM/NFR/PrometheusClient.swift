import AsyncHTTPClient
import Foundation
import NIOCore

/// A small client for the Prometheus HTTP API (control-plane spec §12): a range query over `OPRC_CRM_PROM_RANGE`
/// at `OPRC_CRM_PROM_STEP`, averaged per series, with an instant query as the fallback when the range query fails.
/// Every request is bounded by `OPRC_CRM_PROM_QUERY_TIMEOUT_SECS`.
public struct PrometheusClient: Sendable {
    /// How several series of one query become one number: rates and usage add up, latencies take the worst.
    public enum Combination: Sendable {
        case sum
        case max
    }

    /// `OPRC_CRM_PROM_URL` without a trailing `/` (a path prefix such as `/prometheus` is kept).
    public let baseURL: String
    public let timeout: Duration
    /// Length of the range query window.
    public let range: Duration
    /// Resolution step, in Prometheus duration syntax (`30s`).
    public let step: String
    let http: HTTPClient
    let now: @Sendable () -> Date

    /// Largest answer read; larger bodies are a malformed response, not a memory problem.
    static let maxBodyBytes = 8 * 1024 * 1024

    public init(baseURL: String, timeout: Duration = .seconds(5), range: Duration = .seconds(600), step: String = "30s",
                http: HTTPClient = .shared, now: @escaping @Sendable () -> Date = { Date() }) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.timeout = timeout
        self.range = range
        self.step = step
        self.http = http
        self.now = now
    }

    /// The client `OPRC_CRM_PROM_*` describe; nil when `OPRC_CRM_PROM_URL` is unset (the analyzer is off).
    public init?(config: CRMConfig, http: HTTPClient = .shared) {
        guard let url = config.prometheusURL else { return nil }
        self.init(baseURL: url, timeout: config.prometheusQueryTimeout,
                  range: PrometheusDuration.parse(config.prometheusRange) ?? .seconds(600),
                  step: config.prometheusStep, http: http)
    }

    /// The query's value averaged over the range window (each series averaged, then combined); the instant value
    /// when the range query fails. nil when Prometheus has no samples. Throws when both queries fail (the range
    /// query's error, which names the more complete request).
    public func average(_ query: String, combining combination: Combination) async throws(PrometheusError) -> Double? {
        let series: [[Double]]
        do {
            let end = now().timeIntervalSince1970
            let start = end - PhaseEvaluator.seconds(range)
            series = try await fetch("/api/v1/query_range", [
                ("query", query), ("start", Self.timestamp(start)), ("end", Self.timestamp(end)), ("step", step),
            ])
        } catch let rangeError {
            do {
                series = try await fetch("/api/v1/query", [("query", query)])
            } catch {
                throw rangeError
            }
        }
        let averages = series.map { $0.reduce(0, +) / Double($0.count) }
        guard !averages.isEmpty else { return nil }
        switch combination {
        case .sum: return averages.reduce(0, +)
        case .max: return averages.max()
        }
    }

    /// GET `path?params` and the finite samples of each series in the answer.
    func fetch(_ path: String, _ parameters: [(String, String)]) async throws(PrometheusError) -> [[Double]] {
        let url = baseURL + path + "?" + parameters.map { "\(Self.formEncode($0.0))=\(Self.formEncode($0.1))" }
            .joined(separator: "&")
        guard URL(string: url)?.host != nil else { throw .invalidURL(url) }
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        request.headers.add(name: "Accept", value: "application/json")
        let (seconds, attoseconds) = timeout.components
        let limit = TimeAmount.nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let status: UInt
        let body: ByteBuffer
        do {
            let response = try await http.execute(request, timeout: limit)
            status = response.status.code
            body = try await response.body.collect(upTo: Self.maxBodyBytes)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout
            || error == .connectTimeout
        {
            throw .timeout(timeout)
        } catch let error as NIOTooManyBytesError {
            throw .malformedResponse("answer larger than \(error.maxBytes.map(String.init) ?? "the limit") bytes")
        } catch {
            throw .unreachable("\(error)")
        }
        let data = Data(body.readableBytesView)
        guard (200..<300).contains(status) else {
            // Prometheus explains 4xx/5xx in its envelope; anything else (a proxy page) is shown briefly.
            if case .api(let type, let message)? = Self.apiError(data) { throw .api(errorType: type, message: message) }
            throw .httpStatus(code: Int(status), body: String(decoding: data.prefix(200), as: UTF8.self))
        }
        return try PrometheusResult.series(from: data)
    }

    private static func apiError(_ data: Data) -> PrometheusError? {
        do {
            _ = try PrometheusResult.series(from: data)
            return nil
        } catch {
            return error
        }
    }

    /// `application/x-www-form-urlencoded` value: everything but unreserved characters percent-encoded, so PromQL's
    /// `{ } " = ~ + [ ]` reach Prometheus verbatim (a raw `+` would arrive as a space).
    static func formEncode(_ text: String) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                 UInt8(ascii: "~"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                result += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return result
    }

    /// Unix seconds with millisecond precision, as Prometheus accepts them.
    static func timestamp(_ seconds: Double) -> String {
        String(format: "%.3f", seconds)
    }
}

/// Prometheus duration syntax (`30s`, `10m`, `1h`, `250ms`), as `OPRC_CRM_PROM_RANGE` is validated.
enum PrometheusDuration {
    static func parse(_ text: String) -> Duration? {
        let digits = text.prefix { $0.isASCII && $0.isNumber }
        guard let value = Int64(digits), value > 0, value < 1_000_000_000 else { return nil }
        switch text.dropFirst(digits.count) {
        case "ms": return .milliseconds(value)
        case "s": return .seconds(value)
        case "m": return .seconds(value * 60)
        case "h": return .seconds(value * 3600)
        case "d": return .seconds(value * 86_400)
        case "w": return .seconds(value * 604_800)
        case "y": return .seconds(value * 31_536_000)
        default: return nil
        }
    }
}
