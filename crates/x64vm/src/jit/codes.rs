//! iced-x86 `Code`s of the host instructions the templates use, by operand form
//! and size (the assembler's dynamic interface takes a `Code` per encoding).

use iced_x86::Code;

use crate::ir::Op;

/// Operand form of a two-operand instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Form {
    /// `op r/m, r`
    RmR,
    /// `op r, r/m`
    RRm,
    /// `op r/m, imm` (imm32 sign-extended for 64-bit)
    RmImm,
}

fn slot(size: u8) -> usize {
    match size {
        1 => 0,
        2 => 1,
        4 => 2,
        _ => 3,
    }
}

/// The two-operand ALU op (or `mov`) `op` at `size` bytes in `form`;
/// `Code::INVALID` for `test r, r/m`, which x86 lacks.
pub(crate) fn alu(op: Op, size: u8, form: Form) -> Code {
    let table: [[Code; 4]; 3] = match op {
        Op::Add => [
            [
                Code::Add_rm8_r8,
                Code::Add_rm16_r16,
                Code::Add_rm32_r32,
                Code::Add_rm64_r64,
            ],
            [
                Code::Add_r8_rm8,
                Code::Add_r16_rm16,
                Code::Add_r32_rm32,
                Code::Add_r64_rm64,
            ],
            [
                Code::Add_rm8_imm8,
                Code::Add_rm16_imm16,
                Code::Add_rm32_imm32,
                Code::Add_rm64_imm32,
            ],
        ],
        Op::Or => [
            [
                Code::Or_rm8_r8,
                Code::Or_rm16_r16,
                Code::Or_rm32_r32,
                Code::Or_rm64_r64,
            ],
            [
                Code::Or_r8_rm8,
                Code::Or_r16_rm16,
                Code::Or_r32_rm32,
                Code::Or_r64_rm64,
            ],
            [
                Code::Or_rm8_imm8,
                Code::Or_rm16_imm16,
                Code::Or_rm32_imm32,
                Code::Or_rm64_imm32,
            ],
        ],
        Op::Adc => [
            [
                Code::Adc_rm8_r8,
                Code::Adc_rm16_r16,
                Code::Adc_rm32_r32,
                Code::Adc_rm64_r64,
            ],
            [
                Code::Adc_r8_rm8,
                Code::Adc_r16_rm16,
                Code::Adc_r32_rm32,
                Code::Adc_r64_rm64,
            ],
            [
                Code::Adc_rm8_imm8,
                Code::Adc_rm16_imm16,
                Code::Adc_rm32_imm32,
                Code::Adc_rm64_imm32,
            ],
        ],
        Op::Sbb => [
            [
                Code::Sbb_rm8_r8,
                Code::Sbb_rm16_r16,
                Code::Sbb_rm32_r32,
                Code::Sbb_rm64_r64,
            ],
            [
                Code::Sbb_r8_rm8,
                Code::Sbb_r16_rm16,
                Code::Sbb_r32_rm32,
                Code::Sbb_r64_rm64,
            ],
            [
                Code::Sbb_rm8_imm8,
                Code::Sbb_rm16_imm16,
                Code::Sbb_rm32_imm32,
                Code::Sbb_rm64_imm32,
            ],
        ],
        Op::And => [
            [
                Code::And_rm8_r8,
                Code::And_rm16_r16,
                Code::And_rm32_r32,
                Code::And_rm64_r64,
            ],
            [
                Code::And_r8_rm8,
                Code::And_r16_rm16,
                Code::And_r32_rm32,
                Code::And_r64_rm64,
            ],
            [
                Code::And_rm8_imm8,
                Code::And_rm16_imm16,
                Code::And_rm32_imm32,
                Code::And_rm64_imm32,
            ],
        ],
        Op::Sub => [
            [
                Code::Sub_rm8_r8,
                Code::Sub_rm16_r16,
                Code::Sub_rm32_r32,
                Code::Sub_rm64_r64,
            ],
            [
                Code::Sub_r8_rm8,
                Code::Sub_r16_rm16,
                Code::Sub_r32_rm32,
                Code::Sub_r64_rm64,
            ],
            [
                Code::Sub_rm8_imm8,
                Code::Sub_rm16_imm16,
                Code::Sub_rm32_imm32,
                Code::Sub_rm64_imm32,
            ],
        ],
        Op::Xor => [
            [
                Code::Xor_rm8_r8,
                Code::Xor_rm16_r16,
                Code::Xor_rm32_r32,
                Code::Xor_rm64_r64,
            ],
            [
                Code::Xor_r8_rm8,
                Code::Xor_r16_rm16,
                Code::Xor_r32_rm32,
                Code::Xor_r64_rm64,
            ],
            [
                Code::Xor_rm8_imm8,
                Code::Xor_rm16_imm16,
                Code::Xor_rm32_imm32,
                Code::Xor_rm64_imm32,
            ],
        ],
        Op::Cmp => [
            [
                Code::Cmp_rm8_r8,
                Code::Cmp_rm16_r16,
                Code::Cmp_rm32_r32,
                Code::Cmp_rm64_r64,
            ],
            [
                Code::Cmp_r8_rm8,
                Code::Cmp_r16_rm16,
                Code::Cmp_r32_rm32,
                Code::Cmp_r64_rm64,
            ],
            [
                Code::Cmp_rm8_imm8,
                Code::Cmp_rm16_imm16,
                Code::Cmp_rm32_imm32,
                Code::Cmp_rm64_imm32,
            ],
        ],
        Op::Test => [
            [
                Code::Test_rm8_r8,
                Code::Test_rm16_r16,
                Code::Test_rm32_r32,
                Code::Test_rm64_r64,
            ],
            [Code::INVALID, Code::INVALID, Code::INVALID, Code::INVALID],
            [
                Code::Test_rm8_imm8,
                Code::Test_rm16_imm16,
                Code::Test_rm32_imm32,
                Code::Test_rm64_imm32,
            ],
        ],
        _ => [
            [
                Code::Mov_rm8_r8,
                Code::Mov_rm16_r16,
                Code::Mov_rm32_r32,
                Code::Mov_rm64_r64,
            ],
            [
                Code::Mov_r8_rm8,
                Code::Mov_r16_rm16,
                Code::Mov_r32_rm32,
                Code::Mov_r64_rm64,
            ],
            [
                Code::Mov_rm8_imm8,
                Code::Mov_rm16_imm16,
                Code::Mov_rm32_imm32,
                Code::Mov_rm64_imm32,
            ],
        ],
    };
    let f = match form {
        Form::RmR => 0,
        Form::RRm => 1,
        Form::RmImm => 2,
    };
    table[f][slot(size)]
}

