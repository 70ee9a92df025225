/// The object-metadata validation of the real API server that controllers most often trip over: names, labels,
/// annotations, finalizers and owner references. Kind-specific schemas are not validated.
enum Validation {
    /// Structural problems (wrong JSON types) are 400s, as a decoding failure is on the real server.
    static func checkShape(_ object: TestJSON) throws(APIError) {
        guard object.objectValue != nil else { throw .badRequest("the body must be a JSON object") }
        guard let metadata = object["metadata"] else { return }
        guard metadata.objectValue != nil else { throw .badRequest("metadata must be an object") }
        for field in ["name", "namespace", "generateName", "resourceVersion", "uid"] {
            if let value = metadata[field], value != .null, value.stringValue == nil {
                throw .badRequest("metadata.\(field) must be a string")
            }
        }
        for field in ["labels", "annotations"] {
            guard let map = metadata[field], map != .null else { continue }
            guard let members = map.objectValue, members.values.allSatisfy({ $0.stringValue != nil }) else {
                throw .badRequest("metadata.\(field) must be a map of strings")
            }
        }
        if let finalizers = metadata["finalizers"], finalizers != .null {
            guard let list = finalizers.arrayValue, list.allSatisfy({ $0.stringValue != nil }) else {
                throw .badRequest("metadata.finalizers must be a list of strings")
            }
        }
        if let references = metadata["ownerReferences"], references != .null {
            guard let list = references.arrayValue, list.allSatisfy({ $0.objectValue != nil }) else {
                throw .badRequest("metadata.ownerReferences must be a list of objects")
            }
        }
    }

    /// Semantic problems, each as a (field, message) cause of a 422.
    static func problems(_ object: TestJSON, info: ResourceInfo) -> [(field: String, message: String)] {
        var causes: [(field: String, message: String)] = []
        let name = object.value(at: "metadata", "name")?.stringValue ?? ""
        if let problem = nameProblem(name, rule: info.nameRule) { causes.append(("metadata.name", problem)) }
        for (key, value) in object.value(at: "metadata", "labels")?.objectValue ?? [:] {
            if let problem = labelKeyProblem(key) { causes.append(("metadata.labels", "Invalid value: \"\(key)\": \(problem)")) }
            if let problem = labelValueProblem(value.stringValue ?? "") {
                causes.append(("metadata.labels", "Invalid value: \"\(value.stringValue ?? "")\": \(problem)"))
            }
        }
        let annotations = object.value(at: "metadata", "annotations")?.objectValue ?? [:]
        var annotationBytes = 0
        for (key, value) in annotations {
            if let problem = labelKeyProblem(key) {
                causes.append(("metadata.annotations", "Invalid value: \"\(key)\": \(problem)"))
            }
            annotationBytes += key.utf8.count + (value.stringValue?.utf8.count ?? 0)
        }
        if annotationBytes > 256 * 1024 {
            causes.append(("metadata.annotations", "Too long: must have at most 262144 bytes"))
        }
        for (index, finalizer) in (object.value(at: "metadata", "finalizers")?.arrayValue ?? []).enumerated() {
            let value = finalizer.stringValue ?? ""
            if let problem = labelKeyProblem(value) {
                causes.append(("metadata.finalizers[\(index)]", "Invalid value: \"\(value)\": \(problem)"))
            }
        }
        var controllers = 0
        for (index, reference) in (object.value(at: "metadata", "ownerReferences")?.arrayValue ?? []).enumerated() {
            for field in ["apiVersion", "kind", "name", "uid"] where (reference[field]?.stringValue ?? "").isEmpty {
                causes.append(("metadata.ownerReferences[\(index)].\(field)", "Required value"))
            }
            if reference["controller"]?.boolValue == true { controllers += 1 }
        }
        if controllers > 1 {
            causes.append(("metadata.ownerReferences", "Invalid value: only one reference can have Controller set to true"))
        }
        return causes
    }

    static func nameProblem(_ name: String, rule: ResourceInfo.NameRule) -> String? {
        if name.isEmpty { return "Required value: name or generateName is required" }
        switch rule {
        case .subdomain:
            return subdomainProblem(name)
        case .label:
            return dnsLabelProblem(name, maxLength: 63)
        case .label1035:
            if let problem = dnsLabelProblem(name, maxLength: 63) { return problem }
            if let first = name.first, !first.isLetter {
                return "Invalid value: \"\(name)\": a DNS-1035 label must start with an alphabetic character"
            }
            return nil
        }
    }

    static func subdomainProblem(_ name: String) -> String? {
        guard name.utf8.count <= 253 else { return "Invalid value: \"\(name)\": must be no more than 253 characters" }
        for part in name.split(separator: ".", omittingEmptySubsequences: false) {
            if dnsLabelProblem(String(part), maxLength: 253) != nil {
                return "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case "
                    + "alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"
            }
        }
        return nil
    }

    static func dnsLabelProblem(_ name: String, maxLength: Int) -> String? {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maxLength else {
            return "Invalid value: \"\(name)\": must be no more than \(maxLength) characters"
        }
        func alphanumeric(_ byte: UInt8) -> Bool { (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last),
              bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2D })
        else {
            return "Invalid value: \"\(name)\": a lowercase RFC 1123 label must consist of lower case alphanumeric "
                + "characters or '-', and must start and end with an alphanumeric character"
        }
        return nil
    }

    /// `[prefix/]name`: prefix a DNS subdomain, name ≤ 63 alphanumerics with `-_.` inside.
    static func labelKeyProblem(_ key: String) -> String? {
        let parts = key.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2 else { return "a qualified name must have at most one '/'" }
        if parts.count == 2 {
            if parts[0].isEmpty || subdomainProblem(String(parts[0])) != nil {
                return "prefix part must be a DNS subdomain"
            }
        }
        let name = String(parts.last ?? "")
        if name.isEmpty { return "name part must be non-empty" }
        return labelValueProblem(name).map { _ in
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
                + "alphanumeric character (at most 63)"
        }
    }

    /// Empty, or ≤ 63 alphanumerics with `-_.` inside.
    static func labelValueProblem(_ value: String) -> String? {
        let bytes = Array(value.utf8)
        if bytes.isEmpty { return nil }
        guard bytes.count <= 63 else { return "must be no more than 63 characters" }
        func alphanumeric(_ byte: UInt8) -> Bool {
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
        }
        guard let first = bytes.first, let last = bytes.last, alphanumeric(first), alphanumeric(last),
              bytes.allSatisfy({ alphanumeric($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E })
        else {
            return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
                + "and must start and end with an alphanumeric character"
        }
        return nil
    }
}
