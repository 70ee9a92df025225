extension Reconciler {
    /// The desired children (§9.4 step 3), a pure function of the CR and the context. Fields the NFR enforcer owns
    /// are left out (§12), so this controller's apply never reverts them.
    func render(_ runtime: ClassRuntime, context: RenderContext) throws(CRMError) -> RenderedChildren {
        var context = context
        context.enforcedFields = NFREnforcedFields.derive(runtime, enforcementEnabled: config.nfrEnforcementEnabled) {
            cache.get($0, $1)
        }
        return try Renderer.render(runtime, context: context, mode: .kubernetes)
    }
}
