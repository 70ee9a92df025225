import Foundation
import Kube

/// The parts of a Prometheus HTTP API answer (`/api/v1/query`, `/api/v1/query_range`) the analyzer reads: the
/// envelope `{status, data: {resultType, result}, errorType, error}` and the sample values per series. Sample values
/// are strings (`"12.5"`, `"NaN"`, `"+Inf"`); only finite ones count.
enum PrometheusResult {
    /// Finite sample values of each series (one value per series for an instant query). Series without a finite
    /// sample are left out.
    static func series(from body: Data) throws(PrometheusError) -> [[Double]] {
        let json: JSONValue
        do {
            json = try JSONValue(jsonData: body)
        } catch {
            throw .malformedResponse("not JSON")
        }
        if json["status"]?.stringValue == "error" {
            throw .api(errorType: json["errorType"]?.stringValue ?? "unknown",
                       message: json["error"]?.stringValue ?? "no message")
        }
        guard json["status"]?.stringValue == "success", let data = json["data"] else {
            throw .malformedResponse("missing status 'success' or data")
        }
        let result = data["result"]
        var series: [[Double]] = []
        switch data["resultType"]?.stringValue {
        case "matrix":
            for entry in try seriesList(result) {
                guard let values = entry["values"] else { continue }
                let finite = try samples(values)
                if !finite.isEmpty { series.append(finite) }
            }
        case "vector":
            for entry in try seriesList(result) {
                guard let pair = entry["value"] else { continue }
                if let value = try sample(pair) { series.append([value]) }
            }
        case "scalar":
            if let pair = result, let value = try sample(pair) { series.append([value]) }
        case let other:
            throw .malformedResponse("unsupported resultType '\(other ?? "none")'")
        }
        return series
    }

    private static func seriesList(_ result: JSONValue?) throws(PrometheusError) -> [JSONValue] {
        guard let list = result?.arrayValue else { throw .malformedResponse("data.result is not a list") }
        return list
    }

    private static func samples(_ values: JSONValue) throws(PrometheusError) -> [Double] {
        guard let list = values.arrayValue else { throw .malformedResponse("values is not a list") }
        var result: [Double] = []
        for pair in list {
            if let value = try sample(pair) { result.append(value) }
        }
        return result
    }

    /// `[<unix time>, "<value>"]` → the value when finite.
    private static func sample(_ pair: JSONValue) throws(PrometheusError) -> Double? {
        guard let items = pair.arrayValue, items.count == 2, items[0].doubleValue != nil,
              let text = items[1].stringValue
        else { throw .malformedResponse("a sample is not [time, \"value\"]") }
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}
