import OaaSModels
import Testing

private func validate(_ package: OPackage, existing: [String: OPackage] = [:]) -> ValidationReport {
    ModelValidator.validate(package: package, existingPackages: existing)
}

private func validYAML(_ yaml: String) throws -> OPackage {
    try ModelDecoder().decodePackage(yaml, format: .yaml).value
}

@Suite struct PackageValidationTests {
    @Test func theSpecExampleIsValid() throws {
        let report = validate(try validYAML(exampleYAML))
        #expect(report.isValid)
        #expect(report.error == nil)
        #expect(report.warnings == ["deployments: deployments are not stored with the package; apply them separately (oaas package apply -d)"])
        var withoutDeployments = exampleModel
        withoutDeployments.deployments = []
        #expect(validate(withoutDeployments).warnings.isEmpty)
    }

    @Test func bindingToAMissingFunctionMatchesTheSpecMessage() throws {
        var package = exampleModel
        package.classes[0].functionBindings[1].functionKey = "Cart.tot"
        let report = validate(package)
        let error = try #require(report.error)
        #expect(error.code == .validationFailed)
        #expect(error.field == "classes[0].function_bindings[1].function_key")
        #expect(error.message == "classes[0].function_bindings[1].function_key: function 'Cart.tot' is not defined in package 'shop'")
        #expect(error.details == [ValidationIssue(.validationFailed, field: "classes[0].function_bindings[1].function_key", "function 'Cart.tot' is not defined in package 'shop'")])
    }

