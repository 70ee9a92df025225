import OaaSModels
import Testing

/// The example document of spec §2.4.
let exampleYAML = """
name: shop
version: 1.2
metadata: {author: team-a, tags: [demo]}
classes:
- key: Cart
  state_spec: {consistency_model: STRONG, persistent: true}
  function_bindings:
  - {name: add, function_key: Cart.add}
  - {name: total, function_key: Cart.total, stateless: true}
functions:
- key: Cart.add
  function_type: WASM
  provision_config: {wasm_module_url: "https://artifacts.example.com/cart-add.wasm"}
- key: Cart.total
  provision_config: {container_image: "registry.example.com/cart-total:1.2", endpoint_url: "http://127.0.0.1:9101", port: 8080}
  config: {LOG_LEVEL: info}
deployments:
- {key: cart, package_name: shop, class_key: Cart, nfr_requirements: {availability: 0.999, max_latency_ms: 50}, odgm: {partition_count: 4}}
"""

/// The same content as JSON, written with the number for `version` as reference files do.
let exampleJSON = """
{
  "name": "shop",
  "version": 1.2,
  "metadata": {"author": "team-a", "tags": ["demo"]},
  "classes": [
    {
      "key": "Cart",
      "state_spec": {"consistency_model": "STRONG", "persistent": true},
      "function_bindings": [
        {"name": "add", "function_key": "Cart.add"},
        {"name": "total", "function_key": "Cart.total", "stateless": true}
      ]
    }
  ],
  "functions": [
    {"key": "Cart.add", "function_type": "WASM",
     "provision_config": {"wasm_module_url": "https://artifacts.example.com/cart-add.wasm"}},
    {"key": "Cart.total",
     "provision_config": {"container_image": "registry.example.com/cart-total:1.2",
                          "endpoint_url": "http://127.0.0.1:9101", "port": 8080},
     "config": {"LOG_LEVEL": "info"}}
  ],
  "deployments": [
    {"key": "cart", "package_name": "shop", "class_key": "Cart",
     "nfr_requirements": {"availability": 0.999, "max_latency_ms": 50}, "odgm": {"partition_count": 4}}
  ]
}
"""

/// The model the example must decode to, built by hand.
let exampleModel = OPackage(
    name: "shop",
    version: "1.2",
    metadata: PackageMetadata(author: "team-a", tags: ["demo"]),
    classes: [
        OClass(
            key: "Cart",
            stateSpec: StateSpecification(consistencyModel: .strong, persistent: true),
            functionBindings: [
                FunctionBinding(name: "add", functionKey: "Cart.add"),
                FunctionBinding(name: "total", functionKey: "Cart.total", stateless: true),
            ]
        ),
    ],
    functions: [
        OFunction(
            key: "Cart.add",
            functionType: .wasm,
            provisionConfig: ProvisionConfig(wasmModuleUrl: "https://artifacts.example.com/cart-add.wasm")
        ),
        OFunction(
            key: "Cart.total",
            provisionConfig: ProvisionConfig(
                containerImage: "registry.example.com/cart-total:1.2",
                endpointUrl: "http://127.0.0.1:9101",
                port: 8080
            ),
            config: ["LOG_LEVEL": "info"]
        ),
    ],
    deployments: [
        OClassDeployment(
            key: "cart",
            packageName: "shop",
            classKey: "Cart",
            nfrRequirements: NfrRequirements(availability: 0.999, maxLatencyMs: 50),
            odgm: OdgmDataSpec(partitionCount: 4)
        ),
    ]
)

/// The decode error of `body`, or nil when it decodes.
func packageDecodeError(_ body: String, format: DocumentFormat? = nil, strict: Bool = false) -> ModelError? {
    do {
        _ = try ModelDecoder(strict: strict).decodePackage(body, format: format)
        return nil
    } catch {
        return error
    }
}

func deploymentDecodeError(_ body: String, format: DocumentFormat? = nil, strict: Bool = false) -> ModelError? {
    do {
        _ = try ModelDecoder(strict: strict).decodeDeployment(body, format: format)
        return nil
    } catch {
        return error
    }
}

/// The `field: message` lines of a report, for exact comparisons.
func lines(_ report: ValidationReport) -> [String] {
    report.issues.map(\.description)
}
