# contract.mk — compiler and linker flags for x64vm contracts written with the
# C/C++ SDK (sdk/c/include/x64vm.h). Include it from a contract's Makefile:
#
#     include path/to/sdk/c/contract.mk
#     all: c/counter.elf cpp/counter.elf      # built from c/counter.c, cpp/counter.cpp
#
# It defines the flags below and two pattern rules, %.elf from %.c and from %.cpp.
# The same commands without make:
#
#   gcc -std=c11 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
#       -fno-stack-protector -fno-asynchronous-unwind-tables -Wall \
#       -I sdk/c/include -o counter.elf counter.c -lgcc
#   g++ -std=c++17 -O2 -static -nostdlib -ffreestanding -fno-pie -no-pie \
#       -fno-stack-protector -fno-asynchronous-unwind-tables -Wall \
#       -fno-exceptions -fno-rtti -fno-threadsafe-statics \
#       -I sdk/c/include -o counter.elf counter.cpp -lstdc++ -lgcc
#
# Why each flag:
#   -static -nostdlib        one self-contained executable, no C library, no crt0:
#                            the SDK's X64VM_MAIN defines _start and the few
#                            symbols the compiler calls (memcpy, memset, ...)
#   -ffreestanding           no assumptions about a hosted C library
#   -fno-pie -no-pie         a fixed-address ET_EXEC: nothing would apply a PIE's
#                            relocations in a contract
#   -fno-stack-protector     no __stack_chk_fail / TLS canary (there is no TLS)
#   -fno-asynchronous-unwind-tables   no .eh_frame: smaller files
#   -lgcc (after the sources) 128-bit division and multiplication helpers
#   -lstdc++ (C++, before -lgcc) the few non-template parts of the standard
#                            containers (std::map's tree rebalancing, the hash
#                            tables' bucket sizes); the SDK supplies the rest
#   C++: -fno-exceptions -fno-rtti (no unwinder or typeinfo in a freestanding
#        contract), -fno-threadsafe-statics (no guard locks; the SDK still
#        supplies single-threaded __cxa_guard_* in case it is left out)
#   -std=c++17 is the default (X64VM_CXXSTD). std::vector, std::map,
#        std::unordered_map, std::function, smart pointers and <algorithm> work
#        in a freestanding contract; std::string needs X64VM_CXXSTD=c++20 with
#        gcc 12 (before C++20 its code lives in the shared library build of
#        libstdc++, which needs the C library). iostreams, locales, threads and
#        exceptions need the Linux profile.
# SSE and x87 are implemented by the VM: the compilers' default code generation
# is fine, no -mgeneral-regs-only. -O0 ... -O3 and -Os all work.
#
# Linux profile (std::string, std::vector, std::map, exceptions): link normally
# with the C library and define X64VM_LINUX, e.g.
#   g++ -std=c++17 -O2 -static -fno-pie -no-pie -DX64VM_LINUX -I sdk/c/include \
#       -o prog.elf prog.cpp
# (X64VM_LINUX_CXXFLAGS below; the rules `%.linux.elf: %.cpp` and `%.c` build
# this way). Such a contract needs a host that serves the deterministic Linux
# system-call subset; see sdk/c/README.md.

X64VM_SDK_C := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))

X64VM_CC ?= gcc
X64VM_CXX ?= g++
X64VM_OPT ?= -O2

X64VM_COMMON_FLAGS = $(X64VM_OPT) -static -nostdlib -ffreestanding -fno-pie -no-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -Wall -I$(X64VM_SDK_C)/include
X64VM_CSTD ?= c11
X64VM_CXXSTD ?= c++17
X64VM_CFLAGS = -std=$(X64VM_CSTD) $(X64VM_COMMON_FLAGS)
X64VM_CXXFLAGS = -std=$(X64VM_CXXSTD) $(X64VM_COMMON_FLAGS) -fno-exceptions -fno-rtti \
	-fno-threadsafe-statics
X64VM_LDLIBS = -lgcc
X64VM_CXX_LDLIBS = -lstdc++ -lgcc
X64VM_HEADER = $(X64VM_SDK_C)/include/x64vm.h

X64VM_LINUX_CFLAGS = -std=gnu11 $(X64VM_OPT) -static -fno-pie -no-pie -Wall \
	-DX64VM_LINUX -I$(X64VM_SDK_C)/include
X64VM_LINUX_CXXFLAGS = -std=$(X64VM_CXXSTD) $(X64VM_OPT) -static -fno-pie -no-pie -Wall \
	-DX64VM_LINUX -I$(X64VM_SDK_C)/include

%.elf: %.c $(X64VM_HEADER)
	$(X64VM_CC) $(X64VM_CFLAGS) -o $@ $< $(X64VM_LDLIBS)

%.elf: %.cpp $(X64VM_HEADER)
	$(X64VM_CXX) $(X64VM_CXXFLAGS) -o $@ $< $(X64VM_CXX_LDLIBS)

# Linux-profile builds (with the C library and libstdc++): name.linux.elf.
%.linux.elf: %.c $(X64VM_HEADER)
	$(X64VM_CC) $(X64VM_LINUX_CFLAGS) -o $@ $<

%.linux.elf: %.cpp $(X64VM_HEADER)
	$(X64VM_CXX) $(X64VM_LINUX_CXXFLAGS) -o $@ $<
