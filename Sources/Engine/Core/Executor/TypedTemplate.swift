/// A compiled user template bound to the user prompt's typed values (`UserPromptModel`): each variable resolved
/// once, when the template is loaded, to the function that writes its text — searched in the enclosing
/// sections' scopes innermost first, then the prompt's, as a mustache lookup searches them — and each section
/// to the list it repeats over. Rendering writes the prompt straight from the model: the text the compiled
/// template renders over `PromptContext.user`'s scopes (tests render both), without building them.
///
/// A template it cannot bind has no typed form and renders through the scopes as before: a name that is not a
/// variable of its enclosing scopes (which the scopes refuse as missing), a dotted name or `.`, a section over
/// a text, a variable that names a list. The memory variables exist only with the trader's memory, so a
/// template is bound twice: with and without them.
struct TypedTemplate: Sendable {
    typealias Kind = UserPromptModel.Kind

    indirect enum Op: Sendable {
        case text([UInt8])
        /// A variable of the element `level` sections deep (0: the prompt).
        case variable(level: Int, write: UserPromptModel.Write)
        /// A section over a list of the element `level` sections deep.
        case section(level: Int, list: Kind.List, inverted: Bool, body: [Op])
    }

    let ops: [Op]

    init?(_ template: CompiledTemplate, memory: Bool) {
        guard let ops = Self.bind(template.nodes, kinds: [.root], memory: memory) else { return nil }
        self.ops = ops
    }

    func render(_ model: UserPromptModel) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(16_384)
        var elements = [UserPromptModel.Element(index: 0, parent: 0)]
        Self.run(ops, model, &elements, &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static func run(
        _ ops: [Op],
        _ model: UserPromptModel,
        _ elements: inout [UserPromptModel.Element],
        _ output: inout [UInt8]
    ) {
        for op in ops {
            switch op {
            case .text(let bytes):
                output.append(contentsOf: bytes)
            case .variable(let level, let write):
                write(model, elements[level], &output)
            case .section(let level, let list, let inverted, let body):
                let count = list.count(model, elements[level])
                if inverted {
                    // An inverted section renders once when its list is empty, in the scopes around it.
                    if count == 0 { run(body, model, &elements, &output) }
                    continue
                }
                let parent = elements[level].index
                for index in 0..<count {
                    elements.append(UserPromptModel.Element(index: index, parent: parent))
                    run(body, model, &elements, &output)
                    elements.removeLast()
                }
            }
        }
    }

    /// `nodes` bound within the scopes of `kinds` (the prompt first, the innermost section's element last), or
    /// nil when a name does not bind.
    private static func bind(_ nodes: [CompiledTemplate.Node], kinds: [Kind], memory: Bool) -> [Op]? {
        var ops: [Op] = []
        for node in nodes {
            switch node {
            case .text(let bytes):
                ops.append(.text(bytes))
            case .variable(let name):
                guard let found = lookup(name, in: kinds, memory: memory), case .text(let text) = found.binding
                else { return nil }
                ops.append(.variable(level: found.level, write: text.write))
            case .section(let name, let inverted, let body):
                guard let found = lookup(name, in: kinds, memory: memory), case .list(let list) = found.binding,
                    let body = bind(body, kinds: inverted ? kinds : kinds + [list.kind], memory: memory)
                else { return nil }
                ops.append(.section(level: found.level, list: list, inverted: inverted, body: body))
            }
        }
        return ops
    }

    private enum Binding {
        case text(Kind.Text)
        case list(Kind.List)
    }

    /// Where a mustache lookup finds `name`: the innermost scope that has it, whatever it holds there.
    private static func lookup(
        _ name: CompiledTemplate.Name,
        in kinds: [Kind],
        memory: Bool
    ) -> (level: Int, binding: Binding)? {
        guard !name.isSelf, !name.innermostOnly, name.parts.count == 1 else { return nil }
        let head = name.parts[0]
        for level in kinds.indices.reversed() {
            if let text = kinds[level].text(head, memory: memory) { return (level, .text(text)) }
            if let list = kinds[level].list(head, memory: memory) { return (level, .list(list)) }
        }
        return nil
    }
}
