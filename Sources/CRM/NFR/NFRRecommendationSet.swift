import Kube

/// `status.nfr_recommendations` (control-plane spec §10.3): the reference shape — `replicas`, `cpu` (millicores),
/// `memory` (bytes) of the first function — plus `functions` {function_key: {replicas, cpu, memory, confidence}}.
/// All values are integers except `confidence`.
struct NFRRecommendationSet: Sendable, Equatable {
    /// In spec order; functions without any recommendation are left out.
    var functions: [(key: String, recommendation: NFRRecommendation)]

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.functions.map(\.key) == rhs.functions.map(\.key)
            && lhs.functions.map(\.recommendation) == rhs.functions.map(\.recommendation)
    }

    init(_ functions: [(key: String, recommendation: NFRRecommendation)]) {
        self.functions = functions.filter { !$0.recommendation.isEmpty }
    }

    /// The status value; nil (field removed) when nothing is recommended.
    var json: JSONValue? {
        guard let first = functions.first else { return nil }
        var result = Self.values(first.recommendation, confidence: false)
        var byKey: [String: JSONValue] = [:]
        for (key, recommendation) in functions { byKey[key] = Self.values(recommendation, confidence: true) }
        result["functions"] = .object(byKey)
        return result
    }

    private static func values(_ recommendation: NFRRecommendation, confidence: Bool) -> JSONValue {
        var object: [String: JSONValue] = [:]
        if let replicas = recommendation.replicas { object["replicas"] = .int(Int64(replicas)) }
        if let cpu = recommendation.cpuMillis { object["cpu"] = .int(Int64(cpu)) }
        if let memory = recommendation.memoryBytes { object["memory"] = .int(Int64(memory)) }
        if confidence, let value = recommendation.confidence { object["confidence"] = .double(value) }
        return .object(object)
    }

    /// Reads a stored value: `functions` when present, else the reference shape as the first function's
    /// (`firstFunction`). Non-integer values are ignored.
    static func parse(_ json: JSONValue?, firstFunction: String?) -> [String: NFRRecommendation] {
        guard let json, json.objectValue != nil else { return [:] }
        func read(_ value: JSONValue) -> NFRRecommendation {
            func integer(_ key: String) -> Int? {
                value[key]?.intValue.flatMap { Int(exactly: $0) }.flatMap { $0 >= 0 ? $0 : nil }
            }
            return NFRRecommendation(replicas: integer("replicas"), cpuMillis: integer("cpu"),
                                     memoryBytes: integer("memory"), confidence: value["confidence"]?.doubleValue)
        }
        if let functions = json["functions"]?.objectValue {
            return functions.mapValues(read).filter { !$0.value.isEmpty }
        }
        guard let firstFunction else { return [:] }
        let legacy = read(json)
        return legacy.isEmpty ? [:] : [firstFunction: legacy]
    }
}
