"""A Python grpcio server speaking test.Echo with raw bytes (no protobuf), for interop tests.

Get echoes the request ("status:<code>:<message>" aborts with that status and message), Expand streams N messages
of K KiB for a request [N, K], Stall waits until the call is cancelled or its deadline passes.
Prints the bound port on stdout, then serves until stdin reaches EOF or SIGTERM arrives.
"""
import signal
import sys
import threading
from concurrent import futures

import grpc


def get(request, context):
    text = request.decode("utf-8", "replace")
    if text.startswith("status:"):
        fields = text.split(":", 2)
        code_value = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else 2
        code = next((c for c in grpc.StatusCode if c.value[0] == code_value), grpc.StatusCode.UNKNOWN)
        context.abort(code, fields[2] if len(fields) > 2 else "")
    echoed = [(k, v) for k, v in context.invocation_metadata() if k.startswith("echo-")]
    if echoed:
        context.send_initial_metadata(echoed)
    context.set_trailing_metadata([("x-trailer", "done")])
    return request


def expand(request, context):
    count = request[0] if len(request) > 0 else 0
    size = request[1] * 1024 if len(request) > 1 else 1
    for index in range(count):
        yield bytes([index % 256]) * size


def stall(request, context):
    done = threading.Event()
    context.add_callback(done.set)
    done.wait(3600)
    return b""


def main():
    handlers = {
        "Get": grpc.unary_unary_rpc_method_handler(get),
        "Expand": grpc.unary_stream_rpc_method_handler(expand),
        "Stall": grpc.unary_unary_rpc_method_handler(stall),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Echo", handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    print(port, flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())

    def wait_for_eof():
        sys.stdin.read()
        stop.set()

    threading.Thread(target=wait_for_eof, daemon=True).start()
    stop.wait()
    server.stop(grace=0.5).wait()


if __name__ == "__main__":
    main()
