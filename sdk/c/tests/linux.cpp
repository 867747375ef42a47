// A contract for the Linux profile: the C++ standard library inside a contract.
// Built as a normal static program with -DX64VM_LINUX (see sdk/c/contract.mk):
//
//   g++ -std=c++17 -O2 -static -fno-pie -no-pie -DX64VM_LINUX -I sdk/c/include
//       -o linux.elf linux.cpp
//
// std::string, std::vector, std::map, <algorithm>, iostreams and exceptions all
// come from libstdc++ and glibc, whose system calls the VM's Linux profile
// answers deterministically.
#include <algorithm>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <x64vm.h>

namespace {

// Results must outlive the function (they are encoded after it returns).
std::string result;

x64vm::String view(const std::string &s) { return x64vm::String{s.data(), (uint32_t)s.size()}; }

} // namespace

// "word=count" for each distinct word, in sorted order, space separated.
X64VM_VIEW(string, word_counts, (string, text)) {
    std::map<std::string, int> counts;
    std::istringstream in(std::string(text.ptr, text.len));
    std::string word;
    while (in >> word)
        counts[word]++;
    std::ostringstream out;
    for (const auto &[w, n] : counts)
        out << w << '=' << n << ' ';
    result = out.str();
    if (!result.empty())
        result.pop_back();
    return view(result);
}

// The median byte of `data` (sorted with std::sort in a std::vector).
X64VM_VIEW(u64, median, (bytes, data)) {
    std::vector<uint8_t> v(data.ptr, data.ptr + data.len);
    if (v.empty())
        throw std::invalid_argument("median of nothing");
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// An exception escaping a function reverts with its what().
X64VM_VIEW(u64, checked_div, (u64, a)(u64, b)) {
    if (b == 0)
        throw std::domain_error("division by zero");
    auto owned = std::make_unique<uint64_t>(a / b);
    return *owned;
}

X64VM_MAIN(linux_probe,
           X64VM_FUNC(word_counts)
           X64VM_FUNC(median)
           X64VM_FUNC(checked_div))
