// swift-tools-version:6.0
import PackageDescription

/// Members are visible only from modules a file imports itself, so no API (Foundation's above all)
/// reaches a file through another module's imports unnoticed.
let strictImports: [SwiftSetting] = [.enableUpcomingFeature("MemberImportVisibility")]

let package = Package(
    name: "lvs-node",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "lvs-node", targets: ["lvs-node"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // libnl-3 / libnl-route-3 / libnl-genl-3 (same include directory), seen only by HostAccess.
        .systemLibrary(
            name: "CNetlink",
            pkgConfig: "libnl-route-3.0",
            providers: [.apt(["libnl-3-dev", "libnl-route-3-dev", "libnl-genl-3-dev"])]
        ),
        // libyaml's event parser, seen only by NodeModel (YAMLValue).
        .systemLibrary(name: "CYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // zlib's inflate, seen only by NodeModel (gzip-compressed cloud-init user-data).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // syslog(3) behind a plain C function, seen only by the command line (SystemLog).
        .systemLibrary(name: "CSyslog"),
        .target(name: "HostAccess", dependencies: ["CNetlink"], swiftSettings: strictImports),
        // The release version and the commit it was built from (`lvs-node --version`).
        .plugin(name: "BuildCommit", capability: .buildTool()),
        .target(name: "BuildInfo", plugins: ["BuildCommit"]),
        .target(name: "ShippedData", resources: [.embedInCode("roles"), .embedInCode("templates")]),
        .target(name: "Render", dependencies: ["ShippedData"], swiftSettings: strictImports),
        .target(name: "NodeModel", dependencies: ["CYAML", "CZlib", "ShippedData"], swiftSettings: strictImports),
        .target(name: "Engine", dependencies: ["HostAccess"], swiftSettings: strictImports),
        .target(name: "Steps", dependencies: ["Engine", "HostAccess", "NodeModel", "Render"], swiftSettings: strictImports),
        .target(name: "LVSNode", dependencies: ["Engine", "Steps", "NodeModel", "HostAccess", "Render"], swiftSettings: strictImports),
        .executableTarget(
            name: "lvs-node",
            dependencies: ["LVSNode", "BuildInfo", "CSyslog", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strictImports
        ),
        .target(name: "TestSupport", dependencies: ["Engine", "HostAccess"], path: "Tests/TestSupport"),
        .testTarget(name: "NodeModelTests", dependencies: ["NodeModel"]),
        .testTarget(name: "HostAccessTests", dependencies: ["HostAccess"]),
        .testTarget(name: "RenderTests", dependencies: ["Render", "Steps", "NodeModel", "Engine", "HostAccess", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Steps", "LVSNode", "Render", "TestSupport"]),
        .testTarget(name: "CommandLineTests", dependencies: ["lvs-node", "TestSupport"]),
        // Runs the input readers over hostile and mutated inputs in a process of its own, so a trap or a
        // loop fails InputFuzzTests instead of killing the test runner. Not part of the product.
        .executableTarget(name: "lvs-node-fuzz", dependencies: ["LVSNode", "NodeModel", "Engine"], path: "Tests/FuzzHarness"),
        .testTarget(name: "InputFuzzTests", dependencies: ["lvs-node-fuzz", "lvs-node", "LVSNode", "NodeModel", "HostAccess", "TestSupport"]),
        .testTarget(name: "KernelTests", dependencies: ["lvs-node", "TestSupport", "Steps", "NodeModel", "Render", "HostAccess"]),
    ]
)
