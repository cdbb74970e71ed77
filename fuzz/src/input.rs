//! A cursor over the fuzzer's bytes that never fails: past the end every read is zero, so
//! any input is a complete program.

pub(crate) struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Input<'a> {
        Input { data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub(crate) fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    pub(crate) fn u64(&mut self) -> u64 {
        self.u32() as u64 | (self.u32() as u64) << 32
    }

    /// Mostly small values, sometimes an arbitrary one.
    pub(crate) fn small(&mut self, max: u32) -> u32 {
        let b = self.u8();
        if b >= 0xF0 {
            self.u32()
        } else {
            b as u32 % (max + 1)
        }
    }

    /// A length for a buffer the harness allocates: at most `max`.
    pub(crate) fn len(&mut self, max: usize) -> usize {
        self.u8() as usize % (max + 1)
    }

    /// A float: usually a small ordinary value, sometimes a special one or arbitrary bits.
    pub(crate) fn f64(&mut self) -> f64 {
        match self.u8() {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::MIN_POSITIVE / 4.0,
            5 => f64::MAX,
            6 => f64::from_bits(self.u64()),
            b => (b as i32 - 128) as f64 / 16.0 + self.u8() as f64 / 4096.0,
        }
    }

    pub(crate) fn f32(&mut self) -> f32 {
        match self.u8() {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => -0.0,
            3 => f32::MAX,
            4 => f32::from_bits(self.u32()),
            b => (b as i32 - 128) as f32 / 16.0,
        }
    }
}
