//! The shadow stack of a component's core module: where Rust's wasm32 code
//! keeps the frames that do not fit in wasm locals. The linker places it
//! first in linear memory, from address 0 up to the initial value of the
//! `__stack_pointer` global (the stack size the build chose), and the data
//! after it; the stack grows down, so an overflow runs below address 0 and
//! traps instead of overwriting data.
//!
//! [`with_stack_size`] rewrites that initial value in a built component, so
//! that a test can make a stack that some call overflows (and see the trap),
//! and the benchmark can find the least stack every case needs, without
//! building the component again.

use anyhow::{Context as _, Result, bail, ensure};
use wasmparser::{Operator, Parser, Payload, ValType};

/// The layout of one core module's linear memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// The top of the shadow stack (its size, as it starts at 0).
    pub stack_top: u32,
    /// The lowest address an active data segment initialises.
    pub data_start: u32,
}

/// Where one core module keeps its stack pointer's initial value.
struct StackPointer {
    /// Offset of the `i32.const` immediate (a signed LEB128) in the component.
    immediate: std::ops::Range<usize>,
    layout: Layout,
}

/// The layout of the component's core module that has a shadow stack (the
/// one Rust built; the adapters the component encoder adds have none).
pub fn layout(component: &[u8]) -> Result<Layout> {
    Ok(stack_pointer(component)?.layout)
}

/// `component` with its shadow stack shrunk to `size` bytes: the stack
/// pointer starts at `size` instead of at the top the build chose. `size`
/// must be a multiple of 16 (the stack's alignment) and at most that top.
pub fn with_stack_size(component: &[u8], size: u32) -> Result<Vec<u8>> {
    let pointer = stack_pointer(component)?;
    ensure!(
        size.is_multiple_of(16),
        "a stack size must be a multiple of 16, not {size}"
    );
    ensure!(
        size <= pointer.layout.stack_top,
        "{size} is more than the {} bytes of stack the component was built with",
        pointer.layout.stack_top
    );
    let mut out = component.to_vec();
    let width = pointer.immediate.len();
    out[pointer.immediate].copy_from_slice(&padded_leb128(size, width)?);
    Ok(out)
}

/// Finds the one module-defined mutable `i32` global initialised by a
/// constant that is the first global of a core module with a memory: the
/// stack pointer wasm-ld emits as global 0.
fn stack_pointer(component: &[u8]) -> Result<StackPointer> {
    let mut found = Vec::new();
    // Per core module: its first global, if it is a candidate, and its data start.
    let mut candidate: Option<(std::ops::Range<usize>, u32)> = None;
    let mut data_start = u32::MAX;
    let mut has_memory = false;
    for payload in Parser::new(0).parse_all(component) {
        match payload.context("reading the component")? {
            Payload::ModuleSection { .. } => (candidate, data_start, has_memory) = (None, u32::MAX, false),
            Payload::MemorySection(_) => has_memory = true,
            Payload::GlobalSection(reader) => {
                if let Some(global) = reader.into_iter().next() {
                    let global = global?;
                    if global.ty.mutable && global.ty.content_type == ValType::I32 {
                        let mut ops = global.init_expr.get_operators_reader();
                        if let (Operator::I32Const { value }, offset) = ops.read_with_offset()? {
                            let start = usize::try_from(offset)? + 1;
                            let len = leb128_len(&component[start..])?;
                            candidate = Some((start..start + len, u32::try_from(value)?));
                        }
                    }
                }
            }
            Payload::DataSection(reader) => {
                for data in reader {
                    if let wasmparser::DataKind::Active { offset_expr, .. } = data?.kind
                        && let Operator::I32Const { value } = offset_expr.get_operators_reader().read()?
                    {
                        data_start = data_start.min(u32::try_from(value)?);
                    }
                }
            }
            Payload::End(_) => {
                if let Some((immediate, stack_top)) = candidate.take()
                    && has_memory
                {
                    found.push(StackPointer {
                        immediate,
                        layout: Layout { stack_top, data_start },
                    });
                }
                has_memory = false;
            }
            _ => {}
        }
    }
    match found.len() {
        1 => Ok(found.remove(0)),
        n => bail!("expected one core module with a shadow stack pointer, found {n}"),
    }
}

/// The length of the LEB128 number at the start of `bytes`.
fn leb128_len(bytes: &[u8]) -> Result<usize> {
    bytes
        .iter()
        .position(|b| b & 0x80 == 0)
        .map(|last| last + 1)
        .context("an unterminated LEB128 number")
}

/// `value` as a signed LEB128 number of exactly `width` bytes (padded with
/// continuation bytes, which wasm allows up to 5 bytes for an `i32`).
fn padded_leb128(value: u32, width: usize) -> Result<Vec<u8>> {
    ensure!(
        (1..=5).contains(&width) && u64::from(value) < 1u64 << (7 * width - 1),
        "{value} does not fit a {width}-byte signed LEB128 number"
    );
    let mut out = Vec::with_capacity(width);
    for i in 0..width {
        let bits = (value >> (7 * i)) as u8 & 0x7f;
        out.push(if i + 1 < width { bits | 0x80 } else { bits });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_leb128_matches_the_spec_examples() {
        // 624485 is the LEB128 example of the DWARF spec (and Wikipedia): E5 8E 26.
        assert_eq!(padded_leb128(624_485, 3).unwrap(), [0xE5, 0x8E, 0x26]);
        // Padded: the same value in 4 bytes.
        assert_eq!(padded_leb128(624_485, 4).unwrap(), [0xE5, 0x8E, 0xA6, 0x00]);
        // 64 needs two bytes as a signed number (0x40 alone is -64).
        assert!(padded_leb128(64, 1).is_err());
        assert_eq!(padded_leb128(64, 2).unwrap(), [0xC0, 0x00]);
    }
}
