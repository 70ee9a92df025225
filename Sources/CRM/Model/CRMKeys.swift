/// Label, annotation and finalizer names the CRM writes (control-plane spec §10.1, §11.2). One place, so the
/// builder, the renderer and the controller can never disagree on a spelling.
public enum CRMKeys {
    // ClassRuntime labels
    public static let deploymentId = "oaas.io/deployment-id"
    public static let classLabel = "oaas.io/class"
    public static let packageLabel = "oaas.io/package"
    public static let deploymentKeyLabel = "oaas.io/deployment-key"
    public static let envLabel = "oaas.io/env"
    public static let regionLabel = "oaas.io/region"
    public static let zoneLabel = "oaas.io/zone"
    public static let hwClassLabel = "oaas.io/hw-class"
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let managedByValue = "oaas-crm"
    public static let partOf = "app.kubernetes.io/part-of"
    public static let partOfValue = "oaas"

    // Child labels
    public static let app = "app"
    public static let owner = "oaas.io/owner"
    public static let component = "oaas.io/component"
    public static let function = "oaas.io/function"
    public static let appName = "app.kubernetes.io/name"

    // Annotations
    public static let correlationId = "oaas.io/correlation-id"
    public static let revision = "oaas.io/revision"
    public static let packageClassKey = "oaas.io/package-class-key"
    public static let retainData = "oaas.io/retain-data"
    public static let appliedHash = "oaas.io/applied-hash"
    public static let http2 = "oaas.io/http2"

    public static let finalizer = "oaas.io/finalizer"
    /// Server-side-apply manager of the CR spec, its children and its status.
    public static let fieldManager = "oprc-crm"
    /// Server-side-apply manager of fields the NFR enforcer owns.
    public static let enforcerFieldManager = "oprc-crm-enforcer"
}
