extension Array where Element == UInt8 {
    /// Writes at most `capacity` bytes straight into the array's storage after its last byte — `write` gets where
    /// to start and returns how many it wrote — instead of formatting into scratch memory and appending a copy
    /// (the copy, and the append's checks, were most of writing a small piece: a key, a number).
    @inline(__always)
    package mutating func appendInPlace(upTo capacity: Int, _ write: (UnsafeMutablePointer<UInt8>) -> Int) {
        append(addingCapacity: capacity) { span in
            span.withUnsafeMutableBufferPointer { buffer, initialized in
                let written = write(buffer.baseAddress!)
                precondition(written <= buffer.count, "wrote past the room asked for")
                initialized = written
            }
        }
    }
}
