// The C++ side of the SDK's test contract (see probe.c): the C++ layer of
// x64vm.h — compile-time keccak/selectors/topics, Value/Map (nested, with
// integer, string and address keys), Writer/Reader, Call/return_value, and the
// freestanding C++ runtime the SDK supplies (operator new/delete, virtual
// functions, static constructors, function-local statics).
#include <x64vm.h>

using x64vm::Address;
using x64vm::String;
using x64vm::u128;

X64VM_EVENT(Ping, (u64, n)(bytes, data)(address, who)(bool, flag)(i128, big)(string, text))
X64VM_EVENT(Pair, (u8, a)(i16, b))

namespace {

// Compile-time hashing: the compiler computes these.
constexpr uint32_t kTransferSelector = x64vm::selector("transfer(address,u128)");
constexpr x64vm::Hash kTransferTopic = x64vm::keccak256("Transfer(address,address,u128)");
static_assert(kTransferSelector == 0x746a3ef3u, "keccak256(\"transfer(address,u128)\") starts f3 3e 6a 74");
static_assert(x64vm::keccak256("").bytes[0] == 0xc5 && x64vm::keccak256("").bytes[31] == 0x70,
              "keccak256 of the empty string");

// Virtual functions and the heap.
struct Shape {
    virtual ~Shape() = default;
    virtual uint64_t area() const = 0;
};
struct Rect : Shape {
    uint64_t w, h;
    Rect(uint64_t w_, uint64_t h_) : w(w_), h(h_) {}
    uint64_t area() const override { return w * h; }
};
struct Square : Rect {
    explicit Square(uint64_t s) : Rect(s, s) {}
    uint64_t area() const override { return Rect::area() + 1; }
};

// A global with a constructor that runs at start-up (through .init_array).
struct Boot {
    volatile uint64_t value;
    Boot() : value(0) {
        for (uint64_t i = 1; i <= 6; i++)
            value = value + i * i; // 91
    }
};
Boot boot;

uint64_t calls() {
    static uint64_t n = boot.value; // a function-local static, initialised once
    return ++n;
}

// Storage handles: "n" ‖ 0 ‖ u64 -> string (the same layout as probe.c's
// name_number), and a nested map "grid" ‖ 0 ‖ address ‖ string -> u64.
constexpr x64vm::Map<uint64_t, String> numbers{"n"};
constexpr x64vm::Map<Address, x64vm::Map<String, uint64_t>> grid{"grid"};
constexpr x64vm::Value<int64_t> signed_value{"signed"};

template <class T> T sum_all(T first) { return first; }
template <class T, class... Rest> T sum_all(T first, Rest... rest) {
    return first + sum_all<T>(static_cast<T>(rest)...);
}

} // namespace

// selector(transfer) (4, little-endian u32) ‖ topic(Transfer) ‖ keccak256 of the
// same text through the host service.
X64VM_VIEW(bytes, selectors) {
    static x64vm::Writer *w = new x64vm::Writer();
    *w << kTransferSelector;
    w->raw(kTransferTopic.bytes, 32);
    static const char sig[] = "Transfer(address,address,u128)";
    x64vm::Hash h = x64vm_keccak256(sig, sizeof sig - 1);
    w->raw(h.bytes, 32);
    return x64vm_bytes(w->data(), (uint32_t)w->size());
}

// n shapes made with new, their areas summed, deleted again.
X64VM_VIEW(u64, shapes, (u32, n)) {
    Shape **all = new Shape *[n];
    for (uint32_t i = 0; i < n; i++)
        all[i] = i % 2 ? static_cast<Shape *>(new Rect(i, 2)) : new Square(i);
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        total += all[i]->area();
        delete all[i];
    }
    delete[] all;
    return total;
}

// The static constructor's value plus the calls made through the local static.
X64VM_VIEW(u64, init_order) {
    calls();
    return calls(); // 91 + 2
}

X64VM_FN(string, name_number, (u64, n)(string, text)) {
    auto entry = numbers[n];
    String old = entry.get();
    if (text.len == 0)
        entry.remove();
    else
        entry = text;
    return old;
}

X64VM_FN(void, grid_set, (address, who)(string, cell)(u64, v)) { grid[who][cell] = v; }
X64VM_VIEW(u64, grid_get, (address, who)(string, cell)) { return grid[who][cell]; }

// Stores v; returns the previous value (0 when there was none).
X64VM_FN(i64, swap_signed, (i64, v)) {
    int64_t old = signed_value;
    signed_value = v;
    return old;
}

// A typed nested call: counter.get() through Call and return_value.
X64VM_VIEW(u64, counter_get, (address, counter)) {
    constexpr uint32_t get = x64vm::selector("get()");
    int status = x64vm::Call(get).send(counter);
    x64vm::require(status == X64VM_CALL_SUCCESS, "probe: counter call failed");
    return x64vm::return_value<uint64_t>();
}

// Writer and Reader round trip of every type; returns the re-encoded bytes.
X64VM_VIEW(bytes, roundtrip, (bytes, data)) {
    x64vm::Reader r(data.ptr, data.len);
    uint8_t a = r.read<uint8_t>();
    uint16_t b = r.read<uint16_t>();
    uint32_t c = r.read<uint32_t>();
    uint64_t d = r.read<uint64_t>();
    u128 e = r.read<u128>();
    int8_t f = r.read<int8_t>();
    int16_t g = r.read<int16_t>();
    int32_t h = r.read<int32_t>();
    int64_t i = r.read<int64_t>();
    x64vm::i128 j = r.read<x64vm::i128>();
    bool k = r.read<bool>();
    Address l = r.read<Address>();
    x64vm::Bytes m = r.read<x64vm::Bytes>();
    String n = r.read<String>();
    r.end();
    static x64vm::Writer *w = new x64vm::Writer();
    *w << a << b << c << d << e << f << g << h << i << j << k << l << m << n;
    return x64vm_bytes(w->data(), (uint32_t)w->size());
}

X64VM_VIEW(i128, sum, (u8, a)(u16, b)(u32, c)(u64, d)(i8, e)(i16, f)(i32, g)(i64, h)(i128, i)
                          (bool, negate)) {
    x64vm::i128 s = sum_all<x64vm::i128>(a, b, c, d, e, f, g, h, i);
    return negate ? -s : s;
}

X64VM_FN(void, ping, (u64, n)(bytes, data)(address, who)(bool, flag)(i128, big)(string, text)) {
    X64VM_EMIT(Ping, n, data, who, flag, big, text);
    X64VM_EMIT(Pair, 7, -2);
}

// Checked arithmetic: a + b or a revert.
X64VM_VIEW(u128, add, (u128, a)(u128, b)) { return x64vm::checked_add(a, b, "probe: overflow"); }

X64VM_MAIN(probe_cpp,
           X64VM_FUNC(selectors)
           X64VM_FUNC(shapes)
           X64VM_FUNC(init_order)
           X64VM_FUNC(name_number)
           X64VM_FUNC(grid_set)
           X64VM_FUNC(grid_get)
           X64VM_FUNC(swap_signed)
           X64VM_FUNC(counter_get)
           X64VM_FUNC(roundtrip)
           X64VM_FUNC(sum)
           X64VM_FUNC(ping)
           X64VM_FUNC(add))
