// A counter: increment() -> u64, get() -> u64 (view), reset().
//
// The same ABI and storage layout as examples/counter/c and examples/counter/rust
// (a Borsh u64 under the key "count"), written as a C++ class template over the
// count's type.
#include <x64vm.h>

// A counter of any unsigned integer type T, stored under one key.
template <class T> class Counter {
  public:
    constexpr explicit Counter(const char *key) : count_(key) {}

    // Adds one and returns the new count; reverts on overflow.
    T increment() const {
        T next = x64vm::checked_add<T>(count_.get(), 1, "counter: overflow");
        count_ = next;
        return next;
    }

    T get() const { return count_.get(); }

    // Back to 0 (the stored value is removed).
    void reset() const { count_.remove(); }

  private:
    x64vm::Value<T> count_;
};

// The contract's state: only keys, so it is constant-initialised (no constructor
// runs at start-up).
static constexpr Counter<uint64_t> counter{"count"};

X64VM_FN(u64, increment) { return counter.increment(); }
X64VM_VIEW(u64, get) { return counter.get(); }
X64VM_FN(void, reset) { counter.reset(); }

X64VM_MAIN(counter,
           X64VM_FUNC(increment)
           X64VM_FUNC(get)
           X64VM_FUNC(reset))
