// swift-tools-version: 6.1
// Builds the protoc plugins used by `make proto`. Kept apart from the main package so that
// normal builds never compile the code generators.
import PackageDescription

let package = Package(
    name: "oaas-protoc-plugins",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    ],
    targets: [
        .executableTarget(
            name: "noop",
            dependencies: [
                .product(name: "protoc-gen-swift", package: "swift-protobuf"),
                .product(name: "protoc-gen-grpc-swift-2", package: "grpc-swift-protobuf"),
            ]
        ),
    ]
)
