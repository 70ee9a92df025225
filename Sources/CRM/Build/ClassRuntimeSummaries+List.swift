import OaaSProto

extension ClassRuntimeSummaries {
    /// Whether `cr` passes every filter of a ListClassRuntimes request (§8.3); absent or empty filters match all.
    /// - package_name: exact.
    /// - class_key: `pkg.Class` against package_class_key, else the unqualified class key.
    /// - target_env: the CRM env name or the CR's target_env.
    /// - status (case-insensitive): Available/Progressing/Degraded/Pending/Deleting/Unknown or
    ///   RUNNING/DEPLOYING/DOWN/PENDING/DELETED.
    public static func matches(
        _ cr: ClassRuntime, _ request: Oaas_Deployment_ListClassRuntimesRequest, envName: String
    ) -> Bool {
        if request.hasPackageName, !request.packageName.isEmpty, packageName(cr.spec) != request.packageName {
            return false
        }
        if request.hasClassKey, !request.classKey.isEmpty {
            let wanted = request.classKey
            let matched = wanted.contains(".") ? cr.spec.packageClassKey == wanted : classKey(cr.spec) == wanted
            if !matched { return false }
        }
        if request.hasTargetEnv, !request.targetEnv.isEmpty {
            let env = request.targetEnv
            if env != envName && env != cr.spec.targetEnv { return false }
        }
        if request.hasStatus, !request.status.isEmpty, !statusMatches(cr, request.status) { return false }
        return true
    }

    static func statusMatches(_ cr: ClassRuntime, _ filter: String) -> Bool {
        let wanted = filter.lowercased()
        let state = RuntimeState(cr)
        if state.filterName.lowercased() == wanted { return true }
        let condition: String = switch state {
        case .available: "running"
        case .progressing: "deploying"
        case .degraded: "down"
        case .pending: "pending"
        case .deleting: "deleted"
        case .unknown: "unknown"
        }
        return condition == wanted
    }

    /// Applies a request's filters, name order, then offset and limit (absent/0 limit = all).
    public static func list(
        _ crs: [ClassRuntime], _ request: Oaas_Deployment_ListClassRuntimesRequest, envName: String
    ) -> [Oaas_Runtime_ClassRuntimeSummary] {
        let matching = crs.filter { matches($0, request, envName: envName) }.sorted { $0.name < $1.name }
        let offset = request.hasOffset ? Int(request.offset) : 0
        var page = Array(matching.dropFirst(offset))
        if request.hasLimit, request.limit > 0 { page = Array(page.prefix(Int(request.limit))) }
        return page.map { summary($0, envName: envName) }
    }
}
