import OaaSModels

/// How a function of a unit runs in a given mode (control-plane spec §11.1, §11.2, §13 item 4).
/// Kubernetes: a WASM module runs inside ODGM; else a container image gets a workload; else the external endpoint is
/// used. Local (`oaas dev`): a `--function-url` override wins, then WASM, then the endpoint; an image alone has no
/// local runtime.
enum FunctionKind: Equatable {
    case container(image: String)
    case wasm(moduleURL: String, fuel: UInt64?)
    case endpoint(url: String)
    case noLocalRuntime
    case unrunnable

    init(_ function: ClassRuntimeSpec.Function, mode: RouteMode) {
        let config = function.provisionConfig
        let image = config?.containerImage.flatMap { $0.isEmpty ? nil : $0 }
        let wasm = config?.wasmModuleUrl.flatMap { $0.isEmpty ? nil : $0 }
        let endpoint = config?.endpointUrl.flatMap { $0.isEmpty ? nil : $0 }
        switch mode {
        case .kubernetes:
            if let wasm {
                self = .wasm(moduleURL: wasm, fuel: config?.wasmFuel)
            } else if let image {
                self = .container(image: image)
            } else if let endpoint {
                self = .endpoint(url: endpoint)
            } else {
                self = .unrunnable
            }
        case .local(let overrides):
            if let override = overrides[function.functionKey], !override.isEmpty {
                self = .endpoint(url: override)
            } else if let wasm {
                self = .wasm(moduleURL: wasm, fuel: config?.wasmFuel)
            } else if let endpoint {
                self = .endpoint(url: endpoint)
            } else if image != nil {
                self = .noLocalRuntime
            } else {
                self = .unrunnable
            }
        }
    }
}

extension CRMNames {
    /// Function Deployment / Service / HPA / Knative Service: `child(cr, "fn-" + dns1035(function_key))`.
    public static func functionChild(cr: String, functionKey: String) -> String {
        child(cr, "fn-" + DeterministicIds.dns1035(functionKey))
    }

    /// ODGM StatefulSet (≤ 47 so pod names and revision-hash labels fit).
    public static func odgmStatefulSet(cr: String) -> String { child(cr, "odgm", max: maxStatefulSetNameLength) }
    /// ODGM headless Service (peer DNS).
    public static func odgmHeadless(cr: String) -> String { child(cr, "odgm-hl") }
    /// ODGM client Service (`ODGM_SERVICE`).
    public static func odgmService(cr: String) -> String { child(cr, "odgm-svc") }
    /// ODGM PodDisruptionBudget.
    public static func odgmPDB(cr: String) -> String { child(cr, "odgm-pdb") }
}