    @Test func duplicateClassAndFunctionKeys() {
        let package = OPackage(
            name: "shop",
            classes: [OClass(key: "Cart"), OClass(key: "Order"), OClass(key: "Cart")],
            functions: [
                OFunction(key: "f", functionType: .builtin),
                OFunction(key: "g", functionType: .builtin),
                OFunction(key: "f", functionType: .builtin),
            ]
        )
        #expect(lines(validate(package)) == [
            "classes[2].key: duplicate class key 'Cart' (first at classes[0])",
            "functions[2].key: duplicate function key 'f' (first at functions[0])",
        ])
    }

    @Test func duplicateBindingNamesWithinAClass() {
        let package = OPackage(
            name: "p",
            classes: [OClass(key: "C", functionBindings: [
                FunctionBinding(name: "m", functionKey: "f"),
                FunctionBinding(name: "m", functionKey: "f"),
            ])],
            functions: [OFunction(key: "f", provisionConfig: ProvisionConfig(containerImage: "img"))]
        )
        #expect(lines(validate(package)) == [
            "classes[0].function_bindings[1].name: duplicate binding name 'm' in class 'C' (first at function_bindings[0])",
        ])
    }

    @Test func namesFollowTheirPatterns() {
        let package = OPackage(
            name: "my pkg",
            classes: [
                OClass(key: "1Cart", functionBindings: [
                    FunctionBinding(name: "9lives", functionKey: "f"),
                    FunctionBinding(name: "_ok-name", functionKey: ""),
                ]),
                OClass(key: ""),
                OClass(key: String(repeating: "c", count: 64)),
            ],
            functions: [
                OFunction(key: "-f", functionType: .builtin),
                OFunction(key: "f", functionType: .builtin),
                OFunction(key: "Cart.add_v2-x", functionType: .builtin),
            ]
        )
        #expect(lines(validate(package)) == [
            "name: 'my pkg' is not a valid package name: must match ^[A-Za-z0-9][A-Za-z0-9_-]*$",
            "classes[0].key: '1Cart' is not a valid class key: must match ^[A-Za-z][A-Za-z0-9_-]*$",
            "classes[0].function_bindings[0].name: '9lives' is not a valid binding name: must match ^[A-Za-z_][A-Za-z0-9_-]*$",
            "classes[0].function_bindings[1].function_key: is required",
            "classes[1].key: is required",
            "classes[2].key: '\(String(repeating: "c", count: 64))' is not a valid class key: at most 63 characters (found 64)",
            "functions[0].key: '-f' is not a valid function key: must match ^[A-Za-z0-9][A-Za-z0-9._-]*$",
        ])
        #expect(validate(OPackage(name: "")).issues.map(\.description) == ["name: is required"])
        #expect(validate(OPackage(name: String(repeating: "a", count: 63))).isValid)
        #expect(!validate(OPackage(name: String(repeating: "a", count: 64))).isValid)
        #expect(validate(OPackage(name: "a_b-9")).isValid)
        #expect(!validate(OPackage(name: "a.b")).isValid)
    }

    @Test func runnableSourceOfFunctions() {
        let package = OPackage(name: "p", functions: [
            OFunction(key: "w", functionType: .wasm, provisionConfig: ProvisionConfig(containerImage: "img")),
            OFunction(key: "c"),
            OFunction(key: "c2", provisionConfig: ProvisionConfig(cpuRequest: "1")),
            OFunction(key: "e", provisionConfig: ProvisionConfig(endpointUrl: "http://127.0.0.1:9000")),
            OFunction(key: "m", provisionConfig: ProvisionConfig(wasmModuleUrl: "file:///opt/m.wasm")),
            OFunction(key: "b", functionType: .builtin),
            OFunction(key: "x", functionType: .macro),
            OFunction(key: "l", functionType: .logical),
        ])
        #expect(lines(validate(package)) == [
            "functions[0].provision_config.wasm_module_url: is required for a WASM function",
            "functions[1].provision_config: a CUSTOM function needs container_image, wasm_module_url or endpoint_url",
            "functions[2].provision_config: a CUSTOM function needs container_image, wasm_module_url or endpoint_url",
        ])
    }

    @Test func nonProvisionedBoundFunctionsWarn() {
        let package = OPackage(
            name: "p",
            classes: [OClass(key: "C", functionBindings: [FunctionBinding(name: "m", functionKey: "x")])],
            functions: [OFunction(key: "x", functionType: .macro)]
        )
        let report = validate(package)
        #expect(report.isValid)
        #expect(report.warnings == ["classes[0].function_bindings[0]: function 'x' is MACRO and never provisioned; the binding is disabled"])
    }

    @Test func urlSchemesQuantitiesPortAndScale() {
        let package = OPackage(name: "p", functions: [
            OFunction(key: "a", provisionConfig: ProvisionConfig(
                containerImage: "img",
                wasmModuleUrl: "oci://registry/module:1",
                endpointUrl: "file:///tmp/x",
                port: 0,
                cpuRequest: "100x",
                memoryRequest: "128Mi",
                cpuLimit: "-1",
                memoryLimit: "1e3",
                minScale: 5,
                maxScale: 2
            )),
            OFunction(key: "b", provisionConfig: ProvisionConfig(
                wasmModuleUrl: "ftp://host/m.wasm", endpointUrl: "http://", cpuRequest: "0.5", memoryRequest: "1G", cpuLimit: "+2", memoryLimit: ".5Gi"
            )),
            OFunction(key: "c", provisionConfig: ProvisionConfig(wasmModuleUrl: "module.wasm", endpointUrl: "https://fn.example.com:443/x", minScale: 2, maxScale: 2)),
        ])
        #expect(lines(validate(package)) == [
            "functions[0].provision_config.wasm_module_url: 'oci://registry/module:1': oci:// modules are not supported yet (use http, https, file)",
            "functions[0].provision_config.endpoint_url: 'file:///tmp/x': unsupported URL scheme 'file', expected http, https",
            "functions[0].provision_config.port: must be in 1...65535, found 0",
            "functions[0].provision_config.cpu_request: '100x' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)",
            "functions[0].provision_config.cpu_limit: '-1' is not a Kubernetes quantity (e.g. 100m, 0.5, 128Mi, 1G)",
            "functions[0].provision_config.min_scale: min_scale (5) must not exceed max_scale (2)",
            "functions[1].provision_config.wasm_module_url: 'ftp://host/m.wasm': unsupported URL scheme 'ftp', expected http, https, file",
            "functions[1].provision_config.endpoint_url: 'http://' is not a valid URL: no host",
            "functions[2].provision_config.wasm_module_url: 'module.wasm' is not a URL: expected a http, https, file URL",
        ])
    }

    @Test func configKeysAreEnvVarNames() {
        let package = OPackage(name: "p", functions: [
            OFunction(key: "f", provisionConfig: ProvisionConfig(containerImage: "img"), config: ["GOOD_1": "x", "_ok": "y", "bad-key": "z", "1ST": "w"]),
        ])
        #expect(lines(validate(package)) == [
            #"functions[0].config["1ST"]: '1ST' is not a valid environment variable name: must match ^[A-Za-z_][A-Za-z0-9_]*$"#,
            #"functions[0].config["bad-key"]: 'bad-key' is not a valid environment variable name: must match ^[A-Za-z_][A-Za-z0-9_]*$"#,
        ])
    }

    @Test func keySpecsNeedNameAndType() {
        let package = OPackage(name: "p", classes: [
            OClass(key: "C", stateSpec: StateSpecification(keySpecs: [KeySpecification(name: "k", keyType: ""), KeySpecification(name: "", keyType: "t")])),
        ])
        #expect(lines(validate(package)) == [
            "classes[0].state_spec.key_specs[0].key_type: is required",
            "classes[0].state_spec.key_specs[1].name: is required",
        ])
    }

    @Test func dependenciesMustExistAndNotBeSelfOrEmpty() {
        let existing = ["base": OPackage(name: "base"), "util": OPackage(name: "util")]
        let package = OPackage(name: "shop", dependencies: ["base", "", "ghost", "shop", "util", "base"])
        let report = validate(package, existing: existing)
        #expect(lines(report) == [
            "dependencies[1]: must not be empty",
            "dependencies[2]: package 'ghost' does not exist",
            "dependencies[3]: package 'shop' cannot depend on itself",
        ])
        #expect(report.error?.field == "dependencies[1]")
        #expect(report.warnings == ["dependencies[5]: duplicate dependency 'base'"])
    }

    @Test func dependencyCyclesAreFound() {
        // shop (being updated) -> a -> b -> shop
        let existing = [
            "a": OPackage(name: "a", dependencies: ["b"]),
            "b": OPackage(name: "b", dependencies: ["shop"]),
            "c": OPackage(name: "c", dependencies: ["a"]),
            "shop": OPackage(name: "shop"),
        ]
        let report = validate(OPackage(name: "shop", dependencies: ["c", "b"]), existing: existing)
        #expect(lines(report) == [
            "dependencies[0]: dependency cycle: shop -> c -> a -> b -> shop",
            "dependencies[1]: dependency cycle: shop -> b -> shop",
        ])
        // No cycle: a diamond is fine.
        let diamond = [
            "x": OPackage(name: "x", dependencies: ["z"]),
            "y": OPackage(name: "y", dependencies: ["z"]),
            "z": OPackage(name: "z"),
        ]
        #expect(validate(OPackage(name: "top", dependencies: ["x", "y"]), existing: diamond).isValid)
    }

    @Test func lookupClosureVariant() {
        let report = ModelValidator.validate(package: OPackage(name: "p", dependencies: ["q"])) { name in
            name == "q" ? ["p"] : nil
        }
        #expect(lines(report) == ["dependencies[0]: dependency cycle: p -> q -> p"])
    }

    @Test func everyProblemIsCollectedAndTheFirstIsPrimary() throws {
        let package = OPackage(
            name: "bad name",
            classes: [OClass(key: "C", functionBindings: [FunctionBinding(name: "m", functionKey: "nope")]), OClass(key: "C")],
            functions: [OFunction(key: "f")]
        )
        let error = try #require(validate(package).error)
        #expect(error.field == "name")
        #expect(error.details.map(\.field) == [
            "name",
            "classes[0].function_bindings[0].function_key",
            "classes[1].key",
            "functions[0].provision_config",
        ])
        #expect(error.description.hasPrefix("VALIDATION_FAILED: name: 'bad name'"))
        #expect(throws: ModelError.self) { try validate(package).check() }
    }
}
