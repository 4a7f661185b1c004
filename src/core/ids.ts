/**
 * A function deployment's identity. u32 on the wire and in kernel maps; 0 means
 * "not a function": the kernel's default policy applies to such tasks.
 */
export type FuncId = number;

export const NOT_A_FUNCTION: FuncId = 0;
export const MAX_FUNC_ID: FuncId = 0xffff_ffff;

export function isFuncId(value: unknown): value is FuncId {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= MAX_FUNC_ID;
}
