import ArenaTestSupport
import Foundation
import Testing

/// The layering of docs/ARCHITECTURE.md, read from the package itself (`swift package describe`) and from every
/// source file's imports: a dependency the layering forbids fails here, whatever the compiler let through.
@Suite("Architecture: the target graph and the imports follow the documented layers")
struct ArchitectureTests {
    struct Target {
        var name: String
        var type: String
        var path: String
        var targets: [String]
        var products: [String]
    }

    /// The package's targets, as SwiftPM sees them.
    static func targets() throws -> [String: Target] {
        let json = try ProcessRunner.runSystem(
            "/usr/bin/env",
            [
                "swift", "package", "--package-path", TestPaths.packageRoot.path, "--ignore-lock", "describe", "--type",
                "json",
            ]
        )
        let root = try #require(
            try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
            "swift package describe printed no JSON"
        )
        let list = try #require(root["targets"] as? [[String: Any]])
        var table: [String: Target] = [:]
        for entry in list {
            let name = try #require(entry["name"] as? String)
            table[name] = Target(
                name: name,
                type: entry["type"] as? String ?? "",
                path: entry["path"] as? String ?? "",
                targets: entry["target_dependencies"] as? [String] ?? [],
                products: entry["product_dependencies"] as? [String] ?? []
            )
        }
        return table
    }

    /// Every target `name` reaches, itself excluded.
    static func reach(_ name: String, in graph: [String: Target]) -> Set<String> {
        var seen: Set<String> = []
        var stack = graph[name]?.targets ?? []
        while let next = stack.popLast() {
            if seen.insert(next).inserted { stack += graph[next]?.targets ?? [] }
        }
        return seen
    }

    static let engineLayers = ["ArenaCore", "ArenaAdapters", "ArenaRuntime", "Engine"]

    @Test func targetGraph_isAcyclic_andPointsDownTheLayers() throws {
        let graph = try Self.targets()
        for layer in Self.engineLayers + ["Shared", "ControlAPI"] {
            #expect(graph[layer] != nil, "target \(layer) is missing from the package")
        }
        for name in graph.keys {
            #expect(!Self.reach(name, in: graph).contains(name), "\(name) depends on itself through a cycle")
        }
        // The core: pure values and logic. It sees Shared and nothing of the engine above it, and no I/O package.
        let core = try #require(graph["ArenaCore"])
        #expect(
            Self.reach("ArenaCore", in: graph).isDisjoint(with: [
                "ArenaAdapters", "ArenaRuntime", "Engine", "ControlAPI",
            ])
        )
        #expect(Set(core.products).isSubset(of: ["Crypto", "Mustache"]), "ArenaCore's packages: \(core.products)")
        // The adapters sit on the core and never reach up to the executable.
        #expect(Self.reach("ArenaAdapters", in: graph).contains("ArenaCore"))
        #expect(Self.reach("ArenaAdapters", in: graph).isDisjoint(with: ["ArenaRuntime", "Engine"]))
        // The runtime (manager, cycle, backtest, assembly) sits on the adapters; only the commands are above it.
        #expect(Self.reach("ArenaRuntime", in: graph).isSuperset(of: ["ArenaAdapters", "ArenaCore"]))
        #expect(!Self.reach("ArenaRuntime", in: graph).contains("Engine"))
        // The engine's test harness builds on the runtime, never on the executable; the shared test helpers see
        // no engine layer (the API's tests use them).
        #expect(Self.reach("EngineTestSupport", in: graph).contains("ArenaRuntime"))
        #expect(!Self.reach("EngineTestSupport", in: graph).contains("Engine"))
        #expect(Self.reach("ArenaTestSupport", in: graph).isDisjoint(with: Self.engineLayers))
        // The executable is the top: only its tests depend on it.
        let dependents = graph.values.filter { $0.targets.contains("Engine") }.map(\.name)
        #expect(dependents == ["EngineTests"], "\(dependents)")
        // The read path stays a stateless reader: no engine layer below the API or below Shared.
        for reader in ["ControlAPI", "Shared", "ControlAPITests", "SharedTests", "ArenaTestSupport"] {
            let reached = Self.reach(reader, in: graph)
            #expect(reached.isDisjoint(with: Self.engineLayers), "\(reader) reaches \(reached)")
        }
        // The engine's targets live under Sources/Engine, each in its own folder.
        let paths = Self.engineLayers.compactMap { graph[$0]?.path }
        #expect(paths.allSatisfy { $0.hasPrefix("Sources/Engine/") }, "\(paths)")
        #expect(Set(paths).count == Self.engineLayers.count)
    }

    /// SwiftPM can let a file import a module of the same package that its target does not declare (the module is
    /// on the search path once built), so the imports are checked against the declared graph too.
    @Test func everySourceFile_importsOnlyWhatItsTargetMayReach() throws {
        let graph = try Self.targets()
        let ours = Set(graph.keys)
        var files = 0
        for target in graph.values where target.type != "test" && target.type != "system-target" {
            let allowed = Self.reach(target.name, in: graph)
            let folder = TestPaths.packageRoot.appendingPathComponent(target.path)
            let enumerator = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)
            while let url = enumerator?.nextObject() as? URL {
                guard url.pathExtension == "swift" else { continue }
                files += 1
                let text = try String(contentsOf: url, encoding: .utf8)
                for line in text.split(separator: "\n") where line.contains("import ") {
                    let words = line.split(separator: " ")
                    guard let index = words.firstIndex(of: "import"), index + 1 < words.count else { continue }
                    let module = String(words[index + 1])
                    guard ours.contains(module), module != target.name else { continue }
                    #expect(
                        allowed.contains(module),
                        "\(target.path)/\(url.lastPathComponent) imports \(module), which \(target.name) may not reach"
                    )
                }
            }
        }
        #expect(files > 100)
    }

    /// The test itself must be able to fail: a graph with a back-reference is caught by the same rules.
    @Test func reach_seesABackReference() {
        let graph = [
            "ArenaCore": Target(name: "ArenaCore", type: "library", path: "", targets: ["X"], products: []),
            "X": Target(name: "X", type: "library", path: "", targets: ["Engine"], products: []),
            "Engine": Target(name: "Engine", type: "executable", path: "", targets: ["ArenaCore"], products: []),
        ]
        #expect(Self.reach("ArenaCore", in: graph).contains("Engine"))
        #expect(Self.reach("Engine", in: graph).contains("Engine"))
    }
}
