/// Placeholder until the SDK lands.
enum FunctionKitPlaceholder {}
