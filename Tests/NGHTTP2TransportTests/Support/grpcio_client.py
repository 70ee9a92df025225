"""A gRPC client no one here wrote (Python grpcio) driving test.Echo on the server under test.

Usage: grpcio_client.py PORT. Prints one JSON object with what each call returned; the Swift test asserts on it.
Methods are called with raw bytes (no serializers), matching the test's EchoService.
"""
import json
import sys

import grpc


def main() -> None:
    port = int(sys.argv[1])
    result = {}
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        get = channel.unary_unary("/test.Echo/Get", request_serializer=None, response_deserializer=None)
        reply, call = get.with_call(b"hello from grpcio", metadata=(("echo-who", "python"),), timeout=10)
        result["unary"] = reply.decode()
        result["initial"] = {k: v for k, v in call.initial_metadata() if k.startswith("echo-")}
        result["trailing"] = {k: v for k, v in call.trailing_metadata() if k == "x-trailer"}

        expand = channel.unary_stream("/test.Echo/Expand", request_serializer=None, response_deserializer=None)
        result["stream"] = [len(m) for m in expand(bytes([6, 100]), timeout=10)]

        collect = channel.stream_unary("/test.Echo/Collect", request_serializer=None, response_deserializer=None)
        result["collect"] = len(collect(iter([b"a" * 1000] * 30), timeout=10))

        update = channel.stream_stream("/test.Echo/Update", request_serializer=None, response_deserializer=None)
        result["bidi"] = [m.decode() for m in update(iter([b"x", b"yy", b"zzz"]), timeout=10)]

        try:
            get("status:5:nöt found 100%".encode(), timeout=10)
            result["error"] = None
        except grpc.RpcError as error:
            result["error"] = {"code": error.code().name, "details": error.details()}

        stall = channel.unary_unary("/test.Echo/Stall", request_serializer=None, response_deserializer=None)
        try:
            stall(b"", timeout=0.3)
            result["deadline"] = None
        except grpc.RpcError as error:
            result["deadline"] = error.code().name

        # The connection still serves after the deadline.
        result["after"] = get(b"after", timeout=10).decode()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
