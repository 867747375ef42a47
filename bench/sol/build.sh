#!/usr/bin/env bash
# Regenerates the committed bytecode of Fib.sol and Token.sol with solcjs (the
# `solc` npm package). Writes, as hex without 0x, one file per contract and kind:
#   <Contract>.bin          creation (deploy) code (Token: without its constructor
#                           argument, which the bench appends)
#   <Contract>.bin-runtime  runtime (deployed) code
#   fib.selector            the 4-byte selector of fib(uint256)
#   token.selectors         Token's selectors, one "<hex> <signature>" a line
# and solc.version, the full version of the compiler that made them.
# Needs node and npm; installs solc into a temporary folder, never globally.
set -euo pipefail

SOLC_VERSION=0.8.37 # pinned: the committed bytecode was made with this version
EVM_VERSION=cancun  # pinned: the bench runs it in revm with the Cancun spec
OPTIMIZE_RUNS=200   # solc's default when the optimizer is on

here="$(cd "$(dirname "$0")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm install --silent --no-audit --no-fund "solc@$SOLC_VERSION" >/dev/null

# Standard-JSON input: optimizer on, no metadata hash (so the bytes depend only
# on the source and these settings).
HERE="$here" EVM_VERSION="$EVM_VERSION" OPTIMIZE_RUNS="$OPTIMIZE_RUNS" node -e '
const fs = require("fs");
fs.writeFileSync("input.json", JSON.stringify({
  language: "Solidity",
  sources: Object.fromEntries(["Fib.sol", "Token.sol"].map((f) =>
    [f, { content: fs.readFileSync(`${process.env.HERE}/${f}`, "utf8") }])),
  settings: {
    optimizer: { enabled: true, runs: Number(process.env.OPTIMIZE_RUNS) },
    evmVersion: process.env.EVM_VERSION,
    metadata: { bytecodeHash: "none", appendCBOR: false },
    outputSelection: {
      "*": { "*": ["evm.bytecode.object", "evm.deployedBytecode.object", "evm.methodIdentifiers"] },
    },
  },
}));
'
# Compile through the package's solcjs API (its CLI prints notes on stdout, mixed
# with the JSON).
OUT="$here" node -e '
const fs = require("fs");
const solc = require("solc");
const out = JSON.parse(solc.compile(fs.readFileSync("input.json", "utf8")));
const errors = (out.errors || []).filter((e) => e.severity === "error");
for (const e of out.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);
const write = (name, evm) => {
  fs.writeFileSync(`${process.env.OUT}/${name}.bin`, evm.bytecode.object + "\n");
  fs.writeFileSync(`${process.env.OUT}/${name}.bin-runtime`, evm.deployedBytecode.object + "\n");
};
const contracts = out.contracts["Fib.sol"];
let selector;
for (const name of ["FibExternal", "FibInternal"]) {
  const evm = contracts[name].evm;
  write(name, evm);
  const s = evm.methodIdentifiers["fib(uint256)"];
  if (selector && s !== selector) throw new Error("selectors differ");
  selector = s;
}
fs.writeFileSync(`${process.env.OUT}/fib.selector`, selector + "\n");
const token = out.contracts["Token.sol"]["Token"].evm;
write("Token", token);
const ids = token.methodIdentifiers;
fs.writeFileSync(`${process.env.OUT}/token.selectors`,
  Object.keys(ids).sort().map((sig) => `${ids[sig]} ${sig}\n`).join(""));
'
node -p 'require("solc").version()' >"$here/solc.version"
echo "solcjs $(cat "$here/solc.version") -> $here (fib(uint256) = 0x$(cat "$here/fib.selector"))"
cat "$here/token.selectors"
