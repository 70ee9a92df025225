extension Reconciler {
    /// The desired children (§9.4 step 3), a pure function of the CR and the context.
    func render(_ runtime: ClassRuntime, context: RenderContext) throws(CRMError) -> RenderedChildren {
        try Renderer.render(runtime, context: context, mode: .kubernetes)
    }
}
