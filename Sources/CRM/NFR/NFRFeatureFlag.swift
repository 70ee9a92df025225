import OaaSCore

/// The phase-3 switch. The issue that introduced enforcement names it `OPRC_CRM_FEATURES_ENFORCEMENT`; the spec
/// (§9.1) says `OPRC_CRM_FEATURES_NFR_ENFORCEMENT`. Both are accepted and the issue's name wins when set.
enum NFRFeatureFlag {
    static let issueVariable = "OPRC_CRM_FEATURES_ENFORCEMENT"
    static let specVariable = "OPRC_CRM_FEATURES_NFR_ENFORCEMENT"

    /// `current` is what `CRMConfig` parsed from the spec's name (or the profile default). A malformed value is a
    /// configuration error naming the variable (exit 2 at start-up).
    static func resolve(environment: [String: String], current: Bool) throws(ConfigurationError) -> Bool {
        let env = EnvReader(environment)
        let value = env.bool(issueVariable, default: current)
        try env.validate()
        return value
    }
}
