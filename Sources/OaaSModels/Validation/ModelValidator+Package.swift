extension ModelValidator {
    /// Validates a package. `dependencies(of:)` answers the dependency list of an existing package, or nil if no
    /// package of that name exists; it is used for existence and cycle checks of `dependencies`.
    public static func validate(package: OPackage, dependencies lookup: (String) -> [String]?) -> ValidationReport {
        var report = ValidationReport()
        let root = FieldPath.root
        report.check(.packageName, package.name, at: root.key("name"))

        let functionsByKey = Dictionary(package.functions.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var classKeys: [String: Int] = [:]
        for (index, cls) in package.classes.enumerated() {
            let path = root.key("classes").index(index)
            checkClass(cls, at: path, package: package, functions: functionsByKey, into: &report)
            if !cls.key.isEmpty {
                if let first = classKeys[cls.key] {
                    report.fail(path.key("key"), "duplicate class key '\(cls.key)' (first at classes[\(first)])")
                } else {
                    classKeys[cls.key] = index
                }
            }
        }

        var functionKeys: [String: Int] = [:]
        for (index, function) in package.functions.enumerated() {
            let path = root.key("functions").index(index)
            report.check(.functionKey, function.key, at: path.key("key"))
            if !function.key.isEmpty {
                if let first = functionKeys[function.key] {
                    report.fail(path.key("key"), "duplicate function key '\(function.key)' (first at functions[\(first)])")
                } else {
                    functionKeys[function.key] = index
                }
            }
            checkRunnableSource(function, at: path, into: &report)
            if let provision = function.provisionConfig {
                checkProvision(provision, at: path.key("provision_config"), into: &report)
            }
            checkConfigKeys(function.config, at: path.key("config"), into: &report)
        }

        checkDependencies(of: package, lookup: lookup, into: &report)

        if !package.deployments.isEmpty {
            report.warn(root.key("deployments"), "deployments are not stored with the package; apply them separately (oaas package apply -d)")
        }
        return report
    }

    /// Validates a package against a set of existing packages (by name).
    public static func validate(package: OPackage, existingPackages: [String: OPackage]) -> ValidationReport {
        validate(package: package) { existingPackages[$0]?.dependencies }
    }

    private static func checkClass(
        _ cls: OClass,
        at path: FieldPath,
        package: OPackage,
        functions: [String: OFunction],
        into report: inout ValidationReport
    ) {
        report.check(.classKey, cls.key, at: path.key("key"))
        for (index, keySpec) in (cls.stateSpec?.keySpecs ?? []).enumerated() {
            let specPath = path.key("state_spec").key("key_specs").index(index)
            if keySpec.name.isEmpty { report.fail(specPath.key("name"), "is required") }
            if keySpec.keyType.isEmpty { report.fail(specPath.key("key_type"), "is required") }
        }
        var bindingNames: [String: Int] = [:]
        for (index, binding) in cls.functionBindings.enumerated() {
            let bindingPath = path.key("function_bindings").index(index)
            report.check(.bindingName, binding.name, at: bindingPath.key("name"))
            if !binding.name.isEmpty {
                if let first = bindingNames[binding.name] {
                    report.fail(
                        bindingPath.key("name"),
                        "duplicate binding name '\(binding.name)' in class '\(cls.key)' (first at function_bindings[\(first)])"
                    )
                } else {
                    bindingNames[binding.name] = index
                }
            }
            let keyPath = bindingPath.key("function_key")
            if binding.functionKey.isEmpty {
                report.fail(keyPath, "is required")
            } else if let function = functions[binding.functionKey] {
                if !function.functionType.isProvisioned {
                    report.warn(
                        bindingPath,
                        "function '\(function.key)' is \(function.functionType.rawValue) and never provisioned; the binding is disabled"
                    )
                }
            } else {
                report.fail(keyPath, "function '\(binding.functionKey)' is not defined in package '\(package.name)'")
            }
        }
    }

    private static func checkRunnableSource(_ function: OFunction, at path: FieldPath, into report: inout ValidationReport) {
        let provision = function.provisionConfig
        switch function.functionType {
        case .wasm:
            if (provision?.wasmModuleUrl ?? "").isEmpty {
                report.fail(path.key("provision_config").key("wasm_module_url"), "is required for a WASM function")
            }
        case .custom:
            if !(provision?.hasRunnableSource ?? false) {
                report.fail(
                    path.key("provision_config"),
                    "a CUSTOM function needs container_image, wasm_module_url or endpoint_url"
                )
            }
        case .builtin, .macro, .logical:
            break
        }
    }

    /// URL schemes, quantities, port and scale bounds of a provision config (package functions and overrides).
    static func checkProvision(_ provision: ProvisionConfig, at path: FieldPath, into report: inout ValidationReport) {
        if let url = provision.wasmModuleUrl, let problem = ValueRules.urlProblem(url, schemes: ["http", "https", "file"]) {
            report.fail(path.key("wasm_module_url"), problem)
        }
        if let url = provision.endpointUrl, let problem = ValueRules.urlProblem(url, schemes: ["http", "https"]) {
            report.fail(path.key("endpoint_url"), problem)
        }
        if let image = provision.containerImage, image.isEmpty {
            report.fail(path.key("container_image"), "must not be empty")
        }
        if provision.port == 0 {
            report.fail(path.key("port"), "must be in 1...65535, found 0")
        }
        let quantities: [(String, String?)] = [
            ("cpu_request", provision.cpuRequest), ("memory_request", provision.memoryRequest),
            ("cpu_limit", provision.cpuLimit), ("memory_limit", provision.memoryLimit),
        ]
        for (field, value) in quantities {
            if let value, !ValueRules.isQuantity(value) {
                report.fail(path.key(field), "'\(value)' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)")
            }
        }
        if let minScale = provision.minScale, let maxScale = provision.maxScale, minScale > maxScale {
            report.fail(path.key("min_scale"), "min_scale (\(minScale)) must not exceed max_scale (\(maxScale))")
        }
    }

    static func checkConfigKeys(_ config: [String: String], at path: FieldPath, into report: inout ValidationReport) {
        for key in config.keys.sorted() {
            if let problem = NameRule.configKey.problem(key) {
                report.fail(path.mapKey(key), key.isEmpty ? "config keys must not be empty" : problem)
            }
        }
    }

    private static func checkDependencies(
        of package: OPackage,
        lookup: (String) -> [String]?,
        into report: inout ValidationReport
    ) {
        var seen = Set<String>()
        for (index, dependency) in package.dependencies.enumerated() {
            let path = FieldPath.root.key("dependencies").index(index)
            if dependency.isEmpty {
                report.fail(path, "must not be empty")
                continue
            }
            if dependency == package.name {
                report.fail(path, "package '\(package.name)' cannot depend on itself")
                continue
            }
            if !seen.insert(dependency).inserted {
                report.warn(path, "duplicate dependency '\(dependency)'")
                continue
            }
            guard lookup(dependency) != nil else {
                report.fail(path, "package '\(dependency)' does not exist")
                continue
            }
            if let cycle = cycle(from: dependency, back: package.name, lookup: lookup) {
                report.fail(path, "dependency cycle: " + ([package.name] + cycle).joined(separator: " -> "))
            }
        }
    }

    /// A path of dependencies from `start` back to `target` (both included), or nil. Breadth-first, so the
    /// shortest cycle is named; iterative, so a long chain of packages cannot exhaust the stack.
    private static func cycle(from start: String, back target: String, lookup: (String) -> [String]?) -> [String]? {
        var parent: [String: String] = [start: start]
        var queue = [start]
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            for next in lookup(current) ?? [] {
                if next == target {
                    var path = [target, current]
                    var node = current
                    while let previous = parent[node], previous != node {
                        path.append(previous)
                        node = previous
                    }
                    return path.reversed()
                }
                if parent[next] == nil {
                    parent[next] = current
                    queue.append(next)
                }
            }
        }
        return nil
    }
}
