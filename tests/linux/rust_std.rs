// Rust std under the Linux profile: collections, formatting, panics caught.
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasherDefault;
use std::hash::Hasher;

/// FNV-1a: a fixed hasher, so iteration order does not depend on a random seed.
#[derive(Default)]
struct Fnv(u64);
impl Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ u64::from(*b)).wrapping_mul(0x100000001b3);
        }
        if self.0 == 0 {
            self.0 = 0xcbf29ce484222325;
        }
    }
}

fn main() {
    let v: Vec<u64> = (1..=1000).map(|i| i * i % 977).collect();
    let mut m: HashMap<u64, u64, BuildHasherDefault<Fnv>> = HashMap::default();
    for x in &v {
        *m.entry(*x % 17).or_insert(0) += x;
    }
    let mut keys: Vec<_> = m.iter().collect();
    keys.sort();
    println!("{:?}", &keys[..5]);
    let b: BTreeMap<String, usize> = ["pear", "apple", "fig"].iter().map(|s| (s.to_string(), s.len())).collect();
    println!("{b:?}");
    println!("{}", format!("{:>8}|{:<8}|{:^8}|{:08.3}", "r", "l", "c", 3.14159));
    let r = std::panic::catch_unwind(|| {
        let d: Vec<u8> = Vec::new();
        d[3]
    });
    println!("caught panic: {}", r.is_err());
    let s: String = v.iter().take(10).map(|x| x.to_string()).collect::<Vec<_>>().join("-");
    println!("{s} {:.4}", (2.0f64).sqrt());
    std::process::exit(3);
}
