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
        case variable(level: Int, text: Kind.Text)
        /// A section over a list of the element `level` sections deep.
        case section(level: Int, list: Kind.List, inverted: Bool, body: [Op])
    }

    /// The ops flattened into one program of plain steps (the indirect ops' payloads were retained and released
    /// at every step of every render: 15 % of a replay): a text is a range of `text`, a variable an index into
    /// `writes`, a section an index into `counts` and the end of its body, which follows it.
    private enum Step: Sendable {
        case text(start: Int, end: Int)
        case variable(level: Int, write: Int)
        case section(level: Int, count: Int, inverted: Bool, end: Int)
    }

    private let steps: [Step]
    private let text: [UInt8]
    /// The variables' and the sections' functions, each in the struct that names it: an array of bare functions
    /// holds each behind a reabstraction thunk (an array's elements are generic), a heap object that every call
    /// retains and releases — the same objects from every core at once while replay renders in parallel, ~9 % of
    /// a replay. In a struct a function is stored as it is, and one that captures nothing has no object at all.
    private let writes: [Kind.Text]
    private let counts: [Kind.List]

    init?(_ template: CompiledTemplate, memory: Bool) {
        guard let ops = Self.bind(template.nodes, kinds: [.root], memory: memory) else { return nil }
        var steps: [Step] = []
        var text: [UInt8] = []
        var writes: [Kind.Text] = []
        var counts: [Kind.List] = []
        func flatten(_ ops: [Op]) {
            for op in ops {
                switch op {
                case .text(let bytes):
                    steps.append(.text(start: text.count, end: text.count + bytes.count))
                    text += bytes
                case .variable(let level, let variable):
                    steps.append(.variable(level: level, write: writes.count))
                    writes.append(variable)
                case .section(let level, let list, let inverted, let body):
                    let at = steps.count
                    let count = counts.count
                    counts.append(list)
                    steps.append(.section(level: level, count: count, inverted: inverted, end: at + 1))
                    flatten(body)
                    steps[at] = .section(level: level, count: count, inverted: inverted, end: steps.count)
                }
            }
        }
        flatten(ops)
        self.steps = steps
        self.text = text
        self.writes = writes
        self.counts = counts
    }

    func render(_ model: UserPromptModel) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(16_384)
        var elements = [UserPromptModel.Element(index: 0, parent: 0)]
        text.withUnsafeBufferPointer { text in
            run(steps.indices, text, model, &elements, &output)
        }
        return String(decoding: output, as: UTF8.self)
    }

    private func run(
        _ range: Range<Int>,
        _ text: UnsafeBufferPointer<UInt8>,
        _ model: UserPromptModel,
        _ elements: inout [UserPromptModel.Element],
        _ output: inout [UInt8]
    ) {
        var step = range.lowerBound
        while step < range.upperBound {
            switch steps[step] {
            case .text(let start, let end):
                output.append(contentsOf: UnsafeBufferPointer(rebasing: text[start..<end]))
                step += 1
            case .variable(let level, let write):
                writes[write].write(model, elements[level], &output)
                step += 1
            case .section(let level, let count, let inverted, let end):
                let body = (step + 1)..<end
                let times = counts[count].count(model, elements[level])
                if inverted {
                    // An inverted section renders once when its list is empty, in the scopes around it.
                    if times == 0 { run(body, text, model, &elements, &output) }
                } else {
                    let parent = elements[level].index
                    for index in 0..<times {
                        elements.append(UserPromptModel.Element(index: index, parent: parent))
                        run(body, text, model, &elements, &output)
                        elements.removeLast()
                    }
                }
                step = end
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
                ops.append(.variable(level: found.level, text: text))
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
