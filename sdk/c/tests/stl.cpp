// The C++ standard library in a freestanding contract (no C library, no Linux
// profile): containers, strings, algorithms, std::function and smart pointers,
// on the VM heap through the SDK's operator new. Built with the default rules
// of sdk/c/contract.mk and X64VM_CXXSTD=c++20 (std::string, see contract.mk).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_map>
#include <vector>

#include <x64vm.h>

namespace {

// Results must outlive the function (they are encoded after it returns).
std::string *result = nullptr;

x64vm::String keep(std::string s) {
    if (result == nullptr)
        result = new std::string();
    *result = std::move(s);
    return x64vm::String{result->data(), static_cast<uint32_t>(result->size())};
}

std::vector<std::string> words(const x64vm::String &text) {
    std::string all(text.ptr, text.len);
    std::vector<std::string> out;
    size_t at = 0;
    while (at < all.size()) {
        size_t end = all.find(' ', at);
        if (end == std::string::npos)
            end = all.size();
        if (end > at)
            out.push_back(all.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

} // namespace

// "word=count" for each distinct word, in sorted order (std::map).
X64VM_VIEW(string, word_counts, (string, text)) {
    std::map<std::string, int> counts;
    for (const auto &w : words(text))
        counts[w]++;
    std::string out;
    for (const auto &[w, n] : counts) {
        if (!out.empty())
            out += ' ';
        out += w + '=' + std::to_string(n);
    }
    return keep(std::move(out));
}

// The most frequent word (std::unordered_map, std::max_element; ties: the
// smallest word).
X64VM_VIEW(string, most_frequent, (string, text)) {
    std::unordered_map<std::string, int> counts;
    for (auto &w : words(text))
        counts[std::move(w)]++;
    auto best = std::max_element(counts.begin(), counts.end(), [](const auto &a, const auto &b) {
        return a.second != b.second ? a.second < b.second : a.first > b.first;
    });
    return keep(best == counts.end() ? std::string() : best->first);
}

// The byte at `index` of `data` once sorted: std::vector::at reverts when out
// of range.
X64VM_VIEW(u64, sorted_at, (bytes, data)(u64, index)) {
    std::vector<uint8_t> v(data.ptr, data.ptr + data.len);
    std::sort(v.begin(), v.end());
    return v.at(index);
}

// Applies a chain of std::function steps held by shared_ptrs (made with `new`:
// std::make_shared needs the library's type_info comparison, which is not
// freestanding), then a unique_ptr'd one.
X64VM_VIEW(u64, pipeline, (u64, x)) {
    using Step = std::function<uint64_t(uint64_t)>;
    std::vector<std::shared_ptr<Step>> steps;
    steps.emplace_back(new Step([](uint64_t v) { return v + 1; }));
    uint64_t k = 3;
    steps.emplace_back(new Step([k](uint64_t v) { return v * k; }));
    auto copy = steps; // shared ownership
    auto last = std::make_unique<Step>([](uint64_t v) { return v - 2; });
    std::vector<uint64_t> trace{x};
    for (const auto &s : copy)
        trace.push_back((*s)(trace.back()));
    trace.push_back((*last)(trace.back()));
    // x, x+1, 3(x+1), 3(x+1)-2, summed; then the use count (2).
    return std::accumulate(trace.begin(), trace.end(), uint64_t{0}) * 1000 + steps[0].use_count();
}

X64VM_MAIN(stl,
           X64VM_FUNC(word_counts)
           X64VM_FUNC(most_frequent)
           X64VM_FUNC(sorted_at)
           X64VM_FUNC(pipeline))
