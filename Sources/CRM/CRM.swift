/// The CRM role: the `oaas.deployment.DeploymentService` over gRPC and the `ClassRuntime` controller.
public enum CRM {}
