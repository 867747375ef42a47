//! A tiny deterministic PRNG (SplitMix64) so runs are reproducible from a seed.

/// SplitMix64.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo.wrapping_add(self.below((hi - lo) as u64 + 1) as i64)
    }

    /// True with probability `num / den`.
    pub fn chance(&mut self, num: u64, den: u64) -> bool {
        self.below(den) < num
    }

    /// A random element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A value biased towards edge cases: zero, ones, sign boundaries of every
    /// width, small numbers, single bits and plain random bits.
    pub fn interesting(&mut self) -> u64 {
        const EDGES: [u64; 16] = [
            0,
            1,
            2,
            u64::MAX,
            0x7f,
            0x80,
            0xff,
            0x7fff,
            0x8000,
            0xffff,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
            0x7fff_ffff_ffff_ffff,
            0x8000_0000_0000_0000,
            0x1_0000_0000,
        ];
        let base = match self.below(8) {
            0 => *self.pick(&EDGES),
            1 => self.below(16),
            2 => 1u64 << self.below(64),
            3 => self.next_u64() & 0xff,
            4 => self.next_u64() & 0xffff,
            5 => self.next_u64() & 0xffff_ffff,
            _ => self.next_u64(),
        };
        // Sometimes perturb an edge by +-1 or negate it, or smear random high bits.
        match self.below(6) {
            0 => base.wrapping_add(1),
            1 => base.wrapping_sub(1),
            2 => base.wrapping_neg(),
            3 => base | (self.next_u64() & !0xffff_ffff),
            _ => base,
        }
    }
}
