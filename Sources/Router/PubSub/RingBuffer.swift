/// A fixed-capacity FIFO that overwrites its oldest element when full.
struct RingBuffer<Element> {
    private var storage: [Element?]
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        storage = Array(repeating: nil, count: max(1, capacity))
    }

    var capacity: Int { storage.count }
    var isEmpty: Bool { count == 0 }

    /// Appends `element`; returns true when the oldest element had to be dropped to make room.
    @discardableResult
    mutating func append(_ element: Element) -> Bool {
        let tail = (head + count) % storage.count
        storage[tail] = element
        if count == storage.count {
            head = (head + 1) % storage.count
            return true
        }
        count += 1
        return false
    }

    mutating func popFirst() -> Element? {
        guard count > 0 else { return nil }
        let element = storage[head]
        storage[head] = nil
        head = (head + 1) % storage.count
        count -= 1
        return element
    }
}
