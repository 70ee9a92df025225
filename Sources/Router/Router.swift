/// Placeholder until the router lands.
enum RouterPlaceholder {}
