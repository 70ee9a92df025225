import Foundation

/// Package and deployment documents used across the PM tests.
enum Fixtures {
    static let shopJSON = """
    {"name":"shop","version":"1.2","metadata":{"author":"team-a","tags":["demo"]},
     "classes":[{"key":"Cart","state_spec":{"consistency_model":"NONE"},
                 "function_bindings":[{"name":"add","function_key":"Cart.add"},{"name":"total","function_key":"Cart.total","stateless":true}]}],
     "functions":[{"key":"Cart.add","provision_config":{"container_image":"registry.example.com/cart-add:1"}},
                  {"key":"Cart.total","provision_config":{"container_image":"registry.example.com/cart-total:1","port":8080},"config":{"LOG_LEVEL":"info"}}]}
    """

    /// The same package as `shopJSON`, written in YAML (with `version: 1.2` as a number).
    static let shopYAML = """
    name: shop
    version: 1.2
    metadata: {author: team-a, tags: [demo]}
    classes:
    - key: Cart
      state_spec: {consistency_model: NONE}
      function_bindings:
      - {name: add, function_key: Cart.add}
      - {name: total, function_key: Cart.total, stateless: true}
    functions:
    - key: Cart.add
      provision_config: {container_image: "registry.example.com/cart-add:1"}
    - key: Cart.total
      provision_config: {container_image: "registry.example.com/cart-total:1", port: 8080}
      config: {LOG_LEVEL: info}
    """

    static func package(_ name: String, classes: String = #"[{"key":"C","function_bindings":[{"name":"run","function_key":"fn"}]}]"#,
                        functions: String = #"[{"key":"fn","provision_config":{"container_image":"img:1"}}]"#,
                        dependencies: [String] = []) -> String {
        let deps = dependencies.map { "\"\($0)\"" }.joined(separator: ",")
        return #"{"name":"\#(name)","classes":\#(classes),"functions":\#(functions),"dependencies":[\#(deps)]}"#
    }

    static func deployment(_ key: String = "cart", package: String = "shop", cls: String = "Cart", extra: String = "") -> String {
        #"{"key":"\#(key)","package_name":"\#(package)","class_key":"\#(cls)"\#(extra.isEmpty ? "" : "," + extra)}"#
    }
}
