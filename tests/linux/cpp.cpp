// The C++ standard library under the Linux profile: containers, algorithms,
// strings, iostream and exceptions.
#include <algorithm>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

struct Shape {
    virtual ~Shape() = default;
    virtual long area() const = 0;
};
struct Rect : Shape {
    long w, h;
    Rect(long w, long h) : w(w), h(h) {}
    long area() const override { return w * h; }
};

template <typename T> T sum(const std::vector<T> &v) {
    T s{};
    for (const auto &x : v) s += x;
    return s;
}

int main() {
    std::vector<int> v;
    unsigned s = 7;
    for (int i = 0; i < 500; i++) {
        s = s * 1664525u + 1013904223u;
        v.push_back(static_cast<int>(s >> 20));
    }
    std::sort(v.begin(), v.end());
    std::cout << "min " << v.front() << " max " << v.back() << " sum " << sum(v) << "\n";

    std::map<std::string, int> words;
    std::istringstream in("the quick brown fox jumps over the lazy dog the end");
    std::string w;
    while (in >> w) words[w]++;
    for (const auto &[k, n] : words) std::cout << k << "=" << n << " ";
    std::cout << std::endl;

    std::vector<std::unique_ptr<Shape>> shapes;
    for (long i = 1; i <= 5; i++) shapes.push_back(std::make_unique<Rect>(i, i + 1));
    long total = 0;
    for (const auto &sh : shapes) total += sh->area();
    std::cout << "areas " << total << std::endl;

    try {
        throw std::runtime_error("boom");
    } catch (const std::exception &e) {
        std::cout << "caught " << e.what() << std::endl;
    }
    try {
        std::vector<int> empty;
        (void)empty.at(3);
    } catch (const std::out_of_range &) {
        std::cout << "out_of_range caught" << std::endl;
    }
    std::string joined;
    for (int i = 0; i < 5; i++) joined += std::to_string(i * i) + ",";
    std::cout << joined << " " << 3.25 << " " << 1e10 << std::endl;
    return 0;
}
