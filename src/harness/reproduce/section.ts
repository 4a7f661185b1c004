/** One row of a results table: a quantity, the paper's value and ours. */
export interface ResultRow {
  quantity: string;
  paper: string;
  ours: string;
  /** true = same direction / within the paper's range; false = not; null = not comparable. */
  agrees: boolean | null;
  note?: string;
}

/** One experiment's part of results.md. */
export interface Section {
  id: string;
  title: string;
  /** What the paper measured and how (setup in its words). */
  paperSetup: string;
  /** What we ran, with every scaling choice. */
  ourSetup: string;
  rows: ResultRow[];
  /** Extra tables (already formatted markdown). */
  tables: string[];
  notes: string[];
  /** Chart files written for this section (relative to the output directory). */
  charts: string[];
}

export const pct = (x: number, digits = 1): string => `${x >= 0 ? '+' : ''}${x.toFixed(digits)}%`;
export const change = (ours: number, base: number): number => (100 * (ours - base)) / base;
export const ms = (x: number): string => (x >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`);

/** Markdown table. */
export function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}
