import FunctionKit

/// `echo`: answers the payload verbatim, typed as the request's `content-type` option when given.
/// Served both stateless and as an object method, so either invoke path can be tried.
enum Echo {
    static func register(in app: inout FunctionApp) {
        app.stateless("echo") { call in
            .ok(call.payload, contentType: call.options["content-type"])
        }
        app.object("echo") { call in
            .ok(call.payload, contentType: call.options["content-type"])
        }
    }
}