/// `inc`/`dec`/`neg`/`not` of an r/m operand of `size` bytes.
pub(crate) fn unary(op: Op, size: u8) -> Code {
    let row = match op {
        Op::Inc => [
            Code::Inc_rm8,
            Code::Inc_rm16,
            Code::Inc_rm32,
            Code::Inc_rm64,
        ],
        Op::Dec => [
            Code::Dec_rm8,
            Code::Dec_rm16,
            Code::Dec_rm32,
            Code::Dec_rm64,
        ],
        Op::Neg => [
            Code::Neg_rm8,
            Code::Neg_rm16,
            Code::Neg_rm32,
            Code::Neg_rm64,
        ],
        _ => [
            Code::Not_rm8,
            Code::Not_rm16,
            Code::Not_rm32,
            Code::Not_rm64,
        ],
    };
    row[slot(size)]
}

/// `cmovcc r, r/m` by x86 condition number, 32- or 64-bit.
pub(crate) fn cmov(cc: u8, size: u8) -> Code {
    let t32 = [
        Code::Cmovo_r32_rm32,
        Code::Cmovno_r32_rm32,
        Code::Cmovb_r32_rm32,
        Code::Cmovae_r32_rm32,
        Code::Cmove_r32_rm32,
        Code::Cmovne_r32_rm32,
        Code::Cmovbe_r32_rm32,
        Code::Cmova_r32_rm32,
        Code::Cmovs_r32_rm32,
        Code::Cmovns_r32_rm32,
        Code::Cmovp_r32_rm32,
        Code::Cmovnp_r32_rm32,
        Code::Cmovl_r32_rm32,
        Code::Cmovge_r32_rm32,
        Code::Cmovle_r32_rm32,
        Code::Cmovg_r32_rm32,
    ];
    let t64 = [
        Code::Cmovo_r64_rm64,
        Code::Cmovno_r64_rm64,
        Code::Cmovb_r64_rm64,
        Code::Cmovae_r64_rm64,
        Code::Cmove_r64_rm64,
        Code::Cmovne_r64_rm64,
        Code::Cmovbe_r64_rm64,
        Code::Cmova_r64_rm64,
        Code::Cmovs_r64_rm64,
        Code::Cmovns_r64_rm64,
        Code::Cmovp_r64_rm64,
        Code::Cmovnp_r64_rm64,
        Code::Cmovl_r64_rm64,
        Code::Cmovge_r64_rm64,
        Code::Cmovle_r64_rm64,
        Code::Cmovg_r64_rm64,
    ];
    if size == 4 {
        t32[usize::from(cc & 15)]
    } else {
        t64[usize::from(cc & 15)]
    }
}

/// `setcc r/m8` by x86 condition number.
pub(crate) fn setcc(cc: u8) -> Code {
    let t = [
        Code::Seto_rm8,
        Code::Setno_rm8,
        Code::Setb_rm8,
        Code::Setae_rm8,
        Code::Sete_rm8,
        Code::Setne_rm8,
        Code::Setbe_rm8,
        Code::Seta_rm8,
        Code::Sets_rm8,
        Code::Setns_rm8,
        Code::Setp_rm8,
        Code::Setnp_rm8,
        Code::Setl_rm8,
        Code::Setge_rm8,
        Code::Setle_rm8,
        Code::Setg_rm8,
    ];
    t[usize::from(cc & 15)]
}

/// `shl`/`shr`/`sar`/`rol`/`ror r/m, imm8` at `size` bytes.
pub(crate) fn shift(op: Op, size: u8) -> Code {
    let row = match op {
        Op::Shl => [
            Code::Shl_rm8_imm8,
            Code::Shl_rm16_imm8,
            Code::Shl_rm32_imm8,
            Code::Shl_rm64_imm8,
        ],
        Op::Shr => [
            Code::Shr_rm8_imm8,
            Code::Shr_rm16_imm8,
            Code::Shr_rm32_imm8,
            Code::Shr_rm64_imm8,
        ],
        Op::Sar => [
            Code::Sar_rm8_imm8,
            Code::Sar_rm16_imm8,
            Code::Sar_rm32_imm8,
            Code::Sar_rm64_imm8,
        ],
        Op::Rol => [
            Code::Rol_rm8_imm8,
            Code::Rol_rm16_imm8,
            Code::Rol_rm32_imm8,
            Code::Rol_rm64_imm8,
        ],
        _ => [
            Code::Ror_rm8_imm8,
            Code::Ror_rm16_imm8,
            Code::Ror_rm32_imm8,
            Code::Ror_rm64_imm8,
        ],
    };
    row[slot(size)]
}
