/// Template selection (control-plane spec §11.1): a hint naming a registered template wins; else the first matching
/// NFR rule; else the profile's default.
public enum TemplateSelector {
    public static let dev = "dev"
    public static let edge = "edge"
    public static let cloud = "cloud"
    public static let knative = "knative"

    /// The canonical template a name or alias denotes (case-insensitive), registered or not.
    public static func canonicalName(_ name: String) -> String? {
        switch name.trimmingWhitespace().lowercased() {
        case "dev": dev
        case "edge": edge
        case "cloud", "k8s_deployment", "deployment", "k8s", "full": cloud
        case "knative", "kn", "knsvc": knative
        default: nil
        }
    }

    /// `dev`→dev, `edge`→edge, `full` (and its aliases)→cloud; anything else→dev.
    public static func profileDefault(_ profile: String) -> String {
        switch profile.trimmingWhitespace().lowercased() {
        case "edge": edge
        case "full", "prod", "production", "cloud": cloud
        default: dev
        }
    }

    public static func select(_ spec: ClassRuntimeSpec, context: RenderContext) -> TemplateChoice {
        var unavailableHint: String?
        if let hint = spec.selectedTemplate, !hint.trimmingWhitespace().isEmpty {
            if let name = canonicalName(hint), context.registeredTemplates.contains(name) {
                return TemplateChoice(name: name, source: "hint")
            }
            unavailableHint = hint
        }
        let fallback = TemplateChoice(
            name: profileDefault(context.profile), source: "profile", unavailableHint: unavailableHint)
        guard let nfr = spec.nfrRequirements, !nfr.isEmpty else { return fallback }
        if (nfr.maxLatencyMs.map { $0 <= 50 } ?? false) || nfr.consistency?.lowercased() == "strong"
            || (nfr.availabilityPct.map { $0 >= 99.9 } ?? false)
        {
            return TemplateChoice(name: cloud, source: "nfr", unavailableHint: unavailableHint)
        }
        if let rps = nfr.minThroughputRps, rps >= 500 {
            let name = context.registeredTemplates.contains(knative) ? knative : cloud
            return TemplateChoice(name: name, source: "nfr", unavailableHint: unavailableHint)
        }
        if context.envIsEdge {
            return TemplateChoice(name: edge, source: "nfr", unavailableHint: unavailableHint)
        }
        return fallback
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}
